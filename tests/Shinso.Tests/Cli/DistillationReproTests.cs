using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro distillation --quick</c> as a user runs it: the report's shape, not its numbers.</summary>
public sealed class DistillationReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-distillation-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_reports_the_teacher_three_students_and_their_sizes()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "distillation", "--quick", "--out", _dir, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(3, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        // fashion-cnn: conv 1x5x5x32 + 32, conv 32x5x5x64 + 64, dense 3136x1024 + 1024, dense 1024x10 + 10; the student 784x256 + 256, 256x10 + 10.
        Assert.Equal(3_274_634, (int)figures["teacher_parameters"]!);
        Assert.Equal(203_530, (int)figures["student_parameters"]!);
        foreach (string recipe in new[] { "labels", "logits", "soft4" })
        {
            Assert.InRange((double)figures[$"{recipe}_validation_accuracy"]!, 0.3, 1.0);
            Assert.InRange((double)figures[$"{recipe}_test_accuracy"]!, 0.3, 1.0);
        }
        Assert.Contains((string?)figures["chosen"], new[] { "labels", "logits", "soft:4, label weight 0.1" });
        Assert.True((double)figures["teacher_ms_per_100"]! > (double)figures["student_ms_per_100"]!);
        Assert.True(File.Exists(Path.Combine(_dir, "report.md")));
    }
}
