using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Reports;

/// <summary>One phase of a run (a net's backprop, an RBM's CD epochs, a DBN's greedy stages): its per-epoch figures.</summary>
/// <param name="Name">What the phase is, e.g. <c>backprop</c> or <c>greedy</c>.</param>
/// <param name="LossName">What its loss measures, e.g. <c>softmax-cross-entropy</c> or <c>reconstruction error</c>.</param>
/// <param name="Epochs">Its epochs in order (empty for a phase that records only its end figures).</param>
internal sealed record RunPhase(string Name, string LossName, IReadOnlyList<EpochMetrics> Epochs)
{
    /// <summary>Figures measured at the end of the phase (e.g. its test accuracy): names to numbers, strings or booleans.</summary>
    public JsonObject Figures { get; init; } = [];

    /// <summary>
    /// A phase of a family whose epochs report one loss (an objective, a reconstruction error, a count of mistakes) and
    /// their time, as the epoch figures every other family records.
    /// </summary>
    /// <param name="name">The phase's name.</param>
    /// <param name="lossName">What the loss measures.</param>
    /// <param name="epochs">Each epoch's loss and seconds, in order.</param>
    /// <param name="samples">Samples an epoch visits.</param>
    /// <param name="learningRate">The rate the epochs used (0: the rule has none).</param>
    /// <param name="cumulativeSeconds">Whether the seconds count from the phase's start (as the dictionary and TICA learners
    /// report them) rather than per epoch.</param>
    public static RunPhase OfLosses(string name, string lossName, IEnumerable<(double Loss, double Seconds)> epochs, int samples, float learningRate,
        bool cumulativeSeconds = false)
    {
        var metrics = new List<EpochMetrics>();
        double before = 0;
        foreach (var (loss, seconds) in epochs)
        {
            metrics.Add(EpochMetrics.Unsupervised(metrics.Count, loss, samples, cumulativeSeconds ? seconds - before : seconds, learningRate));
            before = seconds;
        }
        return new RunPhase(name, lossName, metrics);
    }
}

/// <summary>
/// What a training run leaves in its folder for its report (<c>run.json</c>): the run's name, family, data and
/// hyper-parameters, the phases with every epoch's figures, the wall time and, for a classifier, the test set's confusion
/// matrix. The test figures stay in <c>summary.json</c>, which every family already writes; the report reads both.
/// </summary>
/// <param name="Name">The preset's or config file's name.</param>
/// <param name="Kind">The model file's kind (<c>feedforward</c>, <c>rbm</c>, ...).</param>
/// <param name="Family">The family in words, e.g. <c>restricted Boltzmann machine</c>.</param>
/// <param name="Data">The one-line description of the data the run read.</param>
internal sealed record RunRecord(string Name, string Kind, string Family, string Data)
{
    /// <summary>The record's file name inside a run folder.</summary>
    public const string FileName = "run.json";

    /// <summary>The <c>format</c> a run record declares, so that another JSON file is not taken for one.</summary>
    public const string Format = "shinso-run";

    /// <summary>The layout version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The run's settings as its config or model file records them (null: none recorded).</summary>
    public JsonObject? HyperParameters { get; init; }

    /// <summary>The run's phases in the order they ran.</summary>
    public IReadOnlyList<RunPhase> Phases { get; init; } = [];

    /// <summary>Wall time of the invocation that finished the run (a resumed run's epochs before it are in the phases' epochs).</summary>
    public double Seconds { get; init; }

