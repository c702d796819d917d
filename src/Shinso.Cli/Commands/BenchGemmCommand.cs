using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Shinso.Backends;
using Shinso.Kernels.Cpu;

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
            var options = new CpuKernelOptions(path, parseResult.GetValue(threadsOption));
            var result = Measure(m, n, k, ta, tb, options, repeat, minTime);
            string pathName = options.ResolvedPath.ToString().ToLowerInvariant();
            var inv = CultureInfo.InvariantCulture;
            if (parseResult.GetValue(jsonOption))
            {
                Console.WriteLine(string.Create(inv,
                    $"{{\"benchmark\":\"gemm\",\"m\":{m},\"n\":{n},\"k\":{k},\"ta\":{(ta ? "true" : "false")},\"tb\":{(tb ? "true" : "false")},\"threads\":{options.ResolvedThreads},\"path\":\"{pathName}\",\"gflops_best\":{result.GflopsBest:F2},\"gflops_median\":{result.GflopsMedian:F2},\"ms_best\":{result.MsBest:F4},\"ms_median\":{result.MsMedian:F4}}}"));
            }
            else
            {
                Console.WriteLine(string.Create(inv,
                    $"gemm {m}x{k}{(ta ? "ᵀ" : "")} @ {k}x{n}{(tb ? "ᵀ" : "")}  threads={options.ResolvedThreads} path={pathName}  GFLOP/s best {result.GflopsBest:F1} median {result.GflopsMedian:F1}  ms best {result.MsBest:F3} median {result.MsMedian:F3}"));
            }
            return 0;
        });
        return command;
    }

    private readonly record struct Timing(double GflopsBest, double GflopsMedian, double MsBest, double MsMedian);

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

        // Warm-up lets the JIT reach its final tier and the packing buffers reach their final size.
        var warmup = Stopwatch.StartNew();
        do
            Call();
        while (warmup.Elapsed.TotalSeconds < Math.Min(0.2, minTime * 2));

        long t0 = Stopwatch.GetTimestamp();
        Call();
        double one = Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-7);
        int calls = Math.Max(1, (int)(minTime / one));

        var seconds = new double[repeat];
        for (int s = 0; s < repeat; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
                Call();
            seconds[s] = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        }
        Array.Sort(seconds);
        double best = seconds[0];
        double median = repeat % 2 == 1 ? seconds[repeat / 2] : 0.5 * (seconds[repeat / 2 - 1] + seconds[repeat / 2]);
        double flops = 2.0 * m * n * k;
        return new Timing(flops / best * 1e-9, flops / median * 1e-9, best * 1e3, median * 1e3);
    }
}
