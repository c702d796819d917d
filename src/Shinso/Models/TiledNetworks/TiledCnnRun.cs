using System.Diagnostics;
using System.Globalization;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.FeedForward;
using Shinso.Models.SparseCoding;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.TiledNetworks;

/// <summary>A tiled CNN preset: the tiled layer and its TICA pretraining, the whitening's patches, and the classifier on the pooled maps.</summary>
/// <param name="Layer">Maps, field, tile, pooling and pretraining.</param>
/// <param name="WhiteningPatches">Random training patches the field's PCA whitening is fitted on (at most <see cref="ImagePatches.MaxPerImage"/> per image).</param>
/// <param name="WhitenedComponents">m, the leading principal components of centred fields kept and whitened (at most the field's values).</param>
/// <param name="Classifier">The softmax classifier trained on the standardised pooled maps of the pretrained layer.</param>
public sealed record TiledCnnPreset(TiledTicaOptions Layer, int WhiteningPatches, int WhitenedComponents, TrainingConfig Classifier);

/// <summary>The tiled CNN preset.</summary>
public static class TiledCnnPresets
{
    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Names { get; } = ["tiled-cnn"];

    /// <summary>The preset <paramref name="name"/>, or null for another name.</summary>
    public static TiledCnnPreset? Find(string name) => name switch
    {
        // Le et al.'s network: 8x8 fields, tile 2, 3x3 square-root pooling, TICA on whole images. Chosen on a validation split (the
        // first 10,000 training images against 5,000 of the last 10,000; 26 recipes): PCA whitening to m components with m = maps
        // (ZCA with a regulariser let TICA settle in the near-empty directions: below random filters), 32 maps of 16, 32 and 48,
        // 5 TICA passes of 0, 1, 2, 5, 10 and 20, pooling stride 3 (stride 2 gave 0.4 points for twice the features).
        "tiled-cnn" => new TiledCnnPreset(new TiledTicaOptions { Maps = 32, Epochs = 5 }, 50_000, 32, SparseCodingPresets.SoftmaxClassifier),
        _ => null,
    };
}

/// <summary>What a tiled CNN run measured.</summary>
/// <param name="Net">The whole net, raw images in: the tiled layer, its pooling and the classifier with the standardisation folded in.</param>
/// <param name="Pretraining">The layer's TICA pretraining.</param>
/// <param name="Epochs">The pretraining passes.</param>
/// <param name="PretrainSeconds">Seconds of pretraining.</param>
/// <param name="FeatureCount">Pooled values per image.</param>
/// <param name="ClassifierAccuracy">Test accuracy of the classifier on the standardised features.</param>
/// <param name="NetAccuracy">Test accuracy of <paramref name="Net"/> on raw images (the same classifier, folded).</param>
public sealed record TiledCnnResult(FeedForwardNet Net, TiledTica Pretraining, IReadOnlyList<TiledTicaEpoch> Epochs, double PretrainSeconds, int FeatureCount,
    double ClassifierAccuracy, double NetAccuracy);

/// <summary>Runs a <see cref="TiledCnnPreset"/>: whitening, TICA pretraining of the tiled layer, features, classifier, and the folded net.</summary>
public static class TiledCnnRun
{
    /// <summary>Images per feature batch.</summary>
    private const int FeatureBatch = 500;

