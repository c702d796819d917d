using FsCheck.Fluent;
using Shinso.Data;
using Shinso.Random;

namespace Shinso.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>n samples of f features: sample i, feature j = i * 10 + j; label i % classes.</summary>
    private static Dataset Grid(int n, int f, int classes = 3)
    {
        var features = new float[n * f];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < f; j++) features[i * f + j] = i * 10 + j;
        return new Dataset(features, Enumerable.Range(0, n).Select(i => i % classes).ToArray(), classes, f);
    }

    /// <summary>The embedded subset: copied next to the test assembly by the CLI project reference, else found in the source tree.</summary>
    internal static string SubsetDirectory()
    {
        if (Directory.Exists(FashionMnist.EmbeddedSubsetDirectory)) return FashionMnist.EmbeddedSubsetDirectory;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "Shinso.Cli", "data", "fashion-mnist-subset");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("The embedded Fashion-MNIST subset was not found.");
    }

    [Fact]
    public void ConstructorValidates()
    {
        Assert.Throws<ArgumentException>(() => new Dataset(new float[5], [0, 1], 2, 3));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[6], [0, 2], 2, 3));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[6], [0, -1], 2, 3));
        var d = new Dataset(new float[12], [0, 1], 2, new[] { 2, 3 });
        Assert.Equal(6, d.FeatureCount);
        Assert.Equal([2, 3], d.SampleShape);
        Assert.Equal(2, d.Count);
    }

    [Fact]
    public void FromIdxScalesPixelsAndChecksLabels()
    {
        string images = _dir.File("img");
        string labels = _dir.File("lbl.gz");
        File.WriteAllBytes(images, IdxReaderTests.Idx(0x08, [2, 1, 3], [0, 51, 255, 255, 0, 102]));
        File.WriteAllBytes(labels, IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [2], [4, 1])));

        var d = Dataset.FromIdx(images, labels);
        Assert.Equal(5, d.ClassCount);
        Assert.Equal([1, 3], d.SampleShape);
        Assert.Equal([0f, 0.2f, 1f, 1f, 0f, 0.4f], d.Features);
        Assert.Equal([4, 1], d.Labels);
        Assert.Equal(10, Dataset.FromIdx(images, labels, 10).ClassCount);

        var e = Assert.Throws<IdxFormatException>(() => Dataset.FromIdx(images, labels, classCount: 3));
        Assert.Contains(labels, e.Message);
        Assert.Contains("labels", e.Message);
    }

    [Fact]
    public void NormalizeUsesThisSetsStatisticsAndAppliesThemElsewhere()
    {
        // Feature 0: 1, 3 (mean 2, std 1); feature 1: constant 5 (only centred).
        var train = new Dataset([1f, 5f, 3f, 5f], [0, 1], 2, 2);
        var (normalized, stats) = train.Normalize();
        Assert.Equal([2f, 5f], stats.Mean);
        Assert.Equal([1f, 0f], stats.StandardDeviation);
        Assert.Equal([-1f, 0f, 1f, 0f], normalized.Features);
        Assert.Equal([1f, 5f, 3f, 5f], train.Features); // unchanged

        var test = new Dataset([2f, 6f], [1], 2, 2);
        Assert.Equal([0f, 1f], test.Normalize(stats).Features);

        var restored = new NormalizationStatistics([.. stats.Mean], [.. stats.StandardDeviation]);
        Assert.Equal([0f, 1f], test.Normalize(restored).Features);
        Assert.Throws<ArgumentException>(() => new Dataset([1f, 2f, 3f], [0], 1, 3).Normalize(stats));
    }

    [Fact]
    public void NormalizedFeaturesHaveZeroMeanAndUnitStd()
    {
        var rng = new System.Random(5);
        var features = Enumerable.Range(0, 200 * 4).Select(i => (float)(rng.NextDouble() * (i % 4 + 1) + i % 4)).ToArray();
        var (d, _) = new Dataset(features, new int[200], 1, 4).Normalize();
        var check = d.ComputeNormalization();
        for (int j = 0; j < 4; j++)
        {
            Assert.InRange(check.Mean[j], -1e-5f, 1e-5f);
            Assert.InRange(check.StandardDeviation[j], 1 - 1e-4f, 1 + 1e-4f);
        }
    }

    [Fact]
    public void BinarizeThresholds()
    {
        var d = new Dataset([0f, 0.5f, 0.51f, 1f], [0], 1, 4);
        Assert.Equal([0f, 0f, 1f, 1f], d.Binarize().Features);
        Assert.Equal([0f, 1f, 1f, 1f], d.Binarize(0.25f).Features);
    }

    [Fact]
    public void BinarizeStochasticIsBernoulliOnPhiloxPositions()
    {
        const int n = 20000;
        var features = new float[n];
        for (int i = 0; i < n; i++) features[i] = (i % 4) switch { 0 => 0f, 1 => 1f, 2 => 0.3f, _ => 0.8f };
        var d = new Dataset(features, new int[n / 4], 1, 4);
        var stream = new RandomStream(42, 7);

        var a = d.BinarizeStochastic(stream, 1001);
        Assert.Equal(a.Features, d.BinarizeStochastic(stream, 1001).Features);
        Assert.NotEqual(a.Features, d.BinarizeStochastic(stream, 1001 + (ulong)n).Features);
        Assert.All(a.Features, x => Assert.True(x is 0f or 1f));

        double[] mean = new double[4];
        for (int i = 0; i < n; i++) mean[i % 4] += a.Features[i];
        for (int j = 0; j < 4; j++) mean[j] /= n / 4;
        Assert.Equal(0, mean[0]);
        Assert.Equal(1, mean[1]);
        Assert.InRange(mean[2], 0.27, 0.33);
        Assert.InRange(mean[3], 0.77, 0.83);

        for (int k = 0; k < 50; k++)
        {
            float u = Philox4x32.Uniform(stream, 1001 + (ulong)k);
            Assert.Equal(u < features[k] ? 1f : 0f, a.Features[k]);
        }
    }

    [Fact]
    public void SplitIsSeededDisjointAndOrderPreserving()
    {
        var d = Grid(101, 2);
        var (train, validation) = d.Split(0.2, seed: 9);
        Assert.Equal(20, validation.Count);
        Assert.Equal(81, train.Count);

        var ids = train.Features.Where((_, i) => i % 2 == 0).Concat(validation.Features.Where((_, i) => i % 2 == 0))
            .Select(x => (int)x / 10).ToList();
        Assert.Equal(Enumerable.Range(0, 101), ids.Order());
        Assert.True(train.Features.Where((_, i) => i % 2 == 0).SequenceEqual(train.Features.Where((_, i) => i % 2 == 0).Order()));
        for (int i = 0; i < train.Count; i++) Assert.Equal((int)train.Features[2 * i] / 10 % 3, train.Labels[i]);

        Assert.Equal(validation.Features, d.Split(0.2, seed: 9).Validation.Features);
        Assert.NotEqual(validation.Features, d.Split(0.2, seed: 10).Validation.Features);
        Assert.Equal(0, d.Split(0, 1).Validation.Count);
        Assert.Equal(101, d.Split(1, 1).Validation.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Split(1.5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Split(double.NaN, 1));
    }

    [Fact]
    public void SubsetTakeAndBatchesGatherRows()
    {
        var d = Grid(5, 3);
        var s = d.Subset([4, 0, 4]);
        Assert.Equal([40f, 41f, 42f, 0f, 1f, 2f, 40f, 41f, 42f], s.Features);
        Assert.Equal([1, 0, 1], s.Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Subset([5]));
        Assert.Equal(2, d.Take(2).Count);
        Assert.Same(d, d.Take(10));

        var features = new float[6];
        var labels = new int[2];
        d.CopyBatch([2, 1], features, labels);
        Assert.Equal([20f, 21f, 22f, 10f, 11f, 12f], features);
        Assert.Equal([2, 1], labels);
        Assert.Throws<ArgumentException>(() => d.CopyBatch([2, 1], new float[5], labels));

        var oneHot = new float[6];
        d.CopyOneHot([2, 1], oneHot);
        Assert.Equal([0f, 0f, 1f, 0f, 1f, 0f], oneHot);
        Assert.Equal([2, 2, 1], d.ClassCounts());
        Assert.Equal([40f, 41f, 42f], d.Sample(4).ToArray());
    }

    [Fact]
    public void EpochPermutationsArePermutationsAndDeterministic()
    {
        var gen = from count in Gen.Choose(0, 300)
                  from epoch in Gen.Choose(0, 1000)
                  from seed in Gen.Choose(int.MinValue, int.MaxValue)
                  select (count, epoch, seed: (ulong)(uint)seed * 0x9E3779B97F4A7C15UL);
        PropertyCheck.ForAll(gen, c =>
        {
            var p = DeterministicShuffle.EpochPermutation(c.count, c.epoch, c.seed);
            Assert.Equal(Enumerable.Range(0, c.count), p.Order());
            Assert.Equal(p, DeterministicShuffle.EpochPermutation(c.count, c.epoch, c.seed));
            if (c.count >= 20)
            {
                Assert.NotEqual(p, DeterministicShuffle.EpochPermutation(c.count, c.epoch + 1, c.seed));
                Assert.NotEqual(p, DeterministicShuffle.EpochPermutation(c.count, c.epoch, c.seed + 1));
            }
        });
        var d = Grid(50, 1);
        Assert.Equal(DeterministicShuffle.EpochPermutation(50, 3, 77), d.EpochPermutation(3, 77));
    }

    [Fact]
    public void ShuffleIsPinnedAcrossVersions()
    {
        // The shuffle is SplitMix64 + Lemire + Fisher-Yates; these permutations were computed once by an independent
        // implementation of the same three steps (Python integers, masked to 64 bits), so any change to them is noticed.
        Assert.Equal([2, 5, 4, 7, 6, 3, 8, 0, 9, 1], DeterministicShuffle.Permutation(10, 12345));
        Assert.Equal([9, 1, 13, 10, 0, 2, 15, 18, 5, 4, 8, 3, 6, 12, 19, 16, 7, 17, 14, 11], DeterministicShuffle.Permutation(20, 1));
        var p = DeterministicShuffle.Permutation(1000, 1);
        // Every position is about equally likely to hold a small value: a crude uniformity check.
        int lowFirstHalf = p.Take(500).Count(x => x < 500);
        Assert.InRange(lowFirstHalf, 200, 300);
    }

    [Fact]
    public void MissingFilesNameTheFileAndThePackage()
    {
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(_dir.File("no-such-dir")));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("dataset-fashion-mnist", e.Message);
        Assert.Contains("--data DIR", e.Message);

        File.WriteAllBytes(_dir.File("train-images-idx3-ubyte.gz"), []);
        e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(_dir.Path));
        Assert.Contains("train-labels-idx1-ubyte", e.Message);
    }

    [Fact]
    public void FindPrefersTheRawFile()
    {
        File.WriteAllBytes(_dir.File("x.gz"), []);
        Assert.Equal(_dir.File("x.gz"), FashionMnist.Find(_dir.Path, "x"));
        File.WriteAllBytes(_dir.File("x"), []);
        Assert.Equal(_dir.File("x"), FashionMnist.Find(_dir.Path, "x"));
    }

    [Fact]
    public void EmbeddedSubsetIsCopiedNextToTheAssemblies()
    {
        foreach (var name in new[] { FashionMnist.TrainImagesFile, FashionMnist.TrainLabelsFile, FashionMnist.TestImagesFile, FashionMnist.TestLabelsFile })
            Assert.True(File.Exists(Path.Combine(FashionMnist.EmbeddedSubsetDirectory, name + ".gz")), name);
    }

    [Fact]
    public void EmbeddedSubsetLoads()
    {
        var (train, test) = FashionMnist.Load(SubsetDirectory());
        Assert.Equal(10_000, train.Count);
        Assert.Equal(2_000, test.Count);
        foreach (var d in new[] { train, test })
        {
            Assert.Equal([28, 28], d.SampleShape);
            Assert.Equal(784, d.FeatureCount);
            Assert.Equal(10, d.ClassCount);
            Assert.All(d.Labels, l => Assert.InRange(l, 0, 9));
            Assert.Equal(0f, d.Features.Min());
            Assert.Equal(1f, d.Features.Max());
            foreach (int c in d.ClassCounts()) Assert.InRange(c, d.Count / 10 * 0.8, d.Count / 10 * 1.2);
        }
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);

        var (small, smallTest) = FashionMnist.Load(SubsetDirectory(), trainLimit: 100, testLimit: 10);
        Assert.Equal(100, small.Count);
        Assert.Equal(10, smallTest.Count);
        Assert.Equal(train.Features.AsSpan(0, 784 * 100).ToArray(), small.Features);
    }

    [RequiresFullFashionMnistFact]
    public void InstalledFullSetMatchesTheSubset()
    {
        Assert.True(Requirements.FullFashionMnistInstalled,
            $"CI=true: the full Fashion-MNIST must be installed in {FashionMnist.DefaultDirectory} (test.sh installs Debian's dataset-fashion-mnist)");
        var full = Dataset.FromIdx(
            FashionMnist.Find(FashionMnist.DefaultDirectory, FashionMnist.TestImagesFile),
            FashionMnist.Find(FashionMnist.DefaultDirectory, FashionMnist.TestLabelsFile), FashionMnist.ClassCount);
        Assert.Equal(10_000, full.Count);
        Assert.All(full.ClassCounts(), c => Assert.Equal(1000, c));
        var (_, subsetTest) = FashionMnist.Load(SubsetDirectory());
        Assert.Equal(full.Take(2000).Features, subsetTest.Features);
        Assert.Equal(full.Take(2000).Labels, subsetTest.Labels);
    }
}
