using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro noise-robustness --quick</c> as a user runs it: the report's shape and the one-pass test's agreement at small noise.</summary>
public sealed class NoiseRobustnessReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-noise-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_compares_one_pass_and_monte_carlo_rates_for_an_mlp_and_a_cnn()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "noise-robustness", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("noise-robustness", (string?)report["experiment"]);
        // Two nets, each with two noise levels and a seconds row.
        Assert.Equal(6, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        Assert.Equal(100, (int)figures["mc_copies"]!);
        foreach (var net in new[] { "mlp_dropout", "lenet5" })
        {
            Assert.InRange((double)figures[$"{net}_clean_accuracy"]!, 0.5, 1.0);
            foreach (var sigma in new[] { "0_05", "0_2" })
            {
                string level = $"{net}_sigma_{sigma}";
                double rate = (double)figures[$"{level}_mc_rate"]!;
                Assert.InRange(rate, (double)figures[$"{level}_mc_lower"]!, (double)figures[$"{level}_mc_upper"]!);
                Assert.InRange((double)figures[$"{level}_one_pass_rate"]!, 0.0, 1.0);
            }
            // At small noise the first-order estimate and the counted rate agree closely (about 0.3 points apart here).
            Assert.True(Math.Abs((double)figures[$"{net}_sigma_0_05_one_pass_rate"]! - (double)figures[$"{net}_sigma_0_05_mc_rate"]!) < 0.02,
                $"{net}: one-pass and Monte Carlo rates disagree at sigma 0.05");
            Assert.True((double)figures[$"{net}_sigma_0_05_inside_interval"]! > 0.8);
        }
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
