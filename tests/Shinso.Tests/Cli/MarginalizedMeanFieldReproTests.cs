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
            // At equal hidden means the marginalized free energy is the lower one (a theorem); the methods' fixed points come from
            // different updates, so the order at them is counted: every machine here, and at least nine in ten are required.
            Assert.True((int)figures[$"{key}_tighter"]! >= models * 9 / 10, $"{key}: marginalized at or below naive on {figures[$"{key}_tighter"]}/{models}");
            Assert.True((double)figures[$"{key}_marginalized_kl"]! >= -1e-4);
            Assert.True((double)figures[$"{key}_naive_kl"]! >= (double)figures[$"{key}_marginalized_kl"]!);
            Assert.True((double)figures[$"{key}_marginalized_hidden_l1"]! < (double)figures[$"{key}_naive_hidden_l1"]!);
        }
        Assert.True((int)figures["trained_tighter"]! >= (int)figures["trained_images"]! * 9 / 10);
        Assert.True((double)figures["trained_marginalized_free_energy"]! < (double)figures["trained_naive_free_energy"]!);
        foreach (var method in new[] { "gibbs", "mean_field", "marginalized_mean_field" })
            Assert.InRange((double)figures[$"completion_{method}_squared_error"]!, 0.0, 0.2);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
