using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.Topographic;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Topographic ICA and RICA: filter banks on a torus, their objective, their filters laid out on the topography.</summary>
internal sealed class TicaKind : ModelKind
{
    public override string FileKind => TicaModelFile.Kind;

    public override string Description => "topographic ICA filter bank";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Sample];

    public override IReadOnlyList<string> Presets => TicaPresets.Names;

    /// <summary>Random test patches <c>shinso eval</c> scores.</summary>
    public const int EvalPatches = 10_000;

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override int Train(TrainArguments a)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        if (a.Optimizer is not null) throw new UsageException($"--optimizer applies to feed-forward presets, not '{a.Source}': TICA takes gradient steps and orthonormalises, RICA uses Adam.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs do not apply to '{a.Source}'.");
        if (a.Resume is not null) throw new UsageException($"--resume: a '{a.Source}' run keeps no checkpoint; run it again.");
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch (patches per step) must be >= 1, got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        var preset = TicaPresets.Find(a.Source)!;
        var training = preset.Training;
        if (a.Epochs is { } e) training = training with { Epochs = e };
        if (a.Batch is { } b) training = training with { BatchRows = b };
        if (a.LearningRate is { } l) training = training with { LearningRate = l };
        preset = preset with { Training = training };
        ulong seed = a.Seed ?? 1;
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        Progress($"data: {data.Description}");
        using var backend = a.CreateBackend();
        TicaResult result;
        try
        {
            result = TicaRun.Run(preset, backend, data.Train, data.Test, seed, Progress);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)}");
        }
        catch (ArithmeticException ex)
        {
            throw new UsageException($"--data: the patches leave the filters linearly dependent ({ex.Message}); try more or more varied images.");
        }
        string folder = a.RunDirectory(a.Source);
        Directory.CreateDirectory(folder);
        string modelPath = Path.Combine(folder, "model.shinso");
        var hyper = new JsonObject
        {
            ["data"] = data.Description, ["epochs"] = training.Epochs, ["batch"] = training.BatchRows, ["learning_rate"] = training.LearningRate, ["seed"] = seed,
        };
        TicaModelFile.Save(result.Model, modelPath, hyper);
        string filtersPath = Path.Combine(folder, "filters.png");
        WriteFilters(result.Model, filtersPath);
        var objectives = new JsonArray();
        foreach (var epoch in result.Epochs) objectives.Add(Math.Round(epoch.MeanObjective, 6));
        var bank = result.Model.Bank;
        var summary = new JsonObject
        {
            ["model"] = a.Source, ["filters"] = bank.FilterCount, ["side"] = bank.Side, ["neighbourhood"] = bank.Neighbourhood, ["reconstruction"] = bank.Reconstruction,
            ["whitened"] = result.Model.Whitening is not null, ["epochs"] = training.Epochs, ["objective_by_epoch"] = objectives,
            ["test_mean_objective"] = Math.Round(result.TestObjective, 6), ["orthonormality"] = result.Epochs.Count > 0 && double.IsFinite(result.Epochs[^1].Orthonormality) ? result.Epochs[^1].Orthonormality : null,
            ["neighbour_energy_correlation"] = Math.Round(result.NeighbourCorrelation, 4), ["distant_energy_correlation"] = Math.Round(result.DistantCorrelation, 4),
            ["relative_reconstruction_error"] = Math.Round(result.RelativeReconstructionError, 5), ["seconds"] = Math.Round(result.Seconds, 2), ["model_path"] = modelPath, ["filters_path"] = filtersPath,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString() + "\n");
        Reports.RunRecord.SaveAndReport(folder, () => new Reports.RunRecord(a.Source, FileKind, Description, data.Description)
            {
                HyperParameters = hyper, Seconds = wall.Elapsed.TotalSeconds,
                Phases = [Reports.RunPhase.OfLosses("TICA", "mean objective", result.Epochs.Select(e => (e.MeanObjective, e.Seconds)),
                    (int)Math.Min(preset.PatchCount, (long)Shinso.Data.ImagePatches.MaxPerImage * data.Train.Count), training.LearningRate, cumulativeSeconds: true)],
            });
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        var model = TicaModelFile.Load(a.File);
        float[] patches;
        try
        {
            patches = model.SamplePatches(a.Backend, data.Test, EvalPatches, RandomStream.Root(a.Seed ?? 1).Derive("eval-patches"));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)} ({a.File} reads {model.Channels}-channel {model.Patches.Size} x {model.Patches.Size} patches)");
        }
        double objective = model.Bank.MeanObjective(a.Backend, patches);
        var (near, far) = TicaRun.EnergyCorrelations(model.Bank, patches);
        Progress(string.Create(CultureInfo.InvariantCulture, $"{EvalPatches} test patches: mean objective {objective:F4}; energy correlation neighbours {near:F3}, distant {far:F3}"));
        if (a.Json)
            Console.WriteLine(new JsonObject
            {
                ["model"] = a.File, ["test_patches"] = EvalPatches, ["test_mean_objective"] = Math.Round(objective, 6),
                ["neighbour_energy_correlation"] = Math.Round(near, 4), ["distant_energy_correlation"] = Math.Round(far, 4),
            }.ToJsonString());
        return 0;
    }

    public override int Sample(SampleArguments a)
    {
        if (a.SamplesPath is not null) throw new UsageException($"{a.File}: a topographic ICA bank is not a generative model; write its filters with --filters FILE.png.");
        if (a.FiltersPath is null) throw new UsageException("give --filters FILE.png for the bank's filters.");
        if (a.Count != 0) throw new UsageException("--count: a topographic bank is drawn whole, laid out on its torus.");
        WriteFilters(TicaModelFile.FromDocument(a.Document, a.File), a.FiltersPath);
        if (a.Json) Console.WriteLine(new JsonObject { ["filters_path"] = a.FiltersPath }.ToJsonString());
        return 0;
    }

    /// <summary>The filters in pixel space, one N x N tile each, laid out on the torus (Side per row) so neighbours sit side by side.</summary>
    private static void WriteFilters(TicaModel model, string path)
    {
        int n = model.Patches.Size, side = model.Bank.Side;
        PngImage.WriteGrid(path, model.PixelFilters(), model.Bank.FilterCount, model.Channels * n, n, side, true);
        Progress($"wrote {path}: {model.Bank.FilterCount} filters of {n}x{n} on a {side} x {side} torus");
    }
}
