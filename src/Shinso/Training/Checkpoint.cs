using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;

namespace Shinso.Training;

/// <summary>
/// A resumable training run on disk: the model, the optimizer's state, the training config and the
/// loop's position (epochs done, step, early-stopping record). Written atomically after each epoch,
/// so a killed run resumes from the last completed epoch and ends with the same parameters as an
/// uninterrupted one.
/// </summary>
public static class Checkpoint
{
    /// <summary>The file name inside a run directory.</summary>
    public const string FileName = "checkpoint.shinso";

    private const string Kind = FeedForwardModelFile.Kind + "-checkpoint";

    /// <summary>Writes the checkpoint of a run to <c>directory/checkpoint.shinso</c>.</summary>
    /// <param name="directory">The run folder.</param>
    /// <param name="config">The run's config.</param>
    /// <param name="net">The net as it trains.</param>
    /// <param name="optimizer">Its optimizer, whose state is saved.</param>
    /// <param name="state">The loop's position.</param>
    /// <param name="provenance">What the run trains on (e.g. a table's target and columns), kept under the metadata key
    /// <c>run</c> for the caller to check a resumed run against (<see cref="ReadProvenance"/>).</param>
    /// <param name="identity">The run's name and the kind of model it saves, kept for <see cref="ReadIdentity"/>.</param>
    public static void Save(string directory, TrainingConfig config, FeedForwardNet net, Optimizer optimizer, TrainingState state, JsonObject? provenance = null,
        RunIdentity? identity = null)
    {
        Directory.CreateDirectory(directory);
        var doc = FeedForwardModelFile.ToDocument(net, config.ToJson());
        doc.Kind = Kind;
        doc.Metadata["optimizer"] = optimizer.Kind;
        if (provenance is not null) doc.Metadata["run"] = provenance.DeepClone();
        if (identity is not null) doc.Metadata["identity"] = new JsonObject { ["name"] = identity.Name, ["model_kind"] = identity.ModelKind };
        AddRunState(doc, state, net.Parameters, optimizer);
        ModelFile.Write(Path.Combine(directory, FileName), doc);
    }

    /// <summary>
    /// Adds a run's position to a checkpoint document: the <see cref="TrainingState"/> (epochs, step, early-stopping record,
    /// history) in the metadata, the best parameters as <c>best/NAME</c> tensors and the optimizer's step count and state as
    /// <c>optimizer/NAME/STATE</c> tensors. Every family's checkpoint holds these the same way.
    /// </summary>
    public static void AddRunState(ModelDocument doc, TrainingState state, IReadOnlyList<Parameter> parameters, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(optimizer);
        doc.Metadata["epochsDone"] = state.EpochsDone;
        doc.Metadata["step"] = state.Step;
        doc.Metadata["optimizerSteps"] = optimizer.StepCount;
        doc.Metadata["bestValidationLoss"] = double.IsFinite(state.BestValidationLoss) ? state.BestValidationLoss : null;
        doc.Metadata["bestEpoch"] = state.BestEpoch;
        doc.Metadata["stopped"] = state.Stopped;
        doc.Metadata["history"] = MetricsJson(state.History);
        foreach (var (name, tensor) in optimizer.State(parameters)) doc.Add("optimizer/" + name, tensor);
        foreach (var (name, values) in state.BestParameters)
        {
            var p = parameters.First(q => q.Name == name);
            doc.Add("best/" + name, p.Value.Shape.ToArray(), values);
        }
    }

