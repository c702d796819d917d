using Shinso.Data;

namespace Shinso.Training;

/// <summary>
/// Inputs and targets for supervised training, row-major in host memory: classification keeps
/// the labels too (for accuracy) and one-hot targets; regression has real-valued targets only.
/// </summary>
public sealed class SupervisedData
{
    /// <summary>Wraps inputs (count x inputLength) and targets (count x targetLength).</summary>
    public SupervisedData(float[] inputs, int inputLength, float[] targets, int targetLength, int[]? labels = null)
    {
        if (inputLength < 1 || inputs.Length % inputLength != 0)
            throw new ArgumentException($"{inputs.Length} input values are not a whole number of samples of {inputLength}.", nameof(inputs));
        int count = inputs.Length / inputLength;
        if (targetLength < 1 || targets.Length != (long)count * targetLength)
            throw new ArgumentException($"{targets.Length} target values do not match {count} samples of {targetLength} targets.", nameof(targets));
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"{labels.Length} labels do not match {count} samples.", nameof(labels));
        Inputs = inputs;
        InputLength = inputLength;
        Targets = targets;
        TargetLength = targetLength;
        Labels = labels;
        Count = count;
    }

    /// <summary>Input rows.</summary>
    public float[] Inputs { get; }

    /// <summary>Values per input row.</summary>
    public int InputLength { get; }

    /// <summary>Target rows.</summary>
    public float[] Targets { get; }

    /// <summary>Values per target row.</summary>
    public int TargetLength { get; }

    /// <summary>Class labels when this is classification data, else null.</summary>
    public int[]? Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Classification data: the dataset's features and its labels as one-hot targets.</summary>
    public static SupervisedData FromDataset(Dataset dataset)
    {
        var all = new int[dataset.Count];
        for (int i = 0; i < all.Length; i++) all[i] = i;
        var oneHot = new float[(long)dataset.Count * dataset.ClassCount];
        dataset.CopyOneHot(all, oneHot);
        return new SupervisedData(dataset.Features, dataset.FeatureCount, oneHot, dataset.ClassCount, dataset.Labels);
    }

    /// <summary>A copy whose inputs are standardised with <paramref name="statistics"/> (computed on a training set).</summary>
    /// <exception cref="ArgumentException">The statistics are for another number of inputs.</exception>
    public SupervisedData Standardized(NormalizationStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (statistics.FeatureCount != InputLength)
            throw new ArgumentException($"Statistics of {statistics.FeatureCount} features do not fit rows of {InputLength} inputs.", nameof(statistics));
        var inputs = (float[])Inputs.Clone();
        statistics.Apply(inputs);
        return new SupervisedData(inputs, InputLength, Targets, TargetLength, Labels);
    }

    /// <summary>Copies the rows named by <paramref name="indices"/> into batch buffers.</summary>
    public void CopyBatch(ReadOnlySpan<int> indices, Span<float> inputs, Span<float> targets)
    {
        for (int r = 0; r < indices.Length; r++)
        {
            int i = indices[r];
            Inputs.AsSpan(i * InputLength, InputLength).CopyTo(inputs.Slice(r * InputLength, InputLength));
            Targets.AsSpan(i * TargetLength, TargetLength).CopyTo(targets.Slice(r * TargetLength, TargetLength));
        }
    }
}
