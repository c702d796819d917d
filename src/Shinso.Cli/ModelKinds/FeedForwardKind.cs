using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.Autoencoders;
using Shinso.Models.FeedForward;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Feed-forward nets (MLPs, CNNs, linear regression): presets and JSON configs, trained by backprop.</summary>
internal sealed class FeedForwardKind : ModelKind
{
    public override string FileKind => FeedForwardModelFile.Kind;

    public override string Description => "feed-forward net";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Export];

    public override IReadOnlyList<string> Presets { get; } = [.. Training.Presets.Names, .. Training.Presets.TableNames];

    /// <summary>Also <c>feedforward-checkpoint</c>: a checkpoint holds a whole net.</summary>
    public override bool Matches(string fileKind) => fileKind == FileKind || fileKind.StartsWith(FileKind + "-", StringComparison.Ordinal);

    public override int Train(TrainArguments a)
    {
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs apply to the {string.Join(", ", ModelKindRegistry.All.Where(k => k is RbmKind or DbnKind).SelectMany(k => k.Presets))} presets only.");
        RegressionRunData? table = null;
        TrainingConfig config;
        string name;
        if (a.Target is not null)
        {
            if (a.Data is null) throw new UsageException(NeedsTable);
            var (source, all) = RegressionRunData.ReadTable(a.Data, a.Target);
            (name, config) = Training.Presets.FindForTable(a.Source, all.InputCount) is { } tablePreset ? (a.Source, tablePreset) : TrainCommand.LoadConfig(a.Source);
            // The held-out rows follow the run's seed: a resumed run holds out the rows it held out before.
            ulong splitSeed = a.Resume is not null ? Checkpoint.ReadConfig(a.Resume).Training.Seed : a.Seed ?? config.Training.Seed;
            try { table = RegressionRunData.Load(source, all, a.TestData, splitSeed); }
            catch (Shinso.Data.DataFormatException e) when (a.TestData is not null && e.FilePath == a.TestData) { throw new UsageException("--test-data: " + e.Message); }
        }
        else if (Training.Presets.TableNames.Contains(a.Source))
        {
            throw new UsageException($"{a.Source}: fits a table's column; give the table and the column with --data FILE --target COLUMN.");
        }
        else
        {
            (name, config) = TrainCommand.LoadConfig(a.Source);
        }
        if (a.Standardize is { } standardize)
        {
            if (a.Resume is not null) throw new UsageException("--standardize: the saved run's inputs were prepared once; a resumed run keeps them.");
            config = config with { Normalize = standardize };
        }
        Shinso.Onnx.Import.FeedForwardImport.Chain? imported = null;
        string? transferSource = null;
        if (a.InitFrom is { } init && a.Resume is not null) throw new UsageException("--init-from: a resumed run continues from its checkpoint's weights.");
        if (a.InitFrom is { } file && IsShinsoModelFile(file)) transferSource = file;
        else if (a.CopyLayers is not null || a.Freeze || a.CopiedLearningRate is not null)
            throw new UsageException($"--copy-layers, --freeze and --copied-lr take layers from a saved .shinso net; {a.InitFrom} is not one (an ONNX file's whole layer chain is imported).");
        if (transferSource is null && a.InitFrom is { } onnx)
        {
            try { imported = Shinso.Onnx.Import.FeedForwardImport.Read(Commands.InspectCommand.Load(onnx)); }
            catch (Shinso.Onnx.Import.OnnxImportException e) { throw new UsageException($"--init-from: {e.Message}"); }
            // The graph's weights expect the inputs it was trained on: standardising them would change what it computes.
            if (a.Standardize == true) throw new UsageException("--standardize: the imported weights take the inputs their graph was trained on; standardising them would change what the net computes.");
            config = config with { Architecture = imported.Spec, Normalize = false };
        }
        if (config.Architecture.CodeIndex >= 0)
        {
            if (transferSource is not null) throw new UsageException($"--init-from {transferSource}: copying layers applies to classifiers and regression nets; {a.Source} is an autoencoder.");
            if (a.Teachers.Count > 0 || a.Distill is not null || a.LabelWeight is not null) throw new UsageException($"--teacher: distillation trains a classifier; {a.Source} is an autoencoder.");
            if (table is not null) throw new UsageException($"{a.Source}: its net has a code layer, so it reconstructs its inputs; --target fits a table's column.");
            if (a.GradientNorms is not null) throw new UsageException($"--gradient-norms: {a.Source} is an autoencoder; the log applies to classifiers and regression nets.");
            return ModelKindRegistry.All.OfType<AutoencoderKind>().Single().TrainConfig(a, name, config);
        }
        if (table is not null && a.Teachers.Count > 0) throw new UsageException("--teacher: distillation trains a classifier on teachers' logits; --target fits a regression.");
        if (a.Code is not null) throw new UsageException($"--code: sets the code of an autoencoder preset ({string.Join(", ", AutoencoderPresets.Names)}); {a.Source} has no code layer.");
        (config, var overrides) = ApplyFlags(a, config);
        RunData data = table is not null ? table : new ClassificationRunData(CommonOptions.LoadData(a.Data, a.TestData));
        using var backend = a.CreateBackend();
        Action<FeedForwardNet, PreparedRows>? initialize = imported is null ? null : (net, _) => Shinso.Onnx.Import.FeedForwardImport.Load(imported, net);
        if (transferSource is not null) (config, initialize) = PrepareTransfer(a, transferSource, config, backend);
        var summary = TrainingRun.Execute(name, config, backend, data, a.RunDirectory(name), overrides,
            epochCompleted: a.Json ? m => Console.WriteLine(Checkpoint.MetricsJson(m).ToJsonString()) : null,
            initialize: initialize, gradientNorms: a.GradientNorms);
        if (summary.RegressionLines is { Count: > 0 } lines)
        {
            CommonOptions.Err.MarkupLine($"after {summary.Epochs} epochs: {Markup.Escape(lines[0])}; model: {Markup.Escape(summary.ModelPath)}");
            foreach (var line in lines.Skip(1))
                CommonOptions.Err.MarkupLine(line.StartsWith("warning:", StringComparison.Ordinal) ? $"[yellow]{Markup.Escape(line)}[/]" : Markup.Escape(line));
        }
        else
            CommonOptions.Err.MarkupLine($"test accuracy [bold]{summary.TestAccuracy:P2}[/] (loss {summary.TestLoss:F4}) after {summary.Epochs} epochs; model: {summary.ModelPath}");
        Reports.RunReport.WriteAfterTraining(a.RunDirectory(name));
        if (a.Json) Console.WriteLine(summary.ToJson().WithBackend(backend).ToJsonString());
        return 0;
    }

    /// <summary>Whether <paramref name="path"/> starts with a Shinso model file's magic bytes (else it is taken for ONNX).</summary>
    private static bool IsShinsoModelFile(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--init-from: {path} does not exist.");
        Span<byte> prefix = stackalloc byte[8];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false) == prefix.Length && prefix.SequenceEqual(ModelFile.Magic);
    }

    /// <summary>
    /// Transfer learning from a saved net: checks that the first weight layers of <paramref name="file"/>'s net fit the run's
    /// architecture (before training starts), freezes them or scales their learning rate in the config as the flags say,
    /// and returns the step that copies them into the fresh net.
    /// </summary>
    private static (TrainingConfig Config, Action<FeedForwardNet, PreparedRows> Initialize) PrepareTransfer(TrainArguments a, string file, TrainingConfig config, Shinso.Backends.IBackend backend)
    {
        if (config.Normalize)
            throw new UsageException($"--init-from {file}: the copied layers take the raw inputs that net was trained on, but this run standardises its inputs; " +
                                     "give --standardize false (or \"normalize\": false in the config).");
        if (a.CopyLayers is < 1) throw new UsageException($"--copy-layers must be at least 1, got {a.CopyLayers}.");
        if (a.CopiedLearningRate is { } m && !(m > 0 && float.IsFinite(m))) throw new UsageException($"--copied-lr must be positive, got {m} (--freeze keeps the copies fixed).");
        if (a.Freeze && a.CopiedLearningRate is not null) throw new UsageException("--copied-lr: frozen copies do not train; give --freeze or --copied-lr, not both.");
        var source = LoadSavedNet(file, backend, "--init-from", "layers are copied from feed-forward nets");
        int layers = a.CopyLayers ?? LayerTransfer.WeightLayers(source).Count;
        IReadOnlyList<int> copied;
        var probe = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
        try { copied = LayerTransfer.Copy(source, probe, layers); }
        catch (ArgumentException e) { throw new UsageException($"--init-from {file}: {CommonOptions.WithoutParameter(e)}"); }
        if (a.Freeze && copied.Count == LayerTransfer.WeightLayers(probe).Count)
            throw new UsageException($"--freeze: all {copied.Count} weight layers of the net are copied, so nothing would train; give --copy-layers below {copied.Count}.");
        var training = config.Training;
        if (a.Freeze) training = training with { FrozenLayers = [.. training.FrozenLayers.Union(copied).Order()] };
        if (a.CopiedLearningRate is { } multiplier)
        {
            var multipliers = new Dictionary<int, float>(training.LearningRateMultipliers);
            foreach (int i in copied) multipliers[i] = multiplier;
            training = training with { LearningRateMultipliers = multipliers };
        }
        string how = a.Freeze ? "frozen" : a.CopiedLearningRate is { } r ? $"fine-tuned at {r} x the learning rate" : "fine-tuned";
        CommonOptions.Err.MarkupLine($"[grey]transfer:[/] {layers} weight layer(s) (layers {string.Join(", ", copied)}) copied from {Markup.Escape(file)}, {Markup.Escape(how)}");
        return (config with { Training = training }, (net, _) => LayerTransfer.Copy(source, net, layers));
    }

    /// <summary>
    /// A saved feed-forward net (a model or a checkpoint, a DBN's or DBM's net fine-tuned into one) that takes raw inputs,
    /// for the flag <paramref name="flag"/> that names it: a missing file, another kind of model or a checkpoint of a
    /// standardising run is a usage error saying so (<paramref name="purpose"/> says what the flag takes).
    /// </summary>
    internal static FeedForwardNet LoadSavedNet(string file, Shinso.Backends.IBackend backend, string flag, string purpose)
    {
        if (!File.Exists(file)) throw new UsageException($"{flag}: {file} does not exist.");
        var kind = ModelKindRegistry.All.OfType<FeedForwardKind>().Single();
        var header = ModelFile.ReadHeader(file);
        if (!kind.Matches(header.Kind) && !FeedForwardModelFile.NetKinds.Contains(header.Kind))
            throw new UsageException($"{flag} {file}: the file holds a '{header.Kind}' model; {purpose}.");
        kind.CheckInputs(file, header);
        return FeedForwardModelFile.Load(file, backend);
    }

    /// <summary>The teachers <paramref name="distillation"/> names, loaded onto <paramref name="backend"/> (see <see cref="LoadSavedNet"/>).</summary>
    internal static IReadOnlyList<FeedForwardNet> LoadTeachers(Distillation distillation, Shinso.Backends.IBackend backend) =>
        [.. distillation.Teachers.Select(file => LoadSavedNet(file, backend, "--teacher", "a teacher is a saved feed-forward classifier"))];

    /// <summary>
    /// Checks --epochs, --batch and --lr and applies the flags to <paramref name="config"/>: to a fresh run's config, or,
    /// for a resumed run, as the overrides of its saved one (only what the user typed reaches it).
    /// </summary>
    internal static (TrainingConfig Config, ResumeOverrides? Overrides) ApplyFlags(TrainArguments a, TrainingConfig config)
    {
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 0) throw new UsageException($"--batch must be >= 0 (0 = full batch), got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        ResumeOverrides? overrides = null;
        if (a.Resume is not null)
        {
            if (a.Augment is not null) throw new UsageException("--augment: a resumed run keeps the distortions it started with (they are part of what its checkpoint continues).");
            if (a.Validation is not null) throw new UsageException("--validation: a resumed run keeps the rows it held out (its checkpoint continues training on the others).");
            if (a.Teachers.Count > 0 || a.Distill is not null || a.LabelWeight is not null)
                throw new UsageException("--teacher, --distill and --label-weight: a resumed run keeps the teachers and objective it started with (its config names them).");
            // Only what the user typed reaches the saved run: every flag either applies from the next epoch or is refused.
            overrides = new ResumeOverrides
            {
                Epochs = a.Epochs, BatchSize = a.Batch, LearningRate = a.LearningRate, Seed = a.Seed, Optimizer = a.Optimizer,
            };
        }
        else
        {
            var training = config.Training;
            if (a.Augment is { } augment)
            {
                try { training = training with { Augmentation = Shinso.Data.ImageAugmentation.Parse(augment) }; }
                catch (FormatException ex) { throw new UsageException("--augment: " + ex.Message); }
                try { training.Augmentation!.Geometry(config.Architecture.InputShape); }
                catch (ArgumentException ex) { throw new UsageException("--augment: " + ex.Message + (ex.Message.Contains("\"image\"") ? " (in a config file's training.augment)" : "")); }
            }
            if (a.Teachers.Count > 0 || a.Distill is not null || a.LabelWeight is not null)
            {
                // The flags override the config's distillation one by one: --teacher its teachers, --distill its target, --label-weight its weight.
                var given = training.Distillation;
                if (given is null && a.Teachers.Count == 0)
                    throw new UsageException("--distill and --label-weight say how to learn from teacher nets; name them with --teacher (or in the config's training.distill).");
                var distillation = new Distillation
                {
                    Teachers = a.Teachers.Count > 0 ? [.. a.Teachers] : given!.Teachers, LabelWeight = a.LabelWeight ?? given?.LabelWeight ?? 0f,
                    Target = given?.Target ?? DistillationTarget.Logits, Temperature = given?.Temperature ?? 1f,
                };
                if (a.Distill is { } target)
                {
                    try { distillation = Distillation.WithTarget(distillation, target); }
                    catch (FormatException ex) { throw new UsageException("--distill: " + ex.Message); }
                }
                try { distillation.Validate(); }
                catch (ArgumentException ex) { throw new UsageException((ex.Message.Contains("label weight") ? "--label-weight: " : "--distill: ") + ex.Message); }
                if (config.Architecture.Loss != "softmax-cross-entropy")
                    throw new UsageException($"--teacher: distillation trains a softmax classifier; this net's loss is '{config.Architecture.Loss}'.");
                training = training with { Distillation = distillation };
            }
            if (a.Validation is { } fraction)
            {
                if (fraction is < 0 or >= 1) throw new UsageException($"--validation must be in [0, 1), got {fraction}.");
                config = config with { ValidationFraction = fraction };
            }
            // Teachers and distortions take raw images, whichever of the config and the flags asked for them and for standardisation.
            if (config.Normalize && training.Distillation is not null)
                throw new UsageException("--teacher: the teachers take the raw inputs they were trained on; this run standardises its inputs (give --standardize false).");
            if (config.Normalize && training.Augmentation is not null)
                throw new UsageException("--augment: distorts raw images; this run standardises its inputs (give --standardize false).");
            if (a.Epochs is { } e) training = training with { Epochs = e };
            if (a.Batch is { } b) training = training with { BatchSize = b };
            if (a.Seed is { } s) training = training with { Seed = s };
            config = config with { Training = training };
            if (a.Optimizer is { } opt)
            {
                try { config = config with { Optimizer = OptimizerConfig.Defaults(opt) }; }
                catch (ArgumentException ex) { throw new UsageException("--optimizer: " + ex.Message); }
            }
            if (a.LearningRate is { } l) config = config with { Optimizer = config.Optimizer with { LearningRate = l } };
        }
        return (config, overrides);
    }

    public override int Eval(EvalArguments a)
    {
        CheckInputs(a.File, a.Header);
        var net = FeedForwardModelFile.Load(a.File, a.Backend);
        if (a.Target is not null) return EvalRegression(a, net);
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.RequireFeatures(loaded, net.Spec.InputLength, a.File);
        var test = CommonOptions.FitClasses(loaded.Test, net.Spec.OutputLength, a.File);
        var evaluation = Trainer.Evaluate(net, SupervisedData.FromDataset(test));
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(loaded.Description)}");
        CommonOptions.Err.MarkupLine($"test accuracy [bold]{evaluation.Accuracy:P2}[/], loss {evaluation.Loss:F4} on {test.Count} images");
        if (a.Json)
            Console.WriteLine(new JsonObject { ["model"] = a.File, ["accuracy"] = evaluation.Accuracy, ["loss"] = evaluation.Loss, ["samples"] = test.Count }.ToJsonString());
        return 0;
    }

    /// <summary>The metadata key under which a saved model records the input standardisation folded into its weights.</summary>
    public const string FoldedStandardizationKey = "inputStandardization";

    private const string NeedsTable = "--target: names a column of a CSV table; give the table with --data FILE.";

    /// <summary>
    /// A file whose config standardises inputs takes raw inputs only when the standardisation was folded into its weights
    /// (and recorded); a checkpoint, or a model saved before Shinso folded it, holds weights for standardised inputs and
    /// no statistics, so evaluating or exporting it on raw inputs would be silently wrong.
    /// </summary>
    public override void CheckInputs(string file, ModelHeader header)
    {
        bool standardised = (header.HyperParameters["training"] as JsonObject)?["normalize"] is JsonValue normalize
                            && normalize.GetValueKind() == System.Text.Json.JsonValueKind.True;
        bool folded = (header.Metadata[FoldedStandardizationKey] as JsonObject)?["folded"] is JsonValue mark
                      && mark.GetValueKind() == System.Text.Json.JsonValueKind.True;
        if (standardised && !folded)
            throw new UsageException($"{file}: its config standardises the inputs and the file does not mark them as folded into its weights " +
                                     (header.Kind == FileKind ? "(a model saved before Shinso recorded the fold); retrain it, or evaluate it on standardised inputs yourself."
                                                              : "(a checkpoint holds the weights as they train, for standardised inputs); use the run's model.shinso, which takes raw inputs."));
    }

    /// <summary>MSE and R² of a saved one-output regression net on a table's --target column.</summary>
    private static int EvalRegression(EvalArguments a, FeedForwardNet net)
    {
        if (a.Data is null) throw new UsageException(NeedsTable);
        if (a.TestData is not null) throw new UsageException("--test-data: eval --target scores the one table --data names.");
        if (net.Spec.OutputLength != 1 || net.Loss.Output != Shinso.Losses.OutputFunction.Identity)
            throw new UsageException($"{a.File}: a '{net.Spec.Loss}' net of {net.Spec.OutputLength} outputs; --target scores a regression net (squared error, one output).");
        // A model trained on a table with a header records its column names: a table with a header is then read by
        // them (in any order); otherwise the columns are taken by position.
        var trained = a.Header.Metadata["regression"] as JsonObject;
        bool named = trained?["named"] is JsonValue n && n.TryGetValue(out bool isNamed) && isNamed;
        string? trainedTarget = trained?["target"] is JsonValue t && t.TryGetValue(out string? target) ? target : null;
        string[]? trainedInputs = trained?["inputs"] is JsonArray names && names.All(x => x is JsonValue v && v.TryGetValue(out string? _))
            ? [.. names.Select(x => x!.GetValue<string>())] : null;
        var (table, rows) = RegressionRunData.ReadTable(a.Data, a.Target!);
        if (named && table.HasHeader && trainedInputs is not null)
        {
            if (trainedTarget is not null && !string.Equals(trainedTarget, rows.TargetName, StringComparison.Ordinal))
                throw new UsageException($"--target: {a.File} was trained to predict '{trainedTarget}', not '{rows.TargetName}'.");
            try { rows = Shinso.Models.Regression.RegressionTable.FromTable(table, a.Target!, trainedInputs); }
            catch (ArgumentException e) { throw new UsageException($"--data: {a.File} was trained on the columns {string.Join(", ", trainedInputs)}: " + CommonOptions.WithoutParameter(e)); }
        }
        if (rows.InputCount != net.Spec.InputLength)
            throw new UsageException($"--data: the table has {rows.InputCount} input columns but {a.File} takes {net.Spec.InputLength} inputs.");
        var figures = Shinso.Models.Regression.RegressionMetrics.Of(net, rows);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(a.Data)}: {rows.Count} rows, target {Markup.Escape(rows.TargetName)} from {Markup.Escape(string.Join(", ", rows.InputNames))}");
        CommonOptions.Err.MarkupLine($"MSE [bold]{RegressionRunData.Number(figures.MeanSquaredError)}[/], R² {RegressionRunData.Number(figures.RSquared)} on {rows.Count} rows");
        if (a.Json)
        {
            var json = RegressionRunData.Json(figures);
            json["model"] = a.File;
            json["target"] = rows.TargetName;
            Console.WriteLine(json.ToJsonString());
        }
        return 0;
    }
}
