using Shinso.Backends;
using Shinso.Layers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// The top level of Hinton, Osindero &amp; Teh's deep belief net (Neural Computation 18, 2006), which the paper calls
/// the associative memory: an RBM whose visible layer joins binary penultimate units and a group of softmax label
/// units, with binary hidden ("top") units.
/// </summary>
/// <remarks>
/// <para>Energy: <c>E(p, y, t) = -a.p - d.y - c.t - p^T P t - y^T L t</c>, with <c>y</c> one-hot; free energy of a
/// (p, label k) pair: <c>F(p, k) = -a.p - d_k - sum_j softplus(c_j + (p P)_j + L_kj)</c>. The label group's
/// conditional is a softmax, <c>p(y = k | t) = softmax_k(d + t L^T)</c>.</para>
/// <para>The penultimate and label weights are separate matrices (not one stacked visible layer) so that the two
/// groups never need column slices: the top units' input is two GEMMs into one buffer.</para>
/// </remarks>
public sealed class AssociativeMemory
{
    private Workspace? _workspace;

    /// <summary>Creates the top RBM with weights from N(0, <paramref name="initialWeightStd"/>^2) and zero biases.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or there are fewer than two labels.</exception>
    public AssociativeMemory(IBackend backend, int penultimateCount, int labelCount, int topCount, ulong seed = 0, float initialWeightStd = 0.01f)
        : this(backend, penultimateCount, labelCount, topCount, RandomStream.Root(seed), initialWeightStd)
    {
    }

    /// <summary>As the public constructor, with the initial weights drawn from streams derived from <paramref name="streams"/> (the top of a DBN).</summary>
    internal AssociativeMemory(IBackend backend, int penultimateCount, int labelCount, int topCount, RandomStream streams, float initialWeightStd = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(penultimateCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(labelCount, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topCount);
        Backend = backend;
        PenultimateCount = penultimateCount;
        LabelCount = labelCount;
        TopCount = topCount;
        PenultimateWeights = backend.Allocate(penultimateCount, topCount);
        LabelWeights = backend.Allocate(labelCount, topCount);
        PenultimateBias = backend.Allocate(penultimateCount);
        LabelBias = backend.Allocate(labelCount);
        TopBias = backend.Allocate(topCount);
        if (initialWeightStd != 0f)
        {
            backend.SampleGaussian(streams.Derive("penultimate-weights"), 0, 0f, initialWeightStd, PenultimateWeights);
            backend.SampleGaussian(streams.Derive("label-weights"), 0, 0f, initialWeightStd, LabelWeights);
        }
    }

    /// <summary>The backend holding the parameters.</summary>
    public IBackend Backend { get; }

    /// <summary>Binary penultimate units (the visible half that comes from the layers below).</summary>
    public int PenultimateCount { get; }

    /// <summary>Softmax label units.</summary>
    public int LabelCount { get; }

    /// <summary>Binary top units.</summary>
    public int TopCount { get; }

    /// <summary>P, [penultimate, top].</summary>
    public Tensor PenultimateWeights { get; }

    /// <summary>L, [labels, top].</summary>
    public Tensor LabelWeights { get; }

    /// <summary>a, [penultimate].</summary>
    public Tensor PenultimateBias { get; }

    /// <summary>d, [labels].</summary>
    public Tensor LabelBias { get; }

    /// <summary>c, [top].</summary>
    public Tensor TopBias { get; }

    /// <summary>
    /// The factor on <c>t P^T</c> in the penultimate units' input (1 in a DBN). A deep Boltzmann machine's pretraining sets 2 for
    /// its top stage: in the composed machine the penultimate layer also hears the layer below it, which the doubled input stands in for.
    /// </summary>
    public float PenultimateDownwardScale { get; init; } = 1f;

    /// <summary><c>result = c + p P + y L</c>, the top units' input, [N, top].</summary>
    public void TopInput(Tensor penultimate, Tensor labels, Tensor result)
    {
        Check(penultimate, PenultimateCount, nameof(penultimate));
        Check(labels, LabelCount, nameof(labels));
        Check(result, TopCount, nameof(result));
        Backend.Gemm(Transpose.None, Transpose.None, 1f, penultimate, PenultimateWeights, 0f, result);
        Backend.Gemm(Transpose.None, Transpose.None, 1f, labels, LabelWeights, 1f, result);
        Backend.AddRowVector(result, TopBias);
    }

    /// <summary><c>result = a + s t P^T</c> (s the <see cref="PenultimateDownwardScale"/>), the penultimate units' input, [N, penultimate].</summary>
    public void PenultimateInput(Tensor top, Tensor result)
    {
        Check(top, TopCount, nameof(top));
        Check(result, PenultimateCount, nameof(result));
        Backend.Gemm(Transpose.None, Transpose.Transposed, PenultimateDownwardScale, top, PenultimateWeights, 0f, result);
        Backend.AddRowVector(result, PenultimateBias);
    }

    /// <summary><c>p(y | t) = softmax(d + t L^T)</c>, [N, labels].</summary>
    public void LabelProbabilities(Tensor top, Tensor result)
    {
        Check(top, TopCount, nameof(top));
        Check(result, LabelCount, nameof(result));
        Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, top, LabelWeights, 0f, result);
        Backend.AddRowVector(result, LabelBias);
        Backend.SoftmaxRows(result, result);
    }

