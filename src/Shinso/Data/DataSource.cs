using System.Globalization;

namespace Shinso.Data;

/// <summary>The on-disk layouts <see cref="DataSource"/> recognises.</summary>
public enum DataFormat
{
    /// <summary>A folder of IDX files in the MNIST / Fashion-MNIST layout, raw or gzip'd.</summary>
    Idx,
    /// <summary>A folder of CIFAR-10 binary batches (<c>data_batch_1..5.bin</c>, <c>test_batch.bin</c>).</summary>
    Cifar10,
    /// <summary>A NumPy <c>.npz</c> archive with <c>x_train</c>, <c>y_train</c>, <c>x_test</c>, <c>y_test</c>.</summary>
    Npz,
    /// <summary>CSV files: the label in the first column, the features after it; one file per split.</summary>
    Csv,
}

/// <summary>A training and a test set read from disk, with what they were read from.</summary>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
/// <param name="Format">The layout detected.</param>
/// <param name="Description">One line for progress output: the format, the path, the sizes, the sample shape and any conversion applied.</param>
public sealed record LoadedData(Dataset Train, Dataset Test, DataFormat Format, string Description);

/// <summary>
/// Reads a labelled data set from a path, detecting its layout by content: a folder of IDX files or of CIFAR-10
/// batches, a NumPy <c>.npz</c> archive (the layout Keras ships MNIST in), or a CSV file with a separate CSV for the
/// test split. Byte-valued samples (IDX, CIFAR-10, uint8 arrays, CSV files of whole numbers 0..255) are scaled to [0, 1].
/// </summary>
public static class DataSource
{
    /// <summary>The arrays an <c>.npz</c> must hold.</summary>
    public static IReadOnlyList<string> NpzKeys { get; } = ["x_train", "y_train", "x_test", "y_test"];

