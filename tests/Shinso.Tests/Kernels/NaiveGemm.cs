using Shinso.Backends;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

/// <summary>
/// The reference SGEMM the optimized kernels are checked against: the textbook triple loop with
/// double accumulation, plus the per-element error scale sum |alpha*a*b| + |beta*c| that a
/// float kernel's rounding error is proportional to.
/// </summary>
internal static class NaiveGemm
{
    /// <summary>Returns C = alpha*op(A)*op(B) + beta*C (C unread when beta == 0) as an m x n dense
    /// double array, and in <paramref name="magnitude"/> each element's error scale.</summary>
    public static double[] Compute(Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc, out double[] magnitude)
    {
        var result = new double[m * n];
        magnitude = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, sumAbs = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA == Transpose.None ? a[i * lda + p] : a[p * lda + i];
                    double bv = transB == Transpose.None ? b[p * ldb + j] : b[j * ldb + p];
                    sum += av * bv;
                    sumAbs += Math.Abs(av * bv);
                }
                double old = beta == 0f ? 0 : (double)beta * c[i * ldc + j];
                result[i * n + j] = alpha * sum + old;
                magnitude[i * n + j] = Math.Abs(alpha) * sumAbs + Math.Abs(old);
            }
        }
        return result;
    }
}
