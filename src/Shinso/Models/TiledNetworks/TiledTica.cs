using System.Diagnostics;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.Topographic;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.TiledNetworks;

/// <summary>The shape of a tiled layer with its square-root pooling, and how TICA pretrains it.</summary>
public sealed record TiledTicaOptions
{
    /// <summary>Maps F; each tile holds one filter per map, and TICA keeps a tile's F filters orthonormal.</summary>
    public int Maps { get; init; } = 16;

    /// <summary>Receptive field side (the filters are Kernel x Kernel per channel).</summary>
    public int Kernel { get; init; } = 8;

    /// <summary>k: filters repeat every k positions.</summary>
    public int Tile { get; init; } = 2;

    /// <summary>Side of the square-root (L2) pooling window over neighbouring positions of one map.</summary>
    public int PoolSize { get; init; } = 3;

    /// <summary>Stride of the pooling.</summary>
    public int PoolStride { get; init; } = 3;

    /// <summary>Gradient step on the whitened filters before each orthonormalisation.</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>Passes over the training images (0 keeps the random orthonormal filters: the untrained control).</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>Images per step.</summary>
    public int BatchImages { get; init; } = 100;

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public void Validate()
    {
        if (Maps < 1) throw new ArgumentException($"The tiled layer needs at least one map, got {Maps}.", nameof(Maps));
        if (Kernel < 1) throw new ArgumentException($"The receptive field must be at least 1 pixel, got {Kernel}.", nameof(Kernel));
        if (Tile < 1) throw new ArgumentException($"The tile size must be at least 1, got {Tile}.", nameof(Tile));
        if (PoolSize < 1 || PoolStride < 1) throw new ArgumentException($"The pooling window {PoolSize} and stride {PoolStride} must be positive.", nameof(PoolSize));
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentException($"The learning rate must be positive, got {LearningRate}.", nameof(LearningRate));
        if (Epochs < 0) throw new ArgumentException($"Epochs must be >= 0, got {Epochs}.", nameof(Epochs));
        if (BatchImages < 1) throw new ArgumentException($"Images per step must be >= 1, got {BatchImages}.", nameof(BatchImages));
    }
}

/// <summary>One pretraining pass: the mean of its steps' objectives (<see cref="TiledTica.PooledObjective"/>), the worst tile's <c>|V Vᵀ − I|</c> and the seconds so far.</summary>
public sealed record TiledTicaEpoch(int Epoch, double MeanObjective, double Orthonormality, double Seconds);

/// <summary>
/// TICA pretraining of a tiled convolution (Le et al. 2010, section 3): minimise the square-root pooled responses
/// <c>sum sqrt(sum_window h²)</c> of whole images subject to local orthogonality, each tile's F filters orthonormal in the
/// whitened space of their receptive field (a tile's filters share every receptive field they read).
/// </summary>
/// <remarks>
/// The filters are held as <c>V</c> on PCA-whitened centred patches (Hyvärinen &amp; Hoyer's preprocessing: the leading m
/// principal components, each scaled to unit variance), so the pixel-space layer is <c>W_t = V_t Z C</c> and
/// <c>b_t = −V_t Z μ</c> (Z = <c>D^(−1/2) Eᵀ</c> the whitening, C the patch centring, μ the patches' mean): one affine map of
/// each raw patch, which the tiled layer applies unchanged at inference. Every whitened direction has unit variance, so the
/// objective cannot fall by choosing directions of little variance (a regularised full whitening leaves its near-null
/// directions nearly empty, and an undercomplete tile would settle there). Each step runs the layer and the pooling forward
/// and back through the backend, maps the pixel-space gradient back (<c>dV = dW (Z C)ᵀ − db (Z μ)ᵀ</c>), takes a gradient
/// step and orthonormalises every tile by <see cref="TopographicIca.Orthonormalize"/>.
/// </remarks>
public sealed class TiledTica
{
    private readonly double[] _map;      // Z C, [m, d]
    private readonly double[] _offset;   // Z μ, [m]

