namespace Shinso.Data;

/// <summary>
/// Fashion-MNIST (Zalando Research, MIT licence): 28 x 28 greyscale images of clothing in 10
/// classes, 60,000 for training and 10,000 for testing, stored as IDX files.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs the full data set.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that provides the full data set.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Where the CLI's embedded subset lies, relative to the application's base directory.</summary>
    public const string EmbeddedSubsetRelativePath = "data/fashion-mnist-subset";

    /// <summary>The base name of the training image file (the file may also carry a <c>.gz</c> suffix).</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";

    /// <summary>The base name of the training label file.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>The base name of the test image file.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>The base name of the test label file.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Image height in pixels.</summary>
    public const int ImageRows = 28;

    /// <summary>Image width in pixels.</summary>
    public const int ImageColumns = 28;

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The embedded subset's directory under the application's base directory (it may not exist).</summary>
    public static string EmbeddedSubsetDirectory =>
        Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist-subset");

    /// <summary>
    /// Loads the training and test sets from <paramref name="directory"/>, which must hold the four
    /// IDX files (each raw or with a <c>.gz</c> suffix). Pixels are scaled to [0, 1].
    /// </summary>
    /// <param name="directory">The directory holding the files, e.g. <see cref="DefaultDirectory"/>.</param>
    /// <param name="trainLimit">Keep only the first this many training samples (null: all).</param>
    /// <param name="testLimit">Keep only the first this many test samples (null: all).</param>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and how to get the data.</exception>
    /// <exception cref="IdxFormatException">A file is malformed, or images and labels disagree.</exception>
    public static (Dataset Train, Dataset Test) Load(string directory, int? trainLimit = null, int? testLimit = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string trainImages = Find(directory, TrainImagesFile);
        string trainLabels = Find(directory, TrainLabelsFile);
        string testImages = Find(directory, TestImagesFile);
        string testLabels = Find(directory, TestLabelsFile);
        var train = Dataset.FromIdx(trainImages, trainLabels, ClassCount);
        var test = Dataset.FromIdx(testImages, testLabels, ClassCount);
        if (trainLimit is int t) train = train.Take(t);
        if (testLimit is int u) test = test.Take(u);
        return (train, test);
    }

    /// <summary>
    /// The path of <paramref name="baseName"/> in <paramref name="directory"/>: the raw file if present, else the <c>.gz</c> one.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither exists.</exception>
    public static string Find(string directory, string baseName)
    {
        string raw = Path.Combine(directory, baseName);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        if (File.Exists(gz)) return gz;
        string where = Directory.Exists(directory) ? "" : $" (the directory {directory} does not exist)";
        throw new FileNotFoundException(
            $"Fashion-MNIST file {gz} (or {raw}) not found{where}: install the Debian package `{DebianPackage}` " +
            $"(apt-get install {DebianPackage}, which installs it under {DefaultDirectory}) or pass --data DIR.", gz);
    }
}
