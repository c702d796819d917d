using System.Diagnostics;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.Boltzmann;

/// <summary>How a <see cref="DbnRun"/> reports and resumes.</summary>
public sealed record DbnRunOptions
{
    /// <summary>Continue the run saved in the folder (null: start afresh).</summary>
    public DbnResume? Resume { get; init; }

    /// <summary>Where the data came from, saved in the model files' metadata.</summary>
    public string DataDescription { get; init; } = "";

    /// <summary>Receives one line per stage, epoch and result.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Called after every backprop batch with (1-based epoch, batches done, batches per epoch).</summary>
    public Action<int, int, int>? BackpropBatchCompleted { get; init; }

    /// <summary>
    /// The share of the training rows a new run holds out, chosen by the run's seed, and measures after every epoch of every
    /// phase (null or 0: none). A resumed run holds out the rows it held out before; asking it for another share is refused.
    /// </summary>
    public double? ValidationFraction { get; init; }

    /// <summary>How errors name an option (<c>seed</c>, <c>epochs</c>, <c>resume</c>, <c>data</c>); the CLI spells them <c>--seed</c>.</summary>
    public Func<string, string> OptionName { get; init; } = name => name;
}

/// <summary>
/// A deep belief net run as a sequence of phases, each resumable: greedy layer-wise training (Hinton, Osindero &amp; Teh
/// 2006), up-down fine-tuning, then backprop on the converted net through the shared <see cref="Trainer"/>.
/// </summary>
public static class DbnRun
{
    /// <summary>
    /// Trains a DBN preset: greedy layer-wise, up-down, then backprop on the converted net, reporting test accuracy after
    /// each; saves <c>dbn.shinso</c> (the generative model), <c>model.shinso</c> (the fine-tuned classifier) and <c>summary.json</c>.
    /// </summary>
    /// <remarks>
    /// <c>dbn.shinso</c> is written when the run starts and rewritten after every greedy stage and every up-down epoch,
    /// <c>greedy-stage.shinso</c> after every epoch of an unfinished greedy stage, and <c>checkpoint.shinso</c> after every
    /// backprop epoch, so with <see cref="DbnRunOptions.Resume"/> a killed run continues from the last of those and ends with
    /// the same parameters as an uninterrupted one. With <see cref="DbnRunOptions.ValidationFraction"/> no phase trains on
    /// the held-out rows; each reports them after every epoch (a directed layer's reconstruction error, the net's label
    /// cross-entropy and accuracy after the top RBM's and up-down epochs, the classifier's loss and accuracy in backprop).
    /// </remarks>
    public static JsonObject Run(string name, DbnPreset preset, IBackend backend, Dataset train, Dataset test, string outDirectory, DbnRunOptions? options = null)
    {
        options ??= new DbnRunOptions();
        var resume = options.Resume;
        void Progress(string line) => options.Progress?.Invoke(line);
        string Option(string option) => options.OptionName(option);
        var total = Stopwatch.StartNew();
        string dataDescription = options.DataDescription;
        if (train.FeatureCount != preset.LayerSizes[0])
            throw new DataMismatchException($"{Option("data")}: samples are {string.Join("x", train.SampleShape)} ({train.FeatureCount} features) but {name}'s bottom layer has {preset.LayerSizes[0]} units.");
        string dbnPath = Path.Combine(outDirectory, "dbn.shinso");
        var stage = resume is not null ? DbnRunStage.Load(dbnPath, preset, backend, resume.Seed, Option) : null;
        if (stage is not null)
        {
            // A resumed run continues every phase with the seed it started with, and each phase with the budget it was
            // given unless a flag asks for another.
            preset = Seeded(preset, stage.Dbn.Seed);
            preset = PlannedBudgets(preset, stage.Progress, resume!, Progress);
        }
        double validationFraction = ValidationFraction(stage, options, outDirectory, Option);
        Dataset? validation = null;
        if (validationFraction > 0)
        {
            // The held-out rows follow the run's seed, so a resumed run holds out the ones it held out before.
            (train, validation) = train.Split(validationFraction, preset.Greedy.Layer.Seed);
            if (validation.Count == 0 || train.Count == 0)
                throw new DataMismatchException($"{Option("validation")}: {validationFraction} of {train.Count + validation.Count} training images holds out {validation.Count} and leaves {train.Count}; " +
                                                "both parts need at least one.");
            Progress($"validation: {validation.Count:N0} of the training images held out ({validationFraction:P0}), measured after every epoch of every phase");
        }
        var g = preset.Greedy;
        var dbn = stage?.Dbn ?? new DeepBeliefNet(backend, preset.LayerSizes, train.ClassCount, seed: g.Layer.Seed);
        if (dbn.LabelCount != train.ClassCount)
            throw new DataMismatchException($"{Option("data")}: the data has {train.ClassCount} classes but the run's DBN has {dbn.LabelCount} label units.");
        var progress = stage?.Progress ?? new JsonObject { ["data"] = dataDescription, ["greedy_stages_done"] = 0, ["updown_epochs_done"] = 0 };
        progress["planned_layer_epochs"] = g.LayerEpochs;
        progress["planned_top_epochs"] = g.TopEpochs;
        progress["planned_updown_epochs"] = preset.UpDownEpochs;
        progress["planned_backprop_epochs"] = preset.Backprop.Training.Epochs;
        progress["validation_fraction"] = validationFraction;
        Progress($"model: {name} — DBN {string.Join("-", preset.LayerSizes)} + {train.ClassCount} labels; greedy CD-1 {g.LayerEpochs} epochs per layer, " +
                 $"top {g.TopEpochs}; up-down {preset.UpDownEpochs} epochs ({preset.UpDown.TopGibbsSteps} top Gibbs steps, lr {preset.UpDown.LearningRate}); " +
                 $"backprop {preset.Backprop.Training.Epochs} epochs (hidden dropout {preset.BackpropDropout}); backend {backend.Name}");
        Directory.CreateDirectory(outDirectory);
        void SaveStage() => DbnModelFile.Save(dbn, dbnPath, metadata: progress.DeepClone().AsObject());
        string stagePath = Path.Combine(outDirectory, GreedyStageFile.FileName);
        if (stage is null)
        {
            // A new run owns the folder: an earlier run's unfinished stage would otherwise be resumed as this one's. Its first
            // dbn.shinso, before any stage, lets a run cut off in the first stage resume.
            File.Delete(stagePath);
            SaveStage();
        }

        // A backprop checkpoint continues only if it started from the DBN as it is now: a resumed run that trains more
        // greedy or up-down epochs converts the new DBN afresh.
        bool generativeChanged = false;
        int stages = dbn.Layers.Count + 1, stagesDone = (int)progress["greedy_stages_done"]!;
        if (stagesDone > 0) Progress($"resuming {outDirectory}: {stagesDone} of {stages} greedy stages done");
        var clock = Stopwatch.StartNew();
        if (stagesDone < stages)
        {
            generativeChanged = true;
            double before = Seconds(progress, "greedy_seconds");
            // A stage cut off part-way kept its epochs in its stage file (dbn.shinso holds finished stages only): they start
            // its history, which the epochs it trains now continue.
            if (stage is not null && File.Exists(stagePath) && ModelFile.ReadHeader(stagePath).Metadata["stage"] is JsonValue cut
                && cut.TryGetValue(out int cutStage) && cutStage == stagesDone)
            {
                bool top = cutStage == dbn.Layers.Count;
                foreach (var m in Checkpoint.ReadHistory(stagePath))
                    AppendEpoch(progress, "greedy_history", top ? "top" : $"layer {cutStage}", top ? m with { ValidationLoss = null } : m);
            }
            GreedyLayerwiseTraining.Train(dbn, train, g, (layer, report, held) =>
            {
                int epochs = layer == "top" ? g.TopEpochs : g.LayerEpochs;
                // Kept with the stage counters, so a report can draw each stage's curve: dbn.shinso saves them after each stage.
                // The top stage's held-out figures are the net's label loss and accuracy, not a reconstruction error: only the
                // accuracy goes beside its training reconstruction error.
                var stageOptions = layer == "top" ? g.Top : layer == "layer 0" ? g.Bottom ?? g.Layer : g.Layer;
                AppendEpoch(progress, "greedy_history", layer, GreedyLayerwiseTraining.Metrics(report, stageOptions) with
                {
                    ValidationLoss = layer == "top" ? null : held?.Loss, ValidationAccuracy = held?.Accuracy,
                });
                string heldOut = held is not { } v ? "" : layer == "top" ? $", validation {Classification(v)}" : $", validation reconstruction error {v.Loss:F3}";
                Progress($"greedy {layer}: epoch {report.Epoch + 1,3}/{epochs}, reconstruction error {report.ReconstructionError:F3}{heldOut}, {report.Seconds:F1} s");
            }, stagesDone, done =>
            {
                progress["greedy_stages_done"] = done + 1;
                progress["greedy_seconds"] = before + clock.Elapsed.TotalSeconds;
                if (done + 1 == stages)
                {
                    progress["greedy_test_accuracy"] = dbn.Accuracy(test);
                    if (validation is not null) progress["greedy_validation_accuracy"] = dbn.Evaluate(validation).Accuracy;
                }
                SaveStage();
            }, new GreedyStageFile(stagePath), validation);
            File.Delete(stagePath);
        }
        double greedySeconds = Seconds(progress, "greedy_seconds");
        double greedyAccuracy = (double)progress["greedy_test_accuracy"]!;
        Progress($"greedy: test accuracy {greedyAccuracy:P2} ({greedySeconds:F0} s)");

        int upDownDone = (int)progress["updown_epochs_done"]!;
        if (preset.UpDownEpochs > 0 && upDownDone < preset.UpDownEpochs)
        {
            generativeChanged = true;
            if (upDownDone > 0) Progress($"resuming up-down after epoch {upDownDone}");
            double before = Seconds(progress, "updown_seconds");
            clock.Restart();
            var upDown = new UpDownTrainer(dbn, preset.UpDown) { Counter = (ulong?)progress["updown_counter"] ?? 0 };
            EpochMetrics UpDownEpoch(int e)
            {
                var report = upDown.TrainEpoch(train, e);
                return EpochMetrics.Unsupervised(e, report.ReconstructionError, report.Updates * preset.UpDown.BatchSize, report.Seconds, preset.UpDown.LearningRate);
            }
            void UpDownCompleted(EpochMetrics m)
            {
                string heldOut = m.Validation is { } v ? $", validation {Classification(v)}" : "";
                Progress($"up-down: epoch {m.Epoch,3}/{preset.UpDownEpochs}, generative reconstruction error {m.TrainLoss:F3}{heldOut}, {m.Seconds:F1} s");
                progress["updown_epochs_done"] = m.Epoch;
                // Its held-out figures are the net's label loss and accuracy; the accuracy goes beside the generative error.
                AppendEpoch(progress, "updown_history", null, m with { ValidationLoss = null });
                progress["updown_counter"] = upDown.Counter;
                progress["updown_seconds"] = before + clock.Elapsed.TotalSeconds;
                if (m.Epoch == preset.UpDownEpochs)
                {
                    progress["updown_test_accuracy"] = dbn.Accuracy(test);
                    if (m.ValidationAccuracy is { } heldAccuracy) progress["updown_validation_accuracy"] = heldAccuracy;
                    Progress($"up-down: test accuracy {(double)progress["updown_test_accuracy"]!:P2} ({Seconds(progress, "updown_seconds"):F0} s)");
                }
                SaveStage();
            }
            Func<Evaluation>? validateUpDown = validation is null ? null : () => dbn.Evaluate(validation);
            try { EpochRunner.Run(new TrainingState { EpochsDone = upDownDone }, upDown.Parameters, preset.UpDownEpochs, patience: 0, UpDownEpoch, validateUpDown, UpDownCompleted, optimizer: upDown.Optimizer); }
            catch (TrainingDivergedException e) { throw e.InStage("up-down"); }
        }
        else if (upDownDone > 0)
        {
            Progress($"up-down: test accuracy {(double?)progress["updown_test_accuracy"] ?? double.NaN:P2} ({Seconds(progress, "updown_seconds"):F0} s, {upDownDone} epochs)");
        }
        double upDownSeconds = Seconds(progress, "updown_seconds");
        double upDownAccuracy = (double?)progress["updown_test_accuracy"] ?? greedyAccuracy;

        clock.Restart();
        FeedForwardNet net;
        Shinso.Optimizers.Optimizer optimizer;
        TrainingState? state = null;
        var config = preset.Backprop;
        bool checkpointed = File.Exists(Path.Combine(outDirectory, Checkpoint.FileName));
        if (resume is not null && generativeChanged && checkpointed)
            Progress("resume: the backprop checkpoint belongs to the DBN before this run's new greedy or up-down epochs; backprop starts again from the new DBN");
        if (resume is not null && !generativeChanged && checkpointed)
        {
            var overrides = resume.Backprop with { Epochs = config.Training.Epochs };
            var restored = Checkpoint.Load(outDirectory, backend, saved => overrides.Apply(saved, options.OptionName));
            config = restored.Config;
            (net, optimizer, state) = (restored.Net, restored.Optimizer, restored.State);
            Progress($"resuming backprop after epoch {state.EpochsDone}");
            ResumeOverrides.CheckBudget(config, state.EpochsDone, Option("epochs"));
            foreach (var change in ResumeOverrides.Changes(restored.SavedConfig, config, state.EpochsDone))
                Progress($"resume: backprop {change} from epoch {state.EpochsDone + 1} on");
        }
        else
        {
            net = dbn.ToFeedForwardNet(preset.Backprop.Training.Seed, preset.BackpropDropout, outputFromLabels: preset.OutputFromLabels);
            config = config with { Architecture = net.Spec };
            optimizer = config.CreateOptimizer();
        }
        var trainer = new Trainer(net, optimizer, config.Training);
        if (state is not null) trainer.State = state;
        trainer.EpochCompleted = m =>
        {
            Checkpoint.Save(outDirectory, config, net, optimizer, trainer.State);
            string heldOut = m.Validation is { } v ? $", validation {Classification(v)}" : "";
            Progress($"backprop: epoch {m.Epoch,3}/{config.Training.Epochs}, loss {m.TrainLoss:F4}{heldOut}, {m.Seconds:F1} s");
        };
        if (options.BackpropBatchCompleted is { } batchCompleted)
            trainer.BatchCompleted = (done, all) => batchCompleted(trainer.State.EpochsDone + 1, done, all);
        double backpropAccuracy = upDownAccuracy;
        double backpropLoss = double.NaN;
        double? backpropValidationAccuracy = null;
        if (config.Training.Epochs > 0)
        {
            var held = validation is null ? null : SupervisedData.FromDataset(validation);
            try { trainer.Fit(SupervisedData.FromDataset(train), held); }
            catch (TrainingDivergedException e) { throw e.InStage("backprop"); }
            var evaluation = Trainer.Evaluate(net, SupervisedData.FromDataset(test));
            backpropAccuracy = evaluation.Accuracy ?? double.NaN;
            backpropLoss = evaluation.Loss;
            if (held is not null) backpropValidationAccuracy = Trainer.Evaluate(net, held).Accuracy;
            Progress($"backprop: test accuracy {backpropAccuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        double backpropSeconds = trainer.State.History.Sum(h => h.Seconds);
        // Without backprop the converted net's output layer is untrained: there is no classifier to save.
        string? modelPath = null;
        if (config.Training.Epochs > 0)
        {
            modelPath = Path.Combine(outDirectory, "model.shinso");
            FeedForwardModelFile.Save(net, modelPath, config.ToJson(), new JsonObject
            {
                ["testAccuracy"] = backpropAccuracy, ["testLoss"] = Finite(backpropLoss), ["epochs"] = trainer.State.EpochsDone, ["data"] = dataDescription,
                ["pretrained"] = "dbn", ["validation_fraction"] = validationFraction,
            });
        }
        var summary = new JsonObject
        {
            ["model"] = name, ["greedy_accuracy"] = greedyAccuracy, ["updown_accuracy"] = upDownAccuracy, ["accuracy"] = backpropAccuracy,
            ["loss"] = Finite(backpropLoss), ["greedy_seconds"] = Math.Round(greedySeconds, 1), ["updown_seconds"] = Math.Round(upDownSeconds, 1),
            ["backprop_seconds"] = Math.Round(backpropSeconds, 1), ["seconds"] = Math.Round(total.Elapsed.TotalSeconds, 1),
            ["layer_epochs"] = g.LayerEpochs, ["top_epochs"] = g.TopEpochs, ["updown_epochs"] = preset.UpDownEpochs,
            ["backprop_epochs"] = trainer.State.EpochsDone, ["dbn_path"] = dbnPath, ["model_path"] = modelPath,
            ["train_samples"] = train.Count, ["test_samples"] = test.Count,
        };
        if (validation is not null)
        {
            summary["validation_samples"] = validation.Count;
            summary["greedy_validation_accuracy"] = (double?)progress["greedy_validation_accuracy"];
            summary["updown_validation_accuracy"] = (double?)progress["updown_validation_accuracy"] ?? (double?)progress["greedy_validation_accuracy"];
            summary["validation_accuracy"] = backpropValidationAccuracy;
        }
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "summary.json"), summary.ToJsonString() + "\n");
        return summary;
    }

