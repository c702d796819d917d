using System.Text.Json.Nodes;
using static Shinso.Tests.Cli.CliTests;

namespace Shinso.Tests.OpenCL;

/// <summary>Backend selection from the command line: devices, --backend, $SHINSO_BACKEND and the missing-platform error.</summary>
[Collection(OpenClCollection.Name)]
public sealed class OpenClCliTests(TwinBackends twins) : IDisposable
{
    private readonly string _emptyVendors = Directory.CreateTempSubdirectory("shinso-no-icd-").FullName;

    public void Dispose() => Directory.Delete(_emptyVendors, recursive: true);

    [Fact]
    public void Devices_lists_the_device_the_tests_run_on()
    {
        var (code, stdout, stderr) = ShinsoWith([], "devices", "--json");
        Assert.True(code == 0, stderr);
        var first = (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0])!;
        Assert.Equal(twins.Device.DeviceInfo.Name, (string?)first["name"]);
        Assert.True((long)first["global_memory_bytes"]! > 0);
        Assert.True((int)first["compute_units"]! > 0);
    }

    [Fact]
    public void Bench_gemm_and_train_run_on_the_opencl_backend_and_report_it()
    {
        var (code, stdout, stderr) = ShinsoWith([], "bench", "gemm", "--m", "96", "--n", "80", "--k", "64", "--backend", "opencl", "--repeat", "1", "--min-time", "0.01", "--json");
        Assert.True(code == 0, stderr);
        var gemm = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("opencl:0", (string?)gemm["backend"]);
        Assert.True((double)gemm["gflops_best"]! > 0);

        (code, stdout, stderr) = ShinsoWith(new() { ["SHINSO_BACKEND"] = "opencl" },
            "bench", "train", "--model", "linreg", "--batch", "50", "--repeat", "1", "--min-time", "0.05", "--json");
        Assert.True(code == 0, stderr);
        var train = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("opencl:0", (string?)train["backend"]);
        Assert.True((double)train["samples_per_second_best"]! > 0);
    }

    [Fact]
    public void A_missing_platform_gives_the_documented_error_and_auto_falls_back_to_the_cpu()
    {
        var noPlatform = new Dictionary<string, string?> { ["OCL_ICD_VENDORS"] = _emptyVendors };
        var (code, _, stderr) = ShinsoWith(noPlatform, "devices");
        Assert.Equal(1, code);
        Assert.Contains("OpenCL is not available", stderr);
        Assert.Contains("pocl-opencl-icd", stderr);

        (code, _, stderr) = ShinsoWith(noPlatform, "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--backend", "opencl");
        Assert.Equal(1, code);
        Assert.Contains("found no platform", stderr);

        (code, var stdout, stderr) = ShinsoWith(noPlatform, "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--backend", "auto",
            "--repeat", "1", "--min-time", "0.01", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("warning", stderr);
        Assert.Contains("Using the CPU", stderr);
        Assert.Equal("cpu", (string?)((JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!)["backend"]);
    }

    [Fact]
    public void An_unknown_backend_is_a_usage_error()
    {
        var (code, _, stderr) = ShinsoWith(new() { ["SHINSO_BACKEND"] = "gpu" }, "bench", "gemm", "--m", "8", "--n", "8", "--k", "8");
        Assert.Equal(2, code);
        Assert.Contains("$SHINSO_BACKEND must be cpu, opencl or auto, not 'gpu'", stderr);
    }
}
