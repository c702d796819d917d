using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro kfac-autoencoder --quick</c> as a user runs it: the report's shape and plots, not the paper's numbers.</summary>
public sealed class KfacAutoencoderReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-kfac-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_each_optimizers_curve_and_when_it_reached_the_target()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "kfac-autoencoder", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("kfac-autoencoder", (string?)report["experiment"]);
        Assert.Single(report["rows"]!.AsArray());
        var figures = report["figures"]!.AsObject();
        var optimizers = new[] { "kfac", "momentum", "adam" };
        var finals = optimizers.ToDictionary(o => o, o => (double)figures[$"{o}_final_error"]!);
        Assert.All(finals.Values, e => Assert.True(double.IsFinite(e) && e > 0, $"final error {e}"));
        // The target is the runner-up's final error, so the best run reached it and the worst did not beat it.
        double target = (double)figures["target_error"]!;
        Assert.Equal(finals.Values.OrderBy(e => e).ElementAt(1), target, 9);
        string best = finals.MinBy(kv => kv.Value).Key;
        Assert.NotNull(figures[$"{best}_updates_to_target"]);
        Assert.All(optimizers, o => Assert.True((double)figures[$"{o}_learning_rate"]! > 0));
        Assert.Equal(3000, (int)figures["train_samples"]!);
        var images = report["images"]!.AsArray();
        Assert.Equal(2, images.Count);
        foreach (var image in images) Assert.True(File.Exists(Path.Combine(_dir, (string)image!["file"]!)), (string?)image!["file"]);
    }
}
