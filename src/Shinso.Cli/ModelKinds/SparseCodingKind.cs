using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.IO;
using Shinso.Models.SparseCoding;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Sparse coding: a dictionary of image-patch atoms learned by FISTA codes and coordinate descent, its objective, its atoms as a picture.</summary>
internal sealed class SparseCodingKind : ModelKind
{
    public override string FileKind => SparseCodingModelFile.Kind;

    public override string Description => "sparse-coding dictionary";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Sample];

    public override IReadOnlyList<string> Presets => SparseCodingPresets.Names;

    /// <summary>Random test patches <c>shinso eval</c> codes.</summary>
    public const int EvalPatches = 10_000;

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override int Train(TrainArguments a)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        if (a.Optimizer is not null || a.LearningRate is not null)
            throw new UsageException($"--optimizer and --lr apply to feed-forward presets, not '{a.Source}': the dictionary moves by exact coordinate steps.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs apply to Boltzmann presets, not '{a.Source}'.");
        if (a.Resume is not null)
            throw new UsageException($"--resume: a '{a.Source}' run learns its dictionary in seconds and keeps no checkpoint; run it again.");
        if (a.Epochs is < 1) throw new UsageException($"--epochs (dictionary passes) must be >= 1, got {a.Epochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch (patches per dictionary update) must be >= 1, got {a.Batch}.");
        if (a.Code is < 1) throw new UsageException($"--code (atoms) must be >= 1, got {a.Code}.");
        if (a.FineTuneEpochs is < 0) throw new UsageException($"--finetune-epochs (classifier epochs) must be >= 0, got {a.FineTuneEpochs}.");
        var preset = SparseCodingPresets.Find(a.Source)!;
        var learning = preset.Learning;
        if (a.Epochs is { } e) learning = learning with { Epochs = e };
        if (a.Batch is { } b) learning = learning with { BatchRows = b };
        if (a.Code is { } atoms) learning = learning with { Atoms = atoms };
        preset = preset with { Learning = learning };
        if (a.FineTuneEpochs is { } f)
            preset = preset with { Classifier = f == 0 ? null : preset.Classifier is { } c ? c with { Training = c.Training with { Epochs = f } } : null };
        ulong seed = a.Seed ?? 1;

        var data = CommonOptions.LoadData(a.Data, a.TestData);
        Progress($"data: {data.Description}");
        using var backend = a.CreateBackend();
        SparseCodingResult result;
        try
        {
            result = SparseCodingRun.Run(preset, backend, data.Train, data.Test, seed, Progress);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)}");
        }
        string folder = a.RunDirectory(a.Source);
        Directory.CreateDirectory(folder);
        string modelPath = Path.Combine(folder, "model.shinso");
        var passes = new JsonArray();
        foreach (var p in result.Passes) passes.Add(Math.Round(p.MeanObjective, 6));
        var hyper = new JsonObject
        {
            ["patches"] = result.PatchCount, ["passes"] = learning.Epochs, ["batch"] = learning.BatchRows, ["seed"] = seed,
        };
        SparseCodingModelFile.Save(result.Model, modelPath, hyper, new JsonObject { ["data"] = data.Description });
        string atomsPath = Path.Combine(folder, "atoms.png");
        WriteAtoms(result.Model, atomsPath, result.Model.AtomCount);
        var summary = new JsonObject
        {
            ["model"] = a.Source, ["atoms"] = result.Model.AtomCount, ["lambda"] = result.Model.Lambda, ["patch_size"] = result.Model.Patches.Size,
            ["whitened"] = result.Model.Whitening is not null, ["passes"] = learning.Epochs, ["objective_by_pass"] = passes,
            ["mean_objective"] = Math.Round(result.TrainObjective, 6), ["test_mean_objective"] = Math.Round(result.TestObjective, 6),
            ["mean_nonzeros"] = Math.Round(result.TrainNonZeros, 2), ["test_mean_nonzeros"] = Math.Round(result.TestNonZeros, 2), ["patches"] = result.PatchCount,
            ["seconds"] = Math.Round(result.LearnSeconds, 2),
            ["accuracy"] = Finite(result.CodeAccuracy), ["pixel_accuracy"] = Finite(result.PixelAccuracy), ["feature_count"] = result.FeatureCount,
            ["model_path"] = modelPath, ["atoms_path"] = atomsPath,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString() + "\n");
        var settings = (JsonObject)hyper.DeepClone();
        settings["atoms"] = result.Model.AtomCount;
        settings["lambda"] = result.Model.Lambda;
        settings["patch_size"] = result.Model.Patches.Size;
        Reports.RunRecord.SaveAndReport(folder, () => new Reports.RunRecord(a.Source, FileKind, Description, data.Description)
            {
                HyperParameters = settings, Seconds = wall.Elapsed.TotalSeconds,
                Phases = [Reports.RunPhase.OfLosses("dictionary learning", "mean objective", result.Passes.Select(p => (p.MeanObjective, p.Seconds)), result.PatchCount, 0, cumulativeSeconds: true)],
            });
        if (a.Json) Console.WriteLine(summary.ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(data.Description)}");
        var model = SparseCodingModelFile.Load(a.File);
        float[] patches;
        try
        {
            patches = model.SamplePatches(a.Backend, data.Test, EvalPatches, RandomStream.Root(a.Seed ?? 1).Derive("eval-patches"));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--data: {CommonOptions.WithoutParameter(ex)} ({a.File} codes {model.Channels}-channel {model.Patches.Size} x {model.Patches.Size} patches)");
        }
        var codes = model.Encode(a.Backend, patches);
        Progress(string.Create(CultureInfo.InvariantCulture,
            $"{EvalPatches} test patches: mean objective {codes.MeanObjective:F5}, {codes.MeanNonZeros:F1} non-zeros of {model.AtomCount}{(codes.Converged ? "" : " (FISTA stopped at its iteration limit)")}"));
        if (a.Json)
            Console.WriteLine(new JsonObject
            {
                ["model"] = a.File, ["test_patches"] = EvalPatches, ["test_mean_objective"] = Math.Round(codes.MeanObjective, 6),
                ["test_mean_nonzeros"] = Math.Round(codes.MeanNonZeros, 2), ["converged"] = codes.Converged,
            }.ToJsonString());
        return 0;
    }

    public override int Sample(SampleArguments a)
    {
        if (a.SamplesPath is not null)
            throw new UsageException($"{a.File}: a sparse-coding dictionary is not a generative model; write its atoms with --filters FILE.png.");
        if (a.FiltersPath is null) throw new UsageException("give --filters FILE.png for the dictionary's atoms.");
        var model = SparseCodingModelFile.FromDocument(a.Document, a.File);
        WriteAtoms(model, a.FiltersPath, a.Count == 0 ? model.AtomCount : Math.Min(a.Count, model.AtomCount));
        if (a.Json) Console.WriteLine(new JsonObject { ["filters_path"] = a.FiltersPath, ["atoms"] = model.AtomCount }.ToJsonString());
        return 0;
    }

    /// <summary>The first <paramref name="count"/> atoms as a grid of N x N tiles (channels stacked top to bottom), each scaled to its own range.</summary>
    private static void WriteAtoms(SparseCodingModel model, string path, int count)
    {
        int n = model.Patches.Size;
        PngImage.WriteGrid(path, model.Dictionary.AsSpan(0, count * model.FeatureCount), count, model.Channels * n, n, (int)Math.Ceiling(Math.Sqrt(count)), true);
        Progress($"wrote {path}: {count} atoms of {n}x{n}");
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? JsonValue.Create(Math.Round(x, 6)) : null;
}
