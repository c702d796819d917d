using System.Diagnostics;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Cli.ModelKinds;
using Shinso.Cli.Reports;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>The summary of a finished run, printed as JSON with --json.</summary>
/// <remarks><see cref="TestAccuracy"/> is null for regression, whose figures (MSE, R², coefficients) are in <see cref="Regression"/>.</remarks>
internal sealed record RunSummary(string Name, double? TestAccuracy, double TestLoss, int Epochs, double Seconds,
    double SamplesPerSecond, string ModelPath, int TrainSamples, int TestSamples, JsonObject? Regression = null, IReadOnlyList<string>? RegressionLines = null)
{
    /// <summary>Figures printed beside the others at the top level of the JSON (a reconstruction's errors).</summary>
    public JsonObject? Figures { get; init; }

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["model"] = Name, ["accuracy"] = TestAccuracy, ["loss"] = RegressionRunData.Finite(TestLoss), ["epochs"] = Epochs,
            ["seconds"] = Seconds, ["samples_per_second"] = SamplesPerSecond, ["model_path"] = ModelPath,
            ["train_samples"] = TrainSamples, ["test_samples"] = TestSamples,
        };
        if (Regression is not null) json["regression"] = Regression.DeepClone();
        if (Figures is not null)
            foreach (var (key, value) in Figures) json[key] = value?.DeepClone();
        return json;
    }
}

