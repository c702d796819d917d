using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.Autoencoders;

/// <summary>What pretrains each layer of a stack.</summary>
public enum Pretrainer
{
    /// <summary>A one-hidden-layer autoencoder with tied weights on the codes of the layer below (Bengio et al. 2007).</summary>
    Autoencoder,
    /// <summary>A binary RBM trained by CD-1 on the codes of the layer below (Hinton &amp; Salakhutdinov 2006).</summary>
    Rbm,
}

/// <summary>How <see cref="LayerwisePretraining"/> trains each layer.</summary>
public sealed record PretrainingOptions
{
    /// <summary>Autoencoder or RBM.</summary>
    public Pretrainer Method { get; init; } = Pretrainer.Autoencoder;

    /// <summary>Epochs per layer.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per update.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>
    /// The learning rate: Adam's for an autoencoder layer (default 1e-3), the CD-1 rate for an RBM (default 0.1, with
    /// momentum 0.5 then 0.9 and weight decay 2e-4, the settings of Hinton &amp; Salakhutdinov's code).
    /// </summary>
    public float? LearningRate { get; init; }

    /// <summary>The rate a layer pretrained by <paramref name="method"/> uses: <see cref="LearningRate"/>, else that method's default.</summary>
    public float RateFor(Pretrainer method) => LearningRate ?? (method == Pretrainer.Rbm ? 0.1f : 1e-3f);

    /// <summary>Seeds every layer's weights and orders (each layer's stream is derived from it by name).</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>What pretraining one layer did.</summary>
/// <param name="Layer">The index of the dense layer in the net.</param>
/// <param name="Method">What trained it (an RBM stack falls back to an autoencoder for a layer whose units are not sigmoid).</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="Loss">The last epoch's mean loss: reconstruction cross-entropy or squared error for an autoencoder, reconstruction error for an RBM.</param>
/// <param name="Seconds">Wall-clock time.</param>
public sealed record PretrainedLayer(int Layer, Pretrainer Method, int Epochs, double Loss, double Seconds);

/// <summary>
/// Greedy layer-wise pretraining of a net's stack of dense layers, each on the codes of the one below, before backprop
/// fine-tunes the whole net. The stack is the encoder's dense layers (an autoencoder: the layers before its code) or
/// every dense layer but the output layer (a classifier). For an autoencoder the decoder is unrolled from the same
/// shallow models: each dense decoder layer that mirrors a stack layer gets its transposed weight and its
/// reconstruction bias (a tied decoder layer shares the weight and gets the bias).
/// </summary>
/// <remarks>
/// A stack layer is a dense layer with an optional sigmoid, tanh or ReLU after it (none: linear units, such as a deep
/// autoencoder's 30-unit code). The RBM pretrainer has binary hidden units, so it takes sigmoid layers; another layer of
/// an RBM stack is pretrained as an autoencoder (the paper gives the code layer Gaussian hidden units, which Shinso's RBMs
/// lack) and its report says so. A shallow model reconstructs its input with cross-entropy when the input lies in [0, 1]
/// (data in [0, 1], or a sigmoid layer's codes) and with squared error otherwise.
/// </remarks>
public static class LayerwisePretraining
{
    /// <summary>Pretrains <paramref name="net"/>'s stack on <paramref name="inputs"/> (rows of the net's input length), in place.</summary>
    /// <param name="net">The net to initialise.</param>
    /// <param name="inputs">The training rows.</param>
    /// <param name="options">Method, epochs, batch, rate, seed.</param>
    /// <param name="progress">Called after each layer's epoch with (layer, epoch, loss).</param>
    /// <param name="cancellation">Checked before every update.</param>
    /// <exception cref="ArgumentException">The net has no stack (no dense layer before its code or output), or the rows do not fit it.</exception>
    public static IReadOnlyList<PretrainedLayer> Run(FeedForwardNet net, float[] inputs, PretrainingOptions options,
        Action<int, int, double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "Pretraining epochs must be >= 0.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "The pretraining batch must be >= 1.");
        int features = net.Spec.InputLength;
        if (inputs.Length == 0 || inputs.Length % features != 0)
            throw new ArgumentException($"{inputs.Length} values are not a whole, non-empty set of rows of {features}.", nameof(inputs));
        var stack = Stack(net);
        var mirrors = Mirrors(net, stack);
        var reports = new List<PretrainedLayer>();
        float[] codes = inputs;
        bool unitInterval = Autoencoder.FirstOutsideUnitInterval(inputs) < 0;
        for (int k = 0; k < stack.Count; k++)
        {
            var (index, activation) = stack[k];
            var dense = (Dense)net.Layers[index];
            var stream = RandomStream.Root(options.Seed).Derive("pretraining-layer", k);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            bool rbm = options.Method == Pretrainer.Rbm && activation == Activation.Sigmoid && unitInterval;
            double loss;
            float[] visibleBias;
            if (rbm) (loss, visibleBias) = TrainRbm(net, dense, codes, options, stream, e => progress?.Invoke(index, e.Epoch, e.TrainLoss), cancellation);
            else (loss, visibleBias) = TrainAutoencoder(net, dense, activation, codes, unitInterval, options, stream, e => progress?.Invoke(index, e.Epoch, e.TrainLoss), cancellation);
            reports.Add(new PretrainedLayer(index, rbm ? Pretrainer.Rbm : Pretrainer.Autoencoder, options.Epochs, loss, clock.Elapsed.TotalSeconds));
            if (mirrors[k] is { } mirror) Unroll(net, dense, mirror, visibleBias);
            if (k + 1 < stack.Count)
            {
                codes = Codes(net, dense, activation, codes);
                unitInterval = activation == Activation.Sigmoid;
            }
        }
        return reports;
    }

