using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.ConvolutionalBoltzmann;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>
/// Convolutional RBMs and DBNs with probabilistic max-pooling: greedy CD training, softmax on the pooled features, the stack
/// fine-tuned as a convolutional net; filters of every layer in pixel space, samples, and the feature extractor as ONNX.
/// </summary>
internal sealed class ConvolutionalDbnKind : ModelKind
{
    public override string FileKind => ConvolutionalDbnModelFile.Kind;

    public override string Description => "convolutional deep belief net";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Sample, ModelAction.Export];

    public override IReadOnlyList<string> Presets => ConvolutionalDbnPresets.Names;

    public override string ExportedForm(string fileKind, string? part) => "cdbn feature extractor";

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override int Train(TrainArguments a)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        if (a.Optimizer is not null) throw new UsageException($"--optimizer: '{a.Source}' trains by CD with momentum; its fine-tuning uses momentum SGD.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs do not apply to '{a.Source}'; --epochs sets the CD epochs of each layer.");
        if (a.Resume is not null) throw new UsageException($"--resume: a '{a.Source}' run keeps no checkpoint; run it again.");
        if (a.Epochs is < 1) throw new UsageException($"--epochs (CD epochs per layer) must be >= 1, got {a.Epochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch must be >= 1, got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        if (a.FineTuneEpochs is < 0) throw new UsageException($"--finetune-epochs must be >= 0, got {a.FineTuneEpochs}.");
        var preset = ConvolutionalDbnPresets.Find(a.Source)!;
        var training = preset.Training;
        if (a.Batch is { } b) training = training with { BatchSize = b };
        if (a.LearningRate is { } l) training = training with { LearningRate = l };
        preset = preset with { Training = training, Epochs = a.Epochs ?? preset.Epochs };
        if (a.FineTuneEpochs is { } f)
            preset = preset with { FineTuning = f == 0 ? null : preset.FineTuning! with { Training = preset.FineTuning!.Training with { Epochs = f } } };
        ulong seed = a.Seed ?? 1;
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        Progress($"data: {data.Description}");
        using var backend = a.CreateBackend();
        ConvolutionalDbnResult result;
        try
        {
            result = ConvolutionalDbnRun.Run(preset, backend, data.Train, data.Test, seed, Progress);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)}");
        }
        string folder = a.RunDirectory(a.Source);
        Directory.CreateDirectory(folder);
        string modelPath = Path.Combine(folder, "model.shinso");
        var hyper = new JsonObject
        {
            ["preset"] = a.Source, ["data"] = data.Description, ["epochs"] = preset.Epochs, ["batch"] = training.BatchSize, ["learning_rate"] = training.LearningRate,
            ["layer_learning_rate_scales"] = new JsonArray([.. preset.Layers.Select(l => (JsonNode)l.LearningRateScale)]),
            ["sparsity_target"] = training.SparsityTarget, ["sparsity_cost"] = training.SparsityCost, ["weight_decay"] = training.WeightDecay, ["seed"] = seed,
        };
        ConvolutionalDbnModelFile.Save(result.Dbn, modelPath, hyper);
        string? classifierPath = null;
        if (result.FineTuned is { } net)
        {
            classifierPath = Path.Combine(folder, "classifier.shinso");
            FeedForwardModelFile.Save(net, classifierPath, new JsonObject { ["from"] = modelPath, ["finetune_epochs"] = preset.FineTuning!.Training.Epochs, ["seed"] = seed });
        }
        var filterPaths = new JsonArray();
        for (int layer = 0; layer < result.Dbn.Layers.Count; layer++)
        {
            string path = Path.Combine(folder, layer == 0 ? "filters.png" : $"layer{layer + 1}-filters.png");
            WriteFilters(result.Dbn, layer, path);
            filterPaths.Add(path);
        }
        var layers = new JsonArray();
        foreach (var report in result.Reports)
            layers.Add(new JsonObject
            {
                ["groups"] = result.Dbn.Layers[report.Layer].Groups, ["filter"] = result.Dbn.Layers[report.Layer].Geometry.KernelHeight, ["block"] = result.Dbn.Layers[report.Layer].Block,
                ["reconstruction_error_by_epoch"] = new JsonArray([.. report.Epochs.Select(e => (JsonNode)Math.Round(e.ReconstructionError, 4))]),
            });
        var accuracies = new JsonObject();
        foreach (var c in result.Classifiers) accuracies[c.Features] = Math.Round(c.Accuracy, 6);
        var summary = new JsonObject
        {
            ["model"] = a.Source, ["layers"] = layers, ["softmax_accuracy"] = accuracies,
            ["finetuned_accuracy"] = double.IsNaN(result.FineTunedAccuracy) ? null : Math.Round(result.FineTunedAccuracy, 6),
            ["train_seconds"] = Math.Round(result.TrainSeconds, 2), ["model_path"] = modelPath, ["classifier_path"] = classifierPath, ["filters_paths"] = filterPaths,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString() + "\n");
        Reports.RunRecord.SaveAndReport(folder, () => new Reports.RunRecord(a.Source, FileKind, Description, data.Description)
            {
                HyperParameters = hyper, Seconds = wall.Elapsed.TotalSeconds,
                Phases = [.. result.Reports.Select(r => Reports.RunPhase.OfLosses($"layer {r.Layer + 1} CD", "reconstruction error", r.Epochs.Select(e => (e.ReconstructionError, e.Seconds)),
                    r.Epochs.Count == 0 ? 0 : r.Epochs[0].Updates * training.BatchSize, training.LearningRate * preset.Layers[r.Layer].LearningRateScale))],
                Confusion = result.FineTuned is { } tuned
                    ? Reports.ConfusionMatrix.Of(tuned, SupervisedData.FromDataset(data.Test), Reports.ConfusionMatrix.ClassNames(data, tuned.Spec.OutputLength)) : null,
            });
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    public override int Sample(SampleArguments a)
    {
        if (a.SamplesPath is null && a.FiltersPath is null) throw new UsageException("give --out FILE.png (samples), --filters FILE.png or both.");
        var dbn = ConvolutionalDbnModelFile.FromDocument(a.Document, a.File, a.Backend);
        if (a.FiltersPath is not null) WriteFilters(dbn, 0, a.FiltersPath);
        if (a.SamplesPath is not null)
        {
            var rbm = dbn.Layers[0];
            int n = a.Count == 0 ? 64 : a.Count;
            float[] starts = a.From == "data" ? SampleCommand.DataStarts(a.Data, a.TestData, n, rbm.VisibleLength) : SampleCommand.RandomBits(n * rbm.VisibleLength, a.Seed);
            var images = rbm.GibbsSamples(starts, n, a.Steps, RandomStream.Root(a.Seed).Derive("cdbn-samples"));
            PngImage.WriteGrid(a.SamplesPath, images, n, rbm.Geometry.Channels * rbm.Geometry.Height, rbm.Geometry.Width, (int)Math.Ceiling(Math.Sqrt(n)), false);
            Progress($"wrote {a.SamplesPath}: {n} first-layer samples after {a.Steps} Gibbs sweeps");
        }
        if (a.Json) Console.WriteLine(new JsonObject { ["filters_path"] = a.FiltersPath, ["samples_path"] = a.SamplesPath }.ToJsonString());
        return 0;
    }

    /// <summary>Layer <paramref name="layer"/>'s filters in pixel space, one tile per group (channels stacked vertically).</summary>
    private static void WriteFilters(ConvolutionalDbn dbn, int layer, string path)
    {
        var (pixels, side) = dbn.PixelFilters(layer);
        int groups = dbn.Layers[layer].Groups, channels = dbn.Layers[0].Geometry.Channels;
        PngImage.WriteGrid(path, pixels, groups, channels * side, side, (int)Math.Ceiling(Math.Sqrt(groups)), true);
        Progress($"wrote {path}: layer {layer + 1}'s {groups} filters of {side}x{side} pixels");
    }
}
