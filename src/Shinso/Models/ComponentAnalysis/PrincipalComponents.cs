using Shinso.Backends;
using Shinso.Numerics;
using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Models.ComponentAnalysis;

/// <summary>
/// Principal component analysis: the mean, and the leading eigenvectors of the covariance <c>(1/n) sum (x - mean)(x - mean)ᵀ</c>
/// from <see cref="SymmetricEigen"/>. The covariance is summed in double precision from backend GEMMs over blocks of rows;
/// projections and reconstructions run as backend GEMMs. The baseline Hinton &amp; Salakhutdinov (2006) compare deep
/// autoencoders with: the best linear code of a given size in squared error.
/// </summary>
public sealed class PrincipalComponents
{
    /// <summary>Rows per covariance GEMM: float sums over blocks this long stay accurate; the blocks add in double.</summary>
    public const int CovarianceBlockRows = 1024;

    private PrincipalComponents(double[] mean, double[] components, double[] variances, int features, int count, double totalVariance)
    {
        Mean = mean;
        Components = components;
        Variances = variances;
        FeatureCount = features;
        ComponentCount = count;
        TotalVariance = totalVariance;
    }

    /// <summary>Values per sample.</summary>
    public int FeatureCount { get; }

    /// <summary>Components kept.</summary>
    public int ComponentCount { get; }

    /// <summary>The data's mean.</summary>
    public double[] Mean { get; }

    /// <summary>The components, row-major [ComponentCount, FeatureCount], unit length, by decreasing variance (each up to sign).</summary>
    public double[] Components { get; }

    /// <summary>The variance along each kept component (the covariance's eigenvalues).</summary>
    public double[] Variances { get; }

    /// <summary>The trace of the covariance: the variance of all components.</summary>
    public double TotalVariance { get; }

    /// <summary>The share of the total variance each kept component explains.</summary>
    public double[] ExplainedVarianceRatio => [.. Variances.Select(v => TotalVariance > 0 ? v / TotalVariance : 0)];

    /// <summary>Fits <paramref name="components"/> components to <paramref name="data"/> (rows of <paramref name="features"/> values).</summary>
    /// <param name="backend">Where the covariance GEMMs run.</param>
    /// <param name="data">Row-major samples.</param>
    /// <param name="features">Values per sample.</param>
    /// <param name="components">Components to keep, 1 to <paramref name="features"/>.</param>
    /// <exception cref="ArgumentException">The data is not whole rows, has fewer than two, or holds a value that is not finite; or the component count is outside 1..features.</exception>
    public static PrincipalComponents Fit(IBackend backend, ReadOnlySpan<float> data, int features, int components)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (data.Length % features != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {features}.", nameof(data));
        int n = data.Length / features;
        if (n < 2) throw new ArgumentException($"PCA needs at least two samples, got {n}.", nameof(data));
        if (components < 1 || components > features)
            throw new ArgumentOutOfRangeException(nameof(components), components, $"The number of components must lie in 1..{features} (the values per sample).");
        var mean = new double[features];
        for (int r = 0; r < n; r++)
        {
            var row = data.Slice(r * features, features);
            for (int j = 0; j < features; j++)
            {
                if (!float.IsFinite(row[j])) throw new ArgumentException($"Sample {r} value {j} is {row[j]}; PCA needs finite values.", nameof(data));
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < features; j++) mean[j] /= n;

        int block = Math.Min(CovarianceBlockRows, n);
        var host = new float[block * features];
        var centred = backend.Allocate(block, features);
        var product = backend.Allocate(features, features);
        var hostProduct = new float[features * features];
        var covariance = new double[features * features];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            for (int r = 0; r < rows; r++)
            {
                var row = data.Slice((start + r) * features, features);
                for (int j = 0; j < features; j++) host[r * features + j] = (float)(row[j] - mean[j]);
            }
            var x = centred.SliceRows(0, rows);
            backend.Upload(host.AsSpan(0, rows * features), x);
            backend.Gemm(Transpose.Transposed, Transpose.None, 1f, x, x, 0f, product);
            backend.Download(product, hostProduct);
            for (int i = 0; i < covariance.Length; i++) covariance[i] += hostProduct[i];
        }
        double trace = 0;
        for (int i = 0; i < covariance.Length; i++) covariance[i] /= n;
        for (int j = 0; j < features; j++) trace += covariance[j * features + j];

        var eigen = SymmetricEigen.Of(covariance, features);
        var kept = new double[components * features];
        for (int c = 0; c < components; c++)
            for (int j = 0; j < features; j++) kept[c * features + j] = eigen.Vectors[j * features + c];
        return new PrincipalComponents(mean, kept, eigen.Values[..components], features, components, trace);
    }