    /// <summary>The stack: (index, activation after it) of each dense layer before the code, or before the output layer.</summary>
    private static List<(int Index, Activation Activation)> Stack(FeedForwardNet net)
    {
        int code = net.Spec.CodeIndex;
        var dense = new List<int>();
        for (int i = 0; i < (code >= 0 ? code : net.Layers.Count); i++)
            if (net.Layers[i] is Dense) dense.Add(i);
        if (code < 0 && dense.Count > 0) dense.RemoveAt(dense.Count - 1);
        if (dense.Count == 0)
            throw new ArgumentException(code >= 0 ? "The autoencoder has no dense layer before its code to pretrain." : "The net has no hidden dense layer to pretrain (only its output layer).", nameof(net));
        var stack = new List<(int, Activation)>();
        foreach (int i in dense)
        {
            var activation = Activation.Identity;
            for (int j = i + 1; j < net.Layers.Count && net.Layers[j] is not (Dense or TiedDense or CodeLayer); j++)
                if (net.Layers[j] is ActivationLayer a) { activation = a.Function; break; }
            stack.Add((i, activation));
        }
        return stack;
    }

    /// <summary>For each stack layer, the decoder layer that maps its units back to its inputs (null: none, e.g. a classifier).</summary>
    private static ILayer?[] Mirrors(FeedForwardNet net, List<(int Index, Activation Activation)> stack)
    {
        var mirrors = new ILayer?[stack.Count];
        int code = net.Spec.CodeIndex;
        if (code < 0) return mirrors;
        var decoder = new List<ILayer>();
        for (int i = code + 1; i < net.Layers.Count; i++)
            if (net.Layers[i] is Dense or TiedDense) decoder.Add(net.Layers[i]);
        // The decoder's first dense layer mirrors the last stack layer, its last the first.
        for (int k = 0; k < stack.Count && k < decoder.Count; k++)
        {
            var layer = decoder[decoder.Count - 1 - k];
            var dense = (Dense)net.Layers[stack[k].Index];
            bool fits = layer is TiedDense t ? t.TiedTo == dense : layer is Dense d && d.Inputs == dense.Units && d.Units == dense.Inputs;
            mirrors[k] = fits ? layer : null;
        }
        return mirrors;
    }

