using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Maxout (Goodfellow et al., 2013) over rows of <c>pieces * units</c> values laid out piece-major:
/// <c>y[n, i] = max_j x[n, j * units + i]</c>, so each piece is a contiguous slab and the max runs down whole vectors.
/// </summary>
/// <remarks>
/// The max is <c>a &gt; b ? a : b</c> on every path (what <c>maxps</c> computes), so the paths agree bit for bit, also on
/// NaN and signed zeros. The gradient goes to the first piece equal to the max, as for ONNX <c>ReduceMax</c>'s usual
/// gradient and PyTorch's <c>max</c>; the others get 0.
/// </remarks>
public static unsafe class Maxout
{
    /// <summary>Rows below which the work is not worth a second thread, in values.</summary>
    private const int Grain = KernelParallel.ElementwiseGrain;

    /// <summary><c>output[n, i] = max_j input[n, j * units + i]</c> for <paramref name="rows"/> rows of <paramref name="pieces"/> slabs.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit the rows and pieces, or the output overlaps the input.</exception>
    public static void Forward(ReadOnlySpan<float> input, int rows, int pieces, Span<float> output, CpuKernelOptions options = default)
    {
        int units = Check(input, rows, pieces, output);
        if (input.Overlaps(output)) throw new ArgumentException("output must not overlap input.", nameof(output));
        if (units == 0) return;
        fixed (float* x = input) fixed (float* y = output)
            KernelParallel.For(new ForwardRange(x, y, units, pieces, options.ResolvedPath), rows, options.ResolvedThreads, Math.Max(1, Grain / (units * pieces)), 1);
    }

    /// <summary>
    /// The gradient of <see cref="Forward"/>: <c>inputGradient[n, j * units + i] = outputGradient[n, i]</c> for the first
    /// piece <c>j</c> whose input equals <c>output[n, i]</c>, and 0 for the others.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not fit, or the input gradient overlaps an input.</exception>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, int rows, int pieces,
        Span<float> inputGradient, CpuKernelOptions options = default)
    {
        int units = Check(input, rows, pieces, output);
        KernelChecks.SameLength(output.Length, nameof(output), outputGradient.Length, nameof(outputGradient));
        KernelChecks.SameLength(input.Length, nameof(input), inputGradient.Length, nameof(inputGradient));
        if (inputGradient.Overlaps(input) || inputGradient.Overlaps(output) || inputGradient.Overlaps(outputGradient))
            throw new ArgumentException("inputGradient must not overlap input, output or outputGradient.", nameof(inputGradient));
        if (units == 0) return;
        fixed (float* x = input) fixed (float* y = output) fixed (float* dy = outputGradient) fixed (float* dx = inputGradient)
            KernelParallel.For(new BackwardRange(x, y, dy, dx, units, pieces, options.ResolvedPath), rows, options.ResolvedThreads,
                Math.Max(1, Grain / (units * pieces)), 1);
    }

    private static int Check(ReadOnlySpan<float> input, int rows, int pieces, ReadOnlySpan<float> output)
    {
        if (pieces < 1) throw new ArgumentOutOfRangeException(nameof(pieces), pieces, "Maxout needs at least one piece.");
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Rows must not be negative.");
        if (rows == 0)
        {
            KernelChecks.SameLength(0, "0 rows", input.Length, nameof(input));
            KernelChecks.SameLength(0, "0 rows", output.Length, nameof(output));
            return 0;
        }
        if (output.Length % rows != 0) throw new ArgumentException($"{nameof(output)} has {output.Length} elements, not a whole number of {rows} rows.", nameof(output));
        int units = output.Length / rows;
        KernelChecks.SameLength((int)Math.Min(int.MaxValue, (long)output.Length * pieces), $"{nameof(output)} x {pieces} pieces", input.Length, nameof(input));
        return units;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(float a, float b) => a > b ? a : b;

    private readonly struct ForwardRange(float* x, float* y, int units, int pieces, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint n = start; n < start + length; n++)
            {
                float* xs = x + n * units * pieces, ys = y + n * units;
                nint i = 0;
                if (path == SimdPath.Avx512)
                    for (; i <= units - Vector512<float>.Count; i += Vector512<float>.Count)
                    {
                        var m = Vector512.Load(xs + i);
                        for (int j = 1; j < pieces; j++) m = Avx512F.Max(m, Vector512.Load(xs + (nint)j * units + i));
                        m.Store(ys + i);
                    }
                if (path is SimdPath.Avx512 or SimdPath.Avx2)
                    for (; i <= units - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        var m = Vector256.Load(xs + i);
                        for (int j = 1; j < pieces; j++) m = Avx.Max(m, Vector256.Load(xs + (nint)j * units + i));
                        m.Store(ys + i);
                    }
                for (; i < units; i++)
                {
                    float m = xs[i];
                    for (int j = 1; j < pieces; j++) m = Max(m, xs[(nint)j * units + i]);
                    ys[i] = m;
                }
            }
        }
    }

    private readonly struct BackwardRange(float* x, float* y, float* dy, float* dx, int units, int pieces, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint n = start; n < start + length; n++)
            {
                float* xs = x + n * units * pieces, dxs = dx + n * units * pieces, ys = y + n * units, dys = dy + n * units;
                nint i = 0;
                if (path == SimdPath.Avx512)
                    for (; i <= units - Vector512<float>.Count; i += Vector512<float>.Count)
                    {
                        var m = Vector512.Load(ys + i);
                        var remaining = Vector512.Load(dys + i);
                        for (int j = 0; j < pieces; j++)
                        {
                            nint at = (nint)j * units + i;
                            var hit = Vector512.Equals(Vector512.Load(xs + at), m);
                            (remaining & hit).Store(dxs + at);
                            remaining = Vector512.AndNot(remaining, hit);
                        }
                    }
                if (path is SimdPath.Avx512 or SimdPath.Avx2)
                    for (; i <= units - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        var m = Vector256.Load(ys + i);
                        var remaining = Vector256.Load(dys + i);
                        for (int j = 0; j < pieces; j++)
                        {
                            nint at = (nint)j * units + i;
                            var hit = Avx.CompareEqual(Vector256.Load(xs + at), m);
                            Avx.And(remaining, hit).Store(dxs + at);
                            remaining = Avx.AndNot(hit, remaining);
                        }
                    }
                for (; i < units; i++)
                {
                    float m = ys[i], remaining = dys[i];
                    for (int j = 0; j < pieces; j++)
                    {
                        nint at = (nint)j * units + i;
                        bool hit = xs[at] == m;
                        dxs[at] = hit ? remaining : 0f;
                        if (hit) remaining = 0f;
                    }
                }
            }
        }
    }
}