/// <summary>
/// One supervised training run as the CLI performs it: load and prepare the data, build or resume
/// the model, train with a checkpoint after every epoch, evaluate on the test set, save the model.
/// </summary>
internal static class TrainingRun
{
    /// <param name="name">The run's name (the preset's or the config file's).</param>
    /// <param name="config">The run's config (a resumed run's comes from its checkpoint).</param>
    /// <param name="backend">Where the net trains.</param>
    /// <param name="data">The rows and the figures of the run.</param>
    /// <param name="outDirectory">The run folder.</param>
    /// <param name="resume">The flags typed for a resumed run, or null for a fresh one.</param>
    /// <param name="epochCompleted">Called after each epoch's checkpoint.</param>
    /// <param name="fileKind">The kind the saved model file records (an autoencoder's, or a feed-forward net's).</param>
    /// <param name="initialize">Called on a fresh net before backprop with its training rows (layer-wise pretraining); not on a resumed one, whose checkpoint holds the weights.</param>
    /// <param name="gradientNorms">A CSV file for every update's gradient norms (<see cref="GradientNormLog"/>), or null; a resumed run appends to it.</param>
    /// <param name="phasesBefore">The phases that came before backprop (layer-wise pretraining), for the run's record; asked for when the record is written.</param>
    public static RunSummary Execute(string name, TrainingConfig config, IBackend backend, RunData data,
        string outDirectory, ResumeOverrides? resume, Action<EpochMetrics>? epochCompleted = null,
        string fileKind = FeedForwardModelFile.Kind, Action<FeedForwardNet, PreparedRows>? initialize = null, string? gradientNorms = null,
        Func<IReadOnlyList<RunPhase>>? phasesBefore = null)
    {
        var err = CommonOptions.Err;
        var wall = Stopwatch.StartNew();
        string dataDescription = data.Description;
        err.MarkupLine($"[grey]data:[/] {Markup.Escape(dataDescription)}");

        FeedForwardNet net;
        Shinso.Optimizers.Optimizer optimizer;
        TrainingState? state = null;
        if (resume is not null)
        {
            data.CheckResume(Checkpoint.ReadProvenance(outDirectory), outDirectory);
            // A checkpoint from another preset or family would train on as if it were this one, under this one's name.
            if (Checkpoint.ReadIdentity(outDirectory) is { } saved && (saved.Name != name || saved.ModelKind != fileKind))
                throw new UsageException($"--resume: the run in {outDirectory} is '{saved.Name}' (it saves '{saved.ModelKind}' models), not '{name}'" +
                                         (saved.ModelKind != fileKind ? $" (a '{fileKind}' run)" : "") + "; resume it with its own preset or config.");
            var restored = Checkpoint.Load(outDirectory, backend, saved => Resume(resume, saved));
            config = restored.Config;
            (net, optimizer, state) = (restored.Net, restored.Optimizer, restored.State);
            err.MarkupLine($"[grey]resuming[/] {Markup.Escape(outDirectory)} after epoch {state.EpochsDone} (step {state.Step})");
            try { ResumeOverrides.CheckBudget(config, state.EpochsDone, "--epochs"); }
            catch (ResumeRefusedException e) { throw new UsageException(e.Message); }
            foreach (var change in ResumeOverrides.Changes(restored.SavedConfig, config, state.EpochsDone))
                err.MarkupLine($"[grey]resume:[/] {Markup.Escape(change)} from epoch {state.EpochsDone + 1} on");
        }
        else
        {
            net = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
            optimizer = config.CreateOptimizer();
        }

        var rows = data.Prepare(config, name);
        foreach (var note in rows.Notes)
            err.MarkupLine(note.StartsWith("warning:", StringComparison.Ordinal) ? $"[yellow]{Markup.Escape(note)}[/]" : $"[grey]note:[/] {Markup.Escape(note)}");
        var provenance = data.Provenance;

        err.MarkupLine($"[grey]model:[/] {Markup.Escape(name)} — {Markup.Escape(Describe(config.Architecture))}; " +
                       $"{config.Optimizer.Name}, lr {config.Optimizer.LearningRate}, batch {config.Training.BatchSize}, " +
                       $"{config.Training.Epochs} epochs, seed {config.Training.Seed}, backend {backend.Name}");
        if (resume is null) initialize?.Invoke(net, rows);
        IReadOnlyList<FeedForwardNet>? teachers = null;
        if (config.Training.Distillation is { } distillation)
        {
            teachers = FeedForwardKind.LoadTeachers(distillation, backend);
            err.MarkupLine($"[grey]distill:[/] {distillation.TargetText} of {Markup.Escape(string.Join(", ", distillation.Teachers))}" +
                           (teachers.Count > 1 ? " (mean logits)" : "") + $", label weight {distillation.LabelWeight}");
        }
        Trainer trainer;
        try { trainer = new Trainer(net, optimizer, config.Training, teachers); }
        catch (ArgumentException e) when (teachers is not null && e.ParamName == "teachers") { throw new UsageException("--teacher: " + CommonOptions.WithoutParameter(e)); }
        if (state is not null) trainer.State = state;
        int epochs = config.Training.Epochs, lastPrinted = 0;
        // A table fitted over hundreds of full-batch epochs prints about twenty lines, not one an epoch.
        int every = data.IsRegression && epochs > 50 ? epochs / 20 : 1;
        void Print(EpochMetrics m)
        {
            string val = m.ValidationAccuracy is { } va ? $", validation {va:P2} (loss {Loss(m.ValidationLoss, data.IsRegression)})"
                : m.ValidationLoss is { } vl ? $", validation loss {Loss(vl, data.IsRegression)}" : "";
            string acc = m.TrainAccuracy is { } ta ? $", train {ta:P2}" : "";
            err.MarkupLine($"epoch {m.Epoch,3}/{epochs}: loss {Loss(m.TrainLoss, data.IsRegression)}{acc}{Markup.Escape(val)}, " +
                           $"{m.Seconds:F1} s, {m.SamplesPerSecond:N0} samples/s");
            lastPrinted = m.Epoch;
        }
        GradientNormLog? normLog = null;
        trainer.EpochCompleted = m =>
        {
            Checkpoint.Save(outDirectory, config, net, optimizer, trainer.State, provenance, new RunIdentity(name, fileKind));
            normLog?.Flush();
            epochCompleted?.Invoke(m);
            if (m.Epoch <= 5 || m.Epoch % every == 0 || m.Epoch == epochs) Print(m);
        };
        if (gradientNorms is not null)
        {
            try { normLog = GradientNormLog.Open(gradientNorms, optimizer, resume is null ? null : optimizer.StepCount); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"--gradient-norms: {gradientNorms}: {e.Message}"); }
            // First among the hooks: the norms of the gradients backprop gave, before weight decay or clipping.
            optimizer.Hooks.Insert(0, normLog);
        }
        var clock = Stopwatch.StartNew();
        try
        {
            trainer.Fit(rows.Fit, rows.Validation);
        }
        catch (TrainingDivergedException e)
        {
            // The shared loop stopped before the diverged epoch's checkpoint: say what to change and what is on disk.
            bool canStandardize = !config.Normalize && config.Architecture.CanAbsorbInputStandardization;
            int kept = e.Epoch - 1;
            throw e.WithDetail($"Lower --lr (now {config.Optimizer.LearningRate}){(canStandardize ? " or standardise the inputs (--standardize true)" : "")}. " +
                               (kept > 0 ? $"{Path.Combine(outDirectory, Checkpoint.FileName)} holds epoch {kept}, the last that ended finite " +
                                           "(its weights may already be far off: starting again with a lower --lr is safer than resuming it); " : "") +
                               "no model was saved.");
        }
        finally
        {
            // The norms up to the failing update are what a diverged run's diagnosis needs: flushed either way.
            if (normLog is not null)
            {
                optimizer.Hooks.Remove(normLog);
                normLog.Dispose();
            }
        }
        clock.Stop();
        var history = trainer.State.History;
        // Early stopping can end on an epoch the throttle skipped: the last one is always shown.
        if (history.Count > 0 && history[^1].Epoch != lastPrinted) Print(history[^1]);

