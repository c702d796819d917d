using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>--profile</c> and <c>--trace</c> as a user types them, on train, eval and bench.</summary>
public sealed class ProfileCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-profile-{Guid.NewGuid():N}");

    public ProfileCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Train_eval_and_bench_print_the_tables_on_stderr_write_the_trace_and_keep_the_json_line()
    {
        string run = Path.Combine(_dir, "logistic"), trace = Path.Combine(_dir, "train.trace.json");
        var (code, stdout, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run,
            "--threads", "1", "--json", "--profile", "--trace", trace);
        Assert.True(code == 0, stderr);
        Assert.NotNull(JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!["accuracy"]);
        Assert.DoesNotContain("time per kernel", stdout);
        // One epoch of 10,000 rows in batches of 100.
        Assert.Contains("100 training steps took", stderr);
        Assert.Contains("time per layer", stderr);
        Assert.Contains("0 dense 10", stderr);
        Assert.Contains("time per kernel", stderr);
        Assert.Contains("Gemm", stderr);
        var events = JsonNode.Parse(File.ReadAllText(trace))!["traceEvents"]!.AsArray();
        Assert.Equal(100, events.Count(e => (string?)e!["cat"] == "step"));
        Assert.Contains(events, e => (string?)e!["cat"] == "kernel" && (string?)e["name"] == "Gemm");

        (code, _, stderr) = CliTests.Shinso("eval", Path.Combine(run, "model.shinso"), "--data", TestData.EmbeddedSubset, "--profile");
        Assert.True(code == 0, stderr);
        Assert.Contains("time per layer", stderr);
        Assert.DoesNotContain("training steps", stderr);

        (code, stdout, stderr) = CliTests.Shinso("bench", "train", "--model", "logistic", "--threads", "1", "--repeat", "1", "--min-time", "0.05", "--profile");
        Assert.True(code == 0, stderr);
        Assert.Contains("training steps took", stderr);
        Assert.Contains("time per kernel", stderr);

        // On OpenCL the kernels are the device's launches, timed by its events up to the last one before the backend closed.
        (code, _, stderr) = CliTests.Shinso("bench", "train", "--model", "logistic", "--backend", "opencl", "--repeat", "1", "--min-time", "0.05", "--profile");
        Assert.True(code == 0, stderr);
        Assert.Contains("time per kernel (device, from OpenCL profiling events)", stderr);
        Assert.Contains("sgemm", stderr);
        Assert.Contains("0 dense 10", stderr);

        // A benchmark that calls its kernel directly says that nothing went through the seam, rather than print empty tables.
        (code, _, stderr) = CliTests.Shinso("bench", "gemm", "--m", "64", "--n", "64", "--k", "64", "--threads", "1", "--profile");
        Assert.True(code == 0, stderr);
        Assert.Contains("no training step, layer or backend operation ran", stderr);

        // Without the flags nothing is printed or written.
        (code, _, stderr) = CliTests.Shinso("eval", Path.Combine(run, "model.shinso"), "--data", TestData.EmbeddedSubset);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("time per", stderr);
    }
}
