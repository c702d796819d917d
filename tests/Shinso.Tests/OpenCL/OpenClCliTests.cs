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

    [Fact]
    public void A_kernel_program_that_does_not_compile_is_reported_with_its_build_log()
    {
        // Redefining float breaks every kernel: the build fails, and the compiler's own log reaches the user.
        var broken = new Dictionary<string, string?> { [Shinso.OpenCL.OpenClContext.BuildOptionsVariable] = "-Dfloat=no_such_type" };
        var (code, _, stderr) = ShinsoWith(broken, "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--backend", "opencl", "--repeat", "1", "--min-time", "0.01");
        Assert.Equal(1, code);
        Assert.Contains("Building the OpenCL program", stderr);
        Assert.Contains("-Dfloat=no_such_type", stderr);
        Assert.Contains("no_such_type", stderr[(stderr.IndexOf("failed:", StringComparison.Ordinal) + 7)..]);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_device_lost_mid_run_stops_it_with_its_checkpoint_intact_and_the_cpu_backend_resumes_it()
    {
        string root = Directory.CreateTempSubdirectory("shinso-device-fault-").FullName;
        try
        {
            string[] Train(string folder, int epochs, params string[] more) =>
                ["train", "logistic", "--data", TestData.EmbeddedSubset, "--epochs", epochs.ToString(), "--out", Path.Combine(root, folder), "--json", .. more];
            long Launches(string stdout) => (long)((JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!)["kernel_launches"]!;
            // The launches of one run and of a run one epoch longer place the fault in the second epoch of a three-epoch run.
            var (code, stdout, stderr) = ShinsoWith([], Train("one", 1, "--backend", "opencl"));
            Assert.True(code == 0, stderr);
            long oneEpoch = Launches(stdout);
            (code, stdout, stderr) = ShinsoWith([], Train("two", 2, "--backend", "opencl"));
            Assert.True(code == 0, stderr);
            long perEpoch = Launches(stdout) - oneEpoch;
            long fault = oneEpoch + perEpoch / 2;

            var lost = new Dictionary<string, string?> { [Shinso.OpenCL.OpenClContext.FaultVariable] = $"launch:{fault}" };
            (code, _, stderr) = ShinsoWith(lost, Train("lost", 3, "--backend", "opencl"));
            Assert.Equal(1, code);
            Assert.Contains("CL_DEVICE_NOT_AVAILABLE", stderr);
            Assert.Contains("checkpoint.shinso holds epoch 1", stderr);
            Assert.Contains($"--resume {Path.Combine(root, "lost")}", stderr);
            Assert.DoesNotContain("   at ", stderr);
            // What the lost run left is the first epoch's checkpoint, whole: the tensors of an uninterrupted one-epoch run's.
            Assert.False(File.Exists(Path.Combine(root, "lost", "model.shinso")));
            IO.ModelFileAssert.SameTensors(Path.Combine(root, "one", "checkpoint.shinso"), Path.Combine(root, "lost", "checkpoint.shinso"), "checkpoint");

            (code, stdout, stderr) = ShinsoWith([], "train", "logistic", "--resume", Path.Combine(root, "lost"), "--data", TestData.EmbeddedSubset, "--backend", "cpu", "--json");
            Assert.True(code == 0, stderr);
            var resumed = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
            Assert.Equal(3, (int)resumed["epochs"]!);
            Assert.Equal("cpu", (string?)resumed["backend"]);
            Assert.InRange((double)resumed["accuracy"]!, 0.6, 1);

            // Device memory running out is the out-of-memory error, with the same account of what is on disk.
            var full = new Dictionary<string, string?> { [Shinso.OpenCL.OpenClContext.FaultVariable] = "alloc:3" };
            (code, _, stderr) = ShinsoWith(full, Train("full", 1, "--backend", "opencl"));
            Assert.Equal(1, code);
            Assert.Contains("CL_MEM_OBJECT_ALLOCATION_FAILURE", stderr);
            Assert.Contains("use a smaller batch or model", stderr);
            Assert.Contains("Training stopped before", stderr);
            (code, _, stderr) = ShinsoWith(new() { [Shinso.OpenCL.OpenClContext.FaultVariable] = "launch" }, Train("bad", 1, "--backend", "opencl"));
            Assert.Equal(1, code);
            Assert.Contains("must be launch:N or alloc:N", stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The codes a device returns when memory or launch resources run out map to the exception that says what to do. (A real
    /// out-of-memory buffer cannot be asked of POCL here: its largest allocation, 8 GiB, exceeds the largest tensor.)
    /// </summary>
    [Theory]
    [InlineData(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE")]
    [InlineData(-5, "CL_OUT_OF_RESOURCES")]
    [InlineData(-6, "CL_OUT_OF_HOST_MEMORY")]
    [InlineData(-61, "CL_INVALID_BUFFER_SIZE")]
    public void Out_of_memory_codes_raise_the_out_of_memory_exception_and_others_the_plain_one(int code, string name)
    {
        var e = Assert.Throws<Shinso.OpenCL.Native.OpenClOutOfMemoryException>(() => Shinso.OpenCL.Native.OpenClException.Check(code, "clCreateBuffer(64 bytes)"));
        Assert.Equal(name, e.CodeName);
        Assert.Contains("clCreateBuffer(64 bytes) failed with " + name, e.Message);
        Assert.Contains("use a smaller batch or model", e.Message);
        var other = Assert.Throws<Shinso.OpenCL.Native.OpenClException>(() => Shinso.OpenCL.Native.OpenClException.Check(-30, "clEnqueueNDRangeKernel"));
        Assert.IsNotType<Shinso.OpenCL.Native.OpenClOutOfMemoryException>(other);
        Shinso.OpenCL.Native.OpenClException.Check(0, "clFinish");
    }
}
