using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Tests.Cli;

namespace Shinso.Tests.Boltzmann;

/// <summary>The energy-based presets, eval and sample through the real shinso executable, and the PNG writer.</summary>
public sealed class BoltzmannCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-boltzmann-cli-{Guid.NewGuid():N}");

    public BoltzmannCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject LastJsonLine(string stdout) =>
        (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    /// <summary>Decodes an 8-bit greyscale PNG written by <see cref="PngImage"/> (every chunk's CRC checked, every row unfiltered) and returns its pixels.</summary>
    private static (int Width, int Height, byte[] Pixels) DecodeGreyscale(byte[] png)
    {
        var decoded = PngDecoder.Decode(png);
        Assert.Equal(0, decoded.ColourType);
        Assert.Equal([(byte)0], decoded.Filters);
        var pixels = new byte[decoded.Width * decoded.Height];
        for (int p = 0; p < pixels.Length; p++) pixels[p] = decoded.Rgb[3 * p];
        return (decoded.Width, decoded.Height, pixels);
    }

    [Fact]
    public void Png_chunks_carry_the_standard_crc_and_the_grid_holds_the_tiles()
    {
        // The CRC of the bytes "IEND" is the constant every PNG ends with.
        Assert.Equal(0xAE426082u, PngImage.Crc32(0xFFFFFFFFu, "IEND"u8) ^ 0xFFFFFFFFu);
        float[] tiles = [0f, 0.5f, 1f, 2f, /* second tile */ -1f, 1f, 3f, 3f];
        var (w, h, pixels) = DecodeGreyscale(PngImage.EncodeGrid(tiles, 2, 2, 2, columns: 2));
        Assert.Equal((7, 4), (w, h)); // 2 tiles of 2x2, one-pixel borders
        Assert.Equal(new byte[] { 128, 0, 128, 128, 0, 255, 128 }, pixels.AsSpan(w, w).ToArray()); // first rows of both tiles, clamped; 0.5 -> 128
        var (_, _, normalized) = DecodeGreyscale(PngImage.EncodeGrid(tiles, 2, 2, 2, columns: 2, normalizeEach: true));
        Assert.Equal(new byte[] { 128, 0, 64, 128, 0, 128, 128 }, normalized.AsSpan(w, w).ToArray()); // tile 1 spans 0..2, tile 2 -1..3
        Assert.Throws<ArgumentException>(() => PngImage.EncodeGrid(tiles, 3, 2, 2, columns: 2));
    }

    [Fact]
    public void Dbn_preset_trains_evaluates_and_draws_samples_and_filters()
    {
        string run = Path.Combine(_dir, "dbn");
        var (code, stdout, stderr) = CliTests.Shinso("train", "dbn-mnist", "--pretrain-epochs", "1", "--updown-epochs", "1", "--epochs", "1",
            "--validation", "0.1", "--data", TestData.EmbeddedSubset, "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        foreach (string key in new[] { "greedy_accuracy", "updown_accuracy", "accuracy", "greedy_validation_accuracy", "updown_validation_accuracy", "validation_accuracy" })
            Assert.InRange((double)result[key]!, 0.3, 1.0);
        // Every phase reports the 1,000 held-out rows of the subset's 10,000 training images, which none trains on.
        Assert.Contains("validation: 1,000 of the training images held out", stderr);
        Assert.Equal(9000, (int)result["train_samples"]!);
        Assert.Matches(@"greedy layer 0: epoch +1/1, reconstruction error \d+\.\d{3}, validation reconstruction error \d+\.\d{3}", stderr);
        foreach (string phase in new[] { "greedy top", "up-down", "backprop" })
            Assert.Matches(phase + @": epoch +1/1, .*, validation cross-entropy \d+\.\d{4}, accuracy", stderr);
        Assert.Contains("greedy: test accuracy", stderr);
        Assert.Contains("up-down: test accuracy", stderr);
        // The run's record: every greedy stage, up-down and backprop epoch by epoch, and the fine-tuned net's confusion
        // matrix over the 2,000 test images. A directed stage's held-out figure is its reconstruction error; the top
        // stage's and up-down's are the net's label accuracy, not a loss beside a reconstruction error.
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        var phases = record["phases"]!.AsArray();
        Assert.Equal(["greedy layer 0", "greedy layer 1", "greedy top", "up-down", "backprop"], phases.Select(p => (string)p!["name"]!));
        Assert.All(phases, p => Assert.Equal(1, (int)Assert.Single(p!["epochs"]!.AsArray())!["epoch"]!));
        Assert.NotNull(phases[0]!["epochs"]![0]!["validationLoss"]);
        foreach (int i in new[] { 2, 3 })
        {
            Assert.Null(phases[i]!["epochs"]![0]!["validationLoss"]);
            Assert.InRange((double)phases[i]!["epochs"]![0]!["validationAccuracy"]!, 0.3, 1.0);
        }
        Assert.Equal((double)result["greedy_accuracy"]!, (double)phases[2]!["figures"]!["test_accuracy"]!);
        Assert.Equal(2000, record["confusion"]!["counts"]!.AsArray().Sum(c => (int)c!));
        Assert.Contains("backprop: accuracy", File.ReadAllText(Path.Combine(run, "report.html")));

        (code, stdout, stderr) = CliTests.Shinso("eval", Path.Combine(run, "dbn.shinso"), "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal((double)result["updown_accuracy"]!, (double)LastJsonLine(stdout)["accuracy"]!, 9);
        (code, stdout, stderr) = CliTests.Shinso("eval", Path.Combine(run, "model.shinso"), "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal((double)result["accuracy"]!, (double)LastJsonLine(stdout)["accuracy"]!, 6);

        string samples = Path.Combine(_dir, "samples.png"), filters = Path.Combine(_dir, "filters.png");
        (code, stdout, stderr) = CliTests.Shinso("sample", Path.Combine(run, "dbn.shinso"), "--out", samples, "--filters", filters, "--count", "3", "--steps", "5",
            "--json");
        Assert.True(code == 0, stderr);
        var quality = LastJsonLine(stdout);
        // The run's fine-tuned net, found beside the DBN, reads the 30 samples.
        Assert.Equal(Path.Combine(run, "model.shinso"), (string)quality["classifier"]!);
        Assert.Equal(30, (int)quality["samples"]!);
        Assert.Equal(Math.Round((double)quality["blank_fraction"]! * 30), (double)quality["blank_fraction"]! * 30, 9);
        Assert.Equal(Math.Round((double)quality["label_agreement"]! * 30), (double)quality["label_agreement"]! * 30, 9);
        Assert.Contains("read as their label by", stderr);
        var (w, h, _) = DecodeGreyscale(File.ReadAllBytes(samples));
        Assert.Equal((3 * 29 + 1, 10 * 29 + 1), (w, h)); // one row of 3 images per label
        (w, h, _) = DecodeGreyscale(File.ReadAllBytes(filters));
        Assert.Equal((10 * 29 + 1, 10 * 29 + 1), (w, h)); // 100 of the 500 bottom filters

        (code, stdout, stderr) = CliTests.Shinso("complete", Path.Combine(run, "dbn.shinso"), "--data", TestData.EmbeddedSubset, "--images", "100",
            "--steps", "20", "--mask", "bottom", "--json");
        Assert.True(code == 0, stderr);
        var completion = LastJsonLine(stdout);
        var only = Assert.Single(completion["methods"]!.AsArray());
        Assert.Equal("gibbs", (string)only!["method"]!);
        Assert.True((double)only["squared_error"]! < (double)completion["mean_fill_squared_error"]!, completion.ToJsonString());
        (code, _, stderr) = CliTests.Shinso("complete", Path.Combine(run, "dbn.shinso"), "--data", TestData.EmbeddedSubset, "--method", "mean-field");
        Assert.Equal(2, code);
        Assert.Contains("methods that apply: gibbs", stderr);

        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--resume", run);
        Assert.Equal(2, code);
        Assert.Contains("--resume", stderr);
    }

    [Fact]
    public void Dbn_run_resumed_in_up_down_and_in_backprop_ends_with_the_parameters_of_an_uninterrupted_run()
    {
        string whole = Path.Combine(_dir, "whole"), split = Path.Combine(_dir, "split");
        string[] Args(string folderOption, string folder, int upDown, int backprop) =>
            ["train", "dbn-mnist", "--pretrain-epochs", "1", "--updown-epochs", upDown.ToString(), "--epochs", backprop.ToString(),
             "--data", TestData.EmbeddedSubset, "--threads", "1", folderOption, folder];
        var (code, _, stderr) = CliTests.Shinso(Args("--out", whole, 2, 2));
        Assert.True(code == 0, stderr);

        (code, _, stderr) = CliTests.Shinso(Args("--out", split, 1, 1));
        Assert.True(code == 0, stderr);
        // More up-down epochs change the DBN, so the one-epoch backprop checkpoint is left behind.
        (code, _, stderr) = CliTests.Shinso(Args("--resume", split, 2, 1));
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming up-down after epoch 1", stderr);
        Assert.DoesNotContain("resuming backprop", stderr);
        (code, _, stderr) = CliTests.Shinso(Args("--resume", split, 2, 2));
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming backprop after epoch 1", stderr);
        Assert.DoesNotContain("greedy layer", stderr);

        foreach (string file in new[] { "dbn.shinso", "model.shinso" })
        {
            var expected = ModelFile.Read(Path.Combine(whole, file));
            var actual = ModelFile.Read(Path.Combine(split, file));
            foreach (var tensor in expected.Tensors)
            {
                Assert.True(actual.TryGetTensor(tensor.Name, out var other), $"{file}: {tensor.Name} missing");
                Assert.True(tensor.Data.AsSpan().SequenceEqual(other.Data), $"{file}: {tensor.Name} differs");
            }
        }

        File.WriteAllText(Path.Combine(split, "dbn.shinso"), "not a model");
        (code, _, stderr) = CliTests.Shinso(Args("--resume", split, 2, 2));
        Assert.NotEqual(0, code);
        Assert.Contains("dbn.shinso", stderr);
    }

    [Fact]
    public void Rbm_preset_reports_an_ais_log_likelihood_that_eval_reproduces()
    {
        string run = Path.Combine(_dir, "rbm");
        var (code, stdout, stderr) = CliTests.Shinso("train", "rbm", "--epochs", "1", "--ais-runs", "4", "--data", TestData.EmbeddedSubset,
            "--out", run, "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        double logP = (double)result["test_log_probability"]!;
        // A 784-unit binary model: below 0 and well above the uniform model's -784 ln 2 = -543 nats.
        Assert.InRange(logP, -400, 0);
        // With 4 runs the lower 3-sigma bound of Z can fall below 0: its log is then written as null.
        double logZ = (double)result["log_z"]!;
        Assert.True(((double?)result["log_z_low"] ?? double.NegativeInfinity) <= logZ && logZ <= (double)result["log_z_high"]!);

        (code, stdout, stderr) = CliTests.Shinso("eval", Path.Combine(run, "model.shinso"), "--ais-runs", "4", "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(logP, (double)LastJsonLine(stdout)["test_log_probability"]!, 9);

        string samples = Path.Combine(_dir, "rbm.png");
        (code, _, stderr) = CliTests.Shinso("sample", Path.Combine(run, "model.shinso"), "--out", samples, "--count", "4", "--steps", "3",
            "--from", "data", "--data", TestData.EmbeddedSubset);
        Assert.True(code == 0, stderr);
        var (w, h, _) = DecodeGreyscale(File.ReadAllBytes(samples));
        Assert.Equal((2 * 29 + 1, 2 * 29 + 1), (w, h));

        // The run resumes from its checkpoint with a larger budget; a new seed is refused.
        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--resume", run, "--epochs", "2", "--ais-runs", "4", "--data", TestData.EmbeddedSubset);
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming after epoch 1; from epoch 2: epochs 1 -> 2", stderr);
        Assert.Contains("epoch   2/2", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--resume", run, "--seed", "5", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--seed: the run was started with seed 1", stderr);
    }

    [Fact]
    public void Rbm_validation_holds_out_rows_reports_their_error_every_epoch_and_a_resumed_run_holds_out_the_same()
    {
        string run = Path.Combine(_dir, "rbm-validated");
        var (code, _, stderr) = CliTests.Shinso("train", "rbm", "--epochs", "1", "--ais-runs", "2", "--validation", "0.2", "--data", TestData.EmbeddedSubset,
            "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        // The embedded subset's 10,000 training images, a fifth held out.
        Assert.Contains("validation: 2,000 of the training images held out", stderr);
        Assert.Matches(@"epoch +1/1: reconstruction error \d+\.\d{3}, validation \d+\.\d{3}", stderr);
        // The run's report: the reconstruction error by epoch with its validation series, the filters, the AIS figures.
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("CD: reconstruction error", html);
        Assert.Contains("data-series=\"validation\"", html);
        Assert.Contains("filters.png", html);
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("test_log_probability", html);
        Assert.DoesNotContain("id=\"confusion\"", html);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(("rbm", "restricted Boltzmann machine"), ((string?)record["kind"], (string?)record["family"]));
        Assert.Equal(500, (int)record["hyper_parameters"]!["hidden"]!);

        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--resume", run, "--epochs", "2", "--ais-runs", "2", "--data", TestData.EmbeddedSubset, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("validation: 2,000 of the training images held out", stderr);
        Assert.Matches(@"epoch +2/2: reconstruction error \d+\.\d{3}, validation \d+\.\d{3}", stderr);
        // The resumed run's record holds both epochs, the first from the checkpoint.
        record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal([1, 2], record["phases"]![0]!["epochs"]!.AsArray().Select(e => (int)e!["epoch"]!));

        // No epochs: the machine as initialised is saved and reported, with no history (and none taken from an earlier run).
        string untrained = Path.Combine(_dir, "rbm-untrained");
        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--epochs", "0", "--ais-runs", "2", "--data", TestData.EmbeddedSubset, "--out", untrained, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("warning", stderr);
        Assert.Empty(JsonNode.Parse(File.ReadAllText(Path.Combine(untrained, "run.json")))!["phases"]![0]!["epochs"]!.AsArray());
        Assert.True(File.Exists(Path.Combine(untrained, "report.html")));

        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--resume", run, "--epochs", "3", "--validation", "0.1", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--validation: a resumed run keeps the rows it held out", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "dbm-2layer", "--validation", "0.1", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--validation applies to feed-forward nets", stderr);
    }

    [Fact]
    public void Gaussian_rbm_preset_trains_and_completes_occluded_images_by_every_method()
    {
        string run = Path.Combine(_dir, "rbm-gaussian");
        var (code, stdout, stderr) = CliTests.Shinso("train", "rbm-gaussian", "--epochs", "2", "--ais-runs", "4", "--data", TestData.EmbeddedSubset,
            "--out", run, "--json");
        Assert.True(code == 0, stderr);
        var trained = LastJsonLine(stdout);
        Assert.Null(trained["test_pseudo_likelihood"]);
        Assert.Contains("pseudo-likelihood not defined for Gaussian visible units", stderr);
        string model = Path.Combine(run, "model.shinso");
        (code, stdout, stderr) = CliTests.Shinso("eval", model, "--ais-runs", "4", "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal((double)trained["test_log_probability"]!, (double)LastJsonLine(stdout)["test_log_probability"]!, 9);

        string picture = Path.Combine(_dir, "completions.png");
        (code, stdout, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--mask", "right", "--images", "200",
            "--show", "4", "--out", picture, "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(200 * 14 * 28, (long)result["hidden_pixels"]!);
        double meanFill = (double)result["mean_fill_squared_error"]!;
        var methods = result["methods"]!.AsArray();
        Assert.Equal(["gibbs", "mean-field", "marginalized-mean-field"], methods.Select(m => (string)m!["method"]!));
        foreach (var m in methods.Skip(1))
        {
            // Convergence is reported, not promised: the tolerance (1e-6 on every unit of every row) may need more than the cap.
            Assert.InRange((int)m!["iterations"]!, 1, 50);
            Assert.Equal((int)m["iterations"]! < 50, (bool)m["converged"]!);
        }
        foreach (var m in methods)
            Assert.True((double)m!["squared_error"]! < 0.8 * meanFill, $"{m["method"]}: squared error {m["squared_error"]} is not well below the training-mean fill's {meanFill}");
        var (w, h, _) = DecodeGreyscale(File.ReadAllBytes(picture));
        Assert.Equal((4 * 29 + 1, 5 * 29 + 1), (w, h)); // originals, occluded, three methods

        (code, _, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--mask", "middle");
        Assert.Equal(2, code);
        Assert.Contains("--mask: 'middle' is not an occlusion; expected left, right, top, bottom or random:F", stderr);
    }

    [Fact]
    public void Completion_of_a_bernoulli_rbm_refuses_the_marginalized_method_and_names_those_that_apply()
    {
        string run = Path.Combine(_dir, "rbm");
        var (code, _, stderr) = CliTests.Shinso("train", "rbm", "--epochs", "1", "--ais-runs", "2", "--data", TestData.EmbeddedSubset, "--out", run);
        Assert.True(code == 0, stderr);
        string model = Path.Combine(run, "model.shinso");
        (code, _, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--method", "marginalized-mean-field");
        Assert.Equal(2, code);
        Assert.Contains("does not apply to", stderr);
        Assert.Contains("methods that apply: gibbs, mean-field", stderr);
        (code, var stdout, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--method", "gibbs,mean-field",
            "--mask", "random:0.3", "--images", "100", "--steps", "20", "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal("random:0.3", (string)result["mask"]!);
        Assert.InRange((long)result["hidden_pixels"]!, (long)(0.27 * 100 * 784), (long)(0.33 * 100 * 784));
        Assert.All(result["methods"]!.AsArray(), m => Assert.Equal(20, (int)m!["steps"]!));
    }
}