    /// <summary>Detects the layout of <paramref name="path"/> without reading the whole of it.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The path is a folder with neither layout, or a file of a kind that holds no labelled data set.</exception>
    public static DataFormat Detect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            if (File.Exists(System.IO.Path.Combine(path, Cifar10.TrainFiles[0])) || File.Exists(System.IO.Path.Combine(path, Cifar10.TestFile)))
                return DataFormat.Cifar10;
            string images = System.IO.Path.Combine(path, FashionMnist.TrainImagesFile);
            if (File.Exists(images) || File.Exists(images + ".gz")) return DataFormat.Idx;
            throw new DataFormatException(path, "folder",
                $"holds neither IDX files ({FashionMnist.TrainImagesFile}[.gz], ...) nor CIFAR-10 batches ({Cifar10.TrainFiles[0]}, ..., {Cifar10.TestFile}); " +
                "pass such a folder, an .npz archive or a CSV file");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"Data path '{path}' does not exist.", path);
        Span<byte> head = stackalloc byte[8];
        int n;
        using (var stream = File.OpenRead(path)) n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];
        if (NumpyArchive.LooksLikeArchive(head)) return DataFormat.Npz;
        if (NumpyArchive.LooksLikeArray(head))
            throw new DataFormatException(path, "format", $"a single .npy array holds no labels; pass an .npz archive with {string.Join(", ", NpzKeys)} (np.savez)");
        if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
            throw new DataFormatException(path, "format", "a lone gzip file; pass the folder that holds the four IDX files");
        if (head.IndexOf((byte)0) >= 0)
            throw new DataFormatException(path, "format", "a binary file of no known layout; expected an IDX or CIFAR-10 folder, an .npz archive or a CSV file");
        return DataFormat.Csv;
    }

    /// <summary>Reads the training and test splits at <paramref name="path"/> (and <paramref name="testPath"/> for CSV).</summary>
    /// <param name="path">A folder (IDX or CIFAR-10), an <c>.npz</c> archive, or a CSV file holding the training split.</param>
    /// <param name="testPath">The test split's CSV file; required for CSV, refused for the formats that hold both splits.</param>
    /// <exception cref="ArgumentException"><paramref name="testPath"/> is missing for CSV or given for another format.</exception>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="FormatException">A file is malformed; the message names it, the field and what was expected.</exception>
    public static LoadedData Load(string path, string? testPath = null)
    {
        var format = Detect(path);
        if (format != DataFormat.Csv && testPath is not null)
            throw new ArgumentException($"A test split file applies to CSV data; {path} is {Name(format)} and holds its own test split.", nameof(testPath));
        return format switch
        {
            DataFormat.Idx => Describe(FashionMnist.Load(path), format, path, null),
            DataFormat.Cifar10 => Describe(Cifar10.Load(path), format, path, null),
            DataFormat.Npz => LoadNpz(path),
            _ => LoadCsv(path, testPath ?? throw new ArgumentException(
                $"{path} is a CSV file, which holds one split; give the test split's CSV file too (--test-data FILE).", nameof(testPath))),
        };
    }

    /// <summary>The format's name as progress lines and errors print it.</summary>
    public static string Name(DataFormat format) => format switch
    {
        DataFormat.Idx => "an IDX folder",
        DataFormat.Cifar10 => "a CIFAR-10 binary folder",
        DataFormat.Npz => "a NumPy .npz archive",
        _ => "CSV",
    };

    private static LoadedData LoadNpz(string path)
    {
        var arrays = NumpyArchive.ReadArchive(path);
        foreach (var key in NpzKeys)
            if (!arrays.ContainsKey(key))
                throw new DataFormatException(path, key,
                    $"missing; the archive holds [{string.Join(", ", arrays.Keys.Order())}] and must hold {string.Join(", ", NpzKeys)}");
        var (xTrain, yTrain, xTest, yTest) = (arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]);
        int[] trainLabels = Labels(path, yTrain, xTrain), testLabels = Labels(path, yTest, xTest);
        if (xTest.Type != xTrain.Type)
            throw new DataFormatException(path, "x_test: descr", $"element type {xTest.Type} but x_train's is {xTrain.Type}; both splits must be stored alike so they are scaled alike");
        var trainShape = SampleShape(path, xTrain);
        var testShape = SampleShape(path, xTest);
        if (!trainShape.SequenceEqual(testShape))
            throw new DataFormatException(path, "x_test: shape",
                $"samples are {NumpyArchive.Text(testShape)} but x_train's are {NumpyArchive.Text(trainShape)}");
        int classes = Math.Max(trainLabels.Max(), testLabels.Max()) + 1;
        string? note = xTrain.Type == NumpyType.UInt8 ? "uint8 scaled to [0, 1]" : null;
        bool channelsLast = IsChannelsLast(trainShape);
        if (channelsLast) note = (note is null ? "" : note + ", ") + "channels-last images transposed to channels-first";
        var train = ToDataset(path, xTrain, trainLabels, classes, trainShape, channelsLast);
        var test = ToDataset(path, xTest, testLabels, classes, testShape, channelsLast);
        return Describe((train, test), DataFormat.Npz, path, note);
    }

    private static Dataset ToDataset(string path, NumpyArray x, int[] labels, int classes, int[] shape, bool channelsLast)
    {
        var features = x.ToFloats(x.Type == NumpyType.UInt8 ? 255f : 1f);
        if (x.Type != NumpyType.UInt8)
        {
            for (int i = 0; i < features.Length; i++)
                if (!float.IsFinite(features[i]))
                    throw new DataFormatException(path, $"{x.Name}: element {i}", $"is {features[i]}; features must be finite");
        }
        if (!channelsLast) return new Dataset(features, labels, classes, shape);
        int h = shape[0], w = shape[1], c = shape[2], plane = h * w, sample = plane * c;
        var chw = new float[features.Length];
        for (int s = 0; s < labels.Length; s++)
        {
            var src = features.AsSpan(s * sample, sample);
            var dst = chw.AsSpan(s * sample, sample);
            for (int p = 0; p < plane; p++)
                for (int k = 0; k < c; k++) dst[k * plane + p] = src[p * c + k];
        }
        return new Dataset(chw, labels, classes, [c, h, w]);
    }

    /// <summary>[H, W, C] with a colour-like C (1, 3 or 4) after two larger dimensions, as Keras stores CIFAR-10.</summary>
    private static bool IsChannelsLast(int[] shape) => shape.Length == 3 && shape[2] is 1 or 3 or 4 && shape[0] > 4 && shape[1] > 4;

    private static int[] SampleShape(string path, NumpyArray x)
    {
        if (x.Type is NumpyType.Bool || !(x.Type is NumpyType.UInt8 or NumpyType.Float32 or NumpyType.Float64))
            throw new DataFormatException(path, $"{x.Name}: descr", $"element type {x.Type}; expected uint8 images or float32 (or float64) features");
        if (x.Shape.Count < 2 || x.Shape[0] == 0)
            throw new DataFormatException(path, $"{x.Name}: shape", $"is {NumpyArchive.Text(x.Shape)}; expected (samples, ...) with at least one sample");
        var shape = x.Shape.Skip(1).ToArray();
        if (shape.Any(d => d == 0)) throw new DataFormatException(path, $"{x.Name}: shape", $"is {NumpyArchive.Text(x.Shape)}; a sample has no features");
        return shape;
    }

    private static int[] Labels(string path, NumpyArray y, NumpyArray x)
    {
        if (!y.IsInteger)
            throw new DataFormatException(path, $"{y.Name}: descr", $"element type {y.Type}; expected integer class labels");
        if (!(y.Shape.Count == 1 || (y.Shape.Count == 2 && y.Shape[1] == 1)))
            throw new DataFormatException(path, $"{y.Name}: shape", $"is {NumpyArchive.Text(y.Shape)}; expected (samples,) or (samples, 1)");
        if (y.Shape[0] != (x.Shape.Count > 0 ? x.Shape[0] : -1))
            throw new DataFormatException(path, $"{y.Name}: shape",
                $"holds {y.Shape[0]} labels but {x.Name} holds {(x.Shape.Count > 0 ? x.Shape[0] : 0)} samples");
        var labels = new int[y.Shape[0]];
        for (int i = 0; i < labels.Length; i++)
        {
            double v = y[i];
            if (v < 0 || v > 65_535)
                throw new DataFormatException(path, $"{y.Name}: element {i}", $"is {v.ToString(CultureInfo.InvariantCulture)}; expected a class label 0, 1, 2, ...");
            labels[i] = (int)v;
        }
        return labels;
    }

    private static LoadedData LoadCsv(string trainPath, string testPath)
    {
        if (Detect(testPath) != DataFormat.Csv)
            throw new DataFormatException(testPath, "format", $"the test split of CSV training data ({trainPath}) must be a CSV file too");
        var train = CsvTable.Read(trainPath);
        var test = CsvTable.Read(testPath);
        if (test.FeatureCount != train.FeatureCount)
            throw new DataFormatException(testPath, "rows", $"have {test.FeatureCount} features each but the training file {trainPath} has {train.FeatureCount}");
        int classes = Math.Max(train.Labels.Max(), test.Labels.Max()) + 1;
        // Pixel tables (mnist_train.csv) store bytes; scale them as the binary formats are scaled so the presets' settings carry over.
        bool bytes = train.IsByteValued && test.IsByteValued && Math.Max(train.MaxValue, test.MaxValue) > 1f;
        float divisor = bytes ? 255f : 1f;
        var data = (train.ToDataset(classes, divisor), test.ToDataset(classes, divisor));
        return Describe(data, DataFormat.Csv, $"{trainPath} + {testPath}", bytes ? "whole numbers 0..255 scaled to [0, 1]" : null);
    }

    private static LoadedData Describe((Dataset Train, Dataset Test) data, DataFormat format, string path, string? note)
    {
        var (train, test) = data;
        string suffix = note is null ? "" : $" ({note})";
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{Name(format)}, {path}: {train.Count:N0} train / {test.Count:N0} test samples of {string.Join("x", train.SampleShape)}, {train.ClassCount} classes{suffix}");
        return new LoadedData(train, test, format, description);
    }
}
