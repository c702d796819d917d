using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Random;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>One layer of a convolutional DBN: K groups of N x N filters, B x B pooling blocks.</summary>
/// <param name="Groups">K.</param>
/// <param name="Filter">N.</param>
/// <param name="Block">B.</param>
/// <param name="LearningRateScale">The layer's CD learning rate as a multiple of the training options' (a layer over many input maps
/// sums its drive over many more inputs, so it needs a smaller rate).</param>
public sealed record ConvolutionalLayerSpec(int Groups, int Filter, int Block, float LearningRateScale = 1f);

/// <summary>What greedy training of one layer did: its epochs' reports.</summary>
public sealed record ConvolutionalLayerReport(int Layer, IReadOnlyList<RbmEpochReport> Epochs);

/// <summary>
/// A convolutional deep belief net (Lee et al. 2009): convolutional RBMs stacked greedily, the pooling layer of one (its
/// probabilities) the visible layer of the next. Its deterministic form, convolution then probabilistic max-pooling's
/// expectation per layer, is a feed-forward net: the features a classifier reads, the start of fine-tuning, the ONNX export.
/// </summary>
public sealed class ConvolutionalDbn
{
    /// <summary>Wraps trained (or loaded) layers; each layer's visible shape must be the previous one's pooled shape.</summary>
    /// <exception cref="ArgumentException">No layers, or a layer does not read its predecessor's pooled maps.</exception>
    public ConvolutionalDbn(IReadOnlyList<ConvolutionalRbm> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("A convolutional DBN needs at least one layer.", nameof(layers));
        for (int l = 1; l < layers.Count; l++)
        {
            var g = layers[l].Geometry;
            var below = layers[l - 1].PoolShape;
            if (g.Channels != below[0] || g.Height != below[1] || g.Width != below[2])
                throw new ArgumentException($"Layer {l} reads [{g.Channels}, {g.Height}, {g.Width}] but layer {l - 1} pools to [{below[0]}, {below[1]}, {below[2]}].", nameof(layers));
        }
        Layers = layers;
    }

    /// <summary>The layers, bottom first.</summary>
    public IReadOnlyList<ConvolutionalRbm> Layers { get; }

    /// <summary>The input images' shape, <c>[C, H, W]</c>.</summary>
    public int[] InputShape => [Layers[0].Geometry.Channels, Layers[0].Geometry.Height, Layers[0].Geometry.Width];

    /// <summary>
    /// Trains the layers of <paramref name="specs"/> greedily on <paramref name="images"/> (image-shaped samples): layer 0 with
    /// <paramref name="visible"/> units on the images, each later one with Bernoulli units on the pooling probabilities below.
    /// Layer l's weights and sampler derive from <c>Root(seed).Derive("cdbn-layer", l)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A layer's filter or block does not fit the maps it reads, or the images are not image-shaped.</exception>
    public static (ConvolutionalDbn Dbn, IReadOnlyList<ConvolutionalLayerReport> Reports) TrainGreedy(IBackend backend, Dataset images, IReadOnlyList<ConvolutionalLayerSpec> specs,
        VisibleUnits visible, RbmTrainingOptions options, int epochs, ulong seed, Action<int, RbmEpochReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(options);
        if (specs.Count == 0) throw new ArgumentException("A convolutional DBN needs at least one layer.", nameof(specs));
        var (channels, height, width) = ImagePatches.Geometry(images, 1);
        var layers = new List<ConvolutionalRbm>();
        var reports = new List<ConvolutionalLayerReport>();
        var data = images;
        int[] shape = [channels, height, width];
        for (int l = 0; l < specs.Count; l++)
        {
            var spec = specs[l];
            var root = RandomStream.Root(seed).Derive("cdbn-layer", l);
            var rbm = new ConvolutionalRbm(backend, shape[0], shape[1], shape[2], spec.Groups, spec.Filter, spec.Block, l == 0 ? visible : VisibleUnits.Bernoulli,
                weightStream: root.Derive("weights"));
            var trainer = new ConvolutionalRbmTrainer(rbm, options with { LearningRate = options.LearningRate * spec.LearningRateScale }, root);
            var epochReports = new List<RbmEpochReport>();
            for (int e = 0; e < epochs; e++)
            {
                var report = trainer.TrainEpoch(data, e);
                epochReports.Add(report);
                progress?.Invoke(l, report);
            }
            layers.Add(rbm);
            reports.Add(new ConvolutionalLayerReport(l, epochReports));
            if (l + 1 < specs.Count)
            {
                data = PooledProbabilities(rbm, data);
                shape = rbm.PoolShape;
            }
        }
        return (new ConvolutionalDbn(layers), reports);
    }

    /// <summary>Images per batch of the deterministic passes.</summary>
    private const int PassBatch = 200;

