using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>Level-1 BLAS style kernels and reductions on spans and row-major matrices.</summary>
/// <remarks>
/// Accumulation, deterministic for a given path and length on any thread count:
/// <see cref="Sum"/> and <see cref="SumOfSquares"/> widen to double (squares of floats are exact in double)
/// with four vector partials and a fixed combining order, and round once at the end.
/// <see cref="SumRows"/> sums each row in float with four vector partials (see <see cref="Reduction"/>).
/// <see cref="SumColumns"/> is vectorized along the columns and adds the rows in order, one float
/// accumulator per column, so it is bit-identical on every path.
/// Where <c>beta</c> is 0 the destination is not read, so NaNs in it do not propagate (BLAS convention).
/// </remarks>
public static unsafe class Blas1
{
    /// <summary><c>y = alpha * x + y</c> (one fused multiply-add per element).</summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap.</exception>
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(x.Length, nameof(x), y.Length, nameof(y));
        KernelChecks.NoPartialOverlap(x, nameof(x), y, nameof(y));
        ElementwiseRunner.Binary(new AxpyOperator(alpha), x, y, y, options);
    }

    /// <summary><c>y = alpha * x + beta * y</c>, as <c>fma(alpha, x, beta * y)</c>; when <paramref name="beta"/> is 0,
    /// <c>y = alpha * x</c> without reading y.</summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap.</exception>
    public static void Axpby(float alpha, ReadOnlySpan<float> x, float beta, Span<float> y, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(x.Length, nameof(x), y.Length, nameof(y));
        KernelChecks.NoPartialOverlap(x, nameof(x), y, nameof(y));
        if (beta == 0f)
            ElementwiseRunner.Unary(new ScaleOperator(alpha), x, y, options);
        else
            ElementwiseRunner.Binary(new AxpbyOperator(alpha, beta), x, y, y, options);
    }

    /// <summary><c>result = a * b</c>, elementwise; <paramref name="result"/> may be either input.</summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap other than exactly.</exception>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(a.Length, nameof(a), b.Length, nameof(b));
        KernelChecks.SameLength(a.Length, nameof(a), result.Length, nameof(result));
        KernelChecks.NoPartialOverlap(a, nameof(a), result, nameof(result));
        KernelChecks.NoPartialOverlap(b, nameof(b), result, nameof(result));
        ElementwiseRunner.Binary(default(MultiplyOperator), a, b, result, options);
    }

    /// <summary><c>matrix[i, j] += row[j]</c> for every row i of the rows x columns <paramref name="matrix"/>.</summary>
    /// <exception cref="ArgumentException">The sizes do not fit, or <paramref name="row"/> lies inside <paramref name="matrix"/>.</exception>
    public static void AddRowVector(Span<float> matrix, int rows, int columns, ReadOnlySpan<float> row, CpuKernelOptions options = default)
    {
        KernelChecks.Matrix(matrix.Length, nameof(matrix), rows, columns);
        if (row.Length != columns)
            throw new ArgumentException($"row has {row.Length} elements but matrix has {columns} columns.", nameof(row));
        if (matrix.Overlaps(row))
            throw new ArgumentException("row must not overlap matrix.", nameof(row));
        if (columns == 0)
            return;
        SimdPath path = options.ResolvedPath;
        fixed (float* m = matrix)
        fixed (float* r = row)
            KernelParallel.For(new AddRowRange(m, r, columns, path), rows, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / columns), alignment: 1);
    }

    /// <summary><c>result[j] = beta * result[j] + sum_i matrix[i, j]</c> (the multiply-add fused), vectorized along columns.</summary>
    /// <exception cref="ArgumentException">The sizes do not fit, or <paramref name="result"/> overlaps <paramref name="matrix"/>.</exception>
    public static void SumColumns(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> result, float beta = 0f,
        CpuKernelOptions options = default)
    {
        KernelChecks.Matrix(matrix.Length, nameof(matrix), rows, columns);
        if (result.Length != columns)
            throw new ArgumentException($"result has {result.Length} elements but matrix has {columns} columns.", nameof(result));
        if (matrix.Overlaps(result))
            throw new ArgumentException("result must not overlap matrix.", nameof(result));
        SimdPath path = options.ResolvedPath;
        fixed (float* m = matrix)
        fixed (float* r = result)
            KernelParallel.For(new SumColumnsRange(m, r, rows, columns, beta, path), columns, options.ResolvedThreads,
                Math.Max(64, KernelParallel.ElementwiseGrain / Math.Max(1, rows)), alignment: 64);
    }

    /// <summary>
    /// <c>output[j, i, :] = input[i, j, :]</c> with <paramref name="input"/> viewed as <c>[outer, inner, rest]</c>: a copy of
    /// <c>outer*inner</c> contiguous runs of <paramref name="rest"/> values.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not fit, or the spans overlap.</exception>
    public static void SwapLeadingAxes(ReadOnlySpan<float> input, int outer, int inner, int rest, Span<float> output)
    {
        if (outer < 1 || inner < 1 || rest < 1)
            throw new ArgumentException($"outer {outer}, inner {inner} and rest {rest} must be positive.", nameof(outer));
        long length = (long)outer * inner * rest;
        if (input.Length != length || output.Length != length)
            throw new ArgumentException($"input has {input.Length} and output {output.Length} elements but [{outer}, {inner}, {rest}] is {length}.", nameof(input));
        if (input.Overlaps(output))
            throw new ArgumentException("output must not overlap input.", nameof(output));
        for (int i = 0; i < outer; i++)
            for (int j = 0; j < inner; j++)
                input.Slice((i * inner + j) * rest, rest).CopyTo(output.Slice((j * outer + i) * rest, rest));
    }

    /// <summary><c>result[i] = sum_j matrix[i, j]</c>.</summary>
    /// <exception cref="ArgumentException">The sizes do not fit, or <paramref name="result"/> overlaps <paramref name="matrix"/>.</exception>
    public static void SumRows(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> result, CpuKernelOptions options = default)
    {
        KernelChecks.Matrix(matrix.Length, nameof(matrix), rows, columns);
        if (result.Length != rows)
            throw new ArgumentException($"result has {result.Length} elements but matrix has {rows} rows.", nameof(result));
        if (matrix.Overlaps(result))
            throw new ArgumentException("result must not overlap matrix.", nameof(result));
        SimdPath path = options.ResolvedPath;
        fixed (float* m = matrix)
        fixed (float* r = result)
            KernelParallel.For(new SumRowsRange(m, r, columns, path), rows, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, columns)), alignment: 1);
    }

    /// <summary>The sum of all elements, accumulated in double and rounded once.</summary>
    public static float Sum(ReadOnlySpan<float> x, CpuKernelOptions options = default)
    {
        fixed (float* p = x)
            return (float)DoubleSum(default(PlainTerm), p, x.Length, options.ResolvedPath);
    }

    /// <summary>The sum of squares of all elements, accumulated in double (each square exact) and rounded once.</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x, CpuKernelOptions options = default)
    {
        fixed (float* p = x)
            return (float)DoubleSum(default(SquareTerm), p, x.Length, options.ResolvedPath);
    }

    // ---------------------------------------------------------------------------------------------

    private readonly struct AddRowRange(float* matrix, float* row, int columns, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint i = start; i < start + length; i++)
            {
                float* m = matrix + i * columns;
                Elementwise.Binary(default(AddOperator), m, row, m, columns, path);
            }
        }
    }

    private readonly struct SumRowsRange(float* matrix, float* result, int columns, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint i = start; i < start + length; i++)
                result[i] = Reduction.Sum(default(IdentityOperator), matrix + i * columns, columns, path);
        }
    }

    private readonly struct SumColumnsRange(float* matrix, float* result, int rows, int columns, float beta, SimdPath path) : IRangeKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(nint start, nint length)
        {
            nint j = start, end = start + length;
            if (path == SimdPath.Avx512)
            {
                const int W = 16;
                for (; j <= end - 4 * W; j += 4 * W)
                {
                    Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                    float* p = matrix + j;
                    for (int i = 0; i < rows; i++, p += columns)
                    {
                        a0 = Avx512F.Add(a0, Vector512.Load(p));
                        a1 = Avx512F.Add(a1, Vector512.Load(p + W));
                        a2 = Avx512F.Add(a2, Vector512.Load(p + 2 * W));
                        a3 = Avx512F.Add(a3, Vector512.Load(p + 3 * W));
                    }
                    Finish(a0, j);
                    Finish(a1, j + W);
                    Finish(a2, j + 2 * W);
                    Finish(a3, j + 3 * W);
                }
                for (; j <= end - W; j += W)
                {
                    Vector512<float> a0 = Vector512<float>.Zero;
                    float* p = matrix + j;
                    for (int i = 0; i < rows; i++, p += columns)
                        a0 = Avx512F.Add(a0, Vector512.Load(p));
                    Finish(a0, j);
                }
            }
            if (path is SimdPath.Avx512 or SimdPath.Avx2)
            {
                const int W = 8;
                for (; j <= end - 4 * W; j += 4 * W)
                {
                    Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                    float* p = matrix + j;
                    for (int i = 0; i < rows; i++, p += columns)
                    {
                        a0 = Avx.Add(a0, Vector256.Load(p));
                        a1 = Avx.Add(a1, Vector256.Load(p + W));
                        a2 = Avx.Add(a2, Vector256.Load(p + 2 * W));
                        a3 = Avx.Add(a3, Vector256.Load(p + 3 * W));
                    }
                    Finish(a0, j);
                    Finish(a1, j + W);
                    Finish(a2, j + 2 * W);
                    Finish(a3, j + 3 * W);
                }
                for (; j <= end - W; j += W)
                {
                    Vector256<float> a0 = Vector256<float>.Zero;
                    float* p = matrix + j;
                    for (int i = 0; i < rows; i++, p += columns)
                        a0 = Avx.Add(a0, Vector256.Load(p));
                    Finish(a0, j);
                }
            }
            // Remaining columns (all of them on the scalar path): four at a time, rows in order.
            for (; j <= end - 4; j += 4)
            {
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                float* p = matrix + j;
                for (int i = 0; i < rows; i++, p += columns)
                {
                    s0 += p[0];
                    s1 += p[1];
                    s2 += p[2];
                    s3 += p[3];
                }
                Finish(s0, j);
                Finish(s1, j + 1);
                Finish(s2, j + 2);
                Finish(s3, j + 3);
            }
            for (; j < end; j++)
            {
                float s = 0f;
                float* p = matrix + j;
                for (int i = 0; i < rows; i++, p += columns)
                    s += *p;
                Finish(s, j);
            }
        }

        private void Finish(Vector512<float> sum, nint j)
        {
            if (beta != 0f)
                sum = Avx512F.FusedMultiplyAdd(Vector512.Create(beta), Vector512.Load(result + j), sum);
            sum.Store(result + j);
        }

        private void Finish(Vector256<float> sum, nint j)
        {
            if (beta != 0f)
                sum = Fma.MultiplyAdd(Vector256.Create(beta), Vector256.Load(result + j), sum);
            sum.Store(result + j);
        }

        private void Finish(float sum, nint j) =>
            result[j] = beta != 0f ? MathF.FusedMultiplyAdd(beta, result[j], sum) : sum;
    }

    private interface IDoubleTerm
    {
        double Invoke(float x);
        Vector256<double> Invoke(Vector256<double> x);
        Vector512<double> Invoke(Vector512<double> x);
    }

    private readonly struct PlainTerm : IDoubleTerm
    {
        public double Invoke(float x) => x;
        public Vector256<double> Invoke(Vector256<double> x) => x;
        public Vector512<double> Invoke(Vector512<double> x) => x;
    }

    private readonly struct SquareTerm : IDoubleTerm
    {
        public double Invoke(float x) => (double)x * x;
        public Vector256<double> Invoke(Vector256<double> x) => Avx.Multiply(x, x);
        public Vector512<double> Invoke(Vector512<double> x) => Avx512F.Multiply(x, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double DoubleSum<TTerm>(TTerm term, float* x, nint n, SimdPath path) where TTerm : struct, IDoubleTerm
    {
        nint i = 0;
        double total = 0;
        if (path == SimdPath.Avx512)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 32; i += 32)
            {
                Vector512<float> v = Vector512.Load(x + i);
                Vector512<float> w = Vector512.Load(x + i + 16);
                a0 = Avx512F.Add(a0, term.Invoke(Avx512F.ConvertToVector512Double(v.GetLower())));
                a1 = Avx512F.Add(a1, term.Invoke(Avx512F.ConvertToVector512Double(v.GetUpper())));
                a2 = Avx512F.Add(a2, term.Invoke(Avx512F.ConvertToVector512Double(w.GetLower())));
                a3 = Avx512F.Add(a3, term.Invoke(Avx512F.ConvertToVector512Double(w.GetUpper())));
            }
            for (; i <= n - 8; i += 8)
                a0 = Avx512F.Add(a0, term.Invoke(Avx512F.ConvertToVector512Double(Vector256.Load(x + i))));
            Vector512<double> s = Avx512F.Add(Avx512F.Add(a0, a1), Avx512F.Add(a2, a3));
            Vector256<double> h = Avx.Add(s.GetLower(), s.GetUpper());
            Vector128<double> q = Sse2.Add(h.GetLower(), h.GetUpper());
            total = q.ToScalar() + q.GetElement(1);
        }
        else if (path == SimdPath.Avx2)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 16; i += 16)
            {
                Vector256<float> v = Vector256.Load(x + i);
                Vector256<float> w = Vector256.Load(x + i + 8);
                a0 = Avx.Add(a0, term.Invoke(Avx.ConvertToVector256Double(v.GetLower())));
                a1 = Avx.Add(a1, term.Invoke(Avx.ConvertToVector256Double(v.GetUpper())));
                a2 = Avx.Add(a2, term.Invoke(Avx.ConvertToVector256Double(w.GetLower())));
                a3 = Avx.Add(a3, term.Invoke(Avx.ConvertToVector256Double(w.GetUpper())));
            }
            for (; i <= n - 4; i += 4)
                a0 = Avx.Add(a0, term.Invoke(Avx.ConvertToVector256Double(Vector128.Load(x + i))));
            Vector256<double> s = Avx.Add(Avx.Add(a0, a1), Avx.Add(a2, a3));
            Vector128<double> q = Sse2.Add(s.GetLower(), s.GetUpper());
            total = q.ToScalar() + q.GetElement(1);
        }
        else
        {
            // Four scalar partials, like the vector paths, so long sums stay accurate and fast.
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (; i <= n - 4; i += 4)
            {
                s0 += term.Invoke(x[i]);
                s1 += term.Invoke(x[i + 1]);
                s2 += term.Invoke(x[i + 2]);
                s3 += term.Invoke(x[i + 3]);
            }
            total = (s0 + s1) + (s2 + s3);
        }
        for (; i < n; i++)
            total += term.Invoke(x[i]);
        return total;
    }
}