    private TiledTica(TiledTicaOptions options, int channels, int height, int width, PrincipalComponents whitening)
    {
        Options = options;
        Channels = channels;
        Height = height;
        Width = width;
        Whitening = whitening;
        int d = channels * options.Kernel * options.Kernel, m = whitening.ComponentCount;
        _map = new double[m * d];
        _offset = new double[m];
        var e = whitening.Components;
        for (int i = 0; i < m; i++)
        {
            double scale = 1 / Math.Sqrt(whitening.Variances[i]), rowMean = 0, offset = 0;
            for (int j = 0; j < d; j++) rowMean += e[i * d + j];
            rowMean /= d;
            for (int j = 0; j < d; j++)
            {
                _map[i * d + j] = (e[i * d + j] - rowMean) * scale;
                offset += e[i * d + j] * whitening.Mean[j];
            }
            _offset[i] = offset * scale;
        }
        Filters = new float[options.Tile * options.Tile * options.Maps * m];
    }

    /// <summary>The settings.</summary>
    public TiledTicaOptions Options { get; }

    /// <summary>Image channels.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>The principal components of centred Kernel x Kernel patches whose whitened span the filters live in.</summary>
    public PrincipalComponents Whitening { get; }

    /// <summary>V, <c>[k*k*F, m]</c>: row t*F + f is map f's whitened filter in tile t.</summary>
    public float[] Filters { get; }

    /// <summary>Values per receptive field, d.</summary>
    public int FieldLength => Channels * Options.Kernel * Options.Kernel;

    /// <summary>Whitened dimensions m.</summary>
    public int WhitenedLength => Whitening.ComponentCount;

    /// <summary>The pixel-space weights and biases of the tiled layer, <c>W = V Z C</c> and <c>b = −V Z μ</c>.</summary>
    public (float[] Weight, float[] Bias) LayerParameters()
    {
        int d = FieldLength, rows = Filters.Length / WhitenedLength;
        var weight = new float[rows * d];
        var bias = new float[rows];
        PixelSpace(weight, bias);
        return (weight, bias);
    }

    /// <summary><c>Z C</c>, [m, d]: the whitened filters' map into pixel space (tests evaluate the objective in double through it).</summary>
    internal ReadOnlySpan<double> WhiteningMap => _map;

    /// <summary><c>Z μ</c>, [m]: the whitened filters' map into the pixel-space bias.</summary>
    internal ReadOnlySpan<double> WhiteningOffset => _offset;

    private void PixelSpace(Span<float> weight, Span<float> bias)
    {
        int d = FieldLength, m = WhitenedLength, rows = Filters.Length / m;
        for (int r = 0; r < rows; r++)
        {
            var v = Filters.AsSpan(r * m, m);
            for (int j = 0; j < d; j++)
            {
                double sum = 0;
                for (int i = 0; i < m; i++) sum += v[i] * _map[i * d + j];
                weight[r * d + j] = (float)sum;
            }
            double b = 0;
            for (int i = 0; i < m; i++) b += v[i] * _offset[i];
            bias[r] = (float)-b;
        }
    }

    /// <summary>The worst tile's deviation of <c>V_t V_tᵀ</c> from the identity.</summary>
    public double Orthonormality()
    {
        int m = WhitenedLength, f = Options.Maps;
        double worst = 0;
        for (int t = 0; t < Options.Tile * Options.Tile; t++)
            worst = Math.Max(worst, TopographicIca.Orthonormality(Filters.AsSpan(t * f * m, f * m), f, m));
        return worst;
    }

