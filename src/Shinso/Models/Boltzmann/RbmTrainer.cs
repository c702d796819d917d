using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>Hyper-parameters of RBM training (defaults follow Hinton's practical guide, UTML TR 2010-003).</summary>
public sealed record RbmTrainingOptions
{
    /// <summary>Learning rate of weights and biases (the guide's 0.1 suits Bernoulli units; use ~0.001 for Gaussian ones).</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>Minibatch size B; the statistics are averaged over it. An epoch skips the last <c>Count % B</c> samples of its permutation.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Gibbs steps k per update (CD-k, or the steps each persistent chain advances in PCD).</summary>
    public int GibbsSteps { get; init; } = 1;

    /// <summary>Momentum for epochs before <see cref="MomentumSwitchEpoch"/> (the guide: 0.5).</summary>
    public float InitialMomentum { get; init; } = 0.5f;

    /// <summary>Momentum from epoch <see cref="MomentumSwitchEpoch"/> on (the guide: 0.9).</summary>
    public float FinalMomentum { get; init; } = 0.9f;

    /// <summary>The first (0-based) epoch that uses <see cref="FinalMomentum"/>.</summary>
    public int MomentumSwitchEpoch { get; init; } = 5;

    /// <summary>L2 weight decay on the weights only (not the biases): the update adds <c>-LearningRate * WeightDecay * W</c>. The guide suggests 0.0001.</summary>
    public float WeightDecay { get; init; }

    /// <summary>
    /// Sparsity target p for the mean hidden activation (Lee, Ekanadham &amp; Ng 2008); 0 disables the penalty.
    /// </summary>
    public float SparsityTarget { get; init; }

    /// <summary>
    /// Weight of the sparsity penalty: each update adds <c>LearningRate * SparsityCost * (p - q_j)</c> to hidden bias j,
    /// q_j the batch mean of <c>p(h_j = 1 | v)</c> (Lee et al. regularize the hidden biases only; the factor
    /// <c>q(1-q)</c> of the exact gradient of <c>(p - q)^2</c> is dropped, as in their code).
    /// </summary>
    public float SparsityCost { get; init; }

    /// <summary>Number of persistent chains in PCD (ignored by CD); 0 means one per minibatch sample.</summary>
    public int PersistentChains { get; init; }

    /// <summary>Whether the negative-phase visible units are sampled (true, the unbiased choice) or set to their conditional mean.</summary>
    public bool SampleVisible { get; init; } = true;

    /// <summary>Learning rate of log sigma relative to <see cref="LearningRate"/> (Gaussian units with learned sigma).</summary>
    public float SigmaLearningRateFactor { get; init; } = 0.1f;

    /// <summary>Whether each update also measures the reconstruction error (costs one pass, and one GEMM in PCD).</summary>
    public bool TrackReconstructionError { get; init; } = true;

    /// <summary>Seed of the minibatch order and of the Gibbs sampler (their streams are derived from <c>Root(Seed)</c>, unless the
    /// trainer is given a parent stream, as each stage of a DBN is).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// The shared optimizer these options describe: classical momentum at <see cref="LearningRate"/> with the
    /// <see cref="InitialMomentum"/> -> <see cref="FinalMomentum"/> switch (plain SGD when both are 0, so the weight GEMM
    /// accumulates straight into the weights), and a <see cref="Optimizers.WeightDecay"/> hook when <see cref="WeightDecay"/>
    /// is set. Trainers hand it gradients (descent directions, the negated statistics).
    /// </summary>
    public Optimizers.Optimizer CreateOptimizer()
    {
        var rate = new Optimizers.ConstantSchedule(LearningRate);
        Optimizers.Optimizer optimizer = InitialMomentum == 0f && FinalMomentum == 0f
            ? new Optimizers.Sgd(rate)
            : new Optimizers.Momentum(rate, new Optimizers.SwitchSchedule(InitialMomentum, FinalMomentum, MomentumSwitchEpoch));
        if (WeightDecay > 0) optimizer.Hooks.Add(new Optimizers.WeightDecay(WeightDecay));
        return optimizer;
    }

    internal void Validate()
    {
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be positive and finite.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be >= 1.");
        if (GibbsSteps < 1) throw new ArgumentOutOfRangeException(nameof(GibbsSteps), GibbsSteps, "must be >= 1.");
        if (!(InitialMomentum >= 0 && InitialMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(InitialMomentum), InitialMomentum, "must be in [0, 1).");
        if (!(FinalMomentum >= 0 && FinalMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(FinalMomentum), FinalMomentum, "must be in [0, 1).");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be >= 0.");
        if (!(SparsityTarget >= 0 && SparsityTarget < 1)) throw new ArgumentOutOfRangeException(nameof(SparsityTarget), SparsityTarget, "must be in [0, 1).");
        if (!(SparsityCost >= 0)) throw new ArgumentOutOfRangeException(nameof(SparsityCost), SparsityCost, "must be >= 0.");
        if (PersistentChains < 0) throw new ArgumentOutOfRangeException(nameof(PersistentChains), PersistentChains, "must be >= 0.");
    }
}

/// <summary>What one training epoch did.</summary>
/// <param name="Epoch">The 0-based epoch.</param>
/// <param name="Updates">Minibatch updates made.</param>
/// <param name="ReconstructionError">Mean over samples of <c>sum_i (v_i - E[v_i | h])^2</c> (NaN when not tracked).</param>
/// <param name="Seconds">Wall-clock time of the epoch.</param>
public sealed record RbmEpochReport(int Epoch, int Updates, double ReconstructionError, double Seconds);

/// <summary>
/// The common part of contrastive-divergence trainers: minibatches, the sparsity penalty and the gradient of the
/// parameters, which the shared <see cref="Optimizers.Optimizer"/> of <see cref="RbmTrainingOptions.CreateOptimizer"/> applies.
/// </summary>
/// <remarks>
/// <para>Statistics (Hinton's guide, section 3): the positive phase uses the hidden probabilities <c>p(h|v_data)</c>
/// and the negative phase the hidden probabilities of the final negative visible state; the binary hidden
/// samples only drive the chain. The weight gradient of a batch is one GEMM over the stacked batch:
/// <c>[v_data; v_neg]^T [p_data; -p_neg]</c>, where the negated negative statistics come out of the fused
/// scaled sigmoid, and the sampling steps use the fused sigmoid+Bernoulli op, so a CD-1 update makes five
/// GEMMs and no extra pass over the weights when momentum and weight decay are off (plain SGD then accumulates the GEMM
/// straight into W).</para>
/// <para>The weight gradient is handed to the optimizer as that GEMM product (<see cref="Parameter.SetGradientProducts"/>),
/// so classical momentum forms <c>V = mu V + (eta/B) stats - eta*lambda*W; W += V</c> with the GEMM accumulating
/// straight into V: the fused CD update is the optimizer's choice, not a second path here.</para>
/// <para>Single-threaded, like every trainer: the trainer, its machine and their buffers belong to one thread.</para>
/// </remarks>
public abstract class RbmTrainer
{
    private readonly Tensor _stackV, _stackH, _hSample, _vMean, _tmpB, _tmpC;
    private readonly Parameter _weights, _visibleBias, _hiddenBias;
    private readonly Parameter? _logSigma;
    private readonly Parameter[] _parameters;
    private int _epoch;
    private readonly RandomStream _epochOrder;
    private float[]? _validated;

    /// <summary>Creates a trainer for <paramref name="rbm"/>.</summary>
    /// <param name="rbm">The machine to train.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="streams">The stream the sampler and the epoch order are derived from; <c>Root(options.Seed)</c> when null
    /// (a stage of a larger run passes its own, e.g. <c>Derive("greedy-layer", l)</c>).</param>
    protected RbmTrainer(RestrictedBoltzmannMachine rbm, RbmTrainingOptions options, RandomStream? streams)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Rbm = rbm;
        Options = options;
        var be = rbm.Backend;
        int b = options.BatchSize, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        _stackV = be.Allocate(2 * b, nv);
        _stackH = be.Allocate(2 * b, nh);
        _hSample = be.Allocate(b, nh);
        _vMean = be.Allocate(b, nv);
        _tmpB = be.Allocate(nv);
        _tmpC = be.Allocate(nh);
        _weights = new Parameter("weights", rbm.Weights, ParameterRole.Weight);
        _visibleBias = new Parameter("visible-bias", rbm.VisibleBias, ParameterRole.Bias);
        _hiddenBias = new Parameter("hidden-bias", rbm.HiddenBias, ParameterRole.Bias);
        if (rbm.LearnSigma)
        {
            _logSigma = new Parameter("log-sigma", rbm.LogSigma, ParameterRole.Bias) { LearningRateScale = options.SigmaLearningRateFactor };
            _parameters = [_weights, _hiddenBias, _visibleBias, _logSigma];
        }
        else _parameters = [_weights, _hiddenBias, _visibleBias];
        Optimizer = options.CreateOptimizer();
        Streams = streams ?? RandomStream.Root(options.Seed);
        Stream = Streams.Derive("gibbs");
        _epochOrder = Streams.Derive(DeterministicShuffle.EpochOrderPurpose);
    }

    /// <summary>The parent of this trainer's streams (<c>gibbs</c>, <c>epoch-order</c>).</summary>
    public RandomStream Streams { get; }

    /// <summary>The machine being trained.</summary>
    public RestrictedBoltzmannMachine Rbm { get; }

    /// <summary>The hyper-parameters.</summary>
    public RbmTrainingOptions Options { get; }

    /// <summary>The Philox stream of the sampler.</summary>
    public RandomStream Stream { get; }

    /// <summary>The next unused Philox block of <see cref="Stream"/> (save it to resume a run exactly).</summary>
    public ulong Counter { get; set; }

    /// <summary>The shared optimizer that applies the gradients (momentum schedule and weight decay from the options).</summary>
    public Optimizers.Optimizer Optimizer { get; }

    /// <summary>The RBM's parameters as the optimizer sees them: weights, hidden and visible biases, and log sigma when learned.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Minibatch rows, [B, visible] (the top half of the stacked statistics buffer).</summary>
    protected Tensor DataVisible => _stackV.SliceRows(0, Options.BatchSize);

    /// <summary>Positive-phase hidden probabilities, [B, hidden].</summary>
    protected Tensor DataHidden => _stackH.SliceRows(0, Options.BatchSize);

    /// <summary>The bottom half of the stacked visible buffer, [B, visible].</summary>
    protected Tensor StackedNegativeVisible => _stackV.SliceRows(Options.BatchSize, Options.BatchSize);

    /// <summary>The bottom half of the stacked hidden buffer, [B, hidden], which holds <c>-p(h | v_neg)</c>.</summary>
    protected Tensor StackedNegativeHidden => _stackH.SliceRows(Options.BatchSize, Options.BatchSize);

    /// <summary>Hidden samples of the positive phase, [B, hidden].</summary>
    protected Tensor HiddenSample => _hSample;

    /// <summary>Visible conditional means of the last reconstruction, [B, visible].</summary>
    protected Tensor VisibleMean => _vMean;

    /// <summary>Trains one epoch over <paramref name="data"/> in the order <see cref="Dataset.EpochPermutation(int, RandomStream)"/> gives for the trainer's <c>epoch-order</c> stream.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the visible count, or a value is out of range for the visible units.</exception>
    /// <param name="data">The training data (values in the visible units' range).</param>
    /// <param name="epoch">The 0-based epoch: selects the order and the schedules.</param>
    /// <param name="cancellation">Checked before every update.</param>
    public RbmEpochReport TrainEpoch(Dataset data, int epoch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != Rbm.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the RBM has {Rbm.VisibleCount} visible units.", nameof(data));
        if (!ReferenceEquals(_validated, data.Features))
        {
            Rbm.ValidateData(data.Features, nameof(data));
            _validated = data.Features;
        }
        _epoch = epoch;
        return RunEpoch(data, DataVisible, Options, _epochOrder, Step, epoch, cancellation);
    }

    /// <summary>
    /// One epoch of a Boltzmann trainer: minibatches of <paramref name="data"/> in the order of <paramref name="order"/> copied into
    /// <paramref name="batch"/> (uploaded when it lives on a device), <paramref name="step"/> run on each (it returns the batch's
    /// reconstruction error per sample, or NaN), the partial last batch dropped.
    /// </summary>
    internal static RbmEpochReport RunEpoch(Dataset data, Tensor batch, RbmTrainingOptions options, RandomStream order, Func<double> step, int epoch,
        CancellationToken cancellation)
    {
        int b = options.BatchSize;
        var labels = new int[b];
        float[]? host = batch.IsHost ? null : new float[batch.Length];
        BatchOutcome Batch(ReadOnlySpan<int> indices, int _)
        {
            if (host is null) data.CopyBatch(indices, batch.Span, labels);
            else
            {
                data.CopyBatch(indices, host, labels);
                batch.Backend.Upload(host, batch);
            }
            return new BatchOutcome(step() * b, 0);
        }
        var plan = new MinibatchPlan(data.Count, b, DropPartialBatch: true, order) { LossMeasured = options.TrackReconstructionError };
        var outcome = EpochLoop.Run(Batch, plan, epoch, cancellation: cancellation);
        return new RbmEpochReport(epoch, outcome.Updates, !options.TrackReconstructionError ? double.NaN : outcome.Updates == 0 ? 0 : outcome.MeanLoss, outcome.Seconds);
    }

    /// <summary>One update on a minibatch [B, visible] already on the backend (copied into the trainer's buffer; values are not validated), with the schedules at the epoch of the last <see cref="TrainEpoch"/> (0 before any).</summary>
    /// <returns>The batch's reconstruction error (mean over samples of the squared distance), or NaN when not tracked.</returns>
    public double TrainBatch(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Rows != Options.BatchSize || batch.Columns != Rbm.VisibleCount)
            throw new ArgumentException($"batch has shape {Tensor.ShapeText(batch.Shape)}; expected [{Options.BatchSize}, {Rbm.VisibleCount}].", nameof(batch));
        Rbm.Backend.Copy(batch, DataVisible);
        return Step();
    }

    /// <summary>Runs the positive and negative phases on <see cref="DataVisible"/> and applies the update; returns the reconstruction error or NaN.</summary>
    protected abstract double Step();

    /// <summary>Draws from the stream and advances <see cref="Counter"/>.</summary>
    protected ulong Take(ulong blocks)
    {
        ulong c = Counter;
        Counter += blocks;
        return c;
    }

    /// <summary>
    /// Positive phase: <see cref="DataHidden"/> = p(h | v_data) and <see cref="HiddenSample"/> ~ that, with the fused op.
    /// </summary>
    protected void PositivePhase()
    {
        Rbm.HiddenInput(DataVisible, DataHidden);
        Rbm.Backend.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(DataHidden.Length)), DataHidden, DataHidden, _hSample);
    }

    /// <summary>v ~ p(v | h) (or the mean when <see cref="RbmTrainingOptions.SampleVisible"/> is off); <paramref name="mean"/> gets the mean.</summary>
    protected void NegativeVisible(Tensor hidden, Tensor mean, Tensor visible)
    {
        if (Options.SampleVisible) Rbm.SampleVisible(hidden, Stream, Take(RestrictedBoltzmannMachine.BlocksFor(visible.Length)), mean, visible);
        else
        {
            Rbm.VisibleMean(hidden, mean);
            Rbm.Backend.Copy(mean, visible);
        }
    }

    /// <summary>Mean over rows of the squared distance between the data and <paramref name="mean"/> (one pass).</summary>
    protected double ReconstructionError(Tensor mean)
    {
        var scratch = Rbm.Workspace.Get("reconstruction-error", mean.Rows, mean.Columns);
        return 2.0 * Rbm.Backend.SquaredError(mean, DataVisible, scratch);
    }

    /// <summary>
    /// Hands the optimizer the gradient of the positive statistics (<see cref="DataVisible"/>, <see cref="DataHidden"/>) and the
    /// negative ones (<paramref name="negVisible"/>, <paramref name="negHiddenNegated"/> holding <c>-p(h | v_neg)</c>) and steps it.
    /// The gradient is the descent direction, <c>-(positive - negative) / batch</c>. When the negative buffers are the bottom
    /// halves of the stacked buffers, the weight gradient is one GEMM product.
    /// </summary>
    protected void Update(Tensor negVisible, Tensor negHiddenNegated)
    {
        var be = Rbm.Backend;
        int b = Options.BatchSize, c = negVisible.Rows;
        bool stacked = ReferenceEquals(negVisible.Storage, _stackV.Storage) && negVisible.Offset == StackedNegativeVisible.Offset
                       && ReferenceEquals(negHiddenNegated.Storage, _stackH.Storage) && negHiddenNegated.Offset == StackedNegativeHidden.Offset;
        var gradC = _hiddenBias.Gradient;
        var gradB = _visibleBias.Gradient;

        // Sigma statistics need the unscaled visible values and the drives h W^T, before the weights move.
        if (_logSigma is not null)
        {
            var gradS = _logSigma.Gradient;
            var drive = Rbm.Workspace.Get("sigma-drive", b, Rbm.VisibleCount);
            be.Gemm(Transpose.None, Transpose.Transposed, 1f, DataHidden, Rbm.Weights, 0f, drive);
            be.GaussianScaleStatistics(DataVisible, drive, Rbm.VisibleBias, Rbm.Sigma, gradS, 0f);
            be.ScaleShift(gradS, -1f / b, 0f, gradS);
            var driveNeg = Rbm.Workspace.Get("sigma-drive-negative", c, Rbm.VisibleCount);
            be.Gemm(Transpose.None, Transpose.Transposed, -1f, negHiddenNegated, Rbm.Weights, 0f, driveNeg);
            be.GaussianScaleStatistics(negVisible, driveNeg, Rbm.VisibleBias, Rbm.Sigma, _tmpB, 0f);
            be.Axpy(1f / c, _tmpB, gradS);
        }

        // Bias gradients.
        if (stacked)
        {
            be.SumColumns(_stackH, gradC);
            be.ScaleShift(gradC, -1f / b, 0f, gradC);
        }
        else
        {
            be.SumColumns(DataHidden, gradC);
            be.ScaleShift(gradC, -1f / b, 0f, gradC);
            be.SumColumns(negHiddenNegated, _tmpC);
            be.Axpy(-1f / c, _tmpC, gradC);
        }
        if (Options.SparsityTarget > 0 && Options.SparsityCost > 0)
        {
            be.SumColumns(DataHidden, _tmpC);
            be.Axpy(Options.SparsityCost / b, _tmpC, gradC);
            be.ScaleShift(gradC, 1f, -Options.SparsityCost * Options.SparsityTarget, gradC);
        }
        be.SumColumns(DataVisible, gradB);
        be.ScaleShift(gradB, -1f / b, 0f, gradB);
        be.SumColumns(negVisible, _tmpB);
        be.Axpy(1f / c, _tmpB, gradB);
        if (Rbm.LearnSigma)
        {
            var g = gradB.Reshape(1, Rbm.VisibleCount);
            be.ScaleColumns(g, Rbm.InverseSigma, g);
            be.ScaleColumns(g, Rbm.InverseSigma, g);
        }

        // Weight gradient: with learned sigma the interaction is (v / sigma)^T h.
        Tensor posV = DataVisible, negV = negVisible, stackV = _stackV;
        if (Rbm.HasScaledVisible)
        {
            var scaled = Rbm.Workspace.Get("scaled-stacked-visible", 2 * b, Rbm.VisibleCount);
            if (stacked)
            {
                be.ScaleColumns(_stackV, Rbm.InverseSigma, scaled);
                stackV = scaled;
            }
            else
            {
                posV = scaled.SliceRows(0, b);
                be.ScaleColumns(DataVisible, Rbm.InverseSigma, posV);
                negV = Rbm.Workspace.Get("scaled-negative-visible", c, Rbm.VisibleCount);
                be.ScaleColumns(negVisible, Rbm.InverseSigma, negV);
            }
        }
        if (stacked) _weights.SetGradientProducts(new GradientTerm(stackV, _stackH, -1f / b));
        else _weights.SetGradientProducts(new GradientTerm(posV, DataHidden, -1f / b), new GradientTerm(negV, negHiddenNegated, -1f / c));

        Optimizer.Step(_parameters, _epoch);
        if (_logSigma is not null) Rbm.RefreshSigma();
    }
}

