using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Numerics;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// CPU kernels for restricted Boltzmann machines: softplus row sums (free energies), column scaling
/// (Gaussian visible units), a scaled sigmoid (the negated negative-phase statistics of CD) and the
/// per-unit statistics for learning Gaussian standard deviations.
/// </summary>
/// <remarks>
/// The kernels run on one thread; they touch rows x columns elements of matrices that live in cache
/// next to the GEMMs that dominate RBM training. The Avx512 path evaluates <see cref="SimdMath"/>'s exp and
/// log on 16 lanes; the other paths use the scalar twins of the same functions.
/// </remarks>
public static class BoltzmannKernels
{
    /// <summary>
    /// <c>result[i] = sum_j softplus(scale * x[i, j])</c> with <c>softplus(y) = log(1 + e^y)</c>, evaluated as
    /// <c>max(y, 0) + log(1 + e^-|y|)</c> (stable for any finite y); each row is summed in double.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match <paramref name="rows"/> x <paramref name="columns"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftplusSumRows(ReadOnlySpan<float> x, int rows, int columns, float scale, Span<float> result, CpuKernelOptions options = default)
    {
        Check(x.Length, rows, columns, nameof(x));
        if (result.Length != rows) throw new ArgumentException($"result has {result.Length} elements but x has {rows} rows.", nameof(result));
        bool wide = options.ResolvedPath == SimdPath.Avx512;
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * columns, columns);
            double sum = 0;
            int j = 0;
            if (wide)
            {
                Vector512<float> acc = Vector512<float>.Zero;
                Vector512<float> s = Vector512.Create(scale);
                for (; j <= columns - 16; j += 16)
                {
                    Vector512<float> y = Vector512.Create(row.Slice(j, 16)) * s;
                    acc += Softplus(y);
                }
                sum = Vector512.Sum(acc);
            }
            for (; j < columns; j++) sum += Softplus(scale * row[j]);
            result[i] = (float)sum;
        }
    }

    /// <summary><c>result[i, j] = matrix[i, j] * scale[j]</c>; <paramref name="result"/> may be <paramref name="matrix"/>.</summary>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void ScaleColumns(ReadOnlySpan<float> matrix, int rows, int columns, ReadOnlySpan<float> scale, Span<float> result)
    {
        Check(matrix.Length, rows, columns, nameof(matrix));
        Check(result.Length, rows, columns, nameof(result));
        if (scale.Length != columns) throw new ArgumentException($"scale has {scale.Length} elements but the matrix has {columns} columns.", nameof(scale));
        for (int i = 0; i < rows; i++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(matrix.Slice(i * columns, columns), scale, result.Slice(i * columns, columns));
    }

    /// <summary><c>y = scale * sigmoid(x)</c>, elementwise; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledSigmoid(ReadOnlySpan<float> x, float scale, Span<float> y, CpuKernelOptions options = default)
    {
        if (x.Length != y.Length) throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}.", nameof(y));
        int i = 0;
        if (options.ResolvedPath == SimdPath.Avx512)
        {
            Vector512<float> s = Vector512.Create(scale);
            for (; i <= x.Length - 16; i += 16)
                (s * SimdMath.Sigmoid(Vector512.Create(x.Slice(i, 16)))).CopyTo(y.Slice(i, 16));
        }
        for (; i < x.Length; i++) y[i] = scale * SimdMath.Sigmoid(x[i]);
    }

    /// <summary>
    /// Statistics for learning the log standard deviations of Gaussian visible units:
    /// <c>result[j] = beta * result[j] + sum_i [(v[i,j] - b[j])^2 / sigma[j]^2 - v[i,j] * drive[i,j] / sigma[j]]</c>,
    /// where <c>drive = h W^T</c>. This is <c>-dE/d(log sigma_j)</c> summed over the rows.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void GaussianScaleStatistics(ReadOnlySpan<float> visible, ReadOnlySpan<float> drive, int rows, int columns,
        ReadOnlySpan<float> visibleBias, ReadOnlySpan<float> sigma, Span<float> result, float beta)
    {
        Check(visible.Length, rows, columns, nameof(visible));
        Check(drive.Length, rows, columns, nameof(drive));
        if (visibleBias.Length != columns) throw new ArgumentException($"visibleBias has {visibleBias.Length} elements, expected {columns}.", nameof(visibleBias));
        if (sigma.Length != columns) throw new ArgumentException($"sigma has {sigma.Length} elements, expected {columns}.", nameof(sigma));
        if (result.Length != columns) throw new ArgumentException($"result has {result.Length} elements, expected {columns}.", nameof(result));
        for (int j = 0; j < columns; j++)
        {
            double acc = 0;
            double s = sigma[j], b = visibleBias[j];
            for (int i = 0; i < rows; i++)
            {
                double v = visible[i * columns + j];
                double d = v - b;
                acc += d * d / (s * s) - v * drive[i * columns + j] / s;
            }
            result[j] = (float)(beta * result[j] + acc);
        }
    }

    /// <summary>softplus(y) = log(1 + e^y) per lane, as <c>max(y, 0) + log(1 + e^-|y|)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Softplus(Vector512<float> y)
    {
        Vector512<float> a = Vector512.Abs(y);
        return Avx512F.Max(y, Vector512<float>.Zero) + SimdMath.LogPositive(Vector512<float>.One + SimdMath.Exp(-a));
    }

    /// <summary>softplus(y) = log(1 + e^y), as <c>max(y, 0) + log(1 + e^-|y|)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Softplus(float y) => MathF.Max(y, 0f) + SimdMath.LogPositive(1f + SimdMath.Exp(-MathF.Abs(y)));

    private static void Check(int length, int rows, int columns, string name)
    {
        if (length != (long)rows * columns) throw new ArgumentException($"{name} has {length} elements but {rows} x {columns} needs {(long)rows * columns}.", name);
    }
}
