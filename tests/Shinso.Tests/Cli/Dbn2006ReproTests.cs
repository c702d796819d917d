using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro dbn-2006 --quick</c> as a user runs it: the report's shape and its sample grid, not the paper's numbers.</summary>
public sealed class Dbn2006ReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-dbn2006-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_three_classifiers_and_a_grid_of_label_clamped_samples()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "dbn-2006", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("dbn-2006", (string?)report["experiment"]);
        var rows = report["rows"]!.AsArray();
        Assert.Equal(4, rows.Count);
        Assert.Equal("1.25 % test error", (string?)rows[1]!["paper_figure"]);
        var figures = report["figures"]!.AsObject();
        // One epoch of each phase on the subset: far above the 10 % of chance (about 63, 64 and 68 % here).
        foreach (var key in new[] { "greedy_accuracy", "updown_accuracy", "backprop_accuracy" })
            Assert.InRange((double)figures[key]!, 0.45, 1.0);
        Assert.Equal(100, (int)figures["samples"]!);
        Assert.NotNull(figures["samples_label_agreement"]);
        Assert.Equal(10000, (int)figures["train_samples"]!);
        // The grid the report shows: ten 28x28 images per class with one-pixel borders, and the run's models beside it.
        var png = File.ReadAllBytes(Path.Combine(_dir, "samples.png"));
        Assert.Equal(10 * 29 + 1, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Contains("](samples.png)", File.ReadAllText(Path.Combine(_dir, "report.md")));
        Assert.True(File.Exists(Path.Combine(_dir, "dbn", "dbn.shinso")));
        Assert.True(File.Exists(Path.Combine(_dir, "dbn", "model.shinso")));
        // The experiment's DBN run has its own report beside its models; the experiment's report.html stays the experiment's.
        Assert.Contains("greedy layer 0: reconstruction error", File.ReadAllText(Path.Combine(_dir, "dbn", "report.html")));
        Assert.DoesNotContain("greedy layer 0: reconstruction error", File.ReadAllText(Path.Combine(_dir, "report.html")));
    }
}