    /// <summary>
    /// <c>scores[k, i] = -F(p_i, k) + a.p_i = d_k + sum_j softplus(c_j + (p_i P)_j + L_kj)</c>, [labels, N]: the
    /// negative free energy of each label up to a term shared by all labels, so the largest score is the most
    /// probable label, <c>p(k | p) = softmax_k(scores[., i])</c>.
    /// </summary>
    public void LabelScores(Tensor penultimate, Tensor scores)
    {
        Check(penultimate, PenultimateCount, nameof(penultimate));
        int n = penultimate.Rows;
        if (scores.Rows != LabelCount || scores.Columns != n)
            throw new ArgumentException($"scores has shape {Tensor.ShapeText(scores.Shape)}; expected [{LabelCount}, {n}].", nameof(scores));
        var shared = Workspace.Get("label-scores-shared", n, TopCount);
        var withLabel = Workspace.Get("label-scores-with-label", n, TopCount);
        Backend.Gemm(Transpose.None, Transpose.None, 1f, penultimate, PenultimateWeights, 0f, shared);
        Backend.AddRowVector(shared, TopBias);
        var labelBias = new float[LabelCount];
        Backend.Download(LabelBias, labelBias);
        for (int k = 0; k < LabelCount; k++)
        {
            Backend.Copy(shared, withLabel);
            Backend.AddRowVector(withLabel, LabelWeights.SliceRows(k, 1).Reshape(TopCount));
            var row = scores.SliceRows(k, 1).Reshape(n);
            Backend.SoftplusSumRows(withLabel, 1f, row);
            Backend.ScaleShift(row, 1f, labelBias[k], row);
        }
    }

    /// <summary>Copies the parameters of <paramref name="other"/> (same sizes) into this memory.</summary>
    public void CopyFrom(AssociativeMemory other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.PenultimateCount != PenultimateCount || other.LabelCount != LabelCount || other.TopCount != TopCount)
            throw new ArgumentException($"Cannot copy a {other.PenultimateCount}+{other.LabelCount}x{other.TopCount} associative memory into a {PenultimateCount}+{LabelCount}x{TopCount} one.", nameof(other));
        Backend.Upload(RestrictedBoltzmannMachine.Download(other.PenultimateWeights), PenultimateWeights);
        Backend.Upload(RestrictedBoltzmannMachine.Download(other.LabelWeights), LabelWeights);
        Backend.Upload(RestrictedBoltzmannMachine.Download(other.PenultimateBias), PenultimateBias);
        Backend.Upload(RestrictedBoltzmannMachine.Download(other.LabelBias), LabelBias);
        Backend.Upload(RestrictedBoltzmannMachine.Download(other.TopBias), TopBias);
    }

    /// <summary>The model's scratch tensors, by purpose.</summary>
    internal Workspace Workspace => _workspace ??= new Workspace(Backend);

    private static void Check(Tensor t, int columns, string name)
    {
        if (t.Columns != columns)
            throw new ArgumentException($"{name} has shape {Tensor.ShapeText(t.Shape)}; expected [N, {columns}].", name);
    }
}

