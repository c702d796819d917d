using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary>Runs the real shinso executable (built next to the tests) the way a user does.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-cli-{Guid.NewGuid():N}");

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int ExitCode, string Stdout, string Stderr) Shinso(params string[] args) => ShinsoWith([], args);

    /// <summary>Runs shinso with extra environment variables (a null value removes the variable).</summary>
    internal static (int ExitCode, string Stdout, string Stderr) ShinsoWith(Dictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Shinso.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    private static JsonObject LastJsonLine(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (JsonObject)JsonNode.Parse(lines[^1])!;
    }

    [Fact]
    public void Train_writes_a_model_that_eval_reads_and_resume_continues_the_run()
    {
        string run = Path.Combine(_dir, "linreg");
        var (code, stdout, stderr) = Shinso("train", "linreg", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal("linreg", (string?)result["model"]);
        Assert.Equal(1, (int)result["epochs"]!);
        double accuracy = (double)result["accuracy"]!;
        Assert.InRange(accuracy, 0.5, 1.0);
        Assert.True(File.Exists(Path.Combine(run, "model.shinso")));
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.shinso")));

        (code, stdout, stderr) = Shinso("eval", Path.Combine(run, "model.shinso"), "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(accuracy, (double)LastJsonLine(stdout)["accuracy"]!, 6);

        (code, stdout, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", TestData.EmbeddedSubset, "--resume", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming", stderr);
        Assert.Equal(2, (int)LastJsonLine(stdout)["epochs"]!);
    }

    [Fact]
    public void A_config_with_an_unknown_key_is_an_error_naming_the_file_and_the_key()
    {
        string config = Path.Combine(_dir, "bad.json");
        File.WriteAllText(config, """{ "architecture": { "input": [784], "layers": [ { "type": "dense", "units": 10, "activation": "relu" } ] } }""");
        var (code, _, stderr) = Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "bad"));
        Assert.NotEqual(0, code);
        Assert.Contains("bad.json", stderr);
        Assert.Contains("architecture.layers[0].activation", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_corrupt_model_file_is_a_clear_error()
    {
        string model = Path.Combine(_dir, "corrupt.shinso");
        File.WriteAllText(model, "not a model");
        var (code, _, stderr) = Shinso("eval", model, "--data", TestData.EmbeddedSubset);
        Assert.NotEqual(0, code);
        Assert.Contains("corrupt.shinso", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Bench_gemm_prints_one_json_line()
    {
        var (code, stdout, stderr) = Shinso("bench", "gemm", "--m", "64", "--n", "48", "--k", "32", "--threads", "1", "--repeat", "2", "--min-time", "0.01", "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal("gemm", (string?)result["benchmark"]);
        Assert.True((double)result["gflops_best"]! > 0);
    }

    [Fact]
    public void Bench_train_reports_the_gemm_bound_of_the_step_it_timed()
    {
        var (code, stdout, stderr) = Shinso("bench", "train", "--model", "logistic", "--threads", "1", "--repeat", "1", "--min-time", "0.01", "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        // 784 -> 10: the forward product and the weight gradient; the input's gradient is never formed.
        Assert.Equal(2, (int)result["gemm_calls_per_step"]!);
        Assert.True((double)result["gemm_bound_samples_per_second_best"]! > 0);
        Assert.True((double)result["gemm_bound_samples_per_second_median"]! > 0);
        Assert.True((double)result["gemm_bound_fraction_best"]! > 0);
        (code, stdout, stderr) = Shinso("bench", "train", "--model", "logistic", "--threads", "1", "--repeat", "1", "--min-time", "0.01");
        Assert.True(code == 0, stderr);
        Assert.Contains("GEMM bound (2 GEMM calls per step", stdout);
    }

    [Fact]
    public void Bench_train_times_conv_rbm_epochs_on_the_training_images_and_refuses_options_that_do_not_apply()
    {
        var (code, stdout, stderr) = Shinso("bench", "train", "--model", "conv-rbm", "--data", TestData.EmbeddedSubset, "--limit", "120", "--repeat", "1", "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal("conv-rbm", (string?)result["model"]);
        Assert.Equal(50, (int)result["batch"]!);
        Assert.Equal(100, (int)result["images"]!);   // two whole batches of 50; the partial one is dropped
        Assert.True((double)result["seconds_per_epoch_best"]! > 0);
        (code, _, stderr) = Shinso("bench", "train", "--model", "conv-rbm", "--data", TestData.EmbeddedSubset, "--optimizer", "adam");
        Assert.NotEqual(0, code);
        Assert.Contains("--optimizer", stderr);
        (code, _, stderr) = Shinso("bench", "train", "--model", "linreg", "--limit", "10");
        Assert.NotEqual(0, code);
        Assert.Contains("--data and --limit apply to conv-rbm", stderr);
    }

    [Fact]
    public void Bench_infer_times_a_preset_or_a_saved_model_and_names_a_file_that_is_not_one()
    {
        var (code, stdout, stderr) = Shinso("bench", "infer", "--model", "logistic", "--batch", "4", "--threads", "1", "--repeat", "2", "--min-time", "0.01", "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(("infer", "logistic", 4), ((string?)result["benchmark"], (string?)result["model"], (int)result["batch"]!));
        Assert.True((double)result["ms_per_batch_best"]! > 0 && (double)result["ms_per_batch_median"]! >= (double)result["ms_per_batch_best"]!);

        string run = Path.Combine(Path.GetTempPath(), $"shinso-bench-infer-{Guid.NewGuid():N}");
        try
        {
            (code, _, stderr) = Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
            Assert.True(code == 0, stderr);
            string model = Path.Combine(run, "model.shinso");
            (code, stdout, stderr) = Shinso("bench", "infer", "--model", model, "--batch", "2", "--threads", "1", "--repeat", "1", "--min-time", "0.01", "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal(model, (string?)LastJsonLine(stdout)["model"]);

            string junk = Path.Combine(run, "junk.shinso");
            File.WriteAllText(junk, "not a model");
            (code, _, stderr) = Shinso("bench", "infer", "--model", junk);
            Assert.NotEqual(0, code);
            Assert.Contains("junk.shinso", stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
        }
    }
}
