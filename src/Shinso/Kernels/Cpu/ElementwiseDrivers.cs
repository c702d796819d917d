using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

// The TensorPrimitives design: an elementwise operation is a readonly struct with one Invoke per width,
// and one generic driver per arity runs it on the chosen path, unrolled four vectors deep. Operations
// carry their scalars (alpha, beta, ...) as fields; the JIT specializes the driver for each struct, so
// Invoke inlines and nothing is allocated or dispatched virtually. All three Invoke overloads of an
// operation must perform the same IEEE operations in the same order (fusing the same multiply-adds),
// so that the scalar path, the scalar tails and the vector bodies agree bit for bit.

/// <summary>y = f(x).</summary>
internal interface IUnaryOperator
{
    float Invoke(float x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>z = f(x, y).</summary>
internal interface IBinaryOperator
{
    float Invoke(float x, float y);
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>w = f(x, y, z).</summary>
internal interface ITernaryOperator
{
    float Invoke(float x, float y, float z);
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y, Vector256<float> z);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y, Vector512<float> z);
}

/// <summary>
/// The per-arity drivers. Every input may be the output itself (exact aliasing, the in-place case):
/// the last, overlapping vector is computed from the inputs before the main loop writes anything and
/// stored after it, so elements covered twice get the same value both times.
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>y[i] = op(x[i]) for i in [0, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unary<TOp>(TOp op, float* x, float* y, nint n, SimdPath path) where TOp : struct, IUnaryOperator
    {
        nint i = 0;
        if (path == SimdPath.Avx512 && n >= Vector512<float>.Count)
        {
            const int W = 16;
            Vector512<float> last = op.Invoke(Vector512.Load(x + n - W));
            for (; i <= n - 4 * W; i += 4 * W)
            {
                Vector512<float> a = op.Invoke(Vector512.Load(x + i));
                Vector512<float> b = op.Invoke(Vector512.Load(x + i + W));
                Vector512<float> c = op.Invoke(Vector512.Load(x + i + 2 * W));
                Vector512<float> d = op.Invoke(Vector512.Load(x + i + 3 * W));
                a.Store(y + i);
                b.Store(y + i + W);
                c.Store(y + i + 2 * W);
                d.Store(y + i + 3 * W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector512.Load(x + i)).Store(y + i);
            if (i != n)
                last.Store(y + n - W);
            return;
        }
        if (path is SimdPath.Avx512 or SimdPath.Avx2 && n >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> last = op.Invoke(Vector256.Load(x + n - W));
            for (; i <= n - 4 * W; i += 4 * W)
            {
                Vector256<float> a = op.Invoke(Vector256.Load(x + i));
                Vector256<float> b = op.Invoke(Vector256.Load(x + i + W));
                Vector256<float> c = op.Invoke(Vector256.Load(x + i + 2 * W));
                Vector256<float> d = op.Invoke(Vector256.Load(x + i + 3 * W));
                a.Store(y + i);
                b.Store(y + i + W);
                c.Store(y + i + 2 * W);
                d.Store(y + i + 3 * W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector256.Load(x + i)).Store(y + i);
            if (i != n)
                last.Store(y + n - W);
            return;
        }
        for (; i < n; i++)
            y[i] = op.Invoke(x[i]);
    }

    /// <summary>z[i] = op(x[i], y[i]) for i in [0, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<TOp>(TOp op, float* x, float* y, float* z, nint n, SimdPath path) where TOp : struct, IBinaryOperator
    {
        nint i = 0;
        if (path == SimdPath.Avx512 && n >= Vector512<float>.Count)
        {
            const int W = 16;
            Vector512<float> last = op.Invoke(Vector512.Load(x + n - W), Vector512.Load(y + n - W));
            for (; i <= n - 4 * W; i += 4 * W)
            {
                Vector512<float> a = op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i));
                Vector512<float> b = op.Invoke(Vector512.Load(x + i + W), Vector512.Load(y + i + W));
                Vector512<float> c = op.Invoke(Vector512.Load(x + i + 2 * W), Vector512.Load(y + i + 2 * W));
                Vector512<float> d = op.Invoke(Vector512.Load(x + i + 3 * W), Vector512.Load(y + i + 3 * W));
                a.Store(z + i);
                b.Store(z + i + W);
                c.Store(z + i + 2 * W);
                d.Store(z + i + 3 * W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)).Store(z + i);
            if (i != n)
                last.Store(z + n - W);
            return;
        }
        if (path is SimdPath.Avx512 or SimdPath.Avx2 && n >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> last = op.Invoke(Vector256.Load(x + n - W), Vector256.Load(y + n - W));
            for (; i <= n - 4 * W; i += 4 * W)
            {
                Vector256<float> a = op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i));
                Vector256<float> b = op.Invoke(Vector256.Load(x + i + W), Vector256.Load(y + i + W));
                Vector256<float> c = op.Invoke(Vector256.Load(x + i + 2 * W), Vector256.Load(y + i + 2 * W));
                Vector256<float> d = op.Invoke(Vector256.Load(x + i + 3 * W), Vector256.Load(y + i + 3 * W));
                a.Store(z + i);
                b.Store(z + i + W);
                c.Store(z + i + 2 * W);
                d.Store(z + i + 3 * W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)).Store(z + i);
            if (i != n)
                last.Store(z + n - W);
            return;
        }
        for (; i < n; i++)
            z[i] = op.Invoke(x[i], y[i]);
    }

    /// <summary>w[i] = op(x[i], y[i], z[i]) for i in [0, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Ternary<TOp>(TOp op, float* x, float* y, float* z, float* w, nint n, SimdPath path) where TOp : struct, ITernaryOperator
    {
        nint i = 0;
        if (path == SimdPath.Avx512 && n >= Vector512<float>.Count)
        {
            const int W = 16;
            Vector512<float> last = op.Invoke(Vector512.Load(x + n - W), Vector512.Load(y + n - W), Vector512.Load(z + n - W));
            for (; i <= n - 2 * W; i += 2 * W)
            {
                Vector512<float> a = op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i), Vector512.Load(z + i));
                Vector512<float> b = op.Invoke(Vector512.Load(x + i + W), Vector512.Load(y + i + W), Vector512.Load(z + i + W));
                a.Store(w + i);
                b.Store(w + i + W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i), Vector512.Load(z + i)).Store(w + i);
            if (i != n)
                last.Store(w + n - W);
            return;
        }
        if (path is SimdPath.Avx512 or SimdPath.Avx2 && n >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> last = op.Invoke(Vector256.Load(x + n - W), Vector256.Load(y + n - W), Vector256.Load(z + n - W));
            for (; i <= n - 2 * W; i += 2 * W)
            {
                Vector256<float> a = op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i), Vector256.Load(z + i));
                Vector256<float> b = op.Invoke(Vector256.Load(x + i + W), Vector256.Load(y + i + W), Vector256.Load(z + i + W));
                a.Store(w + i);
                b.Store(w + i + W);
            }
            for (; i <= n - W; i += W)
                op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i), Vector256.Load(z + i)).Store(w + i);
            if (i != n)
                last.Store(w + n - W);
            return;
        }
        for (; i < n; i++)
            w[i] = op.Invoke(x[i], y[i], z[i]);
    }
}