/// <summary>
/// CD-k for the <see cref="AssociativeMemory"/> on (penultimate features, one-hot labels) pairs; the shared optimizer of
/// <see cref="RbmTrainingOptions.CreateOptimizer"/> applies the momentum schedule and weight decay.
/// </summary>
/// <remarks>
/// The negative phase samples the binary penultimate units and uses the label group's softmax probabilities, as the
/// appendix code of Hinton, Osindero &amp; Teh (2006) does (<c>neglabprobs</c>): the expected one-hot label, which
/// gives the same expected statistics as a softmax sample with less variance. Positive and negative statistics use
/// the top units' probabilities.
/// </remarks>
public sealed class AssociativeMemoryTrainer
{
    private readonly Tensor _pen, _lab, _topProb, _topSample, _negPen, _negPenMean, _negLab, _negTop;
    private readonly Tensor _tmpA, _tmpD, _tmpC;
    private readonly Parameter _penultimateWeights, _labelWeights, _penultimateBias, _labelBias, _topBias;
    private readonly Parameter[] _parameters;
    private readonly RandomStream _epochOrder;
    private float[]? _validated;

    /// <summary>Creates a trainer; <see cref="RbmTrainingOptions.PersistentChains"/> and sigma settings are ignored.</summary>
    /// <param name="memory">The memory to train.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="streams">The stream the sampler and the epoch order are derived from; <c>Root(options.Seed)</c> when null.</param>
    public AssociativeMemoryTrainer(AssociativeMemory memory, RbmTrainingOptions options, RandomStream? streams = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Memory = memory;
        Options = options;
        var be = memory.Backend;
        int b = options.BatchSize, np = memory.PenultimateCount, nl = memory.LabelCount, nt = memory.TopCount;
        _pen = be.Allocate(b, np);
        _lab = be.Allocate(b, nl);
        _topProb = be.Allocate(b, nt);
        _topSample = be.Allocate(b, nt);
        _negPen = be.Allocate(b, np);
        _negPenMean = be.Allocate(b, np);
        _negLab = be.Allocate(b, nl);
        _negTop = be.Allocate(b, nt);
        _penultimateWeights = new Parameter("penultimate-weights", memory.PenultimateWeights, ParameterRole.Weight);
        _labelWeights = new Parameter("label-weights", memory.LabelWeights, ParameterRole.Weight);
        _penultimateBias = new Parameter("penultimate-bias", memory.PenultimateBias, ParameterRole.Bias);
        _labelBias = new Parameter("label-bias", memory.LabelBias, ParameterRole.Bias);
        _topBias = new Parameter("top-bias", memory.TopBias, ParameterRole.Bias);
        _parameters = [_penultimateWeights, _labelWeights, _penultimateBias, _labelBias, _topBias];
        Optimizer = options.CreateOptimizer();
        _tmpA = be.Allocate(np);
        _tmpD = be.Allocate(nl);
        _tmpC = be.Allocate(nt);
        var root = streams ?? RandomStream.Root(options.Seed);
        Stream = root.Derive("gibbs");
        _epochOrder = root.Derive(Data.DeterministicShuffle.EpochOrderPurpose);
    }

    /// <summary>The memory being trained.</summary>
    public AssociativeMemory Memory { get; }

    /// <summary>The hyper-parameters.</summary>
    public RbmTrainingOptions Options { get; }

    /// <summary>The Philox stream of the sampler.</summary>
    public RandomStream Stream { get; }

    /// <summary>The next unused Philox block of <see cref="Stream"/>.</summary>
    public ulong Counter { get; set; }

    /// <summary>The shared optimizer that applies the gradients (momentum schedule and weight decay from the options).</summary>
    public Optimizers.Optimizer Optimizer { get; }

