using Spectre.Console;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso train PRESET|CONFIG.json</c>: trains a feed-forward net on Fashion-MNIST.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("preset-or-config") { Description = $"A preset ({string.Join(", ", Presets.Names)}) or a config JSON file" };
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

        var command = new Command("train", "Train a feed-forward net (a preset or a JSON config) on Fashion-MNIST");
        command.Arguments.Add(what);
        foreach (var o in new Option[] { data, epochs, batch, optimizer, lr, seed, threads, path, output, resume, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string source = r.GetValue(what)!;
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

    /// <summary>A preset by name, or a config file (its name without extension names the run).</summary>
    public static (string Name, TrainingConfig Config) LoadConfig(string source)
    {
        if (Presets.Find(source) is { } preset) return (source, preset);
        if (!File.Exists(source))
            throw new UsageException($"'{source}' is neither a preset ({string.Join(", ", Presets.Names)}) nor an existing config file.");
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
