using Shinso.Data;
using Shinso.Layers;
using Shinso.Operations;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>
/// Hyper-parameters of a DBM's joint training; the defaults are Salakhutdinov &amp; Hinton's (AISTATS 2009 and their code
/// <c>dbm_mf.m</c>).
/// </summary>
public sealed record DbmTrainingOptions
{
    /// <summary>The learning rate of weights and biases before any decay (the code's 0.001).</summary>
    public float LearningRate { get; init; } = 0.001f;

    /// <summary>The divisor applied to the learning rate before every update (the code's 1.000015).</summary>
    public double LearningRateDecay { get; init; } = 1.000015;

    /// <summary>The floor of the decaying learning rate (the code's 0.0001).</summary>
    public float MinimumLearningRate { get; init; } = 1e-4f;

    /// <summary>L2 weight cost on the weights (not the biases).</summary>
    public float WeightCost { get; init; } = 2e-4f;

    /// <summary>Momentum before <see cref="MomentumSwitchEpoch"/>.</summary>
    public float InitialMomentum { get; init; } = 0.5f;

    /// <summary>Momentum from <see cref="MomentumSwitchEpoch"/> on.</summary>
    public float FinalMomentum { get; init; } = 0.9f;

    /// <summary>The first (0-based) epoch with <see cref="FinalMomentum"/> (the code: after five epochs).</summary>
    public int MomentumSwitchEpoch { get; init; } = 5;

    /// <summary>Minibatch size.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Mean-field sweeps of the positive phase.</summary>
    public int MeanFieldUpdates { get; init; } = 10;

    /// <summary>Persistent chains ("fantasy particles") of the negative phase.</summary>
    public int PersistentChains { get; init; } = 100;

    /// <summary>Full Gibbs sweeps each chain advances per update.</summary>
    public int GibbsSweeps { get; init; } = 5;

    /// <summary>Target mean activation of each hidden layer, bottom first; a shorter list repeats its last entry (the code: 0.2, 0.1).</summary>
    public IReadOnlyList<float> SparsityTargets { get; init; } = [0.2f, 0.1f];

    /// <summary>Weight of the sparsity penalty (0 disables it; the code's 0.001).</summary>
    public float SparsityCost { get; init; } = 0.001f;

    /// <summary>Decay of the running mean activations the penalty compares with its targets (the code's 0.9).</summary>
    public float SparsityDamping { get; init; } = 0.9f;

    /// <summary>Seed of the minibatch order, the chains' start and the Gibbs sampler.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The sparsity target of hidden layer <paramref name="layer"/> (1-based).</summary>
    public float SparsityTarget(int layer) => SparsityTargets.Count == 0 ? 0f : SparsityTargets[Math.Min(layer - 1, SparsityTargets.Count - 1)];

    /// <summary>Classical momentum with the per-update decaying rate and the switch of momentum, weight cost as a hook.</summary>
    public Optimizer CreateOptimizer()
    {
        var optimizer = new Momentum(new UpdateDecaySchedule(LearningRate, LearningRateDecay, MinimumLearningRate),
            new SwitchSchedule(InitialMomentum, FinalMomentum, MomentumSwitchEpoch));
        if (WeightCost > 0) optimizer.Hooks.Add(new WeightDecay(WeightCost));
        return optimizer;
    }

