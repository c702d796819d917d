using Shinso.Backends;
using Shinso.Models.ComponentAnalysis;
using Shinso.Numerics;
using Shinso.Random;

namespace Shinso.Tests.Autoencoders;

/// <summary>
/// The symmetric eigensolver and PCA against a cyclic Jacobi eigendecomposition written here in double precision
/// (a different algorithm: plane rotations until the off-diagonal vanishes).
/// </summary>
public class PrincipalComponentsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 3)]
    [InlineData(17, 4)]
    [InlineData(40, 5)]
    public void Eigenpairs_match_a_jacobi_decomposition_and_reconstruct_the_matrix(int n, ulong seed)
    {
        var a = RandomSymmetric(n, seed);
        var eigen = SymmetricEigen.Of(a, n);
        var (values, _) = Jacobi(a, n);
        Array.Sort(values, (x, y) => y.CompareTo(x));
        for (int j = 0; j < n; j++) Assert.Equal(values[j], eigen.Values[j], 1e-9 * Math.Max(1, Math.Abs(values[j])));
        // V diag(values) Vᵀ = A, Vᵀ V = I.
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double back = 0, gram = 0;
                for (int j = 0; j < n; j++)
                {
                    back += eigen.Vectors[i * n + j] * eigen.Values[j] * eigen.Vectors[k * n + j];
                    gram += eigen.Vectors[j * n + i] * eigen.Vectors[j * n + k];
                }
                Assert.Equal(a[i * n + k], back, 1e-10);
                Assert.Equal(i == k ? 1.0 : 0.0, gram, 1e-12);
            }
        for (int j = 1; j < n; j++) Assert.True(eigen.Values[j - 1] >= eigen.Values[j]);
    }

    [Fact]
    public void Repeated_eigenvalues_and_a_diagonal_matrix_are_exact()
    {
        var eigen = SymmetricEigen.Of([2, 0, 0, 0, 5, 0, 0, 0, 2], 3);
        Assert.Equal([5.0, 2.0, 2.0], eigen.Values);
        Assert.Equal(1.0, Math.Abs(eigen.Vectors[1 * 3 + 0]), 15);
    }

    [Theory]
    [InlineData(60, 6, 2, 11)]
    [InlineData(300, 10, 4, 12)]
    [InlineData(2500, 8, 3, 13)]
    public void Components_and_explained_variance_match_the_exact_eigendecomposition(int rows, int features, int components, ulong seed)
    {
        // Correlated data: a random mixing of independent columns of decreasing scale, shifted off zero.
        var stream = new RandomStream(seed, 1);
        var raw = new float[rows * features];
        var mixing = new double[features * features];
        var uniform = new float[rows * features + features * features];
        using var backend = new CpuBackend();
        var u = backend.Allocate(uniform.Length);
        backend.SampleGaussian(stream, 0, 0f, 1f, u);
        u.Span.CopyTo(uniform);
        for (int i = 0; i < mixing.Length; i++) mixing[i] = uniform[rows * features + i];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < features; j++)
            {
                double v = 3 + j;
                for (int k = 0; k < features; k++) v += uniform[r * features + k] * (features - k) * mixing[k * features + j] / features;
                raw[r * features + j] = (float)v;
            }
        var pca = PrincipalComponents.Fit(backend, raw, features, components);

        var mean = new double[features];
        for (int r = 0; r < rows; r++) for (int j = 0; j < features; j++) mean[j] += raw[r * features + j];
        for (int j = 0; j < features; j++) mean[j] /= rows;
        var covariance = new double[features * features];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < features; i++)
                for (int j = 0; j < features; j++) covariance[i * features + j] += (raw[r * features + i] - mean[i]) * (raw[r * features + j] - mean[j]) / rows;
        var (values, vectors) = Jacobi(covariance, features);
        var order = Enumerable.Range(0, features).OrderByDescending(j => values[j]).ToArray();
        double total = values.Sum();
        Assert.Equal(total, pca.TotalVariance, 1e-4 * total);
        for (int c = 0; c < components; c++)
        {
            int j = order[c];
            Assert.Equal(values[j] / total, pca.ExplainedVarianceRatio[c], 1e-4);
            // Up to sign: |<v_exact, v_pca>| = 1.
            double dot = 0;
            for (int i = 0; i < features; i++) dot += vectors[i * features + j] * pca.Components[c * features + i];
            Assert.Equal(1.0, Math.Abs(dot), 1e-4);
        }
        for (int j = 0; j < features; j++) Assert.Equal(mean[j], pca.Mean[j], 1e-5 * Math.Max(1, Math.Abs(mean[j])));

        // The reconstruction error is the variance left out: sum of the dropped eigenvalues (per sample, over all values).
        double dropped = order.Skip(components).Sum(j => values[j]);
        Assert.Equal(dropped, pca.ReconstructionError(backend, raw), 1e-3 * Math.Max(1, dropped));
        // With every component the reconstruction is the data.
        var full = PrincipalComponents.Fit(backend, raw, features, features);
        Assert.True(full.ReconstructionError(backend, raw) < 1e-6 * total);
    }

    [Fact]
    public void Bad_arguments_say_what_was_expected()
    {
        using var backend = new CpuBackend();
        Assert.Contains("1..3", Assert.Throws<ArgumentOutOfRangeException>(() => PrincipalComponents.Fit(backend, new float[6], 3, 4)).Message);
        Assert.Contains("at least two samples", Assert.Throws<ArgumentException>(() => PrincipalComponents.Fit(backend, new float[3], 3, 1)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => PrincipalComponents.Fit(backend, [0, 1, float.NaN, 2, 3, 4], 3, 1)).Message);
        Assert.Contains("not whole rows", Assert.Throws<ArgumentException>(() => PrincipalComponents.Fit(backend, new float[7], 3, 1)).Message);
    }

    private static double[] RandomSymmetric(int n, ulong seed)
    {
        using var backend = new CpuBackend();
        var t = backend.Allocate(n * n);
        backend.SampleGaussian(new RandomStream(seed, 2), 0, 0f, 1f, t);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = t.Span[i * n + j];
        return a;
    }

    /// <summary>Cyclic Jacobi: values, and vectors as columns of a row-major matrix.</summary>
    private static (double[] Values, double[] Vectors) Jacobi(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p * n + q] == 0) continue;
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i * n + i];
        return (values, v);
    }
}
