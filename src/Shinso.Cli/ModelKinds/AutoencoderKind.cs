using System.Diagnostics;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.Autoencoders;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.FeedForward;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>
/// Autoencoders (plain, sparse, denoising, deep) and stacked layer-wise pretraining: reconstruction runs report their
/// test error beside PCA's, write pictures of reconstructions and filters, and export their encoder or decoder.
/// </summary>
internal sealed class AutoencoderKind : ModelKind
{
    public override string FileKind => Autoencoder.FileKind;

    public override string Description => "autoencoder";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Export];

    public override IReadOnlyList<string> Presets => AutoencoderPresets.Names;

    public override IReadOnlyList<string> ExportParts { get; } = ["encoder", "decoder"];

    public override string ExportedForm(string fileKind, string? part) => $"autoencoder {part ?? ExportParts[0]}";

    public override int Train(TrainArguments a)
    {
        if (a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--updown-epochs and --ais-runs apply to the Boltzmann presets, not '{a.Source}'.");
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        AutoencoderPreset preset;
        try
        {
            preset = AutoencoderPresets.Find(a.Source, loaded.Train.FeatureCount, a.Code)!;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(CommonOptions.WithoutParameter(e));
        }
        if ((a.PretrainEpochs is not null || a.Pretrainer is not null) && preset.Pretraining is null)
            throw new UsageException($"{(a.Pretrainer is not null ? "--pretrainer" : "--pretrain-epochs")}: {a.Source} has no layer-wise pretraining; deep-autoencoder and stacked-autoencoder have.");
        var method = a.Pretrainer switch
        {
            null => preset.Pretraining?.Method,
            "rbm" => Pretrainer.Rbm,
            "autoencoder" => Pretrainer.Autoencoder,
            var other => throw new UsageException($"--pretrainer: expected rbm or autoencoder, got '{other}'."),
        };
        if (a.PretrainEpochs is < 0) throw new UsageException($"--pretrain-epochs must be >= 0, got {a.PretrainEpochs}.");
        if (a.Resume is not null && (a.Code is not null || a.PretrainEpochs is not null || a.Pretrainer is not null))
            throw new UsageException($"{(a.Code is not null ? "--code" : a.Pretrainer is not null ? "--pretrainer" : "--pretrain-epochs")}: a resumed run keeps the net in its checkpoint, pretrained before its first epoch.");
        var (config, overrides) = FeedForwardKind.ApplyFlags(a, preset.Config);
        var pretraining = preset.Pretraining is { } p
            ? p with { Method = method!.Value, Epochs = a.PretrainEpochs ?? p.Epochs, Seed = config.Training.Seed, BatchSize = config.Training.BatchSize }
            : null;
        return Run(a, a.Source, config, overrides, loaded, pretraining, preset.Classifies);
    }

    /// <summary>Trains a config file whose net has a code layer (no pretraining).</summary>
    public int TrainConfig(TrainArguments a, string name, TrainingConfig config)
    {
        if (a.Code is not null) throw new UsageException("--code: sets the code of an autoencoder preset; a config file states its layers.");
        var (flagged, overrides) = FeedForwardKind.ApplyFlags(a, config);
        return Run(a, name, flagged, overrides, CommonOptions.LoadData(a.Data, a.TestData), null, classifies: false);
    }

    /// <summary>The pretraining phases an earlier invocation of the run in <paramref name="folder"/> recorded (none when its record is missing or damaged).</summary>
    private static List<Reports.RunPhase> EarlierPretraining(string folder)
    {
        try { return [.. Reports.RunRecord.Read(folder).Phases.Where(p => p.Name.StartsWith("pretraining ", StringComparison.Ordinal))]; }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return []; }
    }

    private static int Run(TrainArguments a, string name, TrainingConfig config, ResumeOverrides? overrides, Shinso.Data.LoadedData loaded,
        PretrainingOptions? pretraining, bool classifies)
    {
        var err = CommonOptions.Err;
        RunData data = classifies ? new ClassificationRunData(loaded) : new ReconstructionRunData(loaded);
        Action<FeedForwardNet, PreparedRows>? initialize = null;
        string directory = a.RunDirectory(name);
        // Each pretrained layer is a phase of the run's record. A resumed run pretrains nothing: its record keeps the
        // phases the first invocation recorded.
        List<Reports.RunPhase> pretrained = overrides is null ? [] : EarlierPretraining(directory);
        if (pretraining is { Epochs: > 0 } options)
        {
            initialize = (net, rows) =>
            {
                // Batch 0 means the whole set, as for backprop.
                if (options.BatchSize == 0) options = options with { BatchSize = rows.Fit.Count };
                err.MarkupLine($"[grey]pretraining:[/] {options.Method.ToString().ToLowerInvariant()} per layer, {options.Epochs} epochs, batch {options.BatchSize}, on {rows.Fit.Count} rows");
                var epochs = new List<(int Layer, List<(double Loss, double Seconds)> Losses)>();
                var clock = Stopwatch.StartNew();
                var layers = LayerwisePretraining.Run(net, rows.Fit.Inputs, options, (layer, epoch, loss) =>
                {
                    if (epochs.Count == 0 || epochs[^1].Layer != layer) epochs.Add((layer, []));
                    // Seconds since the layer began: its epochs' times are the differences.
                    if (epoch == 1) clock.Restart();
                    epochs[^1].Losses.Add((loss, clock.Elapsed.TotalSeconds));
                    if (epoch == options.Epochs) err.MarkupLine($"  layer {layer}: epoch {epoch}, loss {loss:F4}");
                });
                foreach (var l in layers)
                {
                    err.MarkupLine(Markup.Escape($"  layer {l.Layer} pretrained as {(l.Method == Pretrainer.Rbm ? "an RBM" : "an autoencoder")}" +
                                                 $"{(l.Method != options.Method ? " (its units are not sigmoid: the RBMs here have binary hidden units)" : "")}, {l.Seconds:F1} s"));
                    var losses = epochs.FirstOrDefault(e => e.Layer == l.Layer).Losses ?? [];
                    pretrained.Add(Reports.RunPhase.OfLosses($"pretraining layer {l.Layer} ({(l.Method == Pretrainer.Rbm ? "RBM" : "autoencoder")})",
                        "reconstruction error", losses, rows.Fit.Count, options.RateFor(l.Method), cumulativeSeconds: true));
                }
            };
        }
        using var backend = a.CreateBackend();
        var summary = TrainingRun.Execute(name, config, backend, data, directory, overrides,
            epochCompleted: a.Json ? m => Console.WriteLine(Checkpoint.MetricsJson(m).ToJsonString()) : null,
            fileKind: classifies ? FeedForwardModelFile.Kind : Autoencoder.FileKind, initialize: initialize, phasesBefore: () => pretrained);
        if (classifies)
            err.MarkupLine($"test accuracy [bold]{summary.TestAccuracy:P2}[/] (loss {summary.TestLoss:F4}) after {summary.Epochs} epochs; model: {summary.ModelPath}");
        else
        {
            foreach (var line in summary.RegressionLines ?? []) err.MarkupLine(Markup.Escape(line));
            err.MarkupLine($"model: {Markup.Escape(summary.ModelPath)}");
            var net = FeedForwardModelFile.Load(summary.ModelPath, backend);
            WritePictures(net, loaded, ((ReconstructionRunData)data).Pca, backend, directory);
        }
        // After the pictures, which the report embeds.
        Reports.RunReport.WriteAfterTraining(directory);
        if (a.Json) Console.WriteLine(summary.ToJson().ToJsonString());
        return 0;
    }

    /// <summary>
    /// <c>reconstructions.png</c>: ten test images (top row), the autoencoder's reconstructions and PCA's (when it has a
    /// baseline); <c>filters.png</c>: the first dense layer's incoming weights of up to 100 units, each scaled to its range;
    /// for a code of two units, <c>codes.png</c>: the test set's codes coloured by label (left) beside its first two principal
    /// components (right), as Hinton &amp; Salakhutdinov's Fig. 3.
    /// </summary>
    private static void WritePictures(FeedForwardNet net, Shinso.Data.LoadedData loaded, PrincipalComponents? pca, Shinso.Backends.IBackend backend, string directory)
    {
        int features = net.Spec.InputLength, shown = Math.Min(10, loaded.Test.Count);
        var originals = loaded.Test.Features.AsSpan(0, shown * features).ToArray();
        var rows = new List<float[]> { originals, Autoencoder.Predict(net, originals) };
        if (pca is not null) rows.Add(pca.Reconstruct(backend, originals));
        var grid = rows.SelectMany(r => r).ToArray();
        SampleCommand.Write(Path.Combine(directory, "reconstructions.png"), grid, rows.Count * shown, features, shown, false);
        if (pca is { ComponentCount: 2 })
        {
            var test = loaded.Test.Features;
            var plots = new[] { Autoencoder.Predict(Autoencoder.Encoder(net), test), pca.Project(backend, test) }.Select(codes =>
            {
                var x = new double[codes.Length / 2];
                var y = new double[codes.Length / 2];
                for (int i = 0; i < x.Length; i++) (x[i], y[i]) = (codes[2 * i], codes[2 * i + 1]);
                var plot = new Shinso.Cli.Repro.ScatterPlot().Points(x, y, loaded.Test.Labels);
                return (Pixels: plot.RenderRgb(), plot.Size);
            }).ToArray();
            var (w, h) = plots[0].Size;
            var side = new byte[2 * w * h * 3];
            for (int row = 0; row < h; row++)
                for (int p = 0; p < 2; p++) plots[p].Pixels.AsSpan(row * w * 3, w * 3).CopyTo(side.AsSpan((row * 2 * w + p * w) * 3));
            string path = Path.Combine(directory, "codes.png");
            AtomicFile.WriteAllBytes(path, PngImage.EncodeRgb(side, 2 * w, h));
            CommonOptions.Err.MarkupLine(Markup.Escape($"wrote {path}: the {loaded.Test.Count} test codes coloured by label (left), PCA's first two components (right)"));
        }
        if (net.Layers.OfType<Shinso.Layers.Dense>().FirstOrDefault() is { } first)
        {
            int units = Math.Min(100, first.Units);
            SampleCommand.Write(Path.Combine(directory, "filters.png"), SampleCommand.Transposed(first.Weight.Value, first.Inputs, first.Units, units), units,
                first.Inputs, (int)Math.Ceiling(Math.Sqrt(units)), true);
        }
    }

    public override int Eval(EvalArguments a)
    {
        var net = FeedForwardModelFile.Load(a.File, a.Backend);
        if (net.Spec.OutputLength != net.Spec.InputLength || net.Spec.CodeIndex < 0)
            throw new UsageException($"{a.File}: an autoencoder file needs a net with a code layer and as many outputs as inputs; this one has {net.Spec.InputLength} inputs and {net.Spec.OutputLength} outputs.");
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.RequireFeatures(loaded, net.Spec.InputLength, a.File);
        var data = new ReconstructionRunData(loaded);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(loaded.Description)}");
        // PCA is fitted on the rows the net trained on: the training set less the validation rows its config held out.
        var fitted = loaded.Train;
        var config = TrainingConfig.FromJson(a.Header.HyperParameters, a.File);
        if (config.ValidationFraction > 0) (fitted, _) = fitted.Split(config.ValidationFraction, config.Training.Seed);
        var (figures, lines) = data.Figures(net, new PreparedRows(ReconstructionRunData.Rows(fitted), null, ReconstructionRunData.Rows(loaded.Test), null, []));
        foreach (var line in lines) CommonOptions.Err.MarkupLine(Markup.Escape(line));
        if (a.Json)
        {
            var json = new JsonObject { ["model"] = a.File, ["samples"] = loaded.Test.Count };
            foreach (var (key, value) in figures!) json[key] = value?.DeepClone();
            Console.WriteLine(json.ToJsonString());
        }
        return 0;
    }
}
