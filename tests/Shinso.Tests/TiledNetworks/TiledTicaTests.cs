using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.SparseCoding;
using Shinso.Models.TiledNetworks;
using Shinso.Random;
using Shinso.Layers;
using Shinso.Tests.Gradients;
using Shinso.Tests.Kernels;
using Shinso.Training;

namespace Shinso.Tests.TiledNetworks;

/// <summary>TICA pretraining of a tiled layer: its pooled objective's gradient, local orthonormality after every step, the composed net, refusals.</summary>
public sealed class TiledTicaTests
{
    private static readonly CpuBackend Cpu = new();

    private static (Dataset Train, Dataset Test) Images(int train, int test) => FashionMnist.Load(TestData.EmbeddedSubset, train, test);

    private static PrincipalComponents Whitening(Dataset images, int kernel, int components)
    {
        var patches = ImagePatches.Sample(images, new PatchOptions(kernel, RemoveMean: true, UnitNorm: false), 4000, RandomStream.Root(3).Derive("patches"));
        return PrincipalComponents.Fit(Cpu, patches, kernel * kernel, components);
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public void The_pooled_objectives_gradient_in_the_whitened_filters_matches_the_double_precision_reference(int tile, int poolStride)
    {
        var (train, _) = Images(6, 1);
        var options = new TiledTicaOptions { Maps = 3, Kernel = 5, Tile = tile, PoolSize = 3, PoolStride = poolStride, Epochs = 0, Seed = 4 };
        var (model, _) = TiledTica.Pretrain(Cpu, train, Whitening(train, 5, 10), options);
        var objective = new TiledTica.PooledObjective(Cpu, model, train.Count);
        var gradient = new float[model.Filters.Length];
        objective.Evaluate(train.Features, gradient);

        // The same objective in double: W = V Z C and b = -V Z μ, the tiled layer, the L2 pooling, the scaled sum.
        var (layer, pooling) = model.Build(Cpu);
        var reference = new DoubleReference(Cpu, ForwardContext.Inference);
        var v = NaiveConvolution.Double(model.Filters);
        var x = NaiveConvolution.Double(train.Features);
        var map = model.WhiteningMap.ToArray();
        var offset = model.WhiteningOffset.ToArray();
        int d = model.FieldLength, m = model.WhitenedLength, rows = v.Length / m, n = train.Count;
        int units = pooling.OutputShape(layer.OutputShape([model.Channels, model.Height, model.Width])).Aggregate(1, (a, b) => a * b);
        double scale = (float)(tile * tile) / ((long)n * units);
        double Objective()
        {
            var (w, b) = (new double[rows * d], new double[rows]);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < d; j++) w[r * d + j] += v[r * m + i] * map[i * d + j];
                    b[r] -= v[r * m + i] * offset[i];
                }
            reference.Set(layer.Weight, w);
            reference.Set(layer.Bias, b);
            return scale * reference.Forward(pooling, reference.Forward(layer, x, n), n).Sum();
        }
        var random = new System.Random(tile);
        var probes = Enumerable.Range(0, 30).Select(_ => random.Next(v.Length)).Distinct().ToArray();
        var counts = ReferenceGradient.AssertMatches(gradient, v, Objective, $"tile {tile}: dJ/dV", probes);
        Assert.Equal(probes.Length, counts.Checked);
    }

    [Fact]
    public void Pretraining_lowers_the_pooled_objective_and_keeps_every_tile_orthonormal_after_every_step()
    {
        var (train, _) = Images(200, 1);
        // One batch per epoch: each epoch's report is the state after one step.
        var options = new TiledTicaOptions { Maps = 8, Kernel = 6, Tile = 2, LearningRate = 0.1f, Epochs = 8, BatchImages = 200 };
        var whitening = Whitening(train, 6, 16);
        var (model, epochs) = TiledTica.Pretrain(Cpu, train, whitening, options);
        Assert.Equal(8, epochs.Count);
        foreach (var e in epochs) Assert.True(e.Orthonormality < 1e-5, $"step {e.Epoch}: |V Vᵀ - I| = {e.Orthonormality}");
        Assert.True(epochs[^1].MeanObjective < epochs[0].MeanObjective, $"{epochs[0].MeanObjective} -> {epochs[^1].MeanObjective}");
        var (again, _) = TiledTica.Pretrain(Cpu, train, whitening, options);
        Assert.Equal(model.Filters, again.Filters);
    }

    [Fact]
    public void The_composed_net_on_raw_images_gives_the_classifiers_accuracy_on_its_features()
    {
        var (train, test) = Images(300, 100);
        var softmax = SparseCodingPresets.SoftmaxClassifier;
        var classifier = softmax with { Optimizer = softmax.Optimizer with { LearningRate = 0.01f }, Training = softmax.Training with { Epochs = 10 } };
        var preset = new TiledCnnPreset(new TiledTicaOptions { Maps = 4, Kernel = 8, Tile = 3, Epochs = 1, BatchImages = 100 }, 5000, 16, classifier);
        var result = TiledCnnRun.Run(preset, Cpu, train, test, seed: 2);
        Assert.Equal(result.ClassifierAccuracy, result.NetAccuracy, 2);
        Assert.True(result.NetAccuracy > 0.5, $"accuracy {result.NetAccuracy}");
        Assert.Equal(4 * 7 * 7, result.FeatureCount);
        Assert.Equal("tiled-conv", result.Net.Layers[0].Kind);
        // The net's first layer is the pretrained layer: its pooled outputs are the features the classifier saw.
        var features = TiledCnnRun.Features(Cpu, result.Pretraining, test);
        var x = Cpu.Allocate(test.Count, test.FeatureCount);
        Cpu.Upload(test.Features, x);
        var pooled = result.Net.Layers[1].Forward(result.Net.Layers[0].Forward(x, Shinso.Layers.ForwardContext.Inference), Shinso.Layers.ForwardContext.Inference).Span.ToArray();
        Assert.Equal(features.Features, pooled);
    }

    [Fact]
    public void More_maps_than_whitened_dimensions_a_field_larger_than_the_images_or_a_tile_beyond_the_maps_are_refused()
    {
        var (train, _) = Images(50, 1);
        var whitening = Whitening(train, 3, 6);
        var e = Assert.Throws<ArgumentException>(() => TiledTica.Pretrain(Cpu, train, whitening, new TiledTicaOptions { Maps = 7, Kernel = 3 }));
        Assert.Contains("7 maps per tile cannot be orthonormal in 6 whitened dimensions", e.Message);
        // A centred 3 x 3 field spans 8 dimensions: a ninth component has no variance to whiten.
        e = Assert.Throws<ArgumentException>(() => TiledTica.Pretrain(Cpu, train, Whitening(train, 3, 9), new TiledTicaOptions { Maps = 2, Kernel = 3 }));
        Assert.Contains("span 8 dimensions, fewer than the 9 whitened components", e.Message);
        e = Assert.Throws<ArgumentException>(() => TiledTica.Pretrain(Cpu, train, whitening, new TiledTicaOptions { Maps = 2, Kernel = 30 }));
        Assert.Contains("30 x 30 patch does not fit", e.Message);
        e = Assert.Throws<ArgumentException>(() => TiledTica.Pretrain(Cpu, train, whitening, new TiledTicaOptions { Maps = 2, Kernel = 3, Tile = 27 }));
        Assert.Contains("tile size must be between 1 and the larger output side 26", e.Message);
        e = Assert.Throws<ArgumentException>(() => TiledTica.Pretrain(Cpu, train, whitening, new TiledTicaOptions { Maps = 2, Kernel = 4 }));
        Assert.Contains("whitening is for 9 values per field", e.Message);
    }
}
