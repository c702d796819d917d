using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Models.FeedForward;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.ModelKinds;

/// <summary>Feed-forward nets (MLPs, CNNs, linear regression): presets and JSON configs, trained by backprop.</summary>
internal sealed class FeedForwardKind : ModelKind
{
    public override string FileKind => FeedForwardModelFile.Kind;

    public override string Description => "feed-forward net";

    public override IReadOnlyList<ModelAction> Actions { get; } = [ModelAction.Train, ModelAction.Eval, ModelAction.Export];

    public override IReadOnlyList<string> Presets => Training.Presets.Names;

    /// <summary>Also <c>feedforward-checkpoint</c>: a checkpoint holds a whole net.</summary>
    public override bool Matches(string fileKind) => fileKind == FileKind || fileKind.StartsWith(FileKind + "-", StringComparison.Ordinal);

    public override int Train(TrainArguments a)
    {
        if (a.PretrainEpochs is not null || a.UpDownEpochs is not null || a.AisRuns is not null)
            throw new UsageException($"--pretrain-epochs, --updown-epochs and --ais-runs apply to the {string.Join(", ", ModelKindRegistry.All.Where(k => k is RbmKind or DbnKind).SelectMany(k => k.Presets))} presets only.");
        var (name, config) = TrainCommand.LoadConfig(a.Source);
        if (a.Epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {a.Epochs}.");
        if (a.Batch is < 0) throw new UsageException($"--batch must be >= 0 (0 = full batch), got {a.Batch}.");
        if (a.LearningRate is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        ResumeOverrides? overrides = null;
        if (a.Resume is not null)
        {
            // Only what the user typed reaches the saved run: every flag either applies from the next epoch or is refused.
            overrides = new ResumeOverrides
            {
                Epochs = a.Epochs, BatchSize = a.Batch, LearningRate = a.LearningRate, Seed = a.Seed, Optimizer = a.Optimizer,
            };
        }
        else
        {
            var training = config.Training;
            if (a.Epochs is { } e) training = training with { Epochs = e };
            if (a.Batch is { } b) training = training with { BatchSize = b };
            if (a.Seed is { } s) training = training with { Seed = s };
            config = config with { Training = training };
            if (a.Optimizer is { } opt)
            {
                try { config = config with { Optimizer = OptimizerConfig.Defaults(opt) }; }
                catch (ArgumentException ex) { throw new UsageException("--optimizer: " + ex.Message); }
            }
            if (a.LearningRate is { } l) config = config with { Optimizer = config.Optimizer with { LearningRate = l } };
        }
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        using var backend = a.CreateBackend();
        var summary = TrainingRun.Execute(name, config, backend, loaded, a.RunDirectory(name), overrides,
            epochCompleted: a.Json ? m => Console.WriteLine(Checkpoint.MetricsJson(m).ToJsonString()) : null);
        CommonOptions.Err.MarkupLine($"test accuracy [bold]{summary.TestAccuracy:P2}[/] (loss {summary.TestLoss:F4}) after {summary.Epochs} epochs; model: {summary.ModelPath}");
        if (a.Json) Console.WriteLine(summary.ToJson().ToJsonString());
        return 0;
    }

    public override int Eval(EvalArguments a)
    {
        var net = FeedForwardModelFile.Load(a.File, a.Backend);
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        CommonOptions.RequireFeatures(loaded, net.Spec.InputLength, a.File);
        var test = CommonOptions.FitClasses(loaded.Test, net.Spec.OutputLength, a.File);
        var evaluation = Trainer.Evaluate(net, SupervisedData.FromDataset(test));
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(loaded.Description)}");
        CommonOptions.Err.MarkupLine($"test accuracy [bold]{evaluation.Accuracy:P2}[/], loss {evaluation.Loss:F4} on {test.Count} images");
        if (a.Json)
            Console.WriteLine(new JsonObject { ["model"] = a.File, ["accuracy"] = evaluation.Accuracy, ["loss"] = evaluation.Loss, ["samples"] = test.Count }.ToJsonString());
        return 0;
    }
}
