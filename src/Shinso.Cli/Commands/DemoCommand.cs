using Spectre.Console;
using System.CommandLine;
using Shinso.Data;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso demo</c>: the main job, end to end on the embedded data.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train", DefaultValueFactory = _ => 15 };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var output = new Option<string>("--out") { Description = "Run folder", DefaultValueFactory = _ => System.IO.Path.Combine("runs", "demo") };
        var command = new Command("demo", "Train the mlp-dropout preset on the embedded Fashion-MNIST subset and report its test accuracy");
        foreach (var o in new Option[] { epochs, threads, json, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var err = CommonOptions.Err;
            err.MarkupLine("[bold]Shinso demo[/]: a 784-800-800-10 ReLU net with dropout and max-norm (Srivastava et al. 2014),");
            err.MarkupLine("trained by Adam on 10,000 Fashion-MNIST images and tested on 2,000 held-out ones.");
            var config = Presets.Find("mlp-dropout")!;
            config = config with { Training = config.Training with { Epochs = r.GetValue(epochs) } };
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), "auto");
            var summary = TrainingRun.Execute("mlp-dropout", config, backend, FashionMnist.EmbeddedSubsetDirectory,
                "the embedded Fashion-MNIST subset (10,000 train / 2,000 test)", r.GetValue(output)!, resume: false);
            Console.WriteLine($"demo: mlp-dropout, {summary.Epochs} epochs on {summary.TrainSamples} images: " +
                              $"test accuracy {summary.TestAccuracy:P2} on {summary.TestSamples} images, {summary.Seconds:F1} s, model {summary.ModelPath}");
            if (r.GetValue(json)) Console.WriteLine(summary.ToJson().ToJsonString());
            return 0;
        });
        return command;
    }
}