/// <summary>Pins spans and runs the drivers, split across threads for long inputs.</summary>
internal static unsafe class ElementwiseRunner
{
    /// <summary>y = op(x), elementwise; the caller has checked lengths and overlap.</summary>
    public static void Unary<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y, in CpuKernelOptions options, int grain = KernelParallel.ElementwiseGrain)
        where TOp : struct, IUnaryOperator
    {
        SimdPath path = options.ResolvedPath;
        fixed (float* px = x)
        fixed (float* py = y)
            KernelParallel.For(new UnaryRange<TOp>(op, px, py, path), x.Length, options.ResolvedThreads, grain);
    }

    /// <summary>z = op(x, y), elementwise; the caller has checked lengths and overlap.</summary>
    public static void Binary<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, in CpuKernelOptions options, int grain = KernelParallel.ElementwiseGrain)
        where TOp : struct, IBinaryOperator
    {
        SimdPath path = options.ResolvedPath;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pz = z)
            KernelParallel.For(new BinaryRange<TOp>(op, px, py, pz, path), x.Length, options.ResolvedThreads, grain);
    }

    /// <summary>w = op(x, y, z), elementwise; the caller has checked lengths and overlap.</summary>
    public static void Ternary<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> z, Span<float> w, in CpuKernelOptions options, int grain = KernelParallel.ElementwiseGrain)
        where TOp : struct, ITernaryOperator
    {
        SimdPath path = options.ResolvedPath;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pz = z)
        fixed (float* pw = w)
            KernelParallel.For(new TernaryRange<TOp>(op, px, py, pz, pw, path), x.Length, options.ResolvedThreads, grain);
    }

    private readonly struct UnaryRange<TOp>(TOp op, float* x, float* y, SimdPath path) : IRangeKernel where TOp : struct, IUnaryOperator
    {
        public void Execute(nint start, nint length) => Elementwise.Unary(op, x + start, y + start, length, path);
    }

    private readonly struct BinaryRange<TOp>(TOp op, float* x, float* y, float* z, SimdPath path) : IRangeKernel where TOp : struct, IBinaryOperator
    {
        public void Execute(nint start, nint length) => Elementwise.Binary(op, x + start, y + start, z + start, length, path);
    }

    private readonly struct TernaryRange<TOp>(TOp op, float* x, float* y, float* z, float* w, SimdPath path) : IRangeKernel where TOp : struct, ITernaryOperator
    {
        public void Execute(nint start, nint length) => Elementwise.Ternary(op, x + start, y + start, z + start, w + start, length, path);
    }
}