/// <summary>
/// Contrastive divergence CD-k (Hinton 2002): the negative phase runs k block-Gibbs steps from the data.
/// </summary>
public sealed class ContrastiveDivergence : RbmTrainer
{
    /// <summary>Creates a CD-k trainer (k = <see cref="RbmTrainingOptions.GibbsSteps"/>).</summary>
    /// <param name="rbm">The machine to train.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="streams">The stream the trainer's streams are derived from; <c>Root(options.Seed)</c> when null.</param>
    public ContrastiveDivergence(RestrictedBoltzmannMachine rbm, RbmTrainingOptions options, RandomStream? streams = null) : base(rbm, options, streams) { }

    /// <inheritdoc />
    protected override double Step()
    {
        var be = Rbm.Backend;
        PositivePhase();
        var negV = StackedNegativeVisible;
        var negH = StackedNegativeHidden;
        double error = double.NaN;
        for (int s = 0; s < Options.GibbsSteps; s++)
        {
            NegativeVisible(HiddenSample, VisibleMean, negV);
            if (s == 0 && Options.TrackReconstructionError) error = ReconstructionError(VisibleMean);
            Rbm.HiddenInput(negV, negH);
            if (s < Options.GibbsSteps - 1)
                be.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(negH.Length)), negH, negH, HiddenSample);
            else
                be.ScaledSigmoid(negH, -1f, negH);
        }
        Update(negV, negH);
        return error;
    }
}

