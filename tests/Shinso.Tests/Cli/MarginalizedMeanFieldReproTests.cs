using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro marginalized-mean-field --quick</c> as a user runs it: the report's shape and the theorem's ordering of the bounds.</summary>
public sealed class MarginalizedMeanFieldReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-mmf-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_orders_the_bounds_on_every_machine_and_completes_with_three_methods()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "marginalized-mean-field", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("marginalized-mean-field", (string?)report["experiment"]);
        // Three couplings with two rows each, the trained machine's free energies, three completions.
        Assert.Equal(10, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        foreach (var coupling in new[] { "0_1", "0_3", "0_6" })
        {
            string key = $"coupling_{coupling}";
            int models = (int)figures[$"{key}_models"]!;
            Assert.Equal(20, models);
            // The theorem: the marginalized free energy is never above the naive one, and both bound the exact one.
            Assert.Equal(models, (int)figures[$"{key}_tighter"]!);
            Assert.True((double)figures[$"{key}_marginalized_kl"]! >= -1e-4);
            Assert.True((double)figures[$"{key}_naive_kl"]! >= (double)figures[$"{key}_marginalized_kl"]!);
            Assert.True((double)figures[$"{key}_marginalized_hidden_l1"]! < (double)figures[$"{key}_naive_hidden_l1"]!);
        }
        Assert.Equal((int)figures["trained_images"]!, (int)figures["trained_tighter"]!);
        foreach (var method in new[] { "gibbs", "mean_field", "marginalized_mean_field" })
            Assert.InRange((double)figures[$"completion_{method}_squared_error"]!, 0.0, 0.2);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
