using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Models.TiledNetworks;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>
/// Tiled convolutional networks: TICA pretraining of a tiled layer, a softmax classifier on its pooled maps, saved as one
/// feed-forward net on raw images (so <c>shinso eval</c> and <c>shinso export</c> treat it as any other).
/// </summary>
internal sealed class TiledCnnKind : ModelKind
{
    public override string FileKind => "tiled-cnn";

    public override string Description => "tiled convolutional network (saved as a feedforward net)";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train];

    public override IReadOnlyList<string> Presets => TiledCnnPresets.Names;

    /// <summary>No file carries this kind: the trained net is a <c>feedforward</c> file.</summary>
    public override bool Matches(string fileKind) => false;

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override int Train(TrainArguments a)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        if (a.Optimizer is not null) throw new UsageException($"--optimizer: '{a.Source}' pretrains by TICA's orthonormalised gradient steps and trains its classifier by momentum.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs do not apply to '{a.Source}'; --epochs sets its TICA passes.");
        if (a.Resume is not null) throw new UsageException($"--resume: a '{a.Source}' run keeps no checkpoint; run it again.");
        if (a.Epochs is < 0) throw new UsageException($"--epochs (TICA passes) must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch (images per TICA step) must be >= 1, got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        if (a.Tile is < 1) throw new UsageException($"--tile must be >= 1, got {a.Tile}.");
        if (a.FineTuneEpochs is < 1) throw new UsageException($"--finetune-epochs (classifier epochs) must be >= 1, got {a.FineTuneEpochs}.");
        var preset = TiledCnnPresets.Find(a.Source)!;
        var layer = preset.Layer;
        if (a.Tile is { } k) layer = layer with { Tile = k };
        if (a.Epochs is { } e) layer = layer with { Epochs = e };
        if (a.Batch is { } b) layer = layer with { BatchImages = b };
        if (a.LearningRate is { } l) layer = layer with { LearningRate = l };
        var classifier = preset.Classifier;
        if (a.FineTuneEpochs is { } f) classifier = classifier with { Training = classifier.Training with { Epochs = f } };
        preset = preset with { Layer = layer, Classifier = classifier };
        ulong seed = a.Seed ?? 1;
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        Progress($"data: {data.Description}");
        using var backend = a.CreateBackend();
        TiledCnnResult result;
        try
        {
            result = TiledCnnRun.Run(preset, backend, data.Train, data.Test, seed, Progress);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)}");
        }
        catch (ArithmeticException ex)
        {
            throw new UsageException($"--data: the images leave a tile's filters linearly dependent ({ex.Message}); try more or more varied images.");
        }
        string folder = a.RunDirectory(a.Source);
        Directory.CreateDirectory(folder);
        string modelPath = Path.Combine(folder, "model.shinso");
        var settings = new JsonObject
        {
            ["preset"] = a.Source, ["data"] = data.Description, ["tile"] = layer.Tile, ["maps"] = layer.Maps, ["kernel"] = layer.Kernel, ["pool"] = layer.PoolSize,
            ["pool_stride"] = layer.PoolStride, ["tica_epochs"] = layer.Epochs, ["tica_batch"] = layer.BatchImages, ["tica_learning_rate"] = layer.LearningRate,
            ["classifier_epochs"] = classifier.Training.Epochs, ["seed"] = seed,
        };
        FeedForwardModelFile.Save(result.Net, modelPath, settings);
        string filtersPath = Path.Combine(folder, "filters.png");
        WriteFilters(result.Pretraining, filtersPath);
        var objectives = new JsonArray();
        foreach (var epoch in result.Epochs) objectives.Add(Math.Round(epoch.MeanObjective, 6));
        var summary = new JsonObject
        {
            ["model"] = a.Source, ["tile"] = layer.Tile, ["maps"] = layer.Maps, ["kernel"] = layer.Kernel, ["pool"] = layer.PoolSize, ["pool_stride"] = layer.PoolStride,
            ["tica_epochs"] = layer.Epochs, ["objective_by_epoch"] = objectives, ["orthonormality"] = result.Pretraining.Orthonormality(),
            ["features"] = result.FeatureCount, ["accuracy"] = Math.Round(result.NetAccuracy, 6), ["classifier_accuracy"] = Math.Round(result.ClassifierAccuracy, 6),
            ["pretrain_seconds"] = Math.Round(result.PretrainSeconds, 2), ["model_path"] = modelPath, ["filters_path"] = filtersPath,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString() + "\n");
        Reports.RunRecord.SaveAndReport(folder, () => new Reports.RunRecord(a.Source, FeedForwardModelFile.Kind, Description, data.Description)
            {
                HyperParameters = settings, Seconds = wall.Elapsed.TotalSeconds,
                Phases = [Reports.RunPhase.OfLosses("tiled TICA", "mean objective", result.Epochs.Select(e => (e.MeanObjective, e.Seconds)), data.Train.Count, layer.LearningRate, cumulativeSeconds: true)],
                Confusion = Reports.ConfusionMatrix.Of(result.Net, SupervisedData.FromDataset(data.Test), Reports.ConfusionMatrix.ClassNames(data, result.Net.Spec.OutputLength)),
            });
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    /// <summary>The pixel-space filters, one row per map holding its k*k tiles, so a row shows how far the untied filters of one map drift apart.</summary>
    private static void WriteFilters(TiledTica model, string path)
    {
        var (weight, _) = model.LayerParameters();
        int tiles = model.Options.Tile * model.Options.Tile, maps = model.Options.Maps, d = model.FieldLength, n = model.Options.Kernel;
        var grid = new float[weight.Length];
        for (int f = 0; f < maps; f++)
            for (int t = 0; t < tiles; t++)
                weight.AsSpan((t * maps + f) * d, d).CopyTo(grid.AsSpan((f * tiles + t) * d, d));
        PngImage.WriteGrid(path, grid, maps * tiles, model.Channels * n, n, tiles, true);
        Progress($"wrote {path}: {maps} maps x {tiles} tiles of {n}x{n} filters");
    }
}