/// <summary>
/// Persistent contrastive divergence (Tieleman 2008): the negative phase continues a set of persistent
/// Gibbs chains across updates instead of restarting from the data.
/// </summary>
/// <remarks>
/// The chains' state is their binary hidden vector (as in scikit-learn's BernoulliRBM), zero at the start; each update
/// advances every chain k steps (v ~ p(v|h), h ~ p(h|v)) and uses <c>p(h | v)</c> of the final visible state.
/// </remarks>
public sealed class PersistentContrastiveDivergence : RbmTrainer
{
    private readonly Tensor _chainHidden, _negV, _negH, _negMean;

    /// <summary>Creates a PCD trainer with <see cref="RbmTrainingOptions.PersistentChains"/> chains (0: one per minibatch sample).</summary>
    /// <param name="rbm">The machine to train.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="streams">The stream the trainer's streams are derived from; <c>Root(options.Seed)</c> when null.</param>
    public PersistentContrastiveDivergence(RestrictedBoltzmannMachine rbm, RbmTrainingOptions options, RandomStream? streams = null) : base(rbm, options, streams)
    {
        int chains = ChainCount;
        var be = rbm.Backend;
        _chainHidden = be.Allocate(chains, rbm.HiddenCount);
        if (chains == options.BatchSize)
        {
            _negV = StackedNegativeVisible;
            _negH = StackedNegativeHidden;
            _negMean = VisibleMean;
        }
        else
        {
            _negV = be.Allocate(chains, rbm.VisibleCount);
            _negH = be.Allocate(chains, rbm.HiddenCount);
            _negMean = be.Allocate(chains, rbm.VisibleCount);
        }
    }

    /// <summary>Number of persistent chains.</summary>
    public int ChainCount => Options.PersistentChains == 0 ? Options.BatchSize : Options.PersistentChains;

    /// <summary>The chains' binary hidden states, [chains, hidden].</summary>
    public Tensor ChainHidden => _chainHidden;

    /// <summary>The chains' latest visible states, [chains, visible].</summary>
    public Tensor ChainVisible => _negV;

    /// <inheritdoc />
    protected override double Step()
    {
        var be = Rbm.Backend;
        PositivePhase();
        double error = double.NaN;
        if (Options.TrackReconstructionError)
        {
            Rbm.VisibleMean(HiddenSample, VisibleMean);
            error = ReconstructionError(VisibleMean);
        }
        for (int s = 0; s < Options.GibbsSteps; s++)
        {
            NegativeVisible(_chainHidden, _negMean, _negV);
            Rbm.HiddenInput(_negV, _negH);
            be.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(_negH.Length)), _negH, _negH, _chainHidden);
        }
        be.ScaleShift(_negH, -1f, 0f, _negH);
        Update(_negV, _negH);
        return error;
    }
}
