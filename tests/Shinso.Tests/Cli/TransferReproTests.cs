using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro transfer --quick</c>, with and without the distant source task, as a user runs it.</summary>
public sealed class TransferReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-transfer-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The embedded subset stands in for a digits folder: the distant variant only needs a second labelled image set of the same shape.</summary>
    [Fact]
    public void The_quick_protocol_reports_every_condition_and_n_and_the_distant_task_when_given_one()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "transfer", "--quick", "--out", _dir, "--threads", "1", "--json",
            "--source-data", TestData.EmbeddedSubset);
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        var rows = report["rows"]!.AsArray();
        Assert.Equal(4, rows.Count);
        Assert.Contains("A'nB n=1:", (string?)rows[3]!["ours"]);
        var figures = report["figures"]!.AsObject();
        foreach (string condition in new[] { "bnb", "bnb_plus", "anb", "anb_plus", "distant_anb", "distant_anb_plus" })
            for (int n = 1; n <= 4; n++)
            {
                var seeds = figures[$"{condition}_n{n}_accuracy"]!.AsArray();
                Assert.Single(seeds);
                // Five classes: every net, frozen or not, does far better than chance on B after three epochs.
                Assert.InRange((double)seeds[0]!, 0.4, 1.0);
            }
        Assert.True(File.Exists(Path.Combine(_dir, "transfer.png")));
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));

        (code, _, stderr) = CliTests.Shinso("repro", "transfer", "--quick", "--out", _dir, "--source-data", Path.Combine(_dir, "missing"));
        Assert.NotEqual(0, code);
        Assert.Contains("missing", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
