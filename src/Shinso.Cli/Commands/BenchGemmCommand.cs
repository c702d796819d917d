using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.OpenCL;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso bench gemm</c>: SGEMM throughput in GFLOP/s, measured like the peer yardstick (gemm_bench.py).</summary>
public static class BenchGemmCommand
{
    /// <summary>Builds the <c>gemm</c> command.</summary>
    public static Command Create()
    {
        var mOption = new Option<int>("--m") { Description = "Rows of op(A) and C.", Required = true };
        var nOption = new Option<int>("--n") { Description = "Columns of op(B) and C.", Required = true };
        var kOption = new Option<int>("--k") { Description = "Columns of op(A), rows of op(B).", Required = true };
        var taOption = new Option<bool>("--ta") { Description = "A is stored transposed (k x m)." };
        var tbOption = new Option<bool>("--tb") { Description = "B is stored transposed (n x k)." };
        var threadsOption = CommonOptions.Threads();
        var pathOption = CommonOptions.Path();
        var repeatOption = new Option<int>("--repeat") { Description = "Timed samples.", DefaultValueFactory = _ => 7 };
        var minTimeOption = new Option<double>("--min-time") { Description = "Seconds per sample (calls per sample are calibrated to reach it).", DefaultValueFactory = _ => 0.1 };
        var jsonOption = CommonOptions.Json();

        var command = new Command("gemm", "Measure single-precision GEMM (C = A*B) throughput in GFLOP/s.");
        foreach (var option in new Option[] { mOption, nOption, kOption, taOption, tbOption, threadsOption, pathOption, repeatOption, minTimeOption, jsonOption })
            command.Options.Add(option);

        command.SetAction(parseResult =>
        {
            int m = parseResult.GetValue(mOption), n = parseResult.GetValue(nOption), k = parseResult.GetValue(kOption);
            bool ta = parseResult.GetValue(taOption), tb = parseResult.GetValue(tbOption);
            int repeat = Math.Max(1, parseResult.GetValue(repeatOption));
            double minTime = parseResult.GetValue(minTimeOption);
            var path = CommonOptions.ParsePath(parseResult.GetValue(pathOption)!);
            if (m < 1 || n < 1 || k < 1)
            {
                Console.Error.WriteLine("--m, --n and --k must be at least 1.");
                return 2;
            }
            if (!CpuKernelOptions.IsSupported(path))
            {
                Console.Error.WriteLine($"This CPU does not support the {path} path.");
                return 2;
            }
            using var backend = CommonOptions.CreateBackend(parseResult, parseResult.GetValue(threadsOption), parseResult.GetValue(pathOption)!);
            var result = backend switch
            {
                CpuBackend cpu => Measure(m, n, k, ta, tb, cpu.Options, repeat, minTime),
                OpenClBackend device => MeasureDevice(device, m, n, k, ta, tb, repeat, minTime),
                _ => throw new UsageException($"bench gemm does not know backend '{backend.Name}'."),
            };
            var inv = CultureInfo.InvariantCulture;
            if (parseResult.GetValue(jsonOption))
            {
                Console.WriteLine(new JsonObject
                {
                    ["benchmark"] = "gemm", ["m"] = m, ["n"] = n, ["k"] = k, ["ta"] = ta, ["tb"] = tb,
                    ["gflops_best"] = Math.Round(result.GflopsBest, 2), ["gflops_median"] = Math.Round(result.GflopsMedian, 2),
                    ["ms_best"] = Math.Round(result.MsBest, 4), ["ms_median"] = Math.Round(result.MsMedian, 4),
                }.WithBackend(backend).ToJsonString());
            }
            else
            {
                Console.WriteLine(string.Create(inv,
                    $"gemm {m}x{k}{(ta ? "ᵀ" : "")} @ {k}x{n}{(tb ? "ᵀ" : "")}  {CommonOptions.Describe(backend)}  GFLOP/s best {result.GflopsBest:F1} median {result.GflopsMedian:F1}  ms best {result.MsBest:F3} median {result.MsMedian:F3}"));
            }
            return 0;
        });
        return command;
    }

    private readonly record struct Timing(double GflopsBest, double GflopsMedian, double MsBest, double MsMedian);

    /// <summary>The same measurement on an OpenCL device: operands stay on the device, each sample ends with a queue finish.</summary>
    private static Timing MeasureDevice(OpenClBackend device, int m, int n, int k, bool ta, bool tb, int repeat, double minTime)
    {
        var transA = ta ? Transpose.Transposed : Transpose.None;
        var transB = tb ? Transpose.Transposed : Transpose.None;
        var a = device.Allocate(ta ? [k, m] : [m, k]);
        var b = device.Allocate(tb ? [n, k] : [k, n]);
        var c = device.Allocate(m, n);
        var benchStreams = Shinso.Random.RandomStream.Root(12345);
        device.SampleUniform(benchStreams.Derive("gemm-left"), 0, a);
        device.SampleUniform(benchStreams.Derive("gemm-right"), 0, b);
        device.ScaleShift(a, 2f, -1f, a);
        device.ScaleShift(b, 2f, -1f, b);
        return Time(() => device.Gemm(transA, transB, 1f, a, b, 0f, c), device.Synchronize, 2.0 * m * n * k, repeat, minTime);
    }

    private static Timing Measure(int m, int n, int k, bool ta, bool tb, CpuKernelOptions options, int repeat, double minTime)
    {
        var transA = ta ? Transpose.Transposed : Transpose.None;
        var transB = tb ? Transpose.Transposed : Transpose.None;
        int lda = ta ? m : k, ldb = tb ? k : n;
        var random = new System.Random(12345);
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        for (int i = 0; i < a.Length; i++)
            a[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++)
            b[i] = (float)(random.NextDouble() * 2 - 1);

        void Call() => Sgemm.Compute(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n, options);

        return Time(Call, () => { }, 2.0 * m * n * k, repeat, minTime);
    }

    private static Timing Time(Action call, Action finish, double flops, int repeat, double minTime)
    {
        var (best, median) = BenchTiming.Measure(call, finish, repeat, minTime);
        return new Timing(flops / best * 1e-9, flops / median * 1e-9, best * 1e3, median * 1e3);
    }
}
