using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro cdbn --quick</c> as a user runs it: the report's shape, not Lee et al.'s numbers.</summary>
public sealed class ConvolutionalDbnReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-cdbn-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_classifies_with_each_number_of_labelled_images()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "cdbn", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("cdbn", (string?)report["experiment"]);
        Assert.Single(report["rows"]!.AsArray());
        var figures = report["figures"]!.AsObject();
        foreach (int labelled in new[] { 200, 1000, 2000 })
        {
            // One CD epoch per layer on 2,000 images: both classifiers far above the 10 % of chance.
            Assert.InRange((double)figures[$"labels{labelled}_softmax_accuracy"]!, 0.3, 1.0);
            Assert.InRange((double)figures[$"labels{labelled}_finetuned_accuracy"]!, 0.3, 1.0);
        }
        Assert.Equal(2000, (int)figures["train_samples"]!);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
