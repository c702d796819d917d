using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary>
/// <c>shinso demo</c> (the README's first command) at one epoch per phase, and <c>shinso bench rbm</c>, run as a user runs
/// them: what they print, the files they leave, and the errors for bad settings.
/// </summary>
public sealed class DemoCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-demo-{Guid.NewGuid():N}");

    public DemoCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_demo_trains_the_deep_belief_net_reports_three_accuracies_and_writes_models_and_a_sample_grid()
    {
        string run = Path.Combine(_dir, "demo");
        var (code, stdout, stderr) = CliTests.Shinso("demo", "--pretrain-epochs", "1", "--updown-epochs", "1", "--epochs", "1", "--steps", "5",
            "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("demo: DBN 784-500-500-2000+10 on 10000 images: test accuracy greedy ", lines[^2]);
        var summary = (JsonObject)JsonNode.Parse(lines[^1])!;
        Assert.Equal("dbn-mnist", (string?)summary["model"]);
        Assert.Equal(10000, (int)summary["train_samples"]!);
        Assert.Equal(2000, (int)summary["test_samples"]!);
        foreach (var key in new[] { "layer_epochs", "top_epochs", "updown_epochs", "backprop_epochs" }) Assert.Equal(1, (int)summary[key]!);
        // One epoch of each phase is far above the 10 % of chance on ten classes (about 63 %, 64 % and 68 % here).
        foreach (var key in new[] { "greedy_accuracy", "updown_accuracy", "accuracy" })
            Assert.InRange((double)summary[key]!, 0.45, 1.0);
        Assert.Contains($"backprop {(double)summary["accuracy"]!:P2}", lines[^2]);

        // The files it names exist; the grid holds ten images per class, 28x28 with a one-pixel border.
        Assert.Equal(Path.Combine(run, "samples.png"), (string?)summary["samples_path"]);
        var png = File.ReadAllBytes(Path.Combine(run, "samples.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(10 * 29 + 1, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(10 * 29 + 1, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(File.Exists((string)summary["dbn_path"]!));
        // The run's report shows the generated samples beside the curves.
        string report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("samples.png", report);
        Assert.Contains("data:image/png;base64,", report);

        // The fine-tuned classifier is an ordinary model file: eval reads it back to the accuracy the demo printed.
        (code, stdout, stderr) = CliTests.Shinso("eval", (string)summary["model_path"]!, "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        var eval = (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        Assert.Equal((double)summary["accuracy"]!, (double)eval["accuracy"]!, 6);
    }

    [Theory]
    [InlineData("--pretrain-epochs", "0")]
    [InlineData("--updown-epochs", "-1")]
    [InlineData("--steps", "-3")]
    public void Bad_demo_settings_are_a_usage_error_naming_the_options(string option, string value)
    {
        var (code, _, stderr) = CliTests.Shinso("demo", option, value, "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
    }

    [Fact]
    public void Bench_rbm_times_cd1_epochs_and_refuses_a_visible_layer_that_does_not_fit_the_images()
    {
        JsonObject Bench(int repeat)
        {
            var (code, stdout, stderr) = CliTests.Shinso("bench", "rbm", "--hidden", "16", "--limit", "1000", "--repeat", $"{repeat}", "--threads", "1",
                "--data", TestData.EmbeddedSubset, "--json");
            Assert.True(code == 0, stderr);
            return (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        }
        var result = Bench(2);
        Assert.Equal("rbm", (string?)result["benchmark"]);
        Assert.Equal(16, (int)result["hidden"]!);
        Assert.Equal(1000, (int)result["images"]!);
        Assert.Equal(2, (int)result["epochs_timed"]!);
        double best = (double)result["seconds_per_epoch_best"]!, median = (double)result["seconds_per_epoch_median"]!;
        Assert.True(best > 0 && best <= median, $"best {best}, median {median}");
        // The epochs it times really train: nine epochs (a warm-up and eight timed) reconstruct clearly better than three.
        Assert.True((double)Bench(8)["reconstruction_error"]! < 0.9 * (double)result["reconstruction_error"]!);

        int code;
        string stderr;
        (code, _, stderr) = CliTests.Shinso("bench", "rbm", "--visible", "100", "--limit", "10", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--visible 100 does not match the data's 784 features", stderr);
        (code, _, stderr) = CliTests.Shinso("bench", "rbm", "--hidden", "0", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--hidden must be >= 1, got 0", stderr);
    }
}
