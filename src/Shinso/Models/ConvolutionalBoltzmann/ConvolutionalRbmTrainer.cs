using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>
/// CD-k for a <see cref="ConvolutionalRbm"/> through the shared core: minibatches from <see cref="EpochLoop"/>, the update from the
/// shared optimizer of <see cref="RbmTrainingOptions.CreateOptimizer"/> (momentum schedule, weight decay), and Lee et al.'s
/// sparsity regularisation of the hidden biases toward <see cref="RbmTrainingOptions.SparsityTarget"/>.
/// </summary>
/// <remarks>
/// Statistics use the detection probabilities of the data and of the final negative visible state (the samples only drive the
/// chain), averaged over the batch and the detection positions, so one learning rate suits any image size: the weight gradient
/// is <c>−(⟨v ⋆ h⟩_data − ⟨v ⋆ h⟩_model) / (B * OH * OW)</c>, the hidden biases' alike, the visible biases' over <c>B * H * W</c>.
/// The sparsity term adds <c>cost * (q_k − p)</c> to group k's bias gradient, q_k its mean detection probability on the data.
/// </remarks>
public sealed class ConvolutionalRbmTrainer
{
    private readonly Tensor _data, _hidden, _pool, _hiddenSample, _poolSample, _visibleMean, _negativeVisible, _negativeHidden, _negativePool;
    private readonly Tensor _weightScratch, _hiddenScratch, _visibleScratch, _errorScratch;
    private readonly Parameter _weights, _hiddenBias, _visibleBias;
    private readonly Parameter[] _parameters;
    private readonly RandomStream _epochOrder;
    private float[]? _validated;
    private int _epoch;

