using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro rbm-ais --quick</c> as a user runs it: the report's shape, and AIS within its interval of the exact log Z.</summary>
public sealed class RbmAisReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-rbm-ais-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_three_training_rules_and_ais_against_the_exact_partition_function()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "rbm-ais", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("rbm-ais", (string?)report["experiment"]);
        Assert.Equal(4, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        // Binarised 784-pixel images: an average log-probability is negative and above the uniform model's 784 log 2 = -543.4 nats.
        foreach (var rule in new[] { "cd1", "cd3", "pcd" })
            Assert.InRange((double)figures[$"{rule}_test_log_probability"]!, -543.4, 0);
        Assert.Equal(15, (int)figures["small_hidden"]!);
        double exact = (double)figures["small_exact_log_z"]!, ais = (double)figures["small_ais_log_z"]!;
        // Ten AIS runs on the enumerable RBM land within a few tenths of a nat of the sum over its 2^15 hidden states.
        Assert.True(Math.Abs(ais - exact) < 0.5, $"AIS {ais} against exact {exact}");
        Assert.True(File.Exists(Path.Combine(_dir, "cd3", "model.shinso")));
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
