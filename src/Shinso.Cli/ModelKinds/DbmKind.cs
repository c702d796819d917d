using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Data;
using Shinso.Models.Boltzmann;
using Shinso.Models.DeepBoltzmann;
using Shinso.Random;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Deep Boltzmann machines: greedy pretraining and joint training, AIS and the variational bound, Gibbs samples, completion.</summary>
internal sealed class DbmKind : ModelKind
{
    public override string FileKind => DbmModelFile.Kind;

    public override string Description => "deep Boltzmann machine";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Sample, ModelAction.Complete];

    public override IReadOnlyList<string> Presets => DbmPresets.Names;

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override int Train(TrainArguments a)
    {
        if (a.Optimizer is not null) throw new UsageException($"--optimizer applies to feed-forward presets, not '{a.Source}': a DBM trains with its momentum schedule.");
        if (a.UpDownEpochs is not null) throw new UsageException($"--updown-epochs applies to deep belief net presets, not '{a.Source}'.");
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.PretrainEpochs is < 0) throw new UsageException($"--pretrain-epochs must be >= 0, got {a.PretrainEpochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch must be >= 1 for a DBM, got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        if (a.AisRuns is < 2) throw new UsageException($"--ais-runs must be >= 2, got {a.AisRuns}.");
        if (a.FineTuneEpochs is < 0) throw new UsageException($"--finetune-epochs must be >= 0, got {a.FineTuneEpochs}.");
        if (a.Resume is not null && (a.Seed is not null || a.PretrainEpochs is not null || a.LearningRate is not null || a.Batch is not null || a.Labels))
            throw new UsageException("--resume: a DBM run keeps its seed, pretraining, learning rate, batch and label units (its checkpoint holds the state they shaped); " +
                                     "only --epochs changes, the joint-epoch budget.");
        var preset = DbmPresets.Find(a.Source)!;
        var joint = preset.Joint;
        if (a.Batch is { } b) joint = joint with { BatchSize = b };
        if (a.LearningRate is { } l) joint = joint with { LearningRate = l };
        if (a.Seed is { } s) joint = joint with { Seed = s };
        var pretraining = preset.Pretraining;
        if (a.PretrainEpochs is { } p) pretraining = pretraining with { Epochs = p };
        if (a.Seed is { } seed) pretraining = pretraining with { Rbm = pretraining.Rbm with { Seed = seed } };
        if (a.FineTuneEpochs is { } f && preset.FineTuning is { } tuning) preset = preset with { FineTuning = tuning with { Training = tuning.Training with { Epochs = f } } };
        preset = preset with { Joint = joint, Pretraining = pretraining, LabelUnits = a.Labels, Epochs = a.Resume is null ? a.Epochs ?? preset.Epochs : preset.Epochs, AisRuns = a.AisRuns ?? preset.AisRuns };

        var data = CommonOptions.LoadData(a.Data, a.TestData);
        Progress($"data: {data.Description} (binarised at {preset.BinarizeThreshold})");
        var train = data.Train.Binarize(preset.BinarizeThreshold);
        var test = data.Test.Binarize(preset.BinarizeThreshold);
        using var backend = a.CreateBackend();
        string folder = a.RunDirectory(a.Source);
        var clock = Stopwatch.StartNew();
        DeepBoltzmannMachine dbm;
        try
        {
            (dbm, preset) = DbmRun.Train(a.Source, preset, backend, train, folder, a.Resume is null ? null : a.Epochs, a.Resume is not null, Progress, o => "--" + o);
        }
        catch (Exception e) when (e is ResumeRefusedException or DataMismatchException)
        {
            throw new UsageException(e.Message);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        string modelPath = Path.Combine(folder, "model.shinso");
        DbmModelFile.Save(dbm, modelPath, DbmRun.HyperParameters(preset), new JsonObject
        {
            ["data"] = data.Description, ["epochs"] = preset.Epochs, ["binarize_threshold"] = preset.BinarizeThreshold,
        });
        // The run's own seed (a resumed run's comes from its checkpoint).
        var summary = Likelihood(dbm, train, test, preset.AisRuns, preset.Joint.Seed);
        DbmRun.FineTuned? tuned;
        try
        {
            // The classifier reads the grey pixels (as the machine's unit probabilities), not the binarised ones: binarising
            // Fashion-MNIST drops the texture that tells shirts from pullovers.
            tuned = DbmRun.FineTune(preset, dbm, data.Train, data.Test, folder, Progress);
        }
        catch (ResumeRefusedException e)
        {
            throw new UsageException(e.Message);
        }
        if (tuned is not null)
        {
            Progress(string.Create(CultureInfo.InvariantCulture, $"fine-tuned: test accuracy {tuned.Accuracy:P2} ({tuned.Seconds:F0} s of backprop), saved {tuned.ClassifierPath}"));
            summary["accuracy"] = tuned.Accuracy;
            summary["test_loss"] = double.IsFinite(tuned.Loss) ? tuned.Loss : null;
            summary["classifier_path"] = tuned.ClassifierPath;
        }
        summary["model"] = a.Source;
        summary["epochs"] = preset.Epochs;
        summary["pretrain_epochs"] = preset.Pretraining.Epochs;
        summary["train_seconds"] = Math.Round(seconds, 1);
        summary["model_path"] = modelPath;
        Shinso.IO.AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString() + "\n");
        Reports.RunRecord.SaveAndReport(folder, () =>
        {
            // The checkpoints' histories: a resumed run's record holds its earlier epochs too.
            string joint = Path.Combine(folder, DbmRun.CheckpointFileName);
            var phases = new List<Reports.RunPhase>();
            if (File.Exists(joint))
                foreach (var (stage, epochs) in DbmRun.ReadPretrainingHistories(joint))
                    phases.Add(new($"pretraining {stage}", "reconstruction error", epochs));
            phases.Add(new("joint", "mean-field reconstruction error", File.Exists(joint) ? Checkpoint.ReadHistory(joint) : []));
            string tuningCheckpoint = Path.Combine(folder, DbmRun.FineTuningFolder, Checkpoint.FileName);
            if (tuned is not null && File.Exists(tuningCheckpoint))
                phases.Add(new("fine-tuning", tuned.Classifier.Spec.Loss, Checkpoint.ReadHistory(tuningCheckpoint)) { Figures = new JsonObject { ["test_accuracy"] = tuned.Accuracy } });
            return new Reports.RunRecord(a.Source, FileKind, Description, data.Description)
            {
                HyperParameters = DbmRun.HyperParameters(preset), Phases = phases, Seconds = clock.Elapsed.TotalSeconds,
                // The fine-tuned net reads the pixels and the machine's q(h2): its matrix is over those inputs of the test images.
                Confusion = tuned is null ? null : Reports.ConfusionMatrix.Of(tuned.Classifier, SupervisedData.FromDataset(tuned.TestInputs),
                    Reports.ConfusionMatrix.ClassNames(data, tuned.Classifier.Spec.OutputLength)),
            };
        });
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        if (a.AisRuns < 2) throw new UsageException($"--ais-runs must be >= 2, got {a.AisRuns}.");
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(data.Description)}");
        var dbm = DbmModelFile.Load(a.File, a.Backend);
        if (data.Train.FeatureCount != dbm.VisibleCount)
            throw new UsageException($"--data: samples have {data.Train.FeatureCount} features but {a.File} has {dbm.VisibleCount} visible units.");
        float threshold = CommonOptions.BinarizeThreshold(a.Header.Metadata);
        if (dbm.HasLabels && data.Test.ClassCount != dbm.LabelCount)
            throw new UsageException($"--data: {a.File} has {dbm.LabelCount} label units but the data has {data.Test.ClassCount} classes.");
        var result = Likelihood(dbm, data.Train.Binarize(threshold), data.Test.Binarize(threshold), a.AisRuns, a.Seed ?? 1);
        result["model"] = a.File;
        if (a.Json) Console.WriteLine(result.ToJsonString());
        return 0;
    }


    /// <summary>
    /// AIS on the odd-summed model (the paper's 14,501 temperatures, base rates from the training data) and the mean-field bound on the
    /// test set (up to 50 sweeps, tolerance 1e-7), with the interval log Z's 3-sigma interval puts on it.
    /// </summary>
    internal static JsonObject Likelihood(DeepBoltzmannMachine dbm, Dataset train, Dataset test, int aisRuns, ulong seed)
    {
        var clock = Stopwatch.StartNew();
        Progress($"AIS: {aisRuns} runs over {AnnealedImportanceSampling.DefaultBetas().Length} temperatures ...");
        var ais = DbmEvaluation.EstimateLogPartition(dbm, train.Features, new AisOptions { Runs = aisRuns, Seed = seed });
        double aisSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var bound = DbmEvaluation.LogProbabilityBound(dbm, test.Features, ais);
        var trainRows = Math.Min(train.Count, test.Count);
        var trainBound = DbmEvaluation.LogProbabilityBound(dbm, train.Features.AsSpan(0, trainRows * train.FeatureCount), ais);
        Progress(string.Create(CultureInfo.InvariantCulture,
            $"AIS log Z {ais.LogZ:F2} (3 sigma: {ais.LogZLow:F2} .. {ais.LogZHigh:F2}), {aisSeconds:F0} s; variational lower bound on the average " +
            $"log-probability: test {bound.LogProbabilityBound:F2} nats ({bound.Low:F2} .. {bound.High:F2}), train {trainBound.LogProbabilityBound:F2}; " +
            $"mean-field {bound.MeanFieldIterations} sweeps at most{(bound.Converged ? "" : ", not every row converged")}, {clock.Elapsed.TotalSeconds:F0} s"));
        var result = new JsonObject
        {
            ["log_z"] = ais.LogZ, ["log_z_low"] = Finite(ais.LogZLow), ["log_z_high"] = Finite(ais.LogZHigh), ["ais_runs"] = aisRuns,
            ["test_log_probability_bound"] = bound.LogProbabilityBound, ["test_log_probability_bound_low"] = Finite(bound.Low),
            ["test_log_probability_bound_high"] = Finite(bound.High), ["train_log_probability_bound"] = trainBound.LogProbabilityBound,
            ["mean_field_converged"] = bound.Converged, ["test_samples"] = test.Count,
        };
        if (dbm.HasLabels)
        {
            var predicted = DbmEvaluation.Classify(dbm, test.Features);
            int right = 0;
            for (int i = 0; i < predicted.Length; i++) if (predicted[i] == test.Labels[i]) right++;
            double labelAccuracy = right / (double)predicted.Length;
            Progress(string.Create(CultureInfo.InvariantCulture, $"label units: the machine's own q(y | v) classifies {labelAccuracy:P2} of the test images"));
            result["label_units"] = dbm.LabelCount;
            result["label_accuracy"] = Finite(labelAccuracy);
        }
        return result;
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;

    public override int Complete(CompleteArguments a) => CompleteCommand.CompleteDbm(DbmModelFile.FromDocument(a.Document, a.File, a.Backend), a);

    /// <summary>
    /// Gibbs samples: <c>--count</c> free chains (default 100), or for a machine with label units one row of <c>--count</c>
    /// label-clamped chains (default 10) per class, read by <c>--classifier</c> (a pixel classifier such as the net <c>dbn-mnist</c>
    /// fine-tunes) when given.
    /// </summary>
    public override int Sample(SampleArguments a)
    {
        var dbm = DbmModelFile.FromDocument(a.Document, a.File, a.Backend);
        int perLabel = a.Count == 0 ? 10 : a.Count;
        int n = dbm.HasLabels ? perLabel * dbm.LabelCount : a.Count == 0 ? 100 : a.Count;
        JsonObject? quality = null;
        if (a.SamplesPath is not null)
        {
            float[] starts = a.From == "data"
                ? SampleCommand.DataStarts(a.Data, a.TestData, n, dbm.VisibleCount)
                : SampleCommand.RandomBits(n * dbm.VisibleCount, a.Seed);
            int[]? labels = dbm.HasLabels ? [.. Enumerable.Range(0, n).Select(i => i / perLabel)] : null;
            var images = SampleCommand.SampleDbm(dbm, starts, n, a.Steps, RandomStream.Root(a.Seed).Derive("dbm-samples"), labels);
            SampleCommand.Write(a.SamplesPath, images, n, dbm.VisibleCount, labels is null ? (int)Math.Ceiling(Math.Sqrt(n)) : perLabel, false);
            if (labels is null)
            {
                var report = SampleQuality.Measure(images, new int[n], null);
                Progress($"samples: {report.BlankFraction:P0} of {report.Count} blank (mean intensity < {SampleQuality.BlankIntensity}); the DBM has no labels to clamp");
                quality = SampleCommand.ToJson(report, null);
            }
            else
            {
                var classifier = SampleCommand.LoadClassifier(a.Classifier, a.Backend, dbm.VisibleCount, dbm.LabelCount, "DBM");
                quality = SampleCommand.ToJson(SampleCommand.MeasureLabelledSamples(images, perLabel, dbm.LabelCount, classifier, a.Classifier), a.Classifier);
            }
        }
        if (a.FiltersPath is not null)
        {
            int shown = Math.Min(n, dbm.LayerSizes[1]);
            SampleCommand.Write(a.FiltersPath, SampleCommand.Transposed(dbm.Weights[0], dbm.VisibleCount, dbm.LayerSizes[1], shown), shown,
                dbm.VisibleCount, (int)Math.Ceiling(Math.Sqrt(shown)), true);
        }
        if (a.Json) Console.WriteLine((quality ?? []).ToJsonString());
        return 0;
    }
}