    internal void Validate()
    {
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be positive and finite.");
        if (!(LearningRateDecay >= 1)) throw new ArgumentOutOfRangeException(nameof(LearningRateDecay), LearningRateDecay, "must be >= 1.");
        if (!(MinimumLearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(MinimumLearningRate), MinimumLearningRate, "must be >= 0.");
        if (!(WeightCost >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightCost), WeightCost, "must be >= 0.");
        if (!(InitialMomentum >= 0 && InitialMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(InitialMomentum), InitialMomentum, "must be in [0, 1).");
        if (!(FinalMomentum >= 0 && FinalMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(FinalMomentum), FinalMomentum, "must be in [0, 1).");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be >= 1.");
        if (MeanFieldUpdates < 1) throw new ArgumentOutOfRangeException(nameof(MeanFieldUpdates), MeanFieldUpdates, "must be >= 1.");
        if (PersistentChains < 1) throw new ArgumentOutOfRangeException(nameof(PersistentChains), PersistentChains, "must be >= 1.");
        if (GibbsSweeps < 1) throw new ArgumentOutOfRangeException(nameof(GibbsSweeps), GibbsSweeps, "must be >= 1.");
        for (int k = 0; k < SparsityTargets.Count; k++)
            if (!(SparsityTargets[k] > 0 && SparsityTargets[k] < 1))
                throw new ArgumentOutOfRangeException(nameof(SparsityTargets), SparsityTargets[k], $"SparsityTargets[{k}] (hidden layer {k + 1}) must lie in (0, 1).");
        if (!(SparsityCost >= 0)) throw new ArgumentOutOfRangeException(nameof(SparsityCost), SparsityCost, "must be >= 0.");
        if (!(SparsityDamping >= 0 && SparsityDamping < 1)) throw new ArgumentOutOfRangeException(nameof(SparsityDamping), SparsityDamping, "must be in [0, 1).");
    }
}

/// <summary>What one joint-training epoch did.</summary>
/// <param name="Epoch">The 0-based epoch.</param>
/// <param name="Updates">Minibatch updates made.</param>
/// <param name="ReconstructionError">Mean over samples of <c>sum_i (v_i - sigmoid(b_0 + mu_1 W_0^T)_i)^2</c>, the data against its
/// mean-field reconstruction.</param>
/// <param name="Seconds">Wall-clock time.</param>
public sealed record DbmEpochReport(int Epoch, int Updates, double ReconstructionError, double Seconds);

/// <summary>
/// Joint training of a <see cref="DeepBoltzmannMachine"/> (Salakhutdinov &amp; Hinton 2009, Algorithm 1): the data-dependent
/// statistics come from mean-field, the model's from persistent Gibbs chains, and the shared optimizer applies the difference.
/// </summary>
/// <remarks>
/// <para>Each update: <see cref="DbmTrainingOptions.MeanFieldUpdates"/> mean-field sweeps on the minibatch; then every chain advances
/// <see cref="DbmTrainingOptions.GibbsSweeps"/> full sweeps (odd layers, then even ones). The negative statistics use the odd layers'
/// samples and the even layers' conditional probabilities from the last sweep: given the odd layers the even ones are independent, so
/// this is the exact conditional expectation of the sampled statistics (lower variance, no extra work).</para>
/// <para>The sparsity penalty is that of the authors' code: running means <c>m_k = d m_k + (1 - d) mean(mu_k)</c>, and
/// <c>s_k = cost (m_k - target_k)</c> is subtracted from the statistics of every weight into layer k (from either side, weighted by
/// the other layer's mean activity) and from layer k's biases.</para>
/// <para>A machine with labels trains on (image, label) pairs: the positive phase clamps the one-hot label, the chains carry a label
/// group that the sweeps sample, and its statistics follow the same rule as a layer's (samples in an odd position, conditional
/// probabilities in an even one). The top layer's sparsity penalty reaches the label weights too, weighted by the labels' mean.</para>
/// <para>Single-threaded, like every trainer.</para>
/// </remarks>
public sealed class DbmTrainer
{
    private readonly Tensor _data, _reconstruction;
    private readonly Tensor? _labels, _labelBatchMean, _labelChainMean;
    private readonly Parameter? _labelWeights, _labelBias;
    private readonly Tensor[] _means, _chains, _chainProbabilities, _batchMeans, _runningMeans, _sparsity, _chainMeans;
    private readonly Parameter[] _weights, _biases, _parameters;
    private readonly RandomStream _epochOrder;
    private readonly DbmMeanFieldOptions _meanField;
    private float[]? _validated;
    private int _epoch;

    /// <summary>Creates a trainer; the chains start from random visible bits and labels and a doubled bottom-up sample of the hidden layers.</summary>
    /// <param name="dbm">The machine (pretrained or not).</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="streams">The parent of the trainer's streams (<c>gibbs</c>, <c>epoch-order</c>, <c>chain-start</c>); <c>Root(options.Seed)</c> when null.</param>
    public DbmTrainer(DeepBoltzmannMachine dbm, DbmTrainingOptions options, RandomStream? streams = null)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Dbm = dbm;
        Options = options;
        var be = dbm.Backend;
        var sizes = dbm.LayerSizes;
        int layers = sizes.Count, b = options.BatchSize, c = options.PersistentChains;
        _data = be.Allocate(b, sizes[0]);
        _reconstruction = be.Allocate(b, sizes[0]);
        _means = new Tensor[layers - 1];
        _chains = new Tensor[dbm.GroupCount];
        _chainProbabilities = new Tensor[dbm.GroupCount];
        _batchMeans = new Tensor[layers];
        _chainMeans = new Tensor[layers];
        _runningMeans = new Tensor[layers];
        _sparsity = new Tensor[layers];
        for (int k = 0; k < layers; k++)
        {
            if (k > 0) _means[k - 1] = be.Allocate(b, sizes[k]);
            _chains[k] = be.Allocate(c, sizes[k]);
            _chainProbabilities[k] = be.Allocate(c, sizes[k]);
            _batchMeans[k] = be.Allocate(sizes[k]);
            _chainMeans[k] = be.Allocate(sizes[k]);
            _runningMeans[k] = be.Allocate(sizes[k]);
            _sparsity[k] = be.Allocate(sizes[k]);
            if (k > 0) be.Fill(_runningMeans[k], options.SparsityTarget(k));
        }
        if (dbm.HasLabels)
        {
            int labels = dbm.LabelCount;
            _chains[dbm.LabelGroup] = be.Allocate(c, labels);
            _chainProbabilities[dbm.LabelGroup] = be.Allocate(c, labels);
            _labels = be.Allocate(b, labels);
            _labelBatchMean = be.Allocate(labels);
            _labelChainMean = be.Allocate(labels);
        }
        _weights = new Parameter[layers - 1];
        _biases = new Parameter[layers];
        var all = new List<Parameter>();
        for (int k = 0; k < layers - 1; k++) all.Add(_weights[k] = new Parameter($"weights-{k}", dbm.Weights[k], ParameterRole.Weight));
        for (int k = 0; k < layers; k++) all.Add(_biases[k] = new Parameter($"bias-{k}", dbm.Biases[k], ParameterRole.Bias));
        if (dbm.HasLabels)
        {
            all.Add(_labelWeights = new Parameter("label-weights", dbm.LabelWeights!, ParameterRole.Weight));
            all.Add(_labelBias = new Parameter("label-bias", dbm.LabelBias!, ParameterRole.Bias));
        }
        _parameters = [.. all];
        Optimizer = options.CreateOptimizer();
        _meanField = new DbmMeanFieldOptions(options.MeanFieldUpdates, 0);
        Streams = streams ?? RandomStream.Root(options.Seed);
        Stream = Streams.Derive("gibbs");
        _epochOrder = Streams.Derive(DeterministicShuffle.EpochOrderPurpose);
        StartChains();
    }

    /// <summary>The machine being trained.</summary>
    public DeepBoltzmannMachine Dbm { get; }

    /// <summary>The hyper-parameters.</summary>
    public DbmTrainingOptions Options { get; }

    /// <summary>The parent of the trainer's streams.</summary>
    public RandomStream Streams { get; }

    /// <summary>The Gibbs sampler's stream.</summary>
    public RandomStream Stream { get; }

    /// <summary>The next unused block of <see cref="Stream"/> (saved with a checkpoint).</summary>
    public ulong Counter { get; set; }

    /// <summary>The shared optimizer (momentum, the decaying rate, weight cost).</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The parameters as the optimizer sees them: weights <c>weights-k</c>, then biases <c>bias-k</c>, then (with labels)
    /// <c>label-weights</c> and <c>label-bias</c>.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The persistent chains' states, one [chains, n_k] tensor per layer and, with labels, the one-hot label group last
    /// (saved with a checkpoint).</summary>
    public IReadOnlyList<Tensor> Chains => _chains;

    /// <summary>The running mean activations of the sparsity penalty, one [n_k] tensor per layer (entry 0 unused; saved with a checkpoint).</summary>
    public IReadOnlyList<Tensor> RunningMeans => _runningMeans;

    /// <summary>Trains one epoch over <paramref name="data"/> (values in [0, 1]; its labels too when the machine has label units) in the
    /// order of the trainer's <c>epoch-order</c> stream.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the visible count, the class count from the label count, or a
    /// value lies outside [0, 1].</exception>
    public DbmEpochReport TrainEpoch(Dataset data, int epoch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != Dbm.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the DBM has {Dbm.VisibleCount} visible units.", nameof(data));
        if (Dbm.HasLabels && data.ClassCount != Dbm.LabelCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the DBM has {Dbm.LabelCount} label units.", nameof(data));
        if (!ReferenceEquals(_validated, data.Features))
        {
            Dbm.ValidateData(data.Features, nameof(data));
            _validated = data.Features;
        }
        if (data.Count < Options.BatchSize)
            throw new ArgumentException($"The data has {data.Count} samples, fewer than one batch of {Options.BatchSize}: an epoch would make no update.", nameof(data));
        _epoch = epoch;
        int b = Options.BatchSize;
        var labels = new int[b];
        float[]? host = _data.IsHost ? null : new float[b * Dbm.VisibleCount];
        float[]? oneHot = _labels is null ? null : new float[b * Dbm.LabelCount];
        BatchOutcome Batch(ReadOnlySpan<int> indices, int _)
        {
            if (host is null) data.CopyBatch(indices, _data.Span, labels);
            else
            {
                data.CopyBatch(indices, host, labels);
                Dbm.Backend.Upload(host, _data);
            }
            if (oneHot is not null)
            {
                data.CopyOneHot(indices, oneHot);
                Dbm.Backend.Upload(oneHot, _labels!);
            }
            return new BatchOutcome(Step() * b, 0);
        }
        var plan = new MinibatchPlan(data.Count, b, DropPartialBatch: true, _epochOrder);
        var outcome = EpochLoop.Run(Batch, plan, epoch, cancellation: cancellation);
        return new DbmEpochReport(epoch, outcome.Updates, outcome.Updates == 0 ? 0 : outcome.MeanLoss, outcome.Seconds);
    }

    /// <summary>One update on a minibatch [B, n_0] already on the backend, with its one-hot labels [B, labels] when the machine has label
    /// units; returns its mean-field reconstruction error.</summary>
    /// <exception cref="ArgumentException">A shape is wrong, or labels are missing for a machine with label units (or given for one without).</exception>
    public double TrainBatch(Tensor batch, Tensor? labels = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Rows != Options.BatchSize || batch.Columns != Dbm.VisibleCount)
            throw new ArgumentException($"batch has shape {Tensor.ShapeText(batch.Shape)}; expected [{Options.BatchSize}, {Dbm.VisibleCount}].", nameof(batch));
        if (Dbm.HasLabels != labels is not null)
            throw new ArgumentException(Dbm.HasLabels ? "The DBM has label units: give the batch's one-hot labels." : "The DBM has no label units.", nameof(labels));
        if (labels is not null && (labels.Rows != Options.BatchSize || labels.Columns != Dbm.LabelCount))
            throw new ArgumentException($"labels has shape {Tensor.ShapeText(labels.Shape)}; expected [{Options.BatchSize}, {Dbm.LabelCount}].", nameof(labels));
        Dbm.Backend.Copy(batch, _data);
        if (labels is not null) Dbm.Backend.Copy(labels, _labels!);
        return Step();
    }

    private double Step()
    {
        var be = Dbm.Backend;
        int layers = Dbm.LayerSizes.Count;
        float b = Options.BatchSize, c = Options.PersistentChains;
        Dbm.MeanField(_data, _means, _meanField, labels: _labels);

        // The reconstruction error (a progress figure and the divergence guard's loss) before the weights move.
        Dbm.LayerInput(0, null, _means[0], _reconstruction);
        be.Activate(Activation.Sigmoid, _reconstruction, _reconstruction);
        var scratch = Dbm.Workspace.Get("reconstruction-error", _reconstruction.Rows, _reconstruction.Columns);
        double error = 2.0 * be.SquaredError(_reconstruction, _data, scratch);

        for (int s = 0; s < Options.GibbsSweeps; s++) Counter = Dbm.GibbsSweep(_chains, _chainProbabilities, Stream, Counter);

        // Positive statistics from the data and its means; negative ones from odd samples and even probabilities.
        Tensor Positive(int k) => k == 0 ? _data : _means[k - 1];
        Tensor Negative(int g) => g % 2 == 1 ? _chains[g] : _chainProbabilities[g];
        for (int k = 0; k < layers; k++)
        {
            be.SumColumns(Positive(k), _batchMeans[k]);
            be.ScaleShift(_batchMeans[k], 1f / b, 0f, _batchMeans[k]);
            be.SumColumns(Negative(k), _chainMeans[k]);
            be.ScaleShift(_chainMeans[k], 1f / c, 0f, _chainMeans[k]);
            var gradient = _biases[k].Gradient;
            be.Axpby(1f, _chainMeans[k], 0f, gradient);
            be.Axpy(-1f, _batchMeans[k], gradient);
        }
        int top = layers - 1;
        if (_labels is not null)
        {
            var labelGradient = _labelBias!.Gradient;
            be.SumColumns(_labels, _labelBatchMean!);
            be.ScaleShift(_labelBatchMean!, 1f / b, 0f, _labelBatchMean!);
            be.SumColumns(Negative(Dbm.LabelGroup), _labelChainMean!);
            be.Axpby(1f / c, _labelChainMean!, 0f, labelGradient);
            be.Axpy(-1f, _labelBatchMean!, labelGradient);
        }
        bool sparse = Options.SparsityCost > 0 && Options.SparsityTargets.Count > 0;
        if (sparse)
            for (int k = 1; k < layers; k++)
            {
                float d = Options.SparsityDamping;
                be.Axpby(1f - d, _batchMeans[k], d, _runningMeans[k]);
                be.ScaleShift(_runningMeans[k], Options.SparsityCost, -Options.SparsityCost * Options.SparsityTarget(k), _sparsity[k]);
                be.Axpy(1f, _sparsity[k], _biases[k].Gradient);
            }
        for (int k = 0; k < layers - 1; k++)
        {
            var gradient = _weights[k].Gradient;
            be.Gemm(Transpose.Transposed, Transpose.None, -1f / b, Positive(k), Positive(k + 1), 0f, gradient);
            be.Gemm(Transpose.Transposed, Transpose.None, 1f / c, Negative(k), Negative(k + 1), 1f, gradient);
            if (!sparse) continue;
            // The penalty of layer k + 1 weighted by layer k's mean activity, and that of layer k (a hidden one) by layer k + 1's.
            be.Gemm(Transpose.Transposed, Transpose.None, 1f, Row(_batchMeans[k]), Row(_sparsity[k + 1]), 1f, gradient);
            if (k > 0) be.Gemm(Transpose.Transposed, Transpose.None, 1f, Row(_sparsity[k]), Row(_batchMeans[k + 1]), 1f, gradient);
        }
        if (_labels is not null)
        {
            // U is [labels, n_L]: label statistics on the left, the top layer's on the right.
            var gradient = _labelWeights!.Gradient;
            be.Gemm(Transpose.Transposed, Transpose.None, -1f / b, _labels, Positive(top), 0f, gradient);
            be.Gemm(Transpose.Transposed, Transpose.None, 1f / c, Negative(Dbm.LabelGroup), Negative(top), 1f, gradient);
            if (sparse) be.Gemm(Transpose.Transposed, Transpose.None, 1f, Row(_labelBatchMean!), Row(_sparsity[top]), 1f, gradient);
        }
        Optimizer.Step(_parameters, _epoch);
        return error;
    }

    private static Tensor Row(Tensor vector) => vector.Reshape(1, vector.Length);

    /// <summary>The chains' first state: random visible bits and (with labels) uniformly drawn labels, then each hidden layer sampled
    /// from a doubled bottom-up pass (the top one undoubled, with the labels' input), from the <c>chain-start</c> stream.</summary>
    private void StartChains()
    {
        var be = Dbm.Backend;
        var start = Streams.Derive("chain-start");
        ulong counter = 0;
        var half = _chainProbabilities[0];
        be.Fill(half, 0f);
        be.SigmoidBernoulli(start, counter, half, half, _chains[0]);
        counter += DeepBoltzmannMachine.BlocksFor(_chains[0].Length);
        int top = Dbm.HiddenLayerCount;
        Tensor? labels = null;
        if (Dbm.HasLabels)
        {
            labels = _chains[Dbm.LabelGroup];
            var uniform = _chainProbabilities[Dbm.LabelGroup];
            be.Fill(uniform, 1f / Dbm.LabelCount);
            be.SampleOneHot(start, counter, uniform, labels);
            counter += DeepBoltzmannMachine.BlocksFor(labels.Rows);
        }
        for (int k = 1; k <= top; k++)
        {
            var p = _chainProbabilities[k];
            Dbm.LayerInput(k, _chains[k - 1], null, p, belowScale: k < top ? 2f : 1f, labels: k == top ? labels : null);
            be.SigmoidBernoulli(start, counter, p, p, _chains[k]);
            counter += DeepBoltzmannMachine.BlocksFor(_chains[k].Length);
        }
    }
}