    /// <summary>When the run finished (UTC).</summary>
    public DateTimeOffset Finished { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The test set's confusion matrix, for a classifier.</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>The record as JSON.</summary>
    public JsonObject ToJson()
    {
        var phases = new JsonArray();
        foreach (var phase in Phases)
        {
            phases.Add(new JsonObject { ["name"] = phase.Name, ["loss"] = phase.LossName, ["figures"] = phase.Figures.DeepClone(), ["epochs"] = Checkpoint.MetricsJson(phase.Epochs) });
        }
        var json = new JsonObject
        {
            ["format"] = Format, ["version"] = Version, ["name"] = Name, ["kind"] = Kind, ["family"] = Family, ["data"] = Data,
            ["hyper_parameters"] = HyperParameters?.DeepClone(), ["phases"] = phases, ["seconds"] = Math.Round(Seconds, 3),
            ["finished"] = Finished.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        if (Confusion is not null) json["confusion"] = Confusion.ToJson();
        return json;
    }

    /// <summary>Writes <c>run.json</c> into <paramref name="folder"/> (atomically: a reader sees the old record or the new one).</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// Builds the record of a run whose model is already saved and writes it into <paramref name="folder"/>; a failure
    /// (computing the confusion matrix, reading a checkpoint's history, writing the file) costs a warning, never the run.
    /// </summary>
    public static void SaveOrWarn(string folder, Func<RunRecord> build)
    {
        try
        {
            build().Save(folder);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            Commands.CommonOptions.Err.MarkupLine($"[yellow]warning: no {FileName} written ({Markup.Escape(e.Message)}); the model is saved, but this folder gets no report.[/]");
        }
    }

    /// <summary>
    /// <see cref="SaveOrWarn"/>, then the report drawn from the record (<see cref="RunReport.WriteAfterTraining"/>): for a run
    /// whose pictures are already in its folder when its record is written.
    /// </summary>
    public static void SaveAndReport(string folder, Func<RunRecord> build)
    {
        SaveOrWarn(folder, build);
        RunReport.WriteAfterTraining(folder);
    }

    /// <summary>Reads the record in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no <c>run.json</c>.</exception>
    /// <exception cref="FormatException">The file is not valid JSON or a field is missing or malformed (the message names the file and the field).</exception>
    public static RunRecord Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no run record; `shinso train` writes one beside the model at the end of every run.", path);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON ({e.Message})."); }
        var json = new StrictJson(node, path);
        if (json.String("format") != Format) throw json.Invalid("format", $"must be \"{Format}\" (a run record).");
        int version = json.Int("version");
        if (version != Version) throw json.Invalid("version", $"is {version}; this shinso reads version {Version}.");
        var phases = new List<RunPhase>();
        foreach (var phase in json.ObjectArray("phases"))
        {
            if (phase.Node("epochs") is not JsonArray entries) throw phase.Invalid("epochs", "must be an array of epochs.");
            var epochs = Checkpoint.MetricsFromJson(entries, path, $"{phase.Path}.epochs");
            phases.Add(new RunPhase(phase.String("name"), phase.String("loss"), epochs) { Figures = Figures(phase, "figures") });
        }
        var hyper = json.Node("hyper_parameters");
        if (hyper is not null and not JsonObject) throw json.Invalid("hyper_parameters", "must be an object or null.");
        var confusion = json.Object("confusion") is { } c ? ConfusionMatrix.FromJson(c) : null;
        string finished = json.String("finished");
        if (!DateTimeOffset.TryParse(finished, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            throw json.Invalid("finished", $"must be a UTC time such as 2025-01-31T12:00:00Z, found \"{finished}\".");
        return new RunRecord(json.String("name"), json.String("kind"), json.String("family"), json.String("data"))
        {
            HyperParameters = (JsonObject?)hyper?.DeepClone(), Phases = phases, Seconds = json.Double("seconds"), Finished = when, Confusion = confusion,
        };
    }

    /// <summary>An object of figures: each value a number, a string, a boolean or null (absent: none).</summary>
    private static JsonObject Figures(StrictJson parent, string key)
    {
        var node = parent.Node(key);
        if (node is null) return [];
        if (node is not JsonObject o) throw parent.Invalid(key, "must be an object of figures.");
        foreach (var (name, value) in o)
            if (value is not null and not JsonValue) throw parent.Invalid($"{key}.{name}", "must be a number, a string, a boolean or null.");
        return (JsonObject)o.DeepClone();
    }
}