    /// <summary>The pooling probabilities of <paramref name="rbm"/> for every sample of <paramref name="data"/>, as a data set of its pooled shape.</summary>
    public static Dataset PooledProbabilities(ConvolutionalRbm rbm, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(data);
        var be = rbm.Backend;
        int n = data.Count, batch = Math.Min(PassBatch, Math.Max(1, n)), length = rbm.VisibleLength;
        var features = new float[(long)n * rbm.PoolLength];
        var v = be.Allocate(batch, length);
        var hidden = be.Allocate(batch, rbm.DetectionLength);
        var pool = be.Allocate(batch, rbm.PoolLength);
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            var vv = v.SliceRows(0, rows);
            be.Upload(data.Features.AsSpan(start * length, rows * length), vv);
            var hh = hidden.SliceRows(0, rows);
            var pp = pool.SliceRows(0, rows);
            rbm.HiddenProbabilities(vv, hh, pp);
            be.Download(pp, features.AsSpan(start * rbm.PoolLength, rows * rbm.PoolLength));
        }
        return new Dataset(features, data.Labels, data.ClassCount, rbm.PoolShape);
    }

    /// <summary>
    /// The deterministic net of the first <paramref name="layers"/> layers (all by default): per layer a convolution holding its
    /// filters and hidden biases, then probabilistic max-pooling's expectation; with <paramref name="classes"/>, flatten and a dense
    /// softmax classifier (small random weights from <paramref name="seed"/>) on top, ready to fine-tune by backprop.
    /// </summary>
    public FeedForwardNet ToFeedForwardNet(ulong seed, int classes = 0, int layers = 0)
    {
        int count = layers <= 0 ? Layers.Count : Math.Min(layers, Layers.Count);
        var specs = new List<LayerSpec>();
        for (int l = 0; l < count; l++)
        {
            specs.Add(LayerSpec.Conv(Layers[l].Groups, Layers[l].Geometry.KernelHeight));
            specs.Add(new ProbabilisticPoolSpec(Layers[l].Block));
        }
        if (classes > 0)
        {
            specs.Add(LayerSpec.Of("flatten"));
            specs.Add(LayerSpec.Dense(classes));
        }
        var net = new FeedForwardNet(Layers[0].Backend, new FeedForwardSpec(InputShape, specs, classes > 0 ? "softmax-cross-entropy" : "squared-error"), seed);
        for (int l = 0; l < count; l++)
        {
            var conv = (Conv2d)net.Layers[2 * l];
            net.Backend.Copy(Layers[l].Weights, conv.Weight.Value);
            net.Backend.Copy(Layers[l].HiddenBias, conv.Bias.Value);
        }
        return net;
    }

    /// <summary>The pooling probabilities of every layer for every image of <paramref name="images"/>, bottom first (one up pass).</summary>
    public IReadOnlyList<Dataset> PooledByLayer(Dataset images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var pooled = new List<Dataset>();
        var data = images;
        foreach (var layer in Layers)
        {
            data = PooledProbabilities(layer, data);
            pooled.Add(data);
        }
        return pooled;
    }

    /// <summary>
    /// Features for a classifier: the pooling probabilities of the layers in <paramref name="layers"/> (0-based, distinct) for every
    /// image, concatenated per image in ascending layer order.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, repeats a layer or names one the net does not have.</exception>
    public Dataset Features(Dataset images, IReadOnlyList<int> layers) => Concatenate(PooledByLayer(images), layers, images);

    /// <summary>The per-image concatenation of <paramref name="pooled"/>[l] for the layers l in <paramref name="layers"/>, in ascending order, labelled as <paramref name="images"/>.</summary>
    /// <exception cref="ArgumentException">The list is empty, repeats a layer or names one <paramref name="pooled"/> lacks.</exception>
    public static Dataset Concatenate(IReadOnlyList<Dataset> pooled, IReadOnlyList<int> layers, Dataset images)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(images);
        if (layers.Count == 0 || layers.Distinct().Count() != layers.Count || layers.Any(l => l < 0 || l >= pooled.Count))
            throw new ArgumentException($"Expected distinct layers from 0 to {pooled.Count - 1}, got [{string.Join(", ", layers)}].", nameof(layers));
        var chosen = layers.Order().Select(l => pooled[l]).ToArray();
        if (chosen.Length == 1) return new Dataset(chosen[0].Features, images.Labels, images.ClassCount, chosen[0].FeatureCount);
        int width = chosen.Sum(d => d.FeatureCount), n = images.Count;
        var features = new float[(long)n * width];
        for (int i = 0; i < n; i++)
        {
            int offset = 0;
            foreach (var d in chosen)
            {
                d.Features.AsSpan(i * d.FeatureCount, d.FeatureCount).CopyTo(features.AsSpan(i * width + offset, d.FeatureCount));
                offset += d.FeatureCount;
            }
        }
        return new Dataset(features, images.Labels, images.ClassCount, width);
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s filters in pixel space, <c>[K, C, S, S]</c>: layer 0's as they are (S = N); a higher layer's
    /// as the sum of the filters below it weighted by its own, each lower filter placed where the pooling unit it weighs sits
    /// (offset <c>B</c> per pooled position), the picture Lee et al. draw of second-layer parts.
    /// </summary>
    public (float[] Pixels, int Side) PixelFilters(int layer)
    {
        if (layer < 0 || layer >= Layers.Count) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The net has layers 0 to {Layers.Count - 1}.");
        var below = RestrictedBoltzmannMachine.Download(Layers[0].Weights);
        int side = Layers[0].Geometry.KernelHeight, channels = Layers[0].Geometry.Channels, stride = Layers[0].Block;
        for (int l = 1; l <= layer; l++)
        {
            var rbm = Layers[l];
            var w = RestrictedBoltzmannMachine.Download(rbm.Weights);
            int k = rbm.Groups, lower = rbm.Geometry.Channels, n = rbm.Geometry.KernelHeight;
            int next = (n - 1) * stride + side;
            var pixels = new float[k * channels * next * next];
            for (int g = 0; g < k; g++)
                for (int c = 0; c < lower; c++)
                    for (int p = 0; p < n; p++)
                        for (int q = 0; q < n; q++)
                        {
                            float weight = w[g * lower * n * n + (c * n + p) * n + q];
                            for (int ch = 0; ch < channels; ch++)
                                for (int y = 0; y < side; y++)
                                    for (int x = 0; x < side; x++)
                                        pixels[((g * channels + ch) * next + p * stride + y) * next + q * stride + x] += weight * below[((c * channels + ch) * side + y) * side + x];
                        }
            below = pixels;
            side = next;
            stride *= rbm.Block;
        }
        return (below, side);
    }
}