/// <summary>A kernel over an index range, run by <see cref="KernelParallel.For{T}"/>; it holds raw pointers, so
/// the caller keeps the memory pinned for the duration of the call.</summary>
internal interface IRangeKernel
{
    void Execute(nint start, nint length);
}

/// <summary>Splits an index range into at most one part per thread on <see cref="KernelThreadPool"/>.</summary>
/// <remarks>
/// Part boundaries are multiples of <c>alignment</c>, so kernels whose values depend on the index only
/// (every kernel here, including the counter-based samplers) give the same results for any thread count.
/// One work object per kernel type and calling thread is reused, so a call allocates nothing.
/// </remarks>
internal static class KernelParallel
{
    /// <summary>Elements below which elementwise work is not worth a second thread.</summary>
    public const int ElementwiseGrain = 32 * 1024;

    /// <summary>Runs <paramref name="kernel"/> over [0, length) on up to <paramref name="threads"/> threads,
    /// giving each part at least <paramref name="minPerPart"/> indices.</summary>
    public static void For<T>(in T kernel, nint length, int threads, nint minPerPart, nint alignment = 64) where T : struct, IRangeKernel
    {
        nint parts = Math.Min(threads, length / Math.Max(1, minPerPart));
        if (parts <= 1)
        {
            if (length > 0)
                kernel.Execute(0, length);
            return;
        }
        var work = RangeWork<T>.Current ??= new RangeWork<T>();
        work.Kernel = kernel;
        work.Length = length;
        work.Alignment = alignment;
        try
        {
            KernelThreadPool.Run(work, (int)parts);
        }
        finally
        {
            work.Kernel = default;
        }
    }

    private sealed class RangeWork<T> : KernelWork where T : struct, IRangeKernel
    {
        [ThreadStatic] public static RangeWork<T>? Current;
        public T Kernel;
        public nint Length;
        public nint Alignment;

        public override void Execute(int index, int count)
        {
            nint chunk = (Length + count - 1) / count;
            chunk = (chunk + Alignment - 1) / Alignment * Alignment;
            nint start = index * chunk;
            nint end = Math.Min(Length, start + chunk);
            if (start < end)
                Kernel.Execute(start, end - start);
        }
    }
}

/// <summary>Argument checks shared by the kernels; messages name the argument and the sizes.</summary>
internal static class KernelChecks
{
    /// <summary>Throws unless <paramref name="actual"/> has as many elements as <paramref name="expected"/>.</summary>
    public static void SameLength(int expected, string expectedName, int actual, string actualName)
    {
        if (expected != actual)
            throw new ArgumentException($"{expectedName} has {expected} elements but {actualName} has {actual}.", actualName);
    }

    /// <summary>Throws when <paramref name="output"/> overlaps <paramref name="input"/> other than exactly.</summary>
    public static void NoPartialOverlap(ReadOnlySpan<float> input, string inputName, ReadOnlySpan<float> output, string outputName)
    {
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException(
                $"{outputName} overlaps {inputName} at an offset of {offset} elements; an output may only alias an input exactly.", outputName);
    }

    /// <summary>Throws unless rows and columns are non-negative and the span holds rows x columns elements.</summary>
    public static void Matrix(int length, string name, int rows, int columns)
    {
        if (rows < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Rows must not be negative.");
        if (columns < 0)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "Columns must not be negative.");
        if ((long)rows * columns != length)
            throw new ArgumentException($"{name} has {length} elements but a {rows} x {columns} matrix needs {(long)rows * columns}.", name);
    }
}