    /// <summary>Pretrains on <paramref name="train"/>, trains the classifier and measures both on <paramref name="test"/>.</summary>
    /// <exception cref="ArgumentException">The images are not image-shaped, the field or pooling does not fit, or a setting is out of range.</exception>
    public static TiledCnnResult Run(TiledCnnPreset preset, IBackend backend, Dataset train, Dataset test, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var options = preset.Layer with { Seed = seed };
        var (channels, height, width) = ImagePatches.Geometry(train, options.Kernel);
        var root = RandomStream.Root(seed).Derive("tiled-cnn");
        int patchCount = (int)Math.Min(preset.WhiteningPatches, (long)ImagePatches.MaxPerImage * train.Count);
        var patches = ImagePatches.Sample(train, new PatchOptions(options.Kernel, RemoveMean: true, UnitNorm: false), patchCount, root.Derive("whitening-patches"));
        var whitening = PrincipalComponents.Fit(backend, patches, channels * options.Kernel * options.Kernel, preset.WhitenedComponents);
        var clock = Stopwatch.StartNew();
        var (model, epochs) = TiledTica.Pretrain(backend, train, whitening, options, e => progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"pretraining epoch {e.Epoch + 1}/{options.Epochs}: objective (k² x mean pooled response) {e.MeanObjective:F5}, |V Vᵀ - I| {e.Orthonormality:0.0e+0}, {e.Seconds:F1} s")));
        double pretrainSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var trainFeatures = Features(backend, model, train);
        var testFeatures = Features(backend, model, test);
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"features: {trainFeatures.FeatureCount} per image ({options.Maps} maps pooled {options.PoolSize} x {options.PoolSize}, stride {options.PoolStride}), {clock.Elapsed.TotalSeconds:F0} s"));
        var (classifier, statistics, accuracy) = StandardizedClassifier.Train(backend, preset.Classifier, trainFeatures, testFeatures);
        var net = Compose(backend, model, classifier, statistics, seed);
        double netAccuracy = Trainer.Evaluate(net, SupervisedData.FromDataset(test)).Accuracy ?? double.NaN;
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"tile {options.Tile}: softmax on pooled maps {accuracy:P2} test accuracy; the composed net on raw images {netAccuracy:P2}"));
        return new TiledCnnResult(net, model, epochs, pretrainSeconds, trainFeatures.FeatureCount, accuracy, netAccuracy);
    }

    /// <summary>The architecture of the composed net: the tiled layer, its square-root pooling, flatten, the classifier's dense layer.</summary>
    public static FeedForwardSpec Architecture(TiledTicaOptions options, int[] imageShape, int classes) => new(imageShape,
        [LayerSpec.TiledConv(options.Maps, options.Kernel, options.Tile), LayerSpec.Pool("lppool", options.PoolSize, options.PoolStride, p: 2f),
            LayerSpec.Of("flatten"), LayerSpec.Dense(classes)], "softmax-cross-entropy");

    /// <summary>The pooled maps of the pretrained layer for every image of <paramref name="images"/>.</summary>
    public static Dataset Features(IBackend backend, TiledTica model, Dataset images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        var (layer, pooling) = model.Build(backend);
        var shape = pooling.OutputShape(layer.OutputShape([model.Channels, model.Height, model.Width]));
        int units = shape[0] * shape[1] * shape[2], length = images.FeatureCount, n = images.Count;
        var features = new float[(long)n * units];
        int batch = Math.Min(FeatureBatch, Math.Max(1, n));
        var x = backend.Allocate(batch, length);
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            var view = x.SliceRows(0, rows);
            backend.Upload(images.Features.AsSpan(start * length, rows * length), view);
            var pooled = pooling.Forward(layer.Forward(view, ForwardContext.Inference), ForwardContext.Inference);
            backend.Download(pooled, features.AsSpan(start * units, rows * units));
        }
        return new Dataset(features, images.Labels, images.ClassCount, units);
    }

    /// <summary>The net on raw images: the pretrained layer's parameters, then the classifier's dense layer with the feature standardisation folded in.</summary>
    private static FeedForwardNet Compose(IBackend backend, TiledTica model, FeedForwardNet classifier, NormalizationStatistics statistics, ulong seed)
    {
        classifier.AbsorbInputStandardization(statistics);
        var dense = classifier.Layers.OfType<Dense>().Single();
        var net = new FeedForwardNet(backend, Architecture(model.Options, [model.Channels, model.Height, model.Width], dense.Units), seed);
        var tiled = (TiledConv2d)net.Layers[0];
        var (w, b) = model.LayerParameters();
        backend.Upload(w, tiled.Weight.Value);
        backend.Upload(b, tiled.Bias.Value);
        var target = (Dense)net.Layers[3];
        for (int p = 0; p < target.Parameters.Count; p++) backend.Copy(dense.Parameters[p].Value, target.Parameters[p].Value);
        return net;
    }
}