    /// <summary>A tiled layer and its pooling on <paramref name="backend"/>, holding the current filters.</summary>
    public (TiledConv2d Layer, Pool2d Pooling) Build(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var layer = new TiledConv2d(backend, Channels, Height, Width, Options.Maps, Options.Kernel, Options.Tile, name: "layer0");
        var c = layer.Geometry.Convolution;
        var pooling = new Pool2d(backend, PoolingKind.Lp, PoolingGeometry(c.OutputHeight, c.OutputWidth), 2f);
        var (w, b) = LayerParameters();
        backend.Upload(w, layer.Weight.Value);
        backend.Upload(b, layer.Bias.Value);
        return (layer, pooling);
    }

    private PoolingGeometry PoolingGeometry(int height, int width)
    {
        var g = new PoolingGeometry(Options.Maps, height, width, Options.PoolSize, Options.PoolSize, Options.PoolStride, Options.PoolStride, 0, 0, false);
        g.Validate();
        return g;
    }

    /// <summary>
    /// Pretrains the tiled layer of <paramref name="options"/> on <paramref name="images"/> (image-shaped samples) whose centred
    /// receptive fields <paramref name="whitening"/> whitens (principal components of centred fields, as many as the whitened dimensions).
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range, the field does not fit the images, the components are for another field size or include
    /// one without variance, or a tile has more maps than the whitened field has dimensions (an orthonormal tile cannot).</exception>
    public static (TiledTica Model, IReadOnlyList<TiledTicaEpoch> Epochs) Pretrain(IBackend backend, Dataset images, PrincipalComponents whitening, TiledTicaOptions options,
        Action<TiledTicaEpoch>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(whitening);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (channels, height, width) = ImagePatches.Geometry(images, options.Kernel);
        int d = channels * options.Kernel * options.Kernel;
        if (whitening.FeatureCount != d)
            throw new ArgumentException($"The whitening is for {whitening.FeatureCount} values per field but {channels} x {options.Kernel} x {options.Kernel} fields hold {d}.", nameof(whitening));
        int rank = whitening.Variances.Count(v => v > 1e-6 * whitening.Variances[0]);
        if (rank < whitening.ComponentCount)
            throw new ArgumentException($"The centred fields span {rank} dimensions, fewer than the {whitening.ComponentCount} whitened components asked for; use at most {rank}.", nameof(whitening));
        if (options.Maps > whitening.ComponentCount)
            throw new ArgumentException($"{options.Maps} maps per tile cannot be orthonormal in {whitening.ComponentCount} whitened dimensions; use at most {whitening.ComponentCount} maps or more components.", nameof(options));
        var field = new TiledConvolutionGeometry(new ConvolutionGeometry(channels, height, width, options.Kernel, options.Kernel), options.Tile);
        field.Validate();
        var model = new TiledTica(options, channels, height, width, whitening);
        model.PoolingGeometry(field.Convolution.OutputHeight, field.Convolution.OutputWidth);
        int tiles = options.Tile * options.Tile, f = options.Maps;
        var root = RandomStream.Root(options.Seed).Derive("tiled-tica");
        var init = root.Derive("initial-filters");
        for (int i = 0; i < model.Filters.Length; i++) model.Filters[i] = Philox4x32.Gaussian(init, (ulong)i);
        int m = whitening.ComponentCount;
        for (int t = 0; t < tiles; t++) TopographicIca.Orthonormalize(model.Filters.AsSpan(t * f * m, f * m), f, m);

        var epochs = new List<TiledTicaEpoch>();
        int n = images.Count, batch = Math.Min(options.BatchImages, n), imageLength = images.FeatureCount;
        if (options.Epochs == 0 || n == 0) return (model, epochs);
        var objective = new PooledObjective(backend, model, batch);
        var rows = new float[batch * imageLength];
        var gradient = new float[model.Filters.Length];
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = DeterministicShuffle.EpochPermutation(n, epoch, root.Derive("order"));
            double sum = 0;
            int steps = 0;
            for (int start = 0; start + batch <= n; start += batch)
            {
                for (int r = 0; r < batch; r++) images.Features.AsSpan(order[start + r] * imageLength, imageLength).CopyTo(rows.AsSpan(r * imageLength, imageLength));
                sum += objective.Evaluate(rows, gradient);
                steps++;
                model.Step(gradient, options.LearningRate);
            }
            var report = new TiledTicaEpoch(epoch, sum / Math.Max(1, steps), model.Orthonormality(), clock.Elapsed.TotalSeconds);
            epochs.Add(report);
            progress?.Invoke(report);
        }
        return (model, epochs);
    }

    /// <summary><c>V ← orth(V − rate dV)</c>, tile by tile.</summary>
    private void Step(ReadOnlySpan<float> gradient, float rate)
    {
        for (int i = 0; i < Filters.Length; i++) Filters[i] -= rate * gradient[i];
        int m = WhitenedLength, f = Options.Maps;
        for (int t = 0; t < Options.Tile * Options.Tile; t++) TopographicIca.Orthonormalize(Filters.AsSpan(t * f * m, f * m), f, m);
    }

    /// <summary>
    /// The objective TICA lowers for a batch of images, the mean square-root pooled response per pooling unit scaled by the
    /// k*k tiles (each tile sees 1/k² of the positions, so its gradient keeps patch TICA's scale whatever k), and its gradient
    /// in V: the layer and pooling run forward and back on the backend, then <c>dV = dW (Z C)ᵀ − db (Z μ)ᵀ</c>.
    /// </summary>
    internal sealed class PooledObjective
    {
        private readonly IBackend _backend;
        private readonly TiledTica _model;
        private readonly TiledConv2d _layer;
        private readonly Pool2d _pooling;
        private readonly Tensor _images;
        private readonly Tensor _seed;
        private readonly float _scale;
        private readonly float[] _weight, _bias, _weightGradient, _biasGradient;

        public PooledObjective(IBackend backend, TiledTica model, int batch)
        {
            _backend = backend;
            _model = model;
            (_layer, _pooling) = model.Build(backend);
            var shape = _pooling.OutputShape(_layer.OutputShape([model.Channels, model.Height, model.Width]));
            int units = shape[0] * shape[1] * shape[2];
            _scale = (float)(model.Options.Tile * model.Options.Tile) / ((long)batch * units);
            _images = backend.Allocate(batch, model.Channels * model.Height * model.Width);
            _seed = backend.Allocate(batch, shape[0], shape[1], shape[2]);
            backend.ScaleShift(_seed, 0f, _scale, _seed);
            _bias = new float[model.Filters.Length / model.WhitenedLength];
            _weight = new float[_bias.Length * model.FieldLength];
            _weightGradient = new float[_weight.Length];
            _biasGradient = new float[_bias.Length];
        }

        /// <summary>The objective of <paramref name="rows"/> (the batch's images) under the model's current filters; <paramref name="gradient"/> receives dV.</summary>
        public double Evaluate(ReadOnlySpan<float> rows, Span<float> gradient)
        {
            _model.PixelSpace(_weight, _bias);
            _backend.Upload(_weight, _layer.Weight.Value);
            _backend.Upload(_bias, _layer.Bias.Value);
            _backend.Upload(rows, _images);
            var pooled = _pooling.Forward(_layer.Forward(_images, ForwardContext.Inference), ForwardContext.Inference);
            double objective = _scale * (double)_backend.Sum(pooled);
            _layer.Backward(_pooling.Backward(_seed, needInputGradient: true)!, needInputGradient: false);
            _backend.Download(_layer.Weight.Gradient, _weightGradient);
            _backend.Download(_layer.Bias.Gradient, _biasGradient);
            int d = _model.FieldLength, m = _model.WhitenedLength;
            for (int r = 0; r < _bias.Length; r++)
            {
                var dw = _weightGradient.AsSpan(r * d, d);
                double db = _biasGradient[r];
                for (int i = 0; i < m; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += dw[j] * _model._map[i * d + j];
                    gradient[r * m + i] = (float)(sum - db * _model._offset[i]);
                }
            }
            return objective;
        }
    }
}