    private static (double Loss, float[] VisibleBias) TrainAutoencoder(FeedForwardNet net, Dense dense, Activation activation, float[] codes,
        bool unitInterval, PretrainingOptions options, RandomStream stream, Action<EpochMetrics> epochDone, CancellationToken cancellation)
    {
        var layers = new List<LayerSpec> { new DenseSpec(dense.Units, WeightInit.GlorotUniform) };
        if (activation != Activation.Identity) layers.Add(new ActivationSpec(activation));
        layers.AddRange([new CodeSpec(), new TiedSpec(0)]);
        var spec = new FeedForwardSpec([dense.Inputs], layers, unitInterval ? "binary-cross-entropy" : "squared-error");
        var shallow = new FeedForwardNet(net.Backend, spec, stream.Stream);
        var optimizer = (OptimizerConfig.Defaults("adam") with { LearningRate = options.RateFor(Pretrainer.Autoencoder) }).Create();
        var trainer = new Trainer(shallow, optimizer, new TrainingOptions { Epochs = options.Epochs, BatchSize = options.BatchSize, Seed = stream.Stream })
        {
            EpochCompleted = epochDone,
        };
        var state = trainer.Fit(new SupervisedData(codes, dense.Inputs, codes, dense.Inputs), cancellation: cancellation);
        var encoder = (Dense)shallow.Layers[0];
        var decoder = (TiedDense)shallow.Layers[^1];
        net.Backend.Copy(encoder.Weight.Value, dense.Weight.Value);
        net.Backend.Copy(encoder.Bias.Value, dense.Bias.Value);
        return (state.History.Count > 0 ? state.History[^1].TrainLoss : double.NaN, InferenceForms.Host(decoder.Bias.Value));
    }

    private static (double Loss, float[] VisibleBias) TrainRbm(FeedForwardNet net, Dense dense, float[] codes, PretrainingOptions options,
        RandomStream stream, Action<EpochMetrics> epochDone, CancellationToken cancellation)
    {
        var rbm = new RestrictedBoltzmannMachine(net.Backend, dense.Inputs, dense.Units, VisibleUnits.Bernoulli, false, stream.Stream, stream.Derive("rbm-weights"), 0.1f);
        var rbmOptions = new RbmTrainingOptions
        {
            LearningRate = options.RateFor(Pretrainer.Rbm), BatchSize = options.BatchSize, InitialMomentum = 0.5f, FinalMomentum = 0.9f,
            MomentumSwitchEpoch = 5, WeightDecay = 2e-4f, Seed = stream.Stream,
        };
        var trainer = new ContrastiveDivergence(rbm, rbmOptions, stream.Derive("cd"));
        int rows = codes.Length / dense.Inputs;
        var data = new Dataset(codes, new int[rows], 1, dense.Inputs);
        var state = EpochRunner.Run(new TrainingState(), trainer.Parameters, options.Epochs, 0, e =>
        {
            var report = trainer.TrainEpoch(data, e, cancellation);
            return new EpochMetrics(e + 1, report.ReconstructionError, null, null, null, report.Seconds, rows / Math.Max(report.Seconds, 1e-9), rbmOptions.LearningRate);
        }, null, epochDone, cancellation, trainer.Optimizer);
        net.Backend.Copy(rbm.Weights, dense.Weight.Value);
        net.Backend.Copy(rbm.HiddenBias, dense.Bias.Value);
        return (state.History.Count > 0 ? state.History[^1].TrainLoss : double.NaN, InferenceForms.Host(rbm.VisibleBias));
    }

    /// <summary>Gives the decoder layer that mirrors <paramref name="dense"/> its transposed weight (unless tied) and <paramref name="visibleBias"/>.</summary>
    private static void Unroll(FeedForwardNet net, Dense dense, ILayer mirror, float[] visibleBias)
    {
        if (mirror is TiedDense tied)
        {
            net.Backend.Upload(visibleBias, tied.Bias.Value);
            return;
        }
        var decoder = (Dense)mirror;
        net.Backend.Upload(InferenceForms.HostTransposed(dense.Weight.Value), decoder.Weight.Value);
        net.Backend.Upload(visibleBias, decoder.Bias.Value);
    }

    /// <summary>The layer's outputs <c>f(x W + b)</c> for every row, the next layer's training rows.</summary>
    private static float[] Codes(FeedForwardNet net, Dense dense, Activation activation, float[] inputs)
    {
        var be = net.Backend;
        int n = inputs.Length / dense.Inputs, batch = Math.Min(1000, n);
        var x = be.Allocate(batch, dense.Inputs);
        var y = be.Allocate(batch, dense.Units);
        var result = new float[(long)n * dense.Units];
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            var xs = x.SliceRows(0, rows);
            var ys = y.SliceRows(0, rows);
            be.Upload(inputs.AsSpan(start * dense.Inputs, rows * dense.Inputs), xs);
            be.Gemm(Transpose.None, Transpose.None, 1f, xs, dense.Weight.Value, 0f, ys);
            be.AddRowVector(ys, dense.Bias.Value);
            if (activation != Activation.Identity) be.Activate(activation, ys, ys);
            be.Download(ys, result.AsSpan(start * dense.Units, rows * dense.Units));
        }
        return result;
    }

}