/// <summary>
/// Float reductions over one contiguous run: four vector accumulators (16 or 8 lanes each), combined as
/// <c>(a0 + a1) + (a2 + a3)</c> and then halved down to one lane, plus a scalar tail added last. The order is
/// fixed for a given path and length, so results are deterministic.
/// </summary>
internal static unsafe class Reduction
{
    /// <summary>sum_i map(x[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum<TMap>(TMap map, float* x, nint n, SimdPath path) where TMap : struct, IUnaryOperator
    {
        nint i = 0;
        float total = 0f;
        if (path == SimdPath.Avx512 && n >= Vector512<float>.Count)
        {
            const int W = 16;
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * W; i += 4 * W)
            {
                a0 += map.Invoke(Vector512.Load(x + i));
                a1 += map.Invoke(Vector512.Load(x + i + W));
                a2 += map.Invoke(Vector512.Load(x + i + 2 * W));
                a3 += map.Invoke(Vector512.Load(x + i + 3 * W));
            }
            for (; i <= n - W; i += W)
                a0 += map.Invoke(Vector512.Load(x + i));
            total = HorizontalSum((a0 + a1) + (a2 + a3));
        }
        else if (path is SimdPath.Avx512 or SimdPath.Avx2 && n >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * W; i += 4 * W)
            {
                a0 += map.Invoke(Vector256.Load(x + i));
                a1 += map.Invoke(Vector256.Load(x + i + W));
                a2 += map.Invoke(Vector256.Load(x + i + 2 * W));
                a3 += map.Invoke(Vector256.Load(x + i + 3 * W));
            }
            for (; i <= n - W; i += W)
                a0 += map.Invoke(Vector256.Load(x + i));
            total = HorizontalSum((a0 + a1) + (a2 + a3));
        }
        float tail = 0f;
        for (; i < n; i++)
            tail += map.Invoke(x[i]);
        return total + tail;
    }

    /// <summary>max_i x[i] (maxps semantics, so a NaN element may be skipped); -inf for an empty run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(float* x, nint n, SimdPath path)
    {
        nint i = 0;
        if (path == SimdPath.Avx512 && n >= Vector512<float>.Count)
        {
            const int W = 16;
            // max is idempotent, so the tail is one overlapping vector.
            Vector512<float> a0 = Vector512.Load(x + n - W), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * W; i += 4 * W)
            {
                a0 = Avx512F.Max(a0, Vector512.Load(x + i));
                a1 = Avx512F.Max(a1, Vector512.Load(x + i + W));
                a2 = Avx512F.Max(a2, Vector512.Load(x + i + 2 * W));
                a3 = Avx512F.Max(a3, Vector512.Load(x + i + 3 * W));
            }
            for (; i <= n - W; i += W)
                a0 = Avx512F.Max(a0, Vector512.Load(x + i));
            Vector512<float> m = Avx512F.Max(Avx512F.Max(a0, a1), Avx512F.Max(a2, a3));
            return HorizontalMax(Avx.Max(m.GetLower(), m.GetUpper()));
        }
        if (path is SimdPath.Avx512 or SimdPath.Avx2 && n >= Vector256<float>.Count)
        {
            const int W = 8;
            Vector256<float> a0 = Vector256.Load(x + n - W), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * W; i += 4 * W)
            {
                a0 = Avx.Max(a0, Vector256.Load(x + i));
                a1 = Avx.Max(a1, Vector256.Load(x + i + W));
                a2 = Avx.Max(a2, Vector256.Load(x + i + 2 * W));
                a3 = Avx.Max(a3, Vector256.Load(x + i + 3 * W));
            }
            for (; i <= n - W; i += W)
                a0 = Avx.Max(a0, Vector256.Load(x + i));
            return HorizontalMax(Avx.Max(Avx.Max(a0, a1), Avx.Max(a2, a3)));
        }
        float max = float.NegativeInfinity;
        for (; i < n; i++)
            max = max > x[i] ? max : x[i];
        return max;
    }

    /// <summary>Adds the lanes pairwise: upper half onto lower half down to one lane.</summary>
    public static float HorizontalSum(Vector512<float> v) => HorizontalSum(v.GetLower() + v.GetUpper());

    /// <summary>Adds the lanes pairwise: upper half onto lower half down to one lane.</summary>
    public static float HorizontalSum(Vector256<float> v)
    {
        Vector128<float> s = v.GetLower() + v.GetUpper();
        s += Sse.MoveHighToLow(s, s);
        s = Sse.AddScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        Vector128<float> s = Sse.Max(v.GetLower(), v.GetUpper());
        s = Sse.Max(s, Sse.MoveHighToLow(s, s));
        s = Sse.MaxScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }
}

/// <summary>f(x) = x, for plain sums.</summary>
internal readonly struct IdentityOperator : IUnaryOperator
{
    public float Invoke(float x) => x;
    public Vector256<float> Invoke(Vector256<float> x) => x;
    public Vector512<float> Invoke(Vector512<float> x) => x;
}
