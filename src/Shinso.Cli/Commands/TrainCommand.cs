using Spectre.Console;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.Models.Boltzmann;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso train PRESET|CONFIG.json</c>: trains a feed-forward net on Fashion-MNIST.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("preset-or-config") { Description = $"A preset ({string.Join(", ", AllPresetNames)}) or a config JSON file" };
        var data = CommonOptions.Data();
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to train (total, counting resumed ones)" };
        var batch = new Option<int?>("--batch") { Description = "Minibatch size (1 = online, 0 = full batch)" };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop, adadelta or adam" };
        var lr = new Option<float?>("--lr") { Description = "Learning rate" };
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var output = new Option<string?>("--out") { Description = "Run folder for checkpoints and the final model (default runs/NAME)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this folder" };
        var json = CommonOptions.Json();
        var pretrainEpochs = new Option<int?>("--pretrain-epochs") { Description = "DBN presets: greedy CD epochs per layer (and for the top RBM)" };
        var upDownEpochs = new Option<int?>("--updown-epochs") { Description = "DBN presets: up-down fine-tuning epochs" };
        var aisRuns = new Option<int?>("--ais-runs") { Description = "RBM presets: AIS runs for the log-likelihood estimate (default 100)" };

        var command = new Command("train", "Train a feed-forward net (a preset or a JSON config), an RBM or a deep belief net on Fashion-MNIST");
        command.Arguments.Add(what);
        foreach (var o in new Option[] { data, epochs, batch, optimizer, lr, seed, threads, path, output, resume, json, pretrainEpochs, upDownEpochs, aisRuns })
            command.Options.Add(o);
        command.SetAction(r =>
        {
            string source = r.GetValue(what)!;
            if (BoltzmannPresets.FindRbm(source) is not null || BoltzmannPresets.FindDbn(source) is not null)
            {
                string? resumeRun = r.GetValue(resume);
                if (resumeRun is not null && BoltzmannPresets.FindRbm(source) is not null)
                    throw new UsageException($"--resume: '{source}' runs are not checkpointed (an RBM epoch takes seconds); start a new run.");
                if (r.GetValue(optimizer) is not null) throw new UsageException($"--optimizer applies to feed-forward presets, not '{source}'.");
                var (dataDir, dataDescription) = CommonOptions.ResolveData(r.GetValue(data));
                using var energyBackend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
                string runDir = resumeRun ?? r.GetValue(output) ?? System.IO.Path.Combine("runs", source);
                var result = BoltzmannPresets.FindRbm(source) is { } rbmPreset
                    ? BoltzmannRuns.TrainRbm(source, Override(rbmPreset, r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(seed), r.GetValue(aisRuns)),
                        energyBackend, dataDir, dataDescription, runDir)
                    : BoltzmannRuns.TrainDbn(source, Override(BoltzmannPresets.FindDbn(source)!, r.GetValue(epochs), r.GetValue(lr), r.GetValue(seed),
                        r.GetValue(pretrainEpochs), r.GetValue(upDownEpochs)), energyBackend, dataDir, dataDescription, runDir, !Console.IsErrorRedirected,
                        resume: resumeRun is not null);
                if (r.GetValue(json)) Console.WriteLine(result.ToJsonString());
                return 0;
            }
            if (r.GetValue(pretrainEpochs) is not null || r.GetValue(upDownEpochs) is not null || r.GetValue(aisRuns) is not null)
                throw new UsageException("--pretrain-epochs, --updown-epochs and --ais-runs apply to the rbm, rbm-pcd and dbn-mnist presets only.");
            var (name, config) = LoadConfig(source);
            var training = config.Training;
            if (r.GetValue(epochs) is { } e) training = training with { Epochs = e };
            if (r.GetValue(batch) is { } b) training = training with { BatchSize = b };
            if (r.GetValue(seed) is { } s) training = training with { Seed = s };
            config = config with { Training = training };
            if (r.GetValue(optimizer) is { } opt)
            {
                try { config = config with { Optimizer = OptimizerConfig.Defaults(opt) }; }
                catch (ArgumentException ex) { throw new UsageException("--optimizer: " + ex.Message); }
            }
            if (r.GetValue(lr) is { } rate)
            {
                if (!(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
                config = config with { Optimizer = config.Optimizer with { LearningRate = rate } };
            }
            string? resumeDir = r.GetValue(resume);
            string outDir = resumeDir ?? r.GetValue(output) ?? System.IO.Path.Combine("runs", name);
            var (dir, description) = CommonOptions.ResolveData(r.GetValue(data));
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            bool asJson = r.GetValue(json);
            var summary = TrainingRun.Execute(name, config, backend, dir, description, outDir, resume: resumeDir is not null,
                epochCompleted: asJson ? m => Console.WriteLine(Checkpoint.MetricsJson(m).ToJsonString()) : null);
            CommonOptions.Err.MarkupLine($"test accuracy [bold]{summary.TestAccuracy:P2}[/] (loss {summary.TestLoss:F4}) after {summary.Epochs} epochs; model: {summary.ModelPath}");
            if (asJson) Console.WriteLine(summary.ToJson().ToJsonString());
            return 0;
        });
        return command;
    }

    private static IEnumerable<string> AllPresetNames => Presets.Names.Concat(BoltzmannPresets.RbmNames).Concat(BoltzmannPresets.DbnNames);

    private static RbmPreset Override(RbmPreset preset, int? epochs, int? batch, float? lr, ulong? seed, int? aisRuns)
    {
        if (epochs is < 0) throw new UsageException($"--epochs must be >= 0, got {epochs}.");
        if (batch is < 1) throw new UsageException($"--batch must be >= 1 for an RBM, got {batch}.");
        if (lr is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        if (aisRuns is < 2) throw new UsageException($"--ais-runs must be >= 2, got {aisRuns}.");
        var options = preset.Options;
        if (batch is { } b) options = options with { BatchSize = b };
        if (lr is { } l) options = options with { LearningRate = l };
        if (seed is { } s) options = options with { Seed = s };
        return preset with { Epochs = epochs ?? preset.Epochs, Options = options, AisRuns = aisRuns ?? preset.AisRuns };
    }

    private static DbnPreset Override(DbnPreset preset, int? backpropEpochs, float? lr, ulong? seed, int? pretrainEpochs, int? upDownEpochs)
    {
        if (backpropEpochs is < 0) throw new UsageException($"--epochs must be >= 0, got {backpropEpochs}.");
        if (pretrainEpochs is < 0) throw new UsageException($"--pretrain-epochs must be >= 0, got {pretrainEpochs}.");
        if (upDownEpochs is < 0) throw new UsageException($"--updown-epochs must be >= 0, got {upDownEpochs}.");
        if (lr is { } rate && !(rate > 0)) throw new UsageException($"--lr must be positive, got {rate}.");
        var greedy = preset.Greedy;
        if (pretrainEpochs is { } p) greedy = greedy with { LayerEpochs = p, TopEpochs = p };
        var upDown = preset.UpDown;
        var backprop = preset.Backprop;
        if (seed is { } s)
        {
            greedy = greedy with { Layer = greedy.Layer with { Seed = s }, Top = greedy.Top with { Seed = s } };
            upDown = upDown with { Seed = s };
            backprop = backprop with { Training = backprop.Training with { Seed = s } };
        }
        if (backpropEpochs is { } e) backprop = backprop with { Training = backprop.Training with { Epochs = e } };
        if (lr is { } l) backprop = backprop with { Optimizer = backprop.Optimizer with { LearningRate = l } };
        return preset with { Greedy = greedy, UpDown = upDown, UpDownEpochs = upDownEpochs ?? preset.UpDownEpochs, Backprop = backprop };
    }

    /// <summary>A preset by name, or a config file (its name without extension names the run).</summary>
    public static (string Name, TrainingConfig Config) LoadConfig(string source)
    {
        if (Presets.Find(source) is { } preset) return (source, preset);
        if (!File.Exists(source))
            throw new UsageException($"'{source}' is neither a preset ({string.Join(", ", AllPresetNames)}) nor an existing config file.");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(source), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON ({e.Message}).");
        }
        return (System.IO.Path.GetFileNameWithoutExtension(source), TrainingConfig.FromJson(node, source));
    }
}
