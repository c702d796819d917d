using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Numerics;

namespace Shinso.Kernels.Cpu;

/// <summary>Row-wise softmax and log-sum-exp on row-major matrices, stable for any finite input.</summary>
/// <remarks>
/// Each row is shifted by its maximum before exponentiation, so inputs near +-1000 neither overflow nor
/// underflow to an all-zero row, and -inf entries next to finite ones give exactly 0. A row whose maximum
/// is not finite (all -inf, or containing +inf or NaN) gives NaN probabilities, and log-sum-exp returns that
/// maximum (-inf for an all -inf row, +inf with a +inf entry). The exp is the kernels' own (see
/// <see cref="Activations"/>); sums are float with four vector partials per row.
/// </remarks>
public static unsafe class Softmax
{
    private const int Grain = 16 * 1024;

    /// <summary><c>y[i, j] = exp(x[i, j] - m_i) / sum_k exp(x[i, k] - m_i)</c>, m_i the row maximum.
    /// <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    /// <exception cref="ArgumentException">A span does not hold rows x columns elements, or they overlap other than exactly.</exception>
    public static void Rows(ReadOnlySpan<float> x, int rows, int columns, Span<float> y, CpuKernelOptions options = default)
    {
        KernelChecks.Matrix(x.Length, nameof(x), rows, columns);
        KernelChecks.SameLength(x.Length, nameof(x), y.Length, nameof(y));
        KernelChecks.NoPartialOverlap(x, nameof(x), y, nameof(y));
        if (columns == 0)
            return;
        SimdPath path = options.ResolvedPath;
        fixed (float* px = x)
        fixed (float* py = y)
            KernelParallel.For(new SoftmaxRange(px, py, columns, path), rows, options.ResolvedThreads, Math.Max(1, Grain / columns), alignment: 1);
    }

    /// <summary><c>result[i] = log sum_j exp(x[i, j])</c>, computed as <c>m_i + log sum_j exp(x[i, j] - m_i)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> does not hold rows x columns elements or <paramref name="result"/> is not <paramref name="rows"/> long.</exception>
    public static void LogSumExpRows(ReadOnlySpan<float> x, int rows, int columns, Span<float> result, CpuKernelOptions options = default)
    {
        KernelChecks.Matrix(x.Length, nameof(x), rows, columns);
        if (result.Length != rows)
            throw new ArgumentException($"result has {result.Length} elements but x has {rows} rows.", nameof(result));
        KernelChecks.NoPartialOverlap(x, nameof(x), result, nameof(result));
        SimdPath path = options.ResolvedPath;
        fixed (float* px = x)
        fixed (float* pr = result)
            KernelParallel.For(new LogSumExpRange(px, pr, columns, path), rows, options.ResolvedThreads, Math.Max(1, Grain / Math.Max(1, columns)), alignment: 1);
    }

    private readonly struct SoftmaxRange(float* x, float* y, int columns, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint row = start; row < start + length; row++)
            {
                float* xr = x + row * columns;
                float* yr = y + row * columns;
                float max = Reduction.Max(xr, columns, path);
                Elementwise.Unary(new ExpShiftOperator(max), xr, yr, columns, path);
                float sum = Reduction.Sum(default(IdentityOperator), yr, columns, path);
                Elementwise.Unary(new ScaleOperator(1f / sum), yr, yr, columns, path);
            }
        }
    }

    private readonly struct LogSumExpRange(float* x, float* result, int columns, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            for (nint row = start; row < start + length; row++)
            {
                float* xr = x + row * columns;
                float max = Reduction.Max(xr, columns, path);
                if (!float.IsFinite(max))
                {
                    // Empty or all -inf rows give -inf; a +inf entry gives +inf; NaN stays NaN.
                    result[row] = columns == 0 ? float.NegativeInfinity : ContainsNaN(xr, columns) ? float.NaN : max;
                    continue;
                }
                float sum = Reduction.Sum(new ExpShiftOperator(max), xr, columns, path);
                result[row] = max + MathF.Log(sum);
            }
        }

        private static bool ContainsNaN(float* x, int n)
        {
            for (int i = 0; i < n; i++)
            {
                if (float.IsNaN(x[i]))
                    return true;
            }
            return false;
        }
    }
}

/// <summary>exp(x - shift).</summary>
internal readonly struct ExpShiftOperator(float shift) : IUnaryOperator
{
    public float Invoke(float x) => SimdMath.Exp(x - shift);
    public Vector256<float> Invoke(Vector256<float> x) => SimdMath.Exp(x - Vector256.Create(shift));
    public Vector512<float> Invoke(Vector512<float> x) => SimdMath.Exp(x - Vector512.Create(shift));
}

/// <summary>x * scale.</summary>
internal readonly struct ScaleOperator(float scale) : IUnaryOperator
{
    public float Invoke(float x) => x * scale;
    public Vector256<float> Invoke(Vector256<float> x) => Avx.Multiply(x, Vector256.Create(scale));
    public Vector512<float> Invoke(Vector512<float> x) => Avx512F.Multiply(x, Vector512.Create(scale));
}
