using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Restricted Boltzmann machines: CD-k, PCD and Gaussian presets, AIS evaluation, Gibbs samples, image completion, ONNX encoder or decoder.</summary>
internal sealed class RbmKind : ModelKind
{
    public override string FileKind => RbmModelFile.Kind;

    public override string Description => "restricted Boltzmann machine";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Sample, ModelAction.Export, ModelAction.Complete];

    public override IReadOnlyList<string> Presets => BoltzmannPresets.RbmNames;

    public override string ExportedForm(string fileKind, string? part) => $"rbm {part ?? ExportParts[0]}";

    public override IReadOnlyList<string> ExportParts { get; } = ["encoder", "decoder"];

    public override int Train(TrainArguments a)
    {
        if (a.Optimizer is not null) throw new UsageException($"--optimizer applies to feed-forward presets, not '{a.Source}'.");
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null)
            throw new UsageException($"--pretrain-epochs and --updown-epochs apply to deep belief net presets, not '{a.Source}'.");
        var preset = BoltzmannPresets.FindRbm(a.Source)!;
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 1) throw new UsageException($"--batch must be >= 1 for an RBM, got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        if (a.AisRuns is < 2) throw new UsageException($"--ais-runs must be >= 2, got {a.AisRuns}.");
        if (a.Validation is { } fraction && fraction is not (>= 0 and < 1)) throw new UsageException($"--validation must be in [0, 1), got {fraction}.");
        if (a.Validation is not null && a.Resume is not null) throw new UsageException("--validation: a resumed run keeps the rows it held out (its checkpoint records them).");
        // A resumed run takes its seed, batch, rate and budget from its checkpoint, with these flags as changes to them.
        var resume = a.Resume is null ? null : new Shinso.Training.ResumeOverrides { Epochs = a.Epochs, BatchSize = a.Batch, LearningRate = a.LearningRate, Seed = a.Seed };
        var options = preset.Options;
        if (resume is null)
        {
            if (a.Batch is { } b) options = options with { BatchSize = b };
            if (a.LearningRate is { } l) options = options with { LearningRate = l };
            if (a.Seed is { } s) options = options with { Seed = s };
            preset = preset with { Epochs = a.Epochs ?? preset.Epochs };
        }
        preset = preset with { Options = options, AisRuns = a.AisRuns ?? preset.AisRuns };
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        using var backend = a.CreateBackend();
        var result = BoltzmannRuns.TrainRbm(a.Source, preset, backend, data, a.RunDirectory(a.Source), resume, a.Validation ?? 0);
        if (a.Json) Console.WriteLine(result.ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        if (a.AisRuns < 2) throw new UsageException($"--ais-runs must be >= 2, got {a.AisRuns}.");
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Spectre.Console.Markup.Escape(data.Description)}");
        var rbm = RbmModelFile.Load(a.File, a.Backend);
        if (data.Train.FeatureCount != rbm.VisibleCount)
            throw new UsageException($"--data: samples have {data.Train.FeatureCount} features but {a.File} has {rbm.VisibleCount} visible units.");
        var (train, test) = ModelUnits(rbm, a.File, a.Header.Metadata, data.Train, data.Test);
        var result = BoltzmannRuns.RbmLikelihood(rbm, train, test, a.AisRuns, a.Seed ?? 1);
        result["model"] = a.File;
        if (a.Json) Console.WriteLine(result.ToJsonString());
        return 0;
    }

    /// <summary>
    /// The data on the scale the machine was trained on: binarised at the file's threshold (Bernoulli units) or centred as the
    /// file's <c>visible_centering</c> says (Gaussian units; raw values when a file has none).
    /// </summary>
    internal static (Shinso.Data.Dataset Train, Shinso.Data.Dataset Test) ModelUnits(RestrictedBoltzmannMachine rbm, string file, JsonObject metadata,
        Shinso.Data.Dataset train, Shinso.Data.Dataset test)
    {
        if (rbm.Units == VisibleUnits.Gaussian)
        {
            var centering = VisibleCentering.FromMetadata(metadata, file, rbm.VisibleCount);
            return centering is null ? (train, test) : (centering.Apply(train), centering.Apply(test));
        }
        float threshold = CommonOptions.BinarizeThreshold(metadata);
        return (train.Binarize(threshold), test.Binarize(threshold));
    }

    public override int Complete(CompleteArguments a) => CompleteCommand.CompleteRbm(RbmModelFile.FromDocument(a.Document, a.File, a.Backend), a);

    public override int Sample(SampleArguments a)
    {
        var rbm = RbmModelFile.FromDocument(a.Document, a.File, a.Backend);
        int n = a.Count == 0 ? 100 : a.Count;
        if (a.SamplesPath is not null)
        {
            float[] starts = a.From == "data"
                ? SampleCommand.DataStarts(a.Data, a.TestData, n, rbm.VisibleCount)
                : SampleCommand.RandomBits(n * rbm.VisibleCount, a.Seed);
            var images = SampleCommand.SampleRbm(rbm, starts, n, a.Steps, RandomStream.Root(a.Seed).Derive("rbm-samples"));
            SampleCommand.Write(a.SamplesPath, images, n, rbm.VisibleCount, (int)Math.Ceiling(Math.Sqrt(n)), false);
        }
        if (a.FiltersPath is not null) WriteFilters(rbm, a.FiltersPath, n);
        return 0;
    }

    /// <summary>The incoming weights of the first <paramref name="count"/> hidden units as a grid of tiles, each scaled to its range.</summary>
    internal static void WriteFilters(RestrictedBoltzmannMachine rbm, string path, int count)
    {
        int shown = Math.Min(count, rbm.HiddenCount);
        SampleCommand.Write(path, SampleCommand.Transposed(rbm.Weights, rbm.VisibleCount, rbm.HiddenCount, shown), shown,
            rbm.VisibleCount, (int)Math.Ceiling(Math.Sqrt(shown)), true);
    }
}