    /// <summary>
    /// Reads what <see cref="AddRunState"/> wrote: restores <paramref name="optimizer"/>'s step count and state for
    /// <paramref name="parameters"/> and returns the run's <see cref="TrainingState"/>.
    /// </summary>
    /// <exception cref="ModelFileException">A state tensor is missing or does not fit, or a counter is invalid.</exception>
    public static TrainingState ReadRunState(ModelDocument doc, string path, IReadOnlyList<Parameter> parameters, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(optimizer);
        var meta = new StrictJson(doc.Metadata, path, "metadata");
        optimizer.StepCount = (long)meta.ULong("optimizerSteps", 0);
        foreach (var (name, tensor) in optimizer.State(parameters)) doc.CopyTensorTo("optimizer/" + name, tensor, path, $"a {optimizer.Kind} checkpoint");
        var state = new TrainingState
        {
            EpochsDone = meta.Int("epochsDone"),
            Step = (long)meta.ULong("step", 0),
            BestEpoch = meta.Int("bestEpoch", 0),
            Stopped = meta.Bool("stopped", false),
        };
        if (state.EpochsDone < 0) throw new ModelFileException(path, "metadata.epochsDone", $"must be >= 0, found {state.EpochsDone}.");
        if (doc.Metadata["bestValidationLoss"] is JsonValue best && best.TryGetValue<double>(out double b)) state.BestValidationLoss = b;
        if (doc.Metadata["history"] is JsonArray history) state.History.AddRange(MetricsFromJson(history, path, "metadata.history"));
        foreach (var t in doc.Tensors)
        {
            if (!t.Name.StartsWith("best/", StringComparison.Ordinal)) continue;
            string name = t.Name["best/".Length..];
            Parameter? p = null;
            foreach (var q in parameters)
                if (q.Name == name) p = q;
            if (p is null) throw new ModelFileException(path, $"tensor '{t.Name}'", "names no parameter of the model.");
            if (t.Data.Length != p.Value.Length)
                throw new ModelFileException(path, $"tensor '{t.Name}'", $"holds {t.Data.Length} values; the parameter has {p.Value.Length}.");
            state.BestParameters[name] = t.Data;
        }
        return state;
    }

    /// <summary>A run restored from <c>directory/checkpoint.shinso</c>.</summary>
    /// <param name="Config">The config the run continues with: the saved one with any overrides applied.</param>
    /// <param name="Net">The network.</param>
    /// <param name="Optimizer">The optimizer, its state restored.</param>
    /// <param name="State">The loop's position.</param>
    /// <param name="SavedConfig">The config as the checkpoint holds it.</param>
    public sealed record Restored(TrainingConfig Config, FeedForwardNet Net, Optimizer Optimizer, TrainingState State, TrainingConfig SavedConfig);

    /// <summary>Restores the run saved in <paramref name="directory"/> onto <paramref name="backend"/>.</summary>
    /// <param name="directory">The run folder.</param>
    /// <param name="backend">Where the parameters go.</param>
    /// <param name="overrides">Changes to the saved config (see <see cref="ResumeOverrides"/>), applied before the optimizer is built.</param>
    /// <exception cref="ArgumentException">An override is refused.</exception>
    public static Restored Load(string directory, IBackend backend, Func<TrainingConfig, TrainingConfig>? overrides = null)
    {
        string path = ExistingPath(directory);
        var doc = ModelFile.Read(path);
        if (doc.Kind != Kind) throw new ModelFileException(path, "kind", $"expected '{Kind}', found '{doc.Kind}'.");
        var saved = TrainingConfig.FromJson(doc.HyperParameters, path + " (hyper-parameters)");
        var config = overrides is null ? saved : overrides(saved);
        var net = FeedForwardModelFile.FromDocument(doc, path, backend);
        var optimizer = config.CreateOptimizer();
        // K-FAC's factors belong to the net's layers: it is attached before its state is read into them.
        if (optimizer is Kfac kfac) kfac.Attach(net.Layers, net.Trainable(config.Training.FrozenLayers).Parameters);
        var state = ReadRunState(doc, path, net.Parameters, optimizer);
        return new Restored(config, net, optimizer, state, saved);
    }

    /// <summary>The config saved with the run in <paramref name="directory"/>, read from the checkpoint's header alone.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint.</exception>
    public static TrainingConfig ReadConfig(string directory)
    {
        string path = ExistingPath(directory);
        return TrainingConfig.FromJson(ModelFile.ReadHeader(path).HyperParameters, path + " (hyper-parameters)");
    }

    /// <summary>What <see cref="Save"/> was told the run is, or null for a checkpoint written without it.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint.</exception>
    /// <exception cref="ModelFileException">The entry is malformed.</exception>
    public static RunIdentity? ReadIdentity(string directory)
    {
        string path = ExistingPath(directory);
        if (ModelFile.ReadHeader(path).Metadata["identity"] is not JsonObject o) return null;
        var json = new StrictJson(o, path, "metadata.identity");
        return new RunIdentity(json.String("name"), json.String("model_kind"));
    }