    /// <summary>The codes <c>(x - mean) Vᵀ</c> of <paramref name="data"/>, [rows, ComponentCount].</summary>
    public float[] Project(IBackend backend, ReadOnlySpan<float> data)
    {
        var codes = new float[data.Length / FeatureCount * ComponentCount];
        Run(backend, data, codes, null);
        return codes;
    }

    /// <summary>
    /// The mean over samples of the squared error summed over each sample's values between <paramref name="data"/> and
    /// its reconstruction <c>mean + (x - mean) Vᵀ V</c> from the kept components: the measure of Hinton &amp; Salakhutdinov's Fig. 2.
    /// </summary>
    public double ReconstructionError(IBackend backend, ReadOnlySpan<float> data)
    {
        double sum = 0;
        Run(backend, data, null, (sample, reconstruction) =>
        {
            double e = 0;
            for (int j = 0; j < sample.Length; j++)
            {
                double d = sample[j] - reconstruction[j];
                e += d * d;
            }
            sum += e;
        });
        return sum / (data.Length / FeatureCount);
    }

    /// <summary>The reconstructions of <paramref name="data"/> from the kept components.</summary>
    public float[] Reconstruct(IBackend backend, ReadOnlySpan<float> data)
    {
        var result = new float[data.Length];
        int row = 0;
        Run(backend, data, null, (_, reconstruction) => reconstruction.CopyTo(result.AsSpan(row++ * FeatureCount, FeatureCount)));
        return result;
    }

    private delegate void RowVisitor(ReadOnlySpan<float> sample, ReadOnlySpan<float> reconstruction);

    /// <summary>Projects blocks of rows (codes into <paramref name="codes"/>) and, with a visitor, reconstructs them.</summary>
    private void Run(IBackend backend, ReadOnlySpan<float> data, float[]? codes, RowVisitor? visit)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (data.Length % FeatureCount != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {FeatureCount}.", nameof(data));
        int n = data.Length / FeatureCount, k = ComponentCount, f = FeatureCount;
        if (n == 0) return;
        var basis = backend.Allocate(k, f);
        backend.Upload(Array.ConvertAll(Components, v => (float)v), basis);
        int block = Math.Min(CovarianceBlockRows, n);
        var host = new float[block * f];
        var hostCodes = new float[block * k];
        var hostBack = new float[block * f];
        var x = backend.Allocate(block, f);
        var z = backend.Allocate(block, k);
        var back = backend.Allocate(block, f);
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < f; j++) host[r * f + j] = (float)(data[(start + r) * f + j] - Mean[j]);
            var xs = x.SliceRows(0, rows);
            var zs = z.SliceRows(0, rows);
            backend.Upload(host.AsSpan(0, rows * f), xs);
            backend.Gemm(Transpose.None, Transpose.Transposed, 1f, xs, basis, 0f, zs);
            if (codes is not null) backend.Download(zs, codes.AsSpan(start * k, rows * k));
            if (visit is null) continue;
            var bs = back.SliceRows(0, rows);
            backend.Gemm(Transpose.None, Transpose.None, 1f, zs, basis, 0f, bs);
            backend.Download(bs, hostBack.AsSpan(0, rows * f));
            for (int r = 0; r < rows; r++)
            {
                var reconstruction = hostBack.AsSpan(r * f, f);
                for (int j = 0; j < f; j++) reconstruction[j] = (float)(reconstruction[j] + Mean[j]);
                visit(data.Slice((start + r) * f, f), reconstruction);
            }
        }
    }
}
