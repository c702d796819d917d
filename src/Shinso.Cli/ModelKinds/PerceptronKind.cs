using System.Diagnostics;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.Perceptrons;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Rosenblatt's perceptron: one-vs-rest threshold units trained by the perceptron rule; accuracy; ONNX export.</summary>
internal sealed class PerceptronKind : ModelKind
{
    /// <summary>The preset's name.</summary>
    public const string PresetName = "perceptron";

    public override string FileKind => PerceptronModelFile.Kind;

    public override string Description => "Rosenblatt perceptron";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Export];

    public override IReadOnlyList<string> Presets { get; } = [PresetName];

    public override int Train(TrainArguments a)
    {
        if (a.Resume is not null) throw new UsageException($"--resume: '{a.Source}' runs are not checkpointed (an epoch takes about a second); start a new run.");
        if (a.Optimizer is not null) throw new UsageException($"--optimizer: the perceptron trains by its own rule, not '{a.Optimizer}'.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException("--pretrain-epochs, --updown-epochs and --ais-runs apply to the Boltzmann presets, not 'perceptron'.");
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 0) throw new UsageException($"--batch must be >= 0 (1 = Rosenblatt's online rule, 0 = full batch), got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0 && float.IsFinite(rate))) throw new UsageException($"--lr must be positive and finite, got {rate}.");
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        var preset = PerceptronOptions.Preset;
        int batch = a.Batch is 0 ? Math.Max(1, data.Train.Count) : a.Batch ?? preset.BatchSize;
        var options = preset with
        {
            MaxEpochs = a.Epochs ?? preset.MaxEpochs, BatchSize = batch, LearningRate = a.LearningRate ?? preset.LearningRate, Seed = a.Seed ?? preset.Seed,
        };
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = data.Train.WithClassCount(classes);
        var test = data.Test.WithClassCount(classes);
        if (test.FeatureCount != train.FeatureCount)
            throw new UsageException($"--test-data: test samples have {test.FeatureCount} features, training samples {train.FeatureCount}.");
        CommonOptions.Err.MarkupLine(Markup.Escape($"data: {data.Description}"));
        using var backend = a.CreateBackend();
        var perceptron = new Perceptron(backend, train.FeatureCount, classes);
        CommonOptions.Err.MarkupLine(Markup.Escape($"model: perceptron — {train.FeatureCount} inputs, {classes} threshold units (one-vs-rest), " +
                                                   $"batch {options.BatchSize}, lr {options.LearningRate}, at most {options.MaxEpochs} epochs, seed {options.Seed}, backend {backend.Name}"));
        var clock = Stopwatch.StartNew();
        var epochs = new List<(double Mistakes, double Seconds)>();
        var report = new PerceptronTrainer(perceptron, options).Fit(SupervisedData.FromDataset(train), (epoch, mistakes) =>
        {
            epochs.Add((mistakes, clock.Elapsed.TotalSeconds));
            CommonOptions.Err.MarkupLine(Markup.Escape($"epoch {epoch + 1,3}/{options.MaxEpochs}: {mistakes} mistakes ({clock.Elapsed.TotalSeconds:F1} s)"));
        });
        double seconds = clock.Elapsed.TotalSeconds;
        double trainAccuracy = perceptron.Accuracy(SupervisedData.FromDataset(train));
        var testRows = SupervisedData.FromDataset(test);
        double accuracy = perceptron.Accuracy(testRows);
        string run = a.RunDirectory(a.Source);
        Directory.CreateDirectory(run);
        string modelPath = Path.Combine(run, "model.shinso");
        var hyper = new JsonObject { ["rule"] = "rosenblatt", ["batch"] = options.BatchSize, ["learning_rate"] = options.LearningRate, ["max_epochs"] = options.MaxEpochs, ["seed"] = options.Seed };
        PerceptronModelFile.Save(perceptron, modelPath, hyper, new JsonObject { ["data"] = data.Description });
        var history = new JsonArray();
        foreach (long m in report.MistakesPerEpoch) history.Add(m);
        var summary = new JsonObject
        {
            ["model"] = a.Source, ["accuracy"] = accuracy, ["train_accuracy"] = trainAccuracy, ["epochs"] = report.Epochs, ["updates"] = report.Updates,
            ["converged"] = report.Converged, ["mistakes_per_epoch"] = history, ["seconds"] = Math.Round(seconds, 2), ["model_path"] = modelPath,
            ["train_samples"] = train.Count, ["test_samples"] = test.Count,
        };
        AtomicFile.WriteAllText(Path.Combine(run, "summary.json"), summary.ToJsonString() + "\n");
        Reports.RunRecord.SaveAndReport(run, () => new Reports.RunRecord(a.Source, FileKind, Description, data.Description)
            {
                HyperParameters = hyper, Seconds = clock.Elapsed.TotalSeconds,
                Phases = [Reports.RunPhase.OfLosses("perceptron rule", "mistakes", epochs, train.Count, options.LearningRate, cumulativeSeconds: true)],
                // One unit decides by its sign, not by the largest of several scores.
                Confusion = classes < 2 ? null : Reports.ConfusionMatrix.Of(backend, x => perceptron.Scores.Forward(x, Shinso.Layers.ForwardContext.Inference), testRows,
                    Reports.ConfusionMatrix.ClassNames(data, classes)),
            });
        CommonOptions.Err.MarkupLine(Markup.Escape($"test accuracy {accuracy:P2} (train {trainAccuracy:P2}) after {report.Epochs} epochs; model: {modelPath}"));
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        var perceptron = PerceptronModelFile.Load(a.File, a.Backend);
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.Err.MarkupLine(Markup.Escape($"data: {data.Description}"));
        CommonOptions.RequireFeatures(data, perceptron.Scores.Inputs, a.File);
        var test = CommonOptions.FitClasses(data.Test, perceptron.Units, a.File, Math.Max(data.Train.ClassCount, data.Test.ClassCount));
        double accuracy = perceptron.Accuracy(SupervisedData.FromDataset(test));
        CommonOptions.Err.MarkupLine(Markup.Escape($"test accuracy {accuracy:P2} on {test.Count} samples"));
        if (a.Json) Console.WriteLine(new JsonObject { ["model"] = a.File, ["accuracy"] = accuracy, ["samples"] = test.Count }.ToJsonString());
        return 0;
    }
}
