using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Random;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso demo</c>: the main job, the deep belief net end to end on the embedded data.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var pretrain = new Option<int>("--pretrain-epochs") { Description = "Greedy CD epochs per layer", DefaultValueFactory = _ => 30 };
        var upDown = new Option<int>("--updown-epochs") { Description = "Up-down fine-tuning epochs", DefaultValueFactory = _ => 30 };
        var epochs = new Option<int>("--epochs") { Description = "Backprop fine-tuning epochs", DefaultValueFactory = _ => 50 };
        // 1000 is the paper's figure (Hinton, Osindero & Teh 2006, Fig. 8). At 500 many clamped chains are still on their way
        // from the biases' start to their label's images: the fine-tuned net read 66 % of the demo's samples as their label,
        // against 75 % at 1000. Far longer chains drift into blank images (15 % at 10,000 steps).
        var steps = new Option<int>("--steps") { Description = "Top-level Gibbs steps per generated image", DefaultValueFactory = _ => 1000 };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var output = new Option<string>("--out") { Description = "Run folder", DefaultValueFactory = _ => System.IO.Path.Combine("runs", "demo") };
        var command = new Command("demo",
            "Train Hinton et al.'s deep belief net on the embedded Fashion-MNIST subset: greedy pretraining, up-down and backprop fine-tuning, test accuracy, generated images");
        foreach (var o in new Option[] { pretrain, upDown, epochs, steps, threads, json, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            int p = r.GetValue(pretrain), u = r.GetValue(upDown), e = r.GetValue(epochs), k = r.GetValue(steps);
            if (p < 1 || u < 0 || e < 0 || k < 0) throw new UsageException("--pretrain-epochs must be >= 1; --updown-epochs, --epochs and --steps >= 0.");
            var err = CommonOptions.Err;
            err.MarkupLine("[bold]Shinso demo[/]: the deep belief net of Hinton, Osindero & Teh (2006), 784-500-500-2000 with 10 label units,");
            err.MarkupLine("pretrained greedily by CD-1, fine-tuned by the up-down algorithm and then by backprop, on 10,000 Fashion-MNIST");
            err.MarkupLine("images and tested on 2,000 held-out ones; then it dreams ten images of each class.");
            var clock = Stopwatch.StartNew();
            var preset = BoltzmannPresets.FindDbn("dbn-mnist")!;
            preset = preset with
            {
                Greedy = preset.Greedy with { LayerEpochs = p, TopEpochs = p },
                UpDownEpochs = u,
                Backprop = preset.Backprop with { Training = preset.Backprop.Training with { Epochs = e } },
            };
            string outDir = r.GetValue(output)!;
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), "auto");
            var (train, test) = FashionMnist.Load(FashionMnist.EmbeddedSubsetDirectory);
            var data = new LoadedData(train, test, DataFormat.Idx, "the embedded Fashion-MNIST subset (10,000 train / 2,000 test)");
            var summary = BoltzmannRuns.TrainDbn("dbn-mnist", preset, backend, data, outDir);
            var dbn = DbnModelFile.Load(summary["dbn_path"]!.GetValue<string>(), backend);
            string samplesPath = Path.Combine(outDir, "samples.png");
            var images = SampleCommand.GenerateDbn(dbn, 10, k, RandomStream.Root(1).Derive("dbn-samples"));
            PngImage.WriteGrid(samplesPath, images, 10 * dbn.LabelCount, FashionMnist.ImageRows, FashionMnist.ImageColumns, 10);
            summary["samples_path"] = samplesPath;
            // With --epochs 0 there is no fine-tuned net to read the samples; only the blank share is measured.
            var classifier = summary["model_path"]?.GetValue<string>() is { } classifierPath
                ? Shinso.Models.FeedForward.FeedForwardModelFile.Load(classifierPath, backend)
                : null;
            var quality = SampleCommand.MeasureLabelledSamples(images, 10, dbn.LabelCount, classifier, "the fine-tuned net");
            summary["samples_blank_fraction"] = quality.BlankFraction;
            summary["samples_label_agreement"] = quality.LabelAgreement;
            summary["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
            // After the samples, so that the report shows them beside the curves.
            Reports.RunReport.WriteAfterTraining(outDir);
            Console.WriteLine($"demo: DBN 784-500-500-2000+10 on {summary["train_samples"]} images: test accuracy greedy {Pct(summary, "greedy_accuracy")}, " +
                              $"up-down {Pct(summary, "updown_accuracy")}, backprop {Pct(summary, "accuracy")} on {summary["test_samples"]} images; " +
                              $"{clock.Elapsed.TotalSeconds:F0} s; samples {samplesPath} ({quality.BlankFraction:P0} blank" +
                              (quality.LabelAgreement is { } agreement ? $", {agreement:P0} read as their label)" : ")"));
            if (r.GetValue(json)) Console.WriteLine(summary.ToJsonString());
            return 0;
        });
        return command;
    }

    private static string Pct(JsonObject summary, string key) => summary[key]!.GetValue<double>().ToString("P2", System.Globalization.CultureInfo.InvariantCulture);
}