        // The saved model takes raw inputs: the standardisation it trained behind goes into its first layer's weights.
        if (rows.Standardization is { } statistics) net.AbsorbInputStandardization(statistics);
        if (rows.TargetStandardization is { } target) net.AbsorbTargetStandardization([target.Mean], [target.Deviation]);
        // The test pass also counts the confusion matrix the run's record keeps.
        int classes = rows.Test.TargetLength;
        int[]? confusion = rows.Test.Labels is null ? null : new int[classes * classes];
        var evaluation = Trainer.Evaluate(net, rows.Test, confusion: confusion);
        var (figures, figureLines) = data.Figures(net, rows);
        Directory.CreateDirectory(outDirectory);
        string modelPath = Path.Combine(outDirectory, "model.shinso");
        var metadata = new JsonObject
        {
            ["testAccuracy"] = evaluation.Accuracy, ["testLoss"] = RegressionRunData.Finite(evaluation.Loss), ["epochs"] = trainer.State.EpochsDone,
            ["data"] = dataDescription,
        };
        if (rows.Standardization is { } folded) metadata[FeedForwardKind.FoldedStandardizationKey] = StandardizationJson(folded, rows.TargetStandardization);
        if (provenance is not null) metadata["run"] = provenance.DeepClone();
        if (figures is not null) metadata[data.FiguresKey ?? "figures"] = figures.DeepClone();
        FeedForwardModelFile.Save(net, modelPath, config.ToJson(), metadata, fileKind);
        double trainSeconds = history.Sum(h => h.Seconds);
        double samplesPerSecond = trainSeconds > 0 ? (double)rows.Fit.Count * history.Count / trainSeconds : 0;
        bool nested = data.FiguresKey is not null;
        var summary = new RunSummary(name, evaluation.Accuracy, evaluation.Loss, trainer.State.EpochsDone,
            clock.Elapsed.TotalSeconds, samplesPerSecond, modelPath, rows.Fit.Count, rows.Test.Count, nested ? figures : null,
            figures is null ? null : figureLines) { Figures = nested ? null : figures };
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "summary.json"), summary.ToJson().ToJsonString() + "\n");
        // The history is the state's: a resumed run's record holds its earlier epochs too.
        RunRecord.SaveOrWarn(outDirectory, () => new RunRecord(name, fileKind, ModelKindRegistry.All.First(k => k.Matches(fileKind)).Description, dataDescription)
            {
                HyperParameters = config.ToJson(), Phases = [.. phasesBefore?.Invoke() ?? [], new RunPhase("backprop", config.Architecture.Loss, [.. history])], Seconds = wall.Elapsed.TotalSeconds,
                Confusion = confusion is null ? null : new ConfusionMatrix(data.ClassNames(classes), confusion),
            });
        return summary;
    }

    /// <summary>The statistics folded into a saved model's first layer, recorded beside it: the file's mark that it takes raw inputs.</summary>
    private static JsonObject StandardizationJson(NormalizationStatistics statistics, (double Mean, double Deviation)? target)
    {
        var json = new JsonObject
        {
            ["folded"] = true,
            ["mean"] = new JsonArray([.. statistics.Mean.Select(v => (JsonNode)v)]),
            ["std"] = new JsonArray([.. statistics.StandardDeviation.Select(v => (JsonNode)v)]),
        };
        if (target is { } t) json["target"] = new JsonObject { ["mean"] = t.Mean, ["std"] = t.Deviation };
        return json;
    }

    /// <summary>A loss for a progress line: four decimals; for a regression, whose squared error in the target's units can be
    /// 1e5 or 1e-6, four significant digits when decimals would hide it.</summary>
    public static string Loss(double? loss, bool regression) => loss is not { } l ? "n/a"
        : !regression || Math.Abs(l) is >= 1e-2 and < 1e4 || l == 0 ? l.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)
        : l.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Applies the resume overrides; a refused one is a usage error naming the flag.</summary>
    public static TrainingConfig Resume(ResumeOverrides overrides, TrainingConfig saved)
    {
        try { return overrides.Apply(saved, name => "--" + name); }
        catch (ResumeRefusedException e) { throw new UsageException(e.Message); }
    }

    public static string Describe(FeedForwardSpec spec)
    {
        var parts = new List<string> { string.Join("x", spec.InputShape) };
        foreach (var l in spec.Layers)
            parts.Add(l.Description);
        return string.Join(" → ", parts) + $" ({spec.Loss})";
    }
}