    /// <summary>Creates a trainer; its streams derive from <paramref name="streams"/> or <c>Root(options.Seed)</c>.</summary>
    public ConvolutionalRbmTrainer(ConvolutionalRbm rbm, RbmTrainingOptions options, RandomStream? streams = null)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Rbm = rbm;
        Options = options;
        var be = rbm.Backend;
        int b = options.BatchSize;
        _data = be.Allocate(b, rbm.VisibleLength);
        _hidden = be.Allocate(b, rbm.DetectionLength);
        _pool = be.Allocate(b, rbm.PoolLength);
        _hiddenSample = be.Allocate(b, rbm.DetectionLength);
        _poolSample = be.Allocate(b, rbm.PoolLength);
        _visibleMean = be.Allocate(b, rbm.VisibleLength);
        _negativeVisible = be.Allocate(b, rbm.VisibleLength);
        _negativeHidden = be.Allocate(b, rbm.DetectionLength);
        _negativePool = be.Allocate(b, rbm.PoolLength);
        _weightScratch = be.Allocate(rbm.Weights.Shape.ToArray());
        _hiddenScratch = be.Allocate(rbm.Groups);
        _visibleScratch = be.Allocate(rbm.Geometry.Channels);
        _errorScratch = be.Allocate(b, rbm.VisibleLength);
        _weights = new Parameter("weights", rbm.Weights, ParameterRole.Weight);
        _hiddenBias = new Parameter("hidden-bias", rbm.HiddenBias, ParameterRole.Bias);
        _visibleBias = new Parameter("visible-bias", rbm.VisibleBias, ParameterRole.Bias);
        _parameters = [_weights, _hiddenBias, _visibleBias];
        Optimizer = options.CreateOptimizer();
        Streams = streams ?? RandomStream.Root(options.Seed);
        Stream = Streams.Derive("gibbs");
        _epochOrder = Streams.Derive(DeterministicShuffle.EpochOrderPurpose);
    }

    /// <summary>The machine being trained.</summary>
    public ConvolutionalRbm Rbm { get; }

    /// <summary>The hyper-parameters (<see cref="RbmTrainingOptions.PersistentChains"/> and the sigma settings do not apply).</summary>
    public RbmTrainingOptions Options { get; }

    /// <summary>The parent of the trainer's streams (<c>gibbs</c>, <c>epoch-order</c>).</summary>
    public RandomStream Streams { get; }

    /// <summary>The sampler's Philox stream.</summary>
    public RandomStream Stream { get; }

    /// <summary>The next unused Philox block of <see cref="Stream"/>.</summary>
    public ulong Counter { get; set; }

    /// <summary>The shared optimizer that applies the gradients.</summary>
    public Optimizers.Optimizer Optimizer { get; }

    /// <summary>The parameters as the optimizer sees them: weights, hidden and visible biases.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Trains one epoch over <paramref name="data"/> (images of the machine's visible shape), in the order of the trainer's <c>epoch-order</c> stream.</summary>
    /// <exception cref="ArgumentException">The images have another size, or a value does not suit the visible units.</exception>
    public RbmEpochReport TrainEpoch(Dataset data, int epoch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != Rbm.VisibleLength)
            throw new ArgumentException($"The data has {data.FeatureCount} values per sample but the convolutional RBM reads [{Rbm.Geometry.Channels}, {Rbm.Geometry.Height}, {Rbm.Geometry.Width}] images ({Rbm.VisibleLength}).", nameof(data));
        if (!ReferenceEquals(_validated, data.Features))
        {
            Rbm.ValidateData(data.Features, nameof(data));
            _validated = data.Features;
        }
        _epoch = epoch;
        return RbmTrainer.RunEpoch(data, _data, Options, _epochOrder, Step, epoch, cancellation);
    }

    private ulong Take(ulong blocks)
    {
        ulong c = Counter;
        Counter += blocks;
        return c;
    }

    /// <summary>One CD-k update on the batch in <see cref="_data"/>; returns the reconstruction error (mean over images of the squared distance) or NaN.</summary>
    private double Step()
    {
        var rbm = Rbm;
        var be = rbm.Backend;
        int b = Options.BatchSize;
        rbm.HiddenProbabilities(_data, _hidden, _pool);
        rbm.SampleHidden(Stream, Take(rbm.PoolBlocksFor(b)), _hidden, _hiddenSample, _poolSample);
        for (int k = 0; k < Options.GibbsSteps; k++)
        {
            rbm.VisibleMean(_hiddenSample, _visibleMean);
            if (Options.SampleVisible) rbm.SampleVisible(Stream, Take(rbm.VisibleBlocksFor(b)), _visibleMean, _negativeVisible);
            else be.Copy(_visibleMean, _negativeVisible);
            rbm.HiddenProbabilities(_negativeVisible, _negativeHidden, _negativePool);
            if (k + 1 < Options.GibbsSteps) rbm.SampleHidden(Stream, Take(rbm.PoolBlocksFor(b)), _negativeHidden, _hiddenSample, _poolSample);
        }
        double error = Options.TrackReconstructionError ? 2.0 * be.SquaredError(_visibleMean, _data, _errorScratch) : double.NaN;

        float positions = 1f / ((float)b * rbm.Geometry.ColumnCount), pixels = 1f / ((float)b * rbm.Geometry.Height * rbm.Geometry.Width);
        rbm.Statistics(_data, _hidden, _weights.Gradient, _hiddenBias.Gradient, _visibleBias.Gradient);
        rbm.Statistics(_negativeVisible, _negativeHidden, _weightScratch, _hiddenScratch, _visibleScratch);
        // Descent directions: (model - data) statistics, scaled to means.
        be.Axpby(positions, _weightScratch, -positions, _weights.Gradient);
        float cost = Options.SparsityTarget > 0 ? Options.SparsityCost : 0f;
        be.Axpby(positions, _hiddenScratch, (cost - 1f) * positions, _hiddenBias.Gradient);
        if (cost > 0) be.ScaleShift(_hiddenBias.Gradient, 1f, -cost * Options.SparsityTarget, _hiddenBias.Gradient);
        be.Axpby(pixels, _visibleScratch, -pixels, _visibleBias.Gradient);
        Optimizer.Step(_parameters, _epoch);
        return error;
    }
}
