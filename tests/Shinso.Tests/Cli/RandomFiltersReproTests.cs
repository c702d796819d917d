using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro random-filters --quick</c> as a user runs it: the report's shape, not Jarrett et al.'s numbers.</summary>
public sealed class RandomFiltersReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-random-filters-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_fills_the_table_of_random_learned_and_pretrained_filters()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "random-filters", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("random-filters", (string?)report["experiment"]);
        // One row per architecture: two stages with and without rectification, one stage with it.
        Assert.Equal(3, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        foreach (var architecture in new[] { "2stage_abs", "2stage_avg", "1stage_abs" })
            foreach (var filters in new[] { "random", "learned", "pretrained" })
                // One backprop epoch on 2,000 images: every cell above the 10 % of chance.
                Assert.InRange((double)figures[$"{architecture}_{filters}_accuracy"]!, 0.15, 1.0);
        Assert.Equal(2000, (int)figures["train_samples"]!);
        Assert.Equal(500, (int)figures["test_samples"]!);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
