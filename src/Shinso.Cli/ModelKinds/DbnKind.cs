using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Spectre.Console;
using Shinso.Training;

namespace Shinso.Cli.ModelKinds;

/// <summary>Deep belief nets: greedy, up-down and backprop phases, free-energy classification, generated images, ONNX up-pass classifier.</summary>
internal sealed class DbnKind : ModelKind
{
    public override string FileKind => DbnModelFile.Kind;

    public override string Description => "deep belief net";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Sample, ModelAction.Export, ModelAction.Complete];

    public override IReadOnlyList<string> Presets => BoltzmannPresets.DbnNames;

    public override string ExportedForm(string fileKind, string? part) => "dbn up-pass classifier";

    public override int Train(TrainArguments a)
    {
        if (a.Optimizer is not null) throw new UsageException($"--optimizer applies to feed-forward presets, not '{a.Source}'.");
        if (a.AisRuns is not null) throw new UsageException($"--ais-runs applies to RBM presets, not '{a.Source}'.");
        var preset = Override(BoltzmannPresets.FindDbn(a.Source)!, a);
        if (a.LearningRate is not null || a.Batch is not null)
            CommonOptions.Err.MarkupLine("[grey]--lr and --batch apply to the backprop phase; greedy pretraining and up-down keep the preset's.[/]");
        var resume = a.Resume is null ? null : new DbnResume(new ResumeOverrides { Epochs = a.Epochs, BatchSize = a.Batch, LearningRate = a.LearningRate }, a.Seed,
            a.PretrainEpochs, a.UpDownEpochs);
        if (a.Validation is { } fraction && fraction is not (>= 0 and < 1)) throw new UsageException($"--validation must be in [0, 1), got {fraction}.");
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        using var backend = a.CreateBackend();
        var result = BoltzmannRuns.TrainDbn(a.Source, preset, backend, data, a.RunDirectory(a.Source), resume, a.Validation);
        if (a.Json) Console.WriteLine(result.ToJsonString());
        return 0;
    }

    private static DbnPreset Override(DbnPreset preset, TrainArguments a)
    {
        if (a.Batch is < 0) throw new UsageException($"--batch must be >= 0 (0 = full batch), got {a.Batch}.");
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.PretrainEpochs is < 0) throw new UsageException($"--pretrain-epochs must be >= 0, got {a.PretrainEpochs}.");
        if (a.UpDownEpochs is < 0) throw new UsageException($"--updown-epochs must be >= 0, got {a.UpDownEpochs}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        var greedy = preset.Greedy;
        if (a.PretrainEpochs is { } p) greedy = greedy with { LayerEpochs = p, TopEpochs = p };
        var backprop = preset.Backprop;
        if (a.Epochs is { } e) backprop = backprop with { Training = backprop.Training with { Epochs = e } };
        if (a.LearningRate is { } l) backprop = backprop with { Optimizer = backprop.Optimizer with { LearningRate = l } };
        if (a.Batch is { } size) backprop = backprop with { Training = backprop.Training with { BatchSize = size } };
        var result = preset with { Greedy = greedy, UpDownEpochs = a.UpDownEpochs ?? preset.UpDownEpochs, Backprop = backprop };
        return a.Seed is { } s ? DbnRun.Seeded(result, s) : result;
    }

    public override int Eval(EvalArguments a)
    {
        var data = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Spectre.Console.Markup.Escape(data.Description)}");
        var dbn = DbnModelFile.Load(a.File, a.Backend);
        if (data.Test.FeatureCount != dbn.VisibleCount)
            throw new UsageException($"--data: samples have {data.Test.FeatureCount} features but {a.File} has {dbn.VisibleCount} visible units.");
        double accuracy = dbn.Accuracy(data.Test);
        CommonOptions.Err.MarkupLine($"test accuracy [bold]{accuracy:P2}[/] (free energy of each label in the top RBM) on {data.Test.Count} images");
        var result = new JsonObject { ["accuracy"] = accuracy, ["samples"] = data.Test.Count, ["model"] = a.File };
        if (a.Json) Console.WriteLine(result.ToJsonString());
        return 0;
    }

    public override int Complete(CompleteArguments a) => CompleteCommand.CompleteDbn(DbnModelFile.FromDocument(a.Document, a.File, a.Backend), a);

    public override int Sample(SampleArguments a)
    {
        var dbn = DbnModelFile.FromDocument(a.Document, a.File, a.Backend);
        int n = a.Count == 0 ? 10 : a.Count;
        System.Text.Json.Nodes.JsonObject? quality = null;
        if (a.SamplesPath is not null)
        {
            var images = SampleCommand.GenerateDbn(dbn, n, a.Steps, RandomStream.Root(a.Seed).Derive("dbn-samples"));
            // One row per label.
            SampleCommand.Write(a.SamplesPath, images, n * dbn.LabelCount, dbn.VisibleCount, n, false);
            string? classifierPath = a.Classifier;
            if (classifierPath is null)
            {
                string beside = Path.Combine(Path.GetDirectoryName(a.File) ?? "", "model.shinso");
                if (File.Exists(beside) && Shinso.IO.ModelFile.Read(beside).Kind == Shinso.Models.FeedForward.FeedForwardModelFile.Kind) classifierPath = beside;
            }
            var classifier = SampleCommand.LoadClassifier(classifierPath, a.Backend, dbn.VisibleCount, dbn.LabelCount, "DBN");
            quality = SampleCommand.ToJson(SampleCommand.MeasureLabelledSamples(images, n, dbn.LabelCount, classifier, classifierPath), classifierPath);
        }
        if (a.FiltersPath is not null)
        {
            var bottom = dbn.Layers[0];
            int shown = Math.Min(100, bottom.AboveCount);
            SampleCommand.Write(a.FiltersPath, SampleCommand.Transposed(bottom.RecognitionWeights, bottom.BelowCount, bottom.AboveCount, shown), shown,
                bottom.BelowCount, 10, true);
        }
        if (a.Json) Console.WriteLine((quality ?? []).ToJsonString());
        return 0;
    }
}