    /// <summary>The memory's parameters as the optimizer sees them.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Trains one epoch over (<paramref name="features"/>, <paramref name="labels"/>) in the order of <see cref="Data.Dataset.EpochPermutation(int, RandomStream)"/>.</summary>
    /// <param name="features">Penultimate-layer values in [0, 1], <c>labels.Count x PenultimateCount</c> row-major.</param>
    /// <param name="labels">The data set whose labels (and order) are used; its features are not read.</param>
    /// <param name="epoch">The 0-based epoch (selects the momentum and the permutation).</param>
    /// <param name="cancellation">Checked before every update.</param>
    /// <returns>The epoch's report; its reconstruction error is that of the penultimate units.</returns>
    /// <exception cref="ArgumentException">The sizes do not fit the memory, or a feature is outside [0, 1].</exception>
    public RbmEpochReport TrainEpoch(float[] features, Data.Dataset labels, int epoch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        var m = Memory;
        if (features.Length != (long)labels.Count * m.PenultimateCount)
            throw new ArgumentException($"features hold {features.Length} values; {labels.Count} samples of {m.PenultimateCount} penultimate units need {(long)labels.Count * m.PenultimateCount}.", nameof(features));
        if (labels.ClassCount != m.LabelCount)
            throw new ArgumentException($"The data has {labels.ClassCount} classes but the associative memory has {m.LabelCount} label units.", nameof(labels));
        if (!ReferenceEquals(_validated, features))
        {
            for (int i = 0; i < features.Length; i++)
                if (!(features[i] >= 0f && features[i] <= 1f))
                    throw new ArgumentException($"Value {features[i]} at index {i} (sample {i / m.PenultimateCount}, unit {i % m.PenultimateCount}) is outside " +
                                                "the range [0, 1] expected for the binary penultimate units.", nameof(features));
            _validated = features;
        }
        int b = Options.BatchSize, np = m.PenultimateCount;
        var hostPen = new float[b * np];
        var hostLab = new float[b * m.LabelCount];
        Training.BatchOutcome Batch(ReadOnlySpan<int> indices, int e)
        {
            for (int i = 0; i < b; i++) features.AsSpan(indices[i] * np, np).CopyTo(hostPen.AsSpan(i * np, np));
            labels.CopyOneHot(indices, hostLab);
            m.Backend.Upload(hostPen, _pen);
            m.Backend.Upload(hostLab, _lab);
            return new Training.BatchOutcome(Step(e) * b, 0);
        }
        var outcome = Training.EpochLoop.Run(Batch, new Training.MinibatchPlan(labels.Count, b, DropPartialBatch: true, _epochOrder), epoch, cancellation: cancellation);
        return new RbmEpochReport(epoch, outcome.Updates, outcome.Updates == 0 ? 0 : outcome.MeanLoss, outcome.Seconds);
    }

    private double Step(int epoch)
    {
        var m = Memory;
        var be = m.Backend;
        int b = Options.BatchSize;

        // Positive phase: t ~ p(t | p, y).
        m.TopInput(_pen, _lab, _topProb);
        be.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(_topProb.Length)), _topProb, _topProb, _topSample);
        double error = 0;
        for (int s = 0; s < Options.GibbsSteps; s++)
        {
            m.PenultimateInput(_topSample, _negPenMean);
            be.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(_negPen.Length)), _negPenMean, _negPenMean, _negPen);
            if (s == 0) error = 2.0 * be.SquaredError(_negPenMean, _pen, m.Workspace.Get("reconstruction-error", b, m.PenultimateCount));
            m.LabelProbabilities(_topSample, _negLab);
            m.TopInput(_negPen, _negLab, _negTop);
            if (s < Options.GibbsSteps - 1)
                be.SigmoidBernoulli(Stream, Take(RestrictedBoltzmannMachine.BlocksFor(_negTop.Length)), _negTop, _negTop, _topSample);
            else
                be.Activate(Activation.Sigmoid, _negTop, _negTop);
        }

        // Gradients are descent directions, -(positive - negative) / B; the optimizer fuses the weight products into its velocity.
        float r = 1f / b;
        _penultimateWeights.SetGradientProducts(new GradientTerm(_pen, _topProb, -r), new GradientTerm(_negPen, _negTop, r));
        _labelWeights.SetGradientProducts(new GradientTerm(_lab, _topProb, -r), new GradientTerm(_negLab, _negTop, r));
        BiasGradient(_penultimateBias.Gradient, _tmpA, _pen, _negPen);
        BiasGradient(_labelBias.Gradient, _tmpD, _lab, _negLab);
        BiasGradient(_topBias.Gradient, _tmpC, _topProb, _negTop);
        Optimizer.Step(_parameters, epoch);
        return error;
    }

    private void BiasGradient(Tensor gradient, Tensor scratch, Tensor positive, Tensor negative)
    {
        var be = Memory.Backend;
        int b = Options.BatchSize;
        be.SumColumns(positive, gradient);
        be.SumColumns(negative, scratch);
        be.Axpby(1f / b, scratch, -1f / b, gradient);
    }

    private ulong Take(ulong blocks)
    {
        ulong c = Counter;
        Counter += blocks;
        return c;
    }
}