    /// <summary>
    /// Adds epoch <paramref name="metrics"/> to the run's history under <paramref name="key"/> (and the stage's name
    /// <paramref name="stage"/>, for the greedy stages), as <see cref="ReadHistories"/> reads it back.
    /// </summary>
    private static void AppendEpoch(JsonObject progress, string key, string? stage, EpochMetrics metrics)
    {
        JsonArray epochs;
        if (stage is null) epochs = progress[key] as JsonArray ?? (JsonArray)(progress[key] = new JsonArray());
        else
        {
            var stages = progress[key] as JsonObject ?? (JsonObject)(progress[key] = new JsonObject());
            epochs = stages[stage] as JsonArray ?? (JsonArray)(stages[stage] = new JsonArray());
        }
        // A stage resumed part-way repeats no epoch: the entries after the one it continues from are dropped first.
        while (epochs.Count > 0 && (int)epochs[^1]!["epoch"]! >= metrics.Epoch) epochs.RemoveAt(epochs.Count - 1);
        epochs.Add(Checkpoint.MetricsJson(metrics));
    }

    /// <summary>
    /// The per-epoch figures a DBN run kept in <c>dbn.shinso</c>: each greedy stage's (its RBM's reconstruction error, and
    /// with validation the held-out one, or for the top stage the net's held-out label accuracy), in training order, then
    /// the up-down epochs' (the generative reconstruction error, and the held-out label accuracy).
    /// A run cut off inside a stage kept that stage's epochs only from the stage's start or the last finished stage.
    /// </summary>
    /// <exception cref="ModelFileException">An entry is malformed (the message names the file and the field).</exception>
    public static (IReadOnlyList<(string Stage, IReadOnlyList<EpochMetrics> Epochs)> Greedy, IReadOnlyList<EpochMetrics> UpDown) ReadHistories(string dbnPath)
    {
        var metadata = ModelFile.ReadHeader(dbnPath).Metadata;
        var greedy = new List<(string, IReadOnlyList<EpochMetrics>)>();
        if (metadata["greedy_history"] is JsonObject stages)
            foreach (var (stage, node) in stages)
                greedy.Add((stage, Checkpoint.MetricsFromJson(node, dbnPath, $"metadata.greedy_history.{stage}")));
        return (greedy, metadata["updown_history"] is { } upDown ? Checkpoint.MetricsFromJson(upDown, dbnPath, "metadata.updown_history") : []);
    }

