namespace Shinso.Data;

/// <summary>Per-feature mean and standard deviation, computed on one data set and applied to any other.</summary>
public sealed class NormalizationStatistics
{
    /// <summary>The default threshold below which a feature is treated as constant (only centred).</summary>
    public const float DefaultMinimumStandardDeviation = 1e-3f;

    private readonly float[] _mean;
    private readonly float[] _standardDeviation;
    private readonly float[] _inverseScale;

    /// <summary>Creates statistics from stored values (e.g. read back from a model file).</summary>
    /// <param name="mean">The mean of each feature.</param>
    /// <param name="standardDeviation">The (population) standard deviation of each feature.</param>
    /// <param name="minimumStandardDeviation">Features whose standard deviation is at or below this are divided by 1 instead.</param>
    /// <exception cref="ArgumentException">The arrays differ in length.</exception>
    public NormalizationStatistics(float[] mean, float[] standardDeviation, float minimumStandardDeviation = DefaultMinimumStandardDeviation)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(standardDeviation);
        if (mean.Length != standardDeviation.Length)
            throw new ArgumentException($"{mean.Length} means but {standardDeviation.Length} standard deviations.", nameof(standardDeviation));
        _mean = (float[])mean.Clone();
        _standardDeviation = (float[])standardDeviation.Clone();
        MinimumStandardDeviation = minimumStandardDeviation;
        _inverseScale = new float[mean.Length];
        for (int j = 0; j < mean.Length; j++)
            _inverseScale[j] = standardDeviation[j] > minimumStandardDeviation ? 1f / standardDeviation[j] : 1f;
    }

    /// <summary>The mean of each feature.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The population standard deviation of each feature.</summary>
    public IReadOnlyList<float> StandardDeviation => _standardDeviation;

    /// <summary>What each feature is multiplied by after centring: <c>1 / std</c>, or 1 for a feature treated as constant.</summary>
    public IReadOnlyList<float> InverseScale => _inverseScale;

    /// <summary>Features whose standard deviation is at or below this are only centred.</summary>
    public float MinimumStandardDeviation { get; }

    /// <summary>The number of features.</summary>
    public int FeatureCount => _mean.Length;

    /// <summary>Computes the statistics of <paramref name="count"/> row-major samples (in double precision).</summary>
    public static NormalizationStatistics Compute(ReadOnlySpan<float> features, int count, int featureCount,
        float minimumStandardDeviation = DefaultMinimumStandardDeviation)
    {
        if (features.Length != (long)count * featureCount)
            throw new ArgumentException($"{count} samples of {featureCount} features need {(long)count * featureCount} floats, {features.Length} were given.", nameof(features));
        var sum = new double[featureCount];
        for (int i = 0; i < count; i++)
        {
            var row = features.Slice(i * featureCount, featureCount);
            for (int j = 0; j < featureCount; j++) sum[j] += row[j];
        }
        var mean = new double[featureCount];
        for (int j = 0; j < featureCount; j++) mean[j] = count == 0 ? 0 : sum[j] / count;
        var squares = new double[featureCount];
        for (int i = 0; i < count; i++)
        {
            var row = features.Slice(i * featureCount, featureCount);
            for (int j = 0; j < featureCount; j++)
            {
                double d = row[j] - mean[j];
                squares[j] += d * d;
            }
        }
        var m = new float[featureCount];
        var s = new float[featureCount];
        for (int j = 0; j < featureCount; j++)
        {
            m[j] = (float)mean[j];
            s[j] = count == 0 ? 0f : (float)Math.Sqrt(squares[j] / count);
        }
        return new NormalizationStatistics(m, s, minimumStandardDeviation);
    }

    /// <summary>Standardizes row-major samples in place: <c>x = (x - mean) / std</c> per feature.</summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="FeatureCount"/>.</exception>
    public void Apply(Span<float> features)
    {
        int n = FeatureCount;
        if (n == 0 ? features.Length != 0 : features.Length % n != 0)
            throw new ArgumentException($"{features.Length} floats are not whole samples of {n} features.", nameof(features));
        for (int offset = 0; offset < features.Length; offset += n)
        {
            var row = features.Slice(offset, n);
            for (int j = 0; j < n; j++) row[j] = (row[j] - _mean[j]) * _inverseScale[j];
        }
    }
}
