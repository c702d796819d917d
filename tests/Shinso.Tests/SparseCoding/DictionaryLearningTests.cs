using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.SparseCoding;
using Shinso.Random;

namespace Shinso.Tests.SparseCoding;

/// <summary>The atom update's guarantees, learning as a whole, patches and whitening.</summary>
public sealed class DictionaryLearningTests
{
    private static readonly CpuBackend Cpu = new();

    private static float[] RandomRows(System.Random random, int rows, int features)
    {
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    [Fact]
    public void An_atom_update_keeps_every_norm_at_most_one_and_lowers_the_objective()
    {
        var random = new System.Random(3);
        const int atoms = 24, features = 12, rows = 200;
        const float lambda = 0.1f;
        var x = RandomRows(random, rows, features);
        var dictionary = FistaEncoderTests.RandomDictionary(random, atoms, features);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        var codes = FistaEncoder.Encode(Cpu, x, features, tensor, new FistaOptions { Lambda = lambda }).Codes;
        var gram = new double[atoms * atoms];
        var correlation = new double[atoms * features];
        DictionaryLearning.Statistics(Cpu, x, features, codes, atoms, gram, correlation);
        // The statistics are HᵀH and HᵀX.
        for (int i = 0; i < atoms; i++)
            for (int j = 0; j < atoms; j++)
            {
                double expected = 0;
                for (int r = 0; r < rows; r++) expected += (double)codes[r * atoms + i] * codes[r * atoms + j];
                Assert.True(Math.Abs(gram[i * atoms + j] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"A[{i},{j}] {gram[i * atoms + j]} vs {expected}");
            }
        for (int i = 0; i < atoms; i++)
            for (int f = 0; f < features; f++)
            {
                double expected = 0;
                for (int r = 0; r < rows; r++) expected += (double)codes[r * atoms + i] * x[r * features + f];
                Assert.True(Math.Abs(correlation[i * features + f] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"B[{i},{f}] {correlation[i * features + f]} vs {expected}");
            }
        double before = FistaEncoder.MeanObjective(x, features, dictionary, codes, lambda);
        var updated = (float[])dictionary.Clone();
        DictionaryLearning.UpdateAtoms(updated, features, atoms, gram, correlation, 1, x, RandomStream.Root(1).Derive("restarts"));
        double after = FistaEncoder.MeanObjective(x, features, updated, codes, lambda);
        Assert.True(after < before, $"objective {before} -> {after}");
        Assert.False(updated.AsSpan().SequenceEqual(dictionary));
        for (int a = 0; a < atoms; a++)
        {
            double norm = Math.Sqrt(updated.AsSpan(a * features, features).ToArray().Sum(v => (double)v * v));
            Assert.True(norm <= 1 + 1e-6, $"atom {a} has norm {norm}");
        }
        // A second sweep never undoes the first.
        var again = (float[])updated.Clone();
        DictionaryLearning.UpdateAtoms(again, features, atoms, gram, correlation, 1, x, RandomStream.Root(1).Derive("restarts"));
        Assert.True(FistaEncoder.MeanObjective(x, features, again, codes, lambda) <= after + 1e-9);
    }

    [Fact]
    public void An_atom_no_code_uses_is_restarted_from_the_data_at_unit_norm()
    {
        var random = new System.Random(4);
        const int atoms = 3, features = 5, rows = 10;
        var x = RandomRows(random, rows, features);
        var dictionary = FistaEncoderTests.RandomDictionary(random, atoms, features);
        var gram = new double[atoms * atoms];
        var correlation = new double[atoms * features];
        gram[0] = 2;
        var old = (float[])dictionary.Clone();
        int restarted = DictionaryLearning.UpdateAtoms(dictionary, features, atoms, gram, correlation, 2, x, RandomStream.Root(1).Derive("restarts"));
        Assert.Equal(2, restarted);
        for (int a = 1; a < atoms; a++)
        {
            var atom = dictionary.AsSpan(a * features, features).ToArray();
            Assert.Equal(1.0, Math.Sqrt(atom.Sum(v => (double)v * v)), 5);
            Assert.False(atom.AsSpan().SequenceEqual(old.AsSpan(a * features, features)));
            // The restarted atom is a data row scaled to unit norm.
            bool fromData = Enumerable.Range(0, rows).Any(r =>
            {
                var row = x.AsSpan(r * features, features).ToArray();
                double norm = Math.Sqrt(row.Sum(v => (double)v * v));
                return row.Select((v, f) => Math.Abs(v / norm - atom[f])).Max() < 1e-6;
            });
            Assert.True(fromData, $"atom {a} is not a normalised data row");
        }
    }

    [Fact]
    public void Learning_lowers_the_objective_pass_by_pass_and_repeats_exactly()
    {
        var random = new System.Random(6);
        const int features = 16, rows = 600;
        // Rows built from a hidden sparse dictionary, so there is structure to find.
        var truth = FistaEncoderTests.RandomDictionary(random, 32, features);
        var x = new float[rows * features];
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < 3; q++)
            {
                int a = random.Next(32);
                float c = (float)(random.NextDouble() * 2 - 1);
                for (int f = 0; f < features; f++) x[r * features + f] += c * truth[a * features + f];
            }
        var options = new DictionaryLearningOptions { Atoms = 32, Epochs = 4, BatchRows = 100, Encoder = new FistaOptions { Lambda = 0.05f }, Seed = 3 };
        var (dictionary, passes) = DictionaryLearning.Learn(Cpu, x, features, options);
        Assert.Equal(4, passes.Count);
        for (int i = 1; i < passes.Count; i++) Assert.True(passes[i].MeanObjective < passes[i - 1].MeanObjective, $"pass {i}: {passes[i - 1].MeanObjective} -> {passes[i].MeanObjective}");
        for (int a = 0; a < 32; a++)
            Assert.True(Math.Sqrt(dictionary.AsSpan(a * features, features).ToArray().Sum(v => (double)v * v)) <= 1 + 1e-6);
        var initial = DictionaryLearning.InitialAtoms(x, features, 32, RandomStream.Root(3).Derive("start"));
        var kept = (float[])initial.Clone();
        var (again, _) = DictionaryLearning.Learn(Cpu, x, features, options);
        Assert.Equal(dictionary, again);
        DictionaryLearning.Learn(Cpu, x, features, options with { Epochs = 1 }, initial);
        Assert.Equal(kept, initial);
        var (other, _) = DictionaryLearning.Learn(Cpu, x, features, options with { Seed = 4 });
        Assert.NotEqual(dictionary, other);
    }

    private static Dataset Images(int count, int height, int width, int seed)
    {
        var random = new System.Random(seed);
        var x = new float[count * height * width];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        return new Dataset(x, new int[count], 1, [height, width]);
    }

    [Fact]
    public void Patches_are_cut_where_the_stream_says_and_prepared()
    {
        var images = Images(5, 9, 11, 1);
        var raw = ImagePatches.Sample(images, new PatchOptions(4, RemoveMean: false, UnitNorm: false), 30, RandomStream.Root(2).Derive("p"));
        // Every raw patch is some 4x4 window of some image.
        for (int p = 0; p < 30; p++)
        {
            var patch = raw.AsSpan(p * 16, 16).ToArray();
            bool found = false;
            for (int i = 0; i < 5 && !found; i++)
                for (int r = 0; r <= 5 && !found; r++)
                    for (int c = 0; c <= 7 && !found; c++)
                        found = Enumerable.Range(0, 16).All(k => images.Sample(i)[(r + k / 4) * 11 + c + k % 4] == patch[k]);
            Assert.True(found, $"patch {p} is no window of the images");
        }
        var prepared = ImagePatches.Sample(images, new PatchOptions(4), 30, RandomStream.Root(2).Derive("p"));
        for (int p = 0; p < 30; p++)
        {
            var patch = prepared.AsSpan(p * 16, 16).ToArray();
            Assert.True(Math.Abs(patch.Average()) < 1e-6, $"patch {p} mean {patch.Average()}");
            Assert.Equal(1.0, Math.Sqrt(patch.Sum(v => (double)v * v)), 5);
        }
        Assert.Equal(prepared, ImagePatches.Sample(images, new PatchOptions(4), 30, RandomStream.Root(2).Derive("p")));
        Assert.NotEqual(prepared, ImagePatches.Sample(images, new PatchOptions(4), 30, RandomStream.Root(3).Derive("p")));
        var grid = new float[ImagePatches.GridSize(9, 11, 4, 3).Rows * ImagePatches.GridSize(9, 11, 4, 3).Columns * 16];
        Assert.Equal((2, 3), ImagePatches.Grid(images.Sample(0), 1, 9, 11, new PatchOptions(4, false, false), 3, grid));
        Assert.Equal(images.Sample(0)[3 * 11 + 6], grid[(1 * 3 + 2) * 16]);
    }

    [Fact]
    public void A_patch_larger_than_the_images_or_samples_that_are_not_images_are_refused()
    {
        var images = Images(2, 6, 6, 1);
        var e = Assert.Throws<ArgumentException>(() => ImagePatches.Sample(images, new PatchOptions(8), 5, RandomStream.Root(1)));
        Assert.Contains("A 8 x 8 patch does not fit in 6 x 6 images", e.Message);
        var flat = new Dataset(new float[20], new int[2], 1, 10);
        e = Assert.Throws<ArgumentException>(() => ImagePatches.Sample(flat, new PatchOptions(2), 5, RandomStream.Root(1)));
        Assert.Contains("shaped [height, width] or [channels, height, width]; these are [10]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SparseCodingModel(new float[16], 1, new PatchOptions(4), 0f));
        Assert.Contains("lambda must be a positive number, got 0", e.Message);
    }

    [Fact]
    public void Zca_whitened_rows_have_the_identity_covariance()
    {
        var random = new System.Random(8);
        const int rows = 4000, features = 6;
        var mixing = RandomRows(random, features, features);
        var x = new float[rows * features];
        for (int r = 0; r < rows; r++)
        {
            var s = Enumerable.Range(0, features).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            for (int f = 0; f < features; f++)
                for (int g = 0; g < features; g++) x[r * features + f] += (float)(s[g] * mixing[g * features + f]) + 0.5f;
        }
        var zca = ZcaWhitening.Fit(Cpu, x, features, epsilon: 1e-9);
        zca.Apply(Cpu, x);
        for (int i = 0; i < features; i++)
            for (int j = 0; j < features; j++)
            {
                double c = 0;
                for (int r = 0; r < rows; r++) c += (double)x[r * features + i] * x[r * features + j];
                c /= rows;
                Assert.True(Math.Abs(c - (i == j ? 1 : 0)) < 2e-3, $"covariance[{i},{j}] = {c}");
            }
        // ZCA's matrix is symmetric.
        for (int i = 0; i < features; i++)
            for (int j = 0; j < features; j++) Assert.Equal(zca.Matrix[i * features + j], zca.Matrix[j * features + i], 4);
    }
}