    /// <summary>What <see cref="Save"/> was told the run trains on, or null.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint.</exception>
    public static JsonObject? ReadProvenance(string directory) =>
        ModelFile.ReadHeader(ExistingPath(directory)).Metadata["run"] as JsonObject;

    private static string ExistingPath(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no checkpoint to resume from (a run writes one after its first epoch).", path);
        return path;
    }

    /// <summary>
    /// The per-epoch history that <see cref="AddRunState"/> wrote into the checkpoint at <paramref name="path"/>, read from
    /// its header alone (any family's checkpoint; empty when it records none), so that a run's report covers every epoch of a
    /// resumed run without loading the model.
    /// </summary>
    /// <exception cref="ModelFileException">The file is not a model file.</exception>
    /// <exception cref="FormatException">An epoch's entry is malformed (the message names the file and the field).</exception>
    public static IReadOnlyList<EpochMetrics> ReadHistory(string path)
    {
        var metadata = ModelFile.ReadHeader(path).Metadata;
        return metadata["history"] is JsonArray history ? MetricsFromJson(history, path, "metadata.history") : [];
    }

    /// <summary>Epochs as a JSON array of <see cref="MetricsJson(EpochMetrics)"/> entries.</summary>
    public static JsonArray MetricsJson(IEnumerable<EpochMetrics> epochs)
    {
        var array = new JsonArray();
        foreach (var m in epochs) array.Add(MetricsJson(m));
        return array;
    }

    /// <summary>What <see cref="MetricsJson(IEnumerable{EpochMetrics})"/> wrote, found at <paramref name="path"/> in <paramref name="source"/>.</summary>
    /// <exception cref="FormatException">The node is not an array, or an entry is malformed (the message names the entry).</exception>
    public static List<EpochMetrics> MetricsFromJson(JsonNode? node, string source, string path)
    {
        if (node is not JsonArray array) throw new ModelFileException(source, path, "must be an array of epochs.");
        var epochs = new List<EpochMetrics>(array.Count);
        for (int i = 0; i < array.Count; i++) epochs.Add(EpochFromJson(array[i], source, $"{path}[{i}]"));
        return epochs;
    }

    /// <summary>The metrics of an epoch as JSON (as written in checkpoints and <c>--json</c> output).</summary>
    public static JsonObject MetricsJson(EpochMetrics m) => new()
    {
        // JSON has no NaN or infinity: a figure that was not measured (an RBM run not tracking its reconstruction error) or
        // that diverged is written as null.
        ["epoch"] = m.Epoch, ["trainLoss"] = Finite(m.TrainLoss), ["trainAccuracy"] = Finite(m.TrainAccuracy),
        ["validationLoss"] = Finite(m.ValidationLoss), ["validationAccuracy"] = Finite(m.ValidationAccuracy),
        ["seconds"] = m.Seconds, ["samplesPerSecond"] = m.SamplesPerSecond, ["learningRate"] = m.LearningRate,
    };

    private static double? Finite(double? x) => x is { } v && double.IsFinite(v) ? v : null;

    /// <summary>What <see cref="MetricsJson(EpochMetrics)"/> wrote; a figure written as null (not measured, or not finite) reads back as
    /// NaN for the training loss and null for the others.</summary>
    /// <exception cref="FormatException">A field is missing or of the wrong type (the message names it).</exception>
    public static EpochMetrics EpochFromJson(JsonNode? node, string source, string path)
    {
        var n = new StrictJson(node, source, path);
        return new EpochMetrics(n.Int("epoch"), n.NullableDouble("trainLoss") ?? double.NaN, n.NullableDouble("trainAccuracy"), n.NullableDouble("validationLoss"),
            n.NullableDouble("validationAccuracy"), n.Double("seconds"), n.Double("samplesPerSecond"), n.Float("learningRate"));
    }
}

/// <summary>Which run a checkpoint belongs to: the preset's or config's name and the kind of model file the run saves.</summary>
public sealed record RunIdentity(string Name, string ModelKind);