    /// <summary>
    /// The share of the training rows the run holds out: a new run's from <paramref name="options"/>, a resumed run's from its
    /// <c>dbn.shinso</c>, where a different share asked for is refused.
    /// </summary>
    private static double ValidationFraction(DbnRunStage? stage, DbnRunOptions options, string outDirectory, Func<string, string> option)
    {
        if (stage is null)
        {
            double asked = options.ValidationFraction ?? 0;
            if (!(asked is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(options), asked, $"{option("validation")} must be in [0, 1).");
            return asked;
        }
        // Runs saved before validation existed held nothing out.
        double saved = (double?)stage.Progress["validation_fraction"] ?? 0;
        if (options.ValidationFraction is { } requested && requested != saved)
            throw new ResumeRefusedException($"{option("validation")}: the run in {outDirectory} holds out " +
                                             (saved > 0 ? $"{saved:P0} of its training rows" : "none of its training rows") +
                                             "; a resumed run keeps its split (start a new run for another).");
        return saved;
    }

    /// <summary>Validation figures of a classifier: cross-entropy and accuracy.</summary>
    private static string Classification(Evaluation held) => $"cross-entropy {held.Loss:F4}, accuracy {held.Accuracy ?? double.NaN:P2}";

    /// <summary>
    /// The phase budgets a resumed run continues with: those the run was started with (saved in <c>dbn.shinso</c>), except
    /// where a flag asks for another, which is reported.
    /// </summary>
    private static DbnPreset PlannedBudgets(DbnPreset preset, JsonObject progress, DbnResume resume, Action<string> report)
    {
        int? Saved(string key) => progress[key] is JsonValue v && v.TryGetValue<int>(out int n) ? n : null;
        void Report(string what, int? saved, int now)
        {
            if (saved is { } before && before != now) report($"resume: {what} {before} -> {now}");
        }
        var g = preset.Greedy;
        if (resume.PretrainEpochs is null)
            g = g with { LayerEpochs = Saved("planned_layer_epochs") ?? g.LayerEpochs, TopEpochs = Saved("planned_top_epochs") ?? g.TopEpochs };
        else
            Report("greedy epochs per layer", Saved("planned_layer_epochs"), g.LayerEpochs);
        int upDown = resume.UpDownEpochs is null ? Saved("planned_updown_epochs") ?? preset.UpDownEpochs : preset.UpDownEpochs;
        if (resume.UpDownEpochs is not null) Report("up-down epochs", Saved("planned_updown_epochs"), upDown);
        var training = preset.Backprop.Training;
        if (resume.Backprop.Epochs is null) training = training with { Epochs = Saved("planned_backprop_epochs") ?? training.Epochs };
        else Report("backprop epochs", Saved("planned_backprop_epochs"), training.Epochs);
        return preset with { Greedy = g, UpDownEpochs = upDown, Backprop = preset.Backprop with { Training = training } };
    }

    /// <summary><paramref name="preset"/> with every phase seeded by <paramref name="seed"/>.</summary>
    public static DbnPreset Seeded(DbnPreset preset, ulong seed) => preset with
    {
        Greedy = preset.Greedy with { Layer = preset.Greedy.Layer with { Seed = seed }, Top = preset.Greedy.Top with { Seed = seed } },
        UpDown = preset.UpDown with { Seed = seed },
        Backprop = preset.Backprop with { Training = preset.Backprop.Training with { Seed = seed } },
    };

    private static double Seconds(JsonObject progress, string key) => (double?)progress[key] ?? 0;

    /// <summary>JSON has no infinities; a non-finite figure is written as null.</summary>
    private static JsonNode? Finite(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
}

/// <summary>A request to resume a DBN run, with the changes asked for its backprop phase (the phases before it keep their preset).</summary>
/// <param name="Backprop">Changes typed for the backprop phase (null: keep what the run was given).</param>
/// <param name="Seed">The seed typed, refused unless it is the run's.</param>
/// <param name="PretrainEpochs">--pretrain-epochs as typed.</param>
/// <param name="UpDownEpochs">--updown-epochs as typed.</param>
public sealed record DbnResume(ResumeOverrides Backprop, ulong? Seed, int? PretrainEpochs, int? UpDownEpochs);

/// <summary>Where a DBN run stopped, read back from its <c>dbn.shinso</c> for <c>--resume</c>.</summary>
internal sealed record DbnRunStage(DeepBeliefNet Dbn, JsonObject Progress)
{
    public static DbnRunStage Load(string path, DbnPreset preset, IBackend backend, ulong? askedSeed, Func<string, string> option)
    {
        if (!File.Exists(path))
            throw new ResumeRefusedException($"{option("resume")}: {Path.GetDirectoryName(path)} holds no dbn.shinso; a DBN run writes it when it starts.");
        var doc = ModelFile.Read(path);
        var dbn = DbnModelFile.FromDocument(doc, path, backend);
        if (!dbn.LayerSizes.SequenceEqual(preset.LayerSizes))
            throw new ModelFileException(path, "architecture.layers",
                $"the run holds a {string.Join("-", dbn.LayerSizes)} DBN but the preset is {string.Join("-", preset.LayerSizes)}; resume it with the preset that started it.");
        if (askedSeed is { } asked && dbn.Seed != asked)
            throw new ResumeRefusedException($"{option("seed")}: the run in {Path.GetDirectoryName(path)} was started with seed {dbn.Seed}, which fixes its initial weights and samples; " +
                                     "a resumed run keeps it (start a new run for another seed).");
        var meta = new StrictJson(doc.Metadata, path, "metadata");
        int stages = meta.Int("greedy_stages_done", -1), upDown = meta.Int("updown_epochs_done", -1);
        if (stages < 0 || stages > dbn.Layers.Count + 1 || upDown < 0)
            throw new ModelFileException(path, "metadata.greedy_stages_done", "expected the stage counters a DBN run writes; this file was not saved by a DBN run such as `shinso train dbn-mnist` (start a new run).");
        var progress = doc.Metadata.DeepClone().AsObject();
        progress.Remove("seed");
        return new DbnRunStage(dbn, progress);
    }
}

/// <summary>
/// A run's greedy stage in one file (a DBN run's <c>greedy-stage.shinso</c> beside <c>dbn.shinso</c>, a DBM run's one file per
/// pretraining stage): the stage's RBM parameters, its optimizer's state, the epochs done and the sampler's counter, rewritten
/// after every epoch of the stage.
/// </summary>
/// <param name="path">The file.</param>
/// <param name="kind">The document kind it is written and checked with, naming the run that owns it.</param>
internal sealed class GreedyStageFile(string path, string kind = GreedyStageFile.DbnKind) : IGreedyStageStore
{
    /// <summary>The file's name inside a DBN run's folder.</summary>
    public const string FileName = "greedy-stage.shinso";

    /// <summary>The kind of a DBN run's stage file.</summary>
    public const string DbnKind = DbnModelFile.Kind + "-greedy-stage";


    public void Save(int stage, TrainingState state, IReadOnlyList<Shinso.Layers.Parameter> parameters, Shinso.Optimizers.Optimizer optimizer, ulong counter)
    {
        var doc = new ModelDocument(kind);
        doc.Metadata["stage"] = stage;
        doc.Metadata["sampler_counter"] = counter;
        Checkpoint.AddRunState(doc, state, parameters, optimizer);
        foreach (var p in parameters) doc.Add("parameter/" + p.Name, p.Value);
        ModelFile.Write(path, doc);
    }

    public (TrainingState State, ulong Counter)? Restore(int stage, IReadOnlyList<Shinso.Layers.Parameter> parameters, Shinso.Optimizers.Optimizer optimizer)
    {
        if (!File.Exists(path)) return null;
        var doc = ModelFile.Read(path);
        if (doc.Kind != kind) throw new ModelFileException(path, "kind", $"expected '{kind}' (a run's greedy stage), found '{doc.Kind}'.");
        var meta = new StrictJson(doc.Metadata, path, "metadata");
        // A stage that finished after this file was written left it behind: the stage now due starts afresh.
        if (meta.Int("stage") != stage) return null;
        foreach (var p in parameters) doc.CopyTensorTo("parameter/" + p.Name, p.Value, path, $"greedy stage {stage}");
        var state = Checkpoint.ReadRunState(doc, path, parameters, optimizer);
        return (state, meta.ULong("sampler_counter", 0));
    }
}
