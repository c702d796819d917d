using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro dbm --quick</c> as a user runs it: the report's shape, not the paper's numbers.</summary>
public sealed class DbmReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-dbm-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_the_dbm_bound_beside_an_rbm_and_the_fine_tuned_accuracy()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "dbm", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("dbm", (string?)report["experiment"]);
        var rows = report["rows"]!.AsArray();
        Assert.Equal(["-84.62 nats", "-83.61 nats", "-86.34 nats", "0.95 % test error"], rows.Select(r => (string)r!["paper_figure"]!));
        var figures = report["figures"]!.AsObject();
        double bound = (double)figures["dbm_test_log_probability_bound"]!;
        Assert.True(double.IsFinite(bound) && bound < 0, $"bound {bound}");
        Assert.True(double.IsFinite((double)figures["dbm_log_z"]!));
        // Even a few epochs leave the DBM's bound well above the one-epoch RBM's estimate (about 58 nats here).
        Assert.True((bool)figures["dbm_bound_above_rbm"]!);
        Assert.InRange((double)figures["fine_tuned_test_accuracy"]!, 0.5, 1.0);
        Assert.Equal(2, (int)figures["joint_epochs"]!);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
        Assert.True(File.Exists(Path.Combine(_dir, "dbm", "model.shinso")) || File.Exists(Path.Combine(_dir, "dbm", "checkpoint.shinso")));
    }
}
