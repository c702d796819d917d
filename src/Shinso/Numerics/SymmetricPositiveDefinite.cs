using System.Numerics.Tensors;

namespace Shinso.Numerics;

/// <summary>
/// The inverse of a symmetric positive-definite matrix in double precision by its Cholesky factor,
/// <c>A⁻¹ = L⁻ᵀ L⁻¹</c>. Every inner loop is a dot product of two contiguous row pieces (vectorised), about n³ multiply-adds in all.
/// </summary>
public static class SymmetricPositiveDefinite
{
    /// <summary>Replaces the n x n row-major <paramref name="matrix"/> (only its lower triangle is read) by its inverse.</summary>
    /// <exception cref="ArgumentException">The length is not n².</exception>
    /// <exception cref="ArithmeticException">A pivot is not positive: the matrix is not positive definite (or not finite).</exception>
    public static void Invert(Span<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (matrix.Length != (long)n * n) throw new ArgumentException($"A {n} x {n} matrix has {(long)n * n} values, not {matrix.Length}.", nameof(matrix));
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var li = l.AsSpan(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                double s = matrix[i * n + j] - TensorPrimitives.Dot<double>(li[..j], l.AsSpan(j * n, j));
                if (i == j)
                {
                    if (!(s > 0)) throw new ArithmeticException($"Pivot {i} is {s}: the matrix is not positive definite.");
                    li[i] = Math.Sqrt(s);
                }
                else li[j] = s / l[j * n + j];
            }
        }
        // U = (L⁻¹)ᵀ, upper triangular: row j of U is column j of L⁻¹, so forward substitution reads contiguous rows.
        var u = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            var uj = u.AsSpan(j * n, n);
            for (int i = j; i < n; i++)
            {
                double s = (i == j ? 1 : 0) - TensorPrimitives.Dot<double>(l.AsSpan(i * n + j, i - j), uj[j..i]);
                uj[i] = s / l[i * n + i];
            }
        }
        // (A⁻¹)_ab = Σ_k L⁻¹_ka L⁻¹_kb = Σ_{k >= max(a, b)} U_ak U_bk.
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++)
                matrix[a * n + b] = matrix[b * n + a] = TensorPrimitives.Dot<double>(u.AsSpan(a * n + a, n - a), u.AsSpan(b * n + a, n - a));
    }
}
