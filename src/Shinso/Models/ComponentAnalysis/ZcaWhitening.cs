using Shinso.Backends;
using Shinso.IO;
using Shinso.Operations;

namespace Shinso.Models.ComponentAnalysis;

/// <summary>
/// ZCA whitening (Bell &amp; Sejnowski 1997): <c>x ← (x − μ) W</c> with <c>W = V diag(1/√(λ + ε)) Vᵀ</c> from the eigenvectors V and
/// eigenvalues λ of the data's covariance (<see cref="PrincipalComponents"/>, all components). The whitened data has (nearly) the
/// identity covariance and stays as close to the original as a whitening can; ε keeps the near-null directions (a centred patch
/// has one exactly) from being blown up.
/// </summary>
public sealed class ZcaWhitening
{
    /// <summary>Builds a whitening from its parts.</summary>
    /// <exception cref="ArgumentException">The mean is not <c>features</c> long or the matrix not <c>features²</c>.</exception>
    /// <param name="mean">The data's mean μ.</param>
    /// <param name="matrix">The symmetric whitening matrix.</param>
    /// <param name="rank">The directions with variance (the covariance's eigenvalues above a millionth of the largest); null: all.</param>
    public ZcaWhitening(float[] mean, float[] matrix, int? rank = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(matrix);
        if (mean.Length == 0 || matrix.Length != (long)mean.Length * mean.Length)
            throw new ArgumentException($"A whitening of {mean.Length} values needs a {mean.Length} x {mean.Length} matrix, not {matrix.Length} values.", nameof(matrix));
        foreach (float v in mean) if (!float.IsFinite(v)) throw new ArgumentException("The whitening's mean holds a value that is not finite.", nameof(mean));
        foreach (float v in matrix) if (!float.IsFinite(v)) throw new ArgumentException("The whitening matrix holds a value that is not finite.", nameof(matrix));
        Mean = mean;
        Matrix = matrix;
        Rank = rank is { } r ? Math.Clamp(r, 0, mean.Length) : mean.Length;
    }

    /// <summary>The dimensions the whitened data spans: the covariance's eigenvalues above a millionth of the largest (a centred patch loses one).</summary>
    public int Rank { get; }

    /// <summary>Values per row.</summary>
    public int FeatureCount => Mean.Length;

    /// <summary>The data's mean μ.</summary>
    public float[] Mean { get; }

    /// <summary>The symmetric whitening matrix W, row-major [features, features].</summary>
    public float[] Matrix { get; }

    /// <summary>The regulariser ε added to each eigenvalue unless one is given (for unit-norm 8x8 patches the covariance's spectrum spans ~1e-1 down to ~1e-4).</summary>
    public const double DefaultEpsilon = 1e-3;

    /// <summary>Fits the whitening of <paramref name="data"/> (rows of <paramref name="features"/> values).</summary>
    /// <exception cref="ArgumentException">Fewer than two rows, a value that is not finite, or ε not positive.</exception>
    public static ZcaWhitening Fit(IBackend backend, ReadOnlySpan<float> data, int features, double epsilon = DefaultEpsilon)
    {
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) throw new ArgumentException($"epsilon must be positive, got {epsilon}.", nameof(epsilon));
        var pca = PrincipalComponents.Fit(backend, data, features, features);
        var matrix = new float[features * features];
        for (int i = 0; i < features; i++)
            for (int j = 0; j < features; j++)
            {
                double sum = 0;
                for (int c = 0; c < features; c++)
                    sum += pca.Components[c * features + i] * pca.Components[c * features + j] / Math.Sqrt(Math.Max(pca.Variances[c], 0) + epsilon);
                matrix[i * features + j] = (float)sum;
            }
        int rank = pca.Variances.Count(v => v > 1e-6 * pca.Variances[0]);
        return new ZcaWhitening(Array.ConvertAll(pca.Mean, v => (float)v), matrix, rank);
    }

    /// <summary>Whitens the rows of <paramref name="data"/> in place, by backend GEMMs over blocks of rows.</summary>
    public void Apply(IBackend backend, Span<float> data)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int f = FeatureCount;
        if (data.Length % f != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {f}.", nameof(data));
        int n = data.Length / f;
        if (n == 0) return;
        int block = Math.Min(4096, n);
        var w = backend.Allocate(f, f);
        backend.Upload(Matrix, w);
        var x = backend.Allocate(block, f);
        var y = backend.Allocate(block, f);
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            var part = data.Slice(start * f, rows * f);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < f; j++) part[r * f + j] -= Mean[j];
            var xs = x.SliceRows(0, rows);
            var ys = y.SliceRows(0, rows);
            backend.Upload(part, xs);
            backend.Gemm(Transpose.None, Transpose.None, 1f, xs, w, 0f, ys);
            backend.Download(ys, part);
        }
    }

    /// <summary>Adds the whitening to <paramref name="document"/> as tensors <c>whitening/mean</c> and <c>whitening/matrix</c>.</summary>
    public void AddTo(ModelDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        document.Add("whitening/mean", [FeatureCount], Mean);
        document.Add("whitening/matrix", [FeatureCount, FeatureCount], Matrix);
    }

    /// <summary>The whitening of <paramref name="features"/> values a document holds (<see cref="AddTo"/>).</summary>
    /// <exception cref="ModelFileException">A tensor is missing, misshapen or not finite.</exception>
    public static ZcaWhitening FromDocument(ModelDocument document, int features, string source)
    {
        ArgumentNullException.ThrowIfNull(document);
        const string neededBy = "a whitened model";
        return new ZcaWhitening(document.FiniteTensor("whitening/mean", [features], source, neededBy),
            document.FiniteTensor("whitening/matrix", [features, features], source, neededBy));
    }
}
