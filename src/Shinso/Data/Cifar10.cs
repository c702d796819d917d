namespace Shinso.Data;

/// <summary>
/// CIFAR-10 (Krizhevsky 2009) in its binary batch format: files <c>data_batch_1.bin</c> .. <c>data_batch_5.bin</c> and
/// <c>test_batch.bin</c>, each a sequence of 3073-byte records: one label byte (0..9) and 3072 pixel bytes,
/// the red, green and blue 32 x 32 planes in row-major order (CHW).
/// </summary>
public static class Cifar10
{
    /// <summary>Bytes per record: 1 label + 3*32*32 pixels.</summary>
    public const int RecordLength = 1 + ImageLength;

    /// <summary>Pixels per image: 3*32*32.</summary>
    public const int ImageLength = 3 * 32 * 32;

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The training files' names.</summary>
    public static IReadOnlyList<string> TrainFiles { get; } =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>The test file's name.</summary>
    public const string TestFile = "test_batch.bin";

    /// <summary>
    /// Reads batch files into one data set of [3, 32, 32] samples with pixels scaled to [0, 1].
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="FormatException">A file's length is not a whole number of records, or a label is above 9; the message names the file, record and field.</exception>
    public static Dataset ReadBatches(params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<byte[]>();
        long records = 0;
        foreach (var path in paths)
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"CIFAR-10 batch file '{path}' does not exist.", path);
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % RecordLength != 0)
                throw new FormatException(
                    $"{path}: length {bytes.Length} bytes is not a positive multiple of the {RecordLength}-byte CIFAR-10 record (1 label byte + {ImageLength} pixel bytes); " +
                    $"record {bytes.Length / RecordLength} is truncated after {bytes.Length % RecordLength} bytes.");
            int count = bytes.Length / RecordLength;
            for (int r = 0; r < count; r++)
            {
                byte label = bytes[(long)r * RecordLength];
                if (label >= ClassCount)
                    throw new FormatException($"{path}: record {r} (byte offset {(long)r * RecordLength}): field 'label' is {label}; CIFAR-10 labels are 0..9.");
            }
            files.Add(bytes);
            records += count;
        }
        if (records * ImageLength > Array.MaxLength) throw new FormatException($"{records} CIFAR-10 records do not fit in one array.");
        var features = new float[records * ImageLength];
        var labels = new int[records];
        long sample = 0;
        foreach (var bytes in files)
        {
            for (int r = 0; r < bytes.Length / RecordLength; r++, sample++)
            {
                int offset = r * RecordLength;
                labels[sample] = bytes[offset];
                var dst = features.AsSpan((int)(sample * ImageLength), ImageLength);
                for (int i = 0; i < ImageLength; i++) dst[i] = bytes[offset + 1 + i] * (1f / 255f);
            }
        }
        return new Dataset(features, labels, ClassCount, [3, 32, 32]);
    }

    /// <summary>Loads the five training batches and the test batch from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="FormatException">A file is malformed.</exception>
    public static (Dataset Train, Dataset Test) Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var train = ReadBatches([.. TrainFiles.Select(f => Path.Combine(directory, f))]);
        var test = ReadBatches(Path.Combine(directory, TestFile));
        return (train, test);
    }

    /// <summary>
    /// Per-channel statistics of CHW samples: the mean and standard deviation of each channel over all samples and
    /// positions of <paramref name="data"/> (compute them on the training set, apply them to both sets).
    /// </summary>
    public static (float[] Mean, float[] StandardDeviation) ChannelStatistics(Dataset data, int channels)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (channels < 1 || data.FeatureCount % channels != 0)
            throw new ArgumentException($"{data.FeatureCount} features per sample do not split into {channels} channels.", nameof(channels));
        int plane = data.FeatureCount / channels;
        var sum = new double[channels];
        var sumSq = new double[channels];
        for (int s = 0; s < data.Count; s++)
        {
            var x = data.Sample(s);
            for (int c = 0; c < channels; c++)
            {
                foreach (float v in x.Slice(c * plane, plane))
                {
                    sum[c] += v;
                    sumSq[c] += (double)v * v;
                }
            }
        }
        var mean = new float[channels];
        var std = new float[channels];
        double n = Math.Max(1.0, (double)data.Count * plane);
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(0.0, sumSq[c] / n - m * m));
        }
        return (mean, std);
    }

    /// <summary>
    /// A new data set with each channel standardised: <c>(x - mean[c]) / std[c]</c> (a zero deviation leaves the channel centred only).
    /// </summary>
    public static Dataset NormalizeChannels(Dataset data, ReadOnlySpan<float> mean, ReadOnlySpan<float> standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(data);
        int channels = mean.Length;
        if (channels < 1 || standardDeviation.Length != channels || data.FeatureCount % channels != 0)
            throw new ArgumentException($"{channels} means and {standardDeviation.Length} deviations do not fit {data.FeatureCount} features per sample.", nameof(mean));
        int plane = data.FeatureCount / channels;
        var features = new float[data.Features.Length];
        for (int s = 0; s < data.Count; s++)
        {
            for (int c = 0; c < channels; c++)
            {
                float scale = standardDeviation[c] > 0f ? 1f / standardDeviation[c] : 1f;
                int offset = s * data.FeatureCount + c * plane;
                for (int i = 0; i < plane; i++) features[offset + i] = (data.Features[offset + i] - mean[c]) * scale;
            }
        }
        return new Dataset(features, (int[])data.Labels.Clone(), data.ClassCount, data.SampleShape);
    }
}
