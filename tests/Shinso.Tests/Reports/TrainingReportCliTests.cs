using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Shinso.Tests.Cli;

namespace Shinso.Tests.Reports;

/// <summary><c>shinso train</c> writes run.json, report.html and curves.png beside the model; <c>shinso report</c> writes them again.</summary>
public sealed class TrainingReportCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-train-report-{Guid.NewGuid():N}");

    public TrainingReportCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_feed_forward_run_reports_its_epochs_and_its_confusion_matrix_and_a_resumed_run_reports_every_epoch()
    {
        string run = Path.Combine(_dir, "logistic");
        var (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--validation", "0.2", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(run, "model.shinso")));
        string report = Path.Combine(run, "report.html");
        Assert.Contains($"wrote {report}", stderr);
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(("logistic", "feedforward"), ((string?)record["name"], (string?)record["kind"]));
        Assert.Equal(0.2, (double)record["hyper_parameters"]!["training"]!["validation"]!);
        // The confusion matrix counts every test sample (the embedded subset's 2,000), and its diagonal is the test accuracy.
        var counts = record["confusion"]!["counts"]!.AsArray().Select(c => (int)c!).ToArray();
        Assert.Equal(100, counts.Length);
        Assert.Equal(2000, counts.Sum());
        double accuracy = (double)JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!["accuracy"]!;
        Assert.Equal(accuracy, Enumerable.Range(0, 10).Sum(i => counts[i * 10 + i]) / 2000.0, 6);
        string html = File.ReadAllText(report);
        Assert.Contains("T-shirt/top", html);
        Assert.Contains("data-series=\"validation\"", html);

        // A resumed run's record holds the epochs before it too.
        (code, _, stderr) = CliTests.Shinso("train", "logistic", "--resume", run, "--epochs", "2", "--data", TestData.EmbeddedSubset, "--threads", "1");
        Assert.True(code == 0, stderr);
        var epochs = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["phases"]![0]!["epochs"]!.AsArray();
        Assert.Equal([1, 2], epochs.Select(e => (int)e!["epoch"]!));

        // The report is written again from the folder alone.
        File.Delete(report);
        File.Delete(Path.Combine(run, "curves.png"));
        (code, _, stderr) = CliTests.Shinso("report", run);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(report) && File.Exists(Path.Combine(run, "curves.png")));
        Assert.Equal(4, Regex.Count(File.ReadAllText(report), "<polyline class=\"series\""));
    }
}
