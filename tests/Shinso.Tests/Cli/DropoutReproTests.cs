using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro dropout --quick</c> as a user runs it: the report's shape, not the paper's numbers.</summary>
public sealed class DropoutReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-dropout-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_the_net_without_dropout_with_dropout_and_with_max_norm()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "dropout", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("dropout", (string?)report["experiment"]);
        var rows = report["rows"]!.AsArray();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["1.60 % test error", "1.25 % test error", "1.06 % test error"], rows.Select(r => (string)r!["paper_figure"]!));
        var figures = report["figures"]!.AsObject();
        // Two epochs on the subset: every net far above the 10 % of chance (about 85 and 82 % here).
        foreach (var key in new[] { "plain", "dropout", "dropout_maxnorm" })
        {
            Assert.InRange((double)figures[$"{key}_test_accuracy"]!, 0.6, 1.0);
            Assert.True((double)figures[$"{key}_largest_incoming_norm"]! > 0);
        }
        // The constrained net's weights respect the bound (up to float rounding of the projection).
        Assert.True((double)figures["dropout_maxnorm_largest_incoming_norm"]! <= (double)figures["max_norm"]! * (1 + 1e-5));
        Assert.Equal(2, (int)figures["epochs"]!);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
