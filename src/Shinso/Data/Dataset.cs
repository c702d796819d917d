using Shinso.Random;

namespace Shinso.Data;

/// <summary>
/// An in-memory labelled data set: <see cref="Count"/> samples of <see cref="FeatureCount"/> float
/// features each (row-major in <see cref="Features"/>) and one class label per sample.
/// </summary>
/// <remarks>
/// A data set treats its arrays as immutable: every transformation (<see cref="Normalize()"/>,
/// <see cref="Binarize"/>, <see cref="Subset"/>, ...) returns a new data set and leaves this one
/// unchanged. Callers that write into <see cref="Features"/> or <see cref="Labels"/> change
/// every data set sharing them.
/// </remarks>
public sealed class Dataset
{
    private readonly int[] _sampleShape;

    /// <summary>Creates a data set from row-major features, with samples of the given shape.</summary>
    /// <param name="features">Row-major features, <c>labels.Length x product(sampleShape)</c>.</param>
    /// <param name="labels">One class label per sample, each in <c>[0, classCount)</c>.</param>
    /// <param name="classCount">The number of classes.</param>
    /// <param name="sampleShape">The shape of one sample, e.g. <c>[28, 28]</c>; its product is <see cref="FeatureCount"/>.</param>
    /// <exception cref="ArgumentException">The lengths do not agree or a label is out of range.</exception>
    public Dataset(float[] features, int[] labels, int classCount, IReadOnlyList<int> sampleShape)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        long featureCount = 1;
        foreach (int d in sampleShape)
        {
            if (d < 0) throw new ArgumentException($"Sample shape [{string.Join(", ", sampleShape)}] has a negative dimension.", nameof(sampleShape));
            featureCount *= d;
        }
        if (featureCount * labels.Length != features.Length)
            throw new ArgumentException(
                $"{labels.Length} samples of {featureCount} features need {featureCount * labels.Length} floats, but {features.Length} were given.",
                nameof(features));
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classCount}).", nameof(labels));
        }
        Features = features;
        Labels = labels;
        ClassCount = classCount;
        FeatureCount = (int)featureCount;
        _sampleShape = [.. sampleShape];
    }

    /// <summary>Creates a data set of flat samples of <paramref name="featureCount"/> features.</summary>
    /// <exception cref="ArgumentException">The lengths do not agree or a label is out of range.</exception>
    public Dataset(float[] features, int[] labels, int classCount, int featureCount)
        : this(features, labels, classCount, [featureCount])
    {
    }

    /// <summary>The features, row-major: sample i is <c>Features[i * FeatureCount .. (i + 1) * FeatureCount)</c>.</summary>
    public float[] Features { get; }

    /// <summary>The class label of each sample, in <c>[0, ClassCount)</c>.</summary>
    public int[] Labels { get; }

    /// <summary>The number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>The number of features per sample.</summary>
    public int FeatureCount { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The shape of one sample, e.g. <c>[28, 28]</c> for images; its product is <see cref="FeatureCount"/>.</summary>
    public IReadOnlyList<int> SampleShape => _sampleShape;

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"Sample {index} is outside [0, {Count}).");
        return Features.AsSpan(index * FeatureCount, FeatureCount);
    }

    /// <summary>
    /// Reads an IDX image file and its label file: pixels are scaled from bytes to [0, 1]
    /// (<c>byte / 255</c>) and each sample has shape <c>[rows, cols]</c>.
    /// </summary>
    /// <param name="imagesPath">An IDX image file (magic 0x00000803), raw or gzip'd.</param>
    /// <param name="labelsPath">The matching IDX label file (magic 0x00000801).</param>
    /// <param name="classCount">The number of classes, or 0 to use the largest label + 1.</param>
    /// <exception cref="IdxFormatException">A file is malformed, the counts differ, or a label is not below <paramref name="classCount"/>.</exception>
    public static Dataset FromIdx(string imagesPath, string labelsPath, int classCount = 0)
    {
        var (pixels, labelBytes, count, rows, cols) = IdxReader.ReadImagesAndLabels(imagesPath, labelsPath);
        var labels = new int[count];
        int maxLabel = -1;
        for (int i = 0; i < count; i++)
        {
            labels[i] = labelBytes[i];
            maxLabel = Math.Max(maxLabel, labels[i]);
        }
        if (classCount <= 0) classCount = Math.Max(1, maxLabel + 1);
        else if (maxLabel >= classCount)
            throw new IdxFormatException(labelsPath, "labels",
                $"expected values in [0, {classCount}), found {maxLabel} (item {Array.IndexOf(labels, maxLabel)})");

        Span<float> scaled = stackalloc float[256];
        for (int b = 0; b < 256; b++) scaled[b] = b / 255f;
        var features = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) features[i] = scaled[pixels[i]];
        return new Dataset(features, labels, classCount, [rows, cols]);
    }

    /// <summary>
    /// The same samples with <paramref name="classCount"/> classes, e.g. a subset that lacks the last classes given the
    /// class count of the model it feeds (one-hot targets get that many columns).
    /// </summary>
    /// <exception cref="ArgumentException">A label is not below <paramref name="classCount"/>.</exception>
    public Dataset WithClassCount(int classCount) => classCount == ClassCount ? this : new Dataset(Features, Labels, classCount, _sampleShape);

    /// <summary>The number of samples in each class (length <see cref="ClassCount"/>).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>Per-feature mean and standard deviation over this data set.</summary>
    /// <param name="minimumStandardDeviation">Features whose standard deviation is at or below this are only centred (divided by 1).</param>
    public NormalizationStatistics ComputeNormalization(float minimumStandardDeviation = NormalizationStatistics.DefaultMinimumStandardDeviation) =>
        NormalizationStatistics.Compute(Features, Count, FeatureCount, minimumStandardDeviation);

    /// <summary>
    /// Standardizes every feature with statistics computed on this data set; apply the returned
    /// statistics to other sets (validation, test, inference) with <see cref="Normalize(NormalizationStatistics)"/>.
    /// </summary>
    public (Dataset Normalized, NormalizationStatistics Statistics) Normalize()
    {
        var statistics = ComputeNormalization();
        return (Normalize(statistics), statistics);
    }

    /// <summary>A copy with <c>(x - mean) / std</c> applied per feature using statistics computed elsewhere.</summary>
    /// <exception cref="ArgumentException">The statistics are for a different feature count.</exception>
    public Dataset Normalize(NormalizationStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        var features = (float[])Features.Clone();
        statistics.Apply(features);
        return WithFeatures(features);
    }

    /// <summary>A copy whose features are 1 where the value is greater than <paramref name="threshold"/>, else 0.</summary>
    public Dataset Binarize(float threshold = 0.5f)
    {
        var features = new float[Features.Length];
        for (int i = 0; i < features.Length; i++) features[i] = Features[i] > threshold ? 1f : 0f;
        return WithFeatures(features);
    }

    /// <summary>
    /// A copy whose features are sampled as Bernoulli(x): 1 where a uniform draw u in [0, 1) is below
    /// the feature value x (so features must lie in [0, 1]), else 0. Feature k (row-major, over the
    /// whole set) uses position <c><paramref name="counter"/> + k</c> of <paramref name="stream"/>,
    /// so the result is reproducible and a new draw (e.g. per epoch) needs a counter advanced by
    /// <c>Count * FeatureCount</c>.
    /// </summary>
    public Dataset BinarizeStochastic(RandomStream stream, ulong counter)
    {
        var features = new float[Features.Length];
        UniformSource.Fill(stream, counter, features);
        for (int i = 0; i < features.Length; i++) features[i] = features[i] < Features[i] ? 1f : 0f;
        return WithFeatures(features);
    }

    /// <summary>
    /// Splits into a training and a validation part: the validation part gets
    /// <c>round(Count * validationFraction)</c> samples chosen by a seeded shuffle
    /// (<see cref="DeterministicShuffle"/>); both parts keep the original order of their samples.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is outside [0, 1].</exception>
    public (Dataset Train, Dataset Validation) Split(double validationFraction, ulong seed) =>
        Split(validationFraction, RandomStream.Root(seed).Derive(ValidationSplitPurpose));

    /// <summary>The purpose of the stream a run's validation split is drawn from.</summary>
    public const string ValidationSplitPurpose = "validation-split";

    /// <summary>As <see cref="Split(double, ulong)"/>, with the shuffle seeded by words 0-1 of block 0 of <paramref name="split"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is outside [0, 1].</exception>
    public (Dataset Train, Dataset Validation) Split(double validationFraction, RandomStream split)
    {
        if (!(validationFraction >= 0 && validationFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"The validation fraction must lie in [0, 1]; {validationFraction} was given.");
        int validationCount = (int)Math.Round(Count * validationFraction, MidpointRounding.AwayFromZero);
        var (validation, train) = DeterministicShuffle.SplitIndices(Count, validationCount, split);
        return (Subset(train), Subset(validation));
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order (indices may repeat).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, Count).</exception>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var features = new float[(long)indices.Length * FeatureCount];
        var labels = new int[indices.Length];
        CopyBatch(indices, features, labels);
        return new Dataset(features, labels, ClassCount, _sampleShape);
    }

    /// <summary>The first <paramref name="count"/> samples (all of them if there are fewer).</summary>
    public Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count) return this;
        return new Dataset(Features.AsSpan(0, count * FeatureCount).ToArray(), Labels.AsSpan(0, count).ToArray(), ClassCount, _sampleShape);
    }

    /// <summary>
    /// The order in which to visit the samples in epoch <paramref name="epoch"/>: a permutation of
    /// <c>[0, Count)</c> that depends only on (<paramref name="order"/>, <paramref name="epoch"/>, Count).
    /// </summary>
    public int[] EpochPermutation(int epoch, RandomStream order) => DeterministicShuffle.EpochPermutation(Count, epoch, order);

    /// <summary>The epoch order of a run seeded with <paramref name="seed"/> (its <c>epoch-order</c> stream).</summary>
    public int[] EpochPermutation(int epoch, ulong seed) => DeterministicShuffle.EpochPermutation(Count, epoch, seed);

    /// <summary>
    /// Gathers the samples at <paramref name="indices"/> into a row-major batch
    /// (<c>indices.Length x FeatureCount</c> floats) and their labels.
    /// </summary>
    /// <exception cref="ArgumentException">A destination has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, Count).</exception>
    public void CopyBatch(ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        if (features.Length != (long)indices.Length * FeatureCount)
            throw new ArgumentException($"A batch of {indices.Length} samples needs {(long)indices.Length * FeatureCount} floats, the destination has {features.Length}.", nameof(features));
        if (labels.Length != indices.Length)
            throw new ArgumentException($"A batch of {indices.Length} samples needs {indices.Length} labels, the destination has {labels.Length}.", nameof(labels));
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} (position {i}) is outside [0, {Count}).");
            Features.AsSpan(index * FeatureCount, FeatureCount).CopyTo(features.Slice(i * FeatureCount, FeatureCount));
            labels[i] = Labels[index];
        }
    }

    /// <summary>Writes the one-hot labels of the samples at <paramref name="indices"/> (<c>indices.Length x ClassCount</c>, row-major).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void CopyOneHot(ReadOnlySpan<int> indices, Span<float> destination)
    {
        if (destination.Length != (long)indices.Length * ClassCount)
            throw new ArgumentException($"{indices.Length} one-hot rows need {(long)indices.Length * ClassCount} floats, the destination has {destination.Length}.", nameof(destination));
        destination.Clear();
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} (position {i}) is outside [0, {Count}).");
            destination[i * ClassCount + Labels[index]] = 1f;
        }
    }

    /// <summary>A data set with <paramref name="features"/> (same length) and this one's labels, classes and sample shape.</summary>
    public Dataset WithFeatures(float[] features) => new(features, Labels, ClassCount, _sampleShape);
}
