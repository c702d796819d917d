using Shinso.Kernels.Cpu;

namespace Shinso.Cli.Commands;

/// <summary>
/// The GEMM bound of one step of work, in seconds per step: the time its SGEMM calls take when each is timed alone on
/// warm operands, with <c>shinso bench gemm</c>'s timer, in the same process. A call is replayed with its own strides,
/// options and beta (1 where it read C), so it costs what it cost in the step, bar the memory it waited for there. A
/// step can come near the bound but not beat it; the gap is what goes to everything besides the GEMMs (activations,
/// updates, memory the GEMMs wait for).
/// </summary>
/// <param name="SecondsBest">The sum over the step's calls of each call's best time.</param>
/// <param name="SecondsMedian">The same sum of medians.</param>
/// <param name="Calls">SGEMM calls in one step.</param>
internal sealed record BenchGemmBound(double SecondsBest, double SecondsMedian, int Calls)
{
    /// <summary>
    /// Runs <paramref name="step"/> once with an <see cref="SgemmCallLog"/> open, then times each distinct call it made
    /// (<paramref name="repeat"/> samples of at least <paramref name="minTime"/> seconds). Returns null, with the reason,
    /// where the bound is not defined: no call reached the CPU GEMM (a device backend), or calls ran concurrently inside
    /// the parts of a parallel kernel, whose one-at-a-time replay would not be a bound.
    /// </summary>
    public static BenchGemmBound? Measure(Action step, int repeat, double minTime, out string? reason)
    {
        IReadOnlyList<SgemmCall> calls;
        using (var log = SgemmCallLog.Start())
        {
            step();
            calls = log.Calls;
        }
        reason = null;
        if (calls.Count == 0)
        {
            reason = "the step made no CPU GEMM call";
            return null;
        }
        if (calls.Any(c => c.InParallelPart))
        {
            reason = "some of the step's GEMMs ran concurrently, inside the parts of a parallel kernel";
            return null;
        }
        double best = 0, median = 0;
        foreach (var group in calls.GroupBy(c => c))
        {
            var (b, m) = Time(group.Key, repeat, minTime);
            best += b * group.Count();
            median += m * group.Count();
        }
        return new BenchGemmBound(best, median, calls.Count);
    }

    private static (double Best, double Median) Time(SgemmCall call, int repeat, double minTime)
    {
        bool ta = call.TransA == Operations.Transpose.Transposed, tb = call.TransB == Operations.Transpose.Transposed;
        var a = Operand((ta ? call.K : call.M) * (long)call.Lda);
        var b = Operand((tb ? call.N : call.K) * (long)call.Ldb);
        var c = Operand(call.M * (long)call.Ldc);
        // A call that read C (a shared weight's second share, a later chunk's accumulation) reads it here too; the scale
        // of C does not change the time.
        float beta = call.ReadsC ? 1f : 0f;
        return BenchTiming.Measure(
            () => Sgemm.Compute(call.TransA, call.TransB, call.M, call.N, call.K, 1f, a, call.Lda, b, call.Ldb, beta, c, call.Ldc, call.Options),
            () => { }, repeat, minTime);
    }

    // Values in [-0.5, 0.5) without denormals: the speed of a GEMM does not depend on them, so no random stream is needed.
    private static float[] Operand(long length)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = i % 97 / 97f - 0.5f;
        return values;
    }
}