/// <summary>fma(alpha, x, y).</summary>
internal readonly struct AxpyOperator(float alpha) : IBinaryOperator
{
    public float Invoke(float x, float y) => MathF.FusedMultiplyAdd(alpha, x, y);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Fma.MultiplyAdd(Vector256.Create(alpha), x, y);
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Avx512F.FusedMultiplyAdd(Vector512.Create(alpha), x, y);
}

/// <summary>fma(alpha, x, beta * y).</summary>
internal readonly struct AxpbyOperator(float alpha, float beta) : IBinaryOperator
{
    public float Invoke(float x, float y) => MathF.FusedMultiplyAdd(alpha, x, beta * y);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) =>
        Fma.MultiplyAdd(Vector256.Create(alpha), x, Avx.Multiply(Vector256.Create(beta), y));
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) =>
        Avx512F.FusedMultiplyAdd(Vector512.Create(alpha), x, Avx512F.Multiply(Vector512.Create(beta), y));
}

/// <summary>x * y.</summary>
internal readonly struct MultiplyOperator : IBinaryOperator
{
    public float Invoke(float x, float y) => x * y;
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Avx.Multiply(x, y);
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Avx512F.Multiply(x, y);
}

/// <summary>x + y.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public float Invoke(float x, float y) => x + y;
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Avx.Add(x, y);
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Avx512F.Add(x, y);
}
