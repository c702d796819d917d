using System.CommandLine;
using Shinso.Backends;
using Shinso.IO;

namespace Shinso.Cli.ModelKinds;

/// <summary>What the CLI can do with a model.</summary>
internal enum ModelAction
{
    /// <summary><c>shinso train</c>: from a preset or a config.</summary>
    Train,
    /// <summary><c>shinso eval</c>: test figures of a saved model.</summary>
    Eval,
    /// <summary><c>shinso sample</c>: pictures of samples or filters.</summary>
    Sample,
    /// <summary><c>shinso export</c>: the feed-forward form as ONNX.</summary>
    Export,
    /// <summary><c>shinso complete</c>: fill in occluded pixels of test images.</summary>
    Complete,
}

/// <summary>The options of <c>shinso train</c> as typed (null: not given).</summary>
internal sealed record TrainArguments(ParseResult Parse, string Source, string? Data, string? TestData, int? Epochs, int? Batch, string? Optimizer,
    float? LearningRate, ulong? Seed, int Threads, string Path, string? Out, string? Resume, bool Json, int? PretrainEpochs, int? UpDownEpochs, int? AisRuns,
    string? Target = null, bool? Standardize = null, int? Code = null, string? Pretrainer = null, int? FineTuneEpochs = null, int? Tile = null, string? InitFrom = null)
{
    /// <summary>With a .shinso <see cref="InitFrom"/>: the weight layers to copy (null: all).</summary>
    public int? CopyLayers { get; init; }

    /// <summary>With a .shinso <see cref="InitFrom"/>: freeze the copied layers.</summary>
    public bool Freeze { get; init; }

    /// <summary>With a .shinso <see cref="InitFrom"/>: the copied layers' learning-rate multiplier.</summary>
    public float? CopiedLearningRate { get; init; }

    /// <summary><c>--labels</c>: a DBM with softmax label units on its top layer.</summary>
    public bool Labels { get; init; }

    /// <summary>The <c>--augment</c> text, or null.</summary>
    public string? Augment { get; init; }

    /// <summary>The <c>--gradient-norms</c> CSV file, or null.</summary>
    public string? GradientNorms { get; init; }

    /// <summary>The <c>--teacher</c> model files (empty: no distillation).</summary>
    public IReadOnlyList<string> Teachers { get; init; } = [];

    /// <summary>The <c>--distill</c> text (<c>logits</c> or <c>soft:T</c>), or null.</summary>
    public string? Distill { get; init; }

    /// <summary>The <c>--label-weight</c>, or null.</summary>
    public float? LabelWeight { get; init; }

    /// <summary>The <c>--validation</c> fraction, or null.</summary>
    public double? Validation { get; init; }

    /// <summary>The backend the options select.</summary>
    public IBackend CreateBackend() => Commands.CommonOptions.CreateBackend(Parse, Threads, Path);

    /// <summary>The run folder: the resumed one, --out, or runs/NAME.</summary>
    public string RunDirectory(string name) => Resume ?? Out ?? System.IO.Path.Combine("runs", name);
}

/// <summary>The options of <c>shinso eval</c>.</summary>
internal sealed record EvalArguments(string File, ModelHeader Header, IBackend Backend, string? Data, string? TestData, int AisRuns, ulong? Seed, bool Json,
    string? Target = null);

/// <summary>The options of <c>shinso sample</c>.</summary>
internal sealed record SampleArguments(string File, ModelDocument Document, IBackend Backend, string? SamplesPath, string? FiltersPath, int Count,
    int Steps, string From, string? Data, string? TestData, ulong Seed, string? Classifier = null, bool Json = false);

/// <summary>The options of <c>shinso complete</c>.</summary>
internal sealed record CompleteArguments(string File, ModelDocument Document, IBackend Backend, string? Data, string? TestData,
    Shinso.Data.Occlusion Mask, IReadOnlyList<string>? Methods, int? Steps, int Images, int Shown, string? OutPath, ulong Seed, bool Json);

/// <summary>
/// One model family as the CLI sees it: the model-file kind it writes, its presets, and the actions it supports.
/// Commands find the kind in <see cref="ModelKindRegistry"/> and call it; none of them switches on kind strings.
/// A new family is one subclass plus one line in the registry.
/// </summary>
internal abstract class ModelKind
{
    /// <summary>The model-file kind (<c>kind</c> in the file's header).</summary>
    public abstract string FileKind { get; }

    /// <summary>A few words for messages, e.g. <c>restricted Boltzmann machine</c>.</summary>
    public abstract string Description { get; }

    /// <summary>The actions this kind supports.</summary>
    public abstract IReadOnlyList<ModelAction> Actions { get; }

    /// <summary>The presets <c>shinso train</c> accepts for this kind.</summary>
    public abstract IReadOnlyList<string> Presets { get; }

    /// <summary>The <c>--part</c> values of <c>shinso export</c> (empty: the kind has one feed-forward form).</summary>
    public virtual IReadOnlyList<string> ExportParts => [];

    /// <summary>What <c>shinso export</c> says it wrote, e.g. <c>rbm decoder</c>.</summary>
    public virtual string ExportedForm(string fileKind, string? part) => fileKind;

    /// <summary>Whether a file of kind <paramref name="fileKind"/> belongs to this family.</summary>
    public virtual bool Matches(string fileKind) => fileKind == FileKind;

    /// <summary>A usage error when the model in <paramref name="file"/> cannot be evaluated or exported on the inputs as given.</summary>
    public virtual void CheckInputs(string file, ModelHeader header) { }

    /// <summary>Whether <paramref name="action"/> is supported.</summary>
    public bool Supports(ModelAction action) => Actions.Contains(action);

    /// <summary>Trains from a preset (or, where the kind has them, a config file); returns the exit code.</summary>
    public virtual int Train(TrainArguments arguments) => throw Unsupported(arguments.Source, ModelAction.Train);

    /// <summary>Evaluates a saved model; returns the exit code.</summary>
    public virtual int Eval(EvalArguments arguments) => throw Unsupported(arguments.File, ModelAction.Eval);

    /// <summary>Writes sample or filter pictures; returns the exit code.</summary>
    public virtual int Sample(SampleArguments arguments) => throw Unsupported(arguments.File, ModelAction.Sample);

    /// <summary>Fills in occluded test pixels by each asked method; returns the exit code.</summary>
    public virtual int Complete(CompleteArguments arguments) => throw Unsupported(arguments.File, ModelAction.Complete);

    /// <summary>The error for an action this kind lacks: it names the kind and what it supports.</summary>
    public Commands.UsageException Unsupported(string what, ModelAction action) =>
        new($"{what}: a '{FileKind}' model ({Description}) supports {string.Join(", ", Actions.Select(Verb))}, not {Verb(action)}.");

    /// <summary>The command that performs <paramref name="action"/>.</summary>
    public static string Verb(ModelAction action) => action.ToString().ToLowerInvariant();
}
