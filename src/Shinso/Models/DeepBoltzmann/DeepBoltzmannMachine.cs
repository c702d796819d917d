using Shinso.Backends;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>Iteration settings of <see cref="DeepBoltzmannMachine.MeanField"/>.</summary>
/// <param name="MaxIterations">Full sweeps over the hidden layers (at least 1).</param>
/// <param name="Tolerance">Converged when no mean moved by more than this in a sweep; 0 runs every sweep without checking
/// (the training default: checking costs a download of every mean).</param>
public sealed record DbmMeanFieldOptions(int MaxIterations = 50, double Tolerance = 1e-7)
{
    /// <summary>The paper's test-time setting: up to 50 sweeps, converged at 1e-7.</summary>
    public static DbmMeanFieldOptions TestTime { get; } = new();

    /// <summary>The paper's training setting: 10 sweeps, no tolerance check.</summary>
    public static DbmMeanFieldOptions Training { get; } = new(10, 0);
}

/// <summary>What a mean-field run did.</summary>
/// <param name="Iterations">Sweeps run.</param>
/// <param name="Converged">Whether the tolerance was met (false when none was checked).</param>
public sealed record DbmMeanFieldResult(int Iterations, bool Converged);

/// <summary>
/// A binary deep Boltzmann machine (Salakhutdinov &amp; Hinton, AISTATS 2009): layers <c>x_0 = v, x_1 = h1, ..., x_L</c> of binary
/// units, each joined to the next by a weight matrix and to no other, with energy
/// <c>E(x) = -sum_k b_k . x_k - sum_k x_k^T W_k x_(k+1)</c>, and optionally a group of softmax label units <c>y</c> (one-hot) joined
/// to the top layer only, which adds <c>-d . y - y^T U x_L</c>. The parameters live in backend tensors; every batch operation
/// runs through <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// <para>Given its two neighbours a layer's units are independent: <c>p(x_k = 1 | rest) = sigmoid(b_k + x_(k-1) W_(k-1) + x_(k+1) W_k^T)</c>.
/// So the even layers (v, h2, ...) are independent given the odd ones and the reverse; a full Gibbs sweep samples the odd layers,
/// then the even ones, and the odd layers can be summed out of <c>exp(-E)</c> in closed form (<see cref="DbmEvaluation"/>).</para>
/// <para>Weights <c>W_k</c> are stored [n_k, n_(k+1)]; <see cref="Weights"/>[k] joins layer k and layer k + 1. The label weights
/// <c>U</c> are stored [labels, n_L], as the DBN's associative memory stores its own.</para>
/// <para>The label group is a neighbour of the top layer only, so in a Gibbs sweep it goes with the layers of parity L + 1: with the
/// odd layers in a 2-layer machine, with the even ones in a 3-layer machine. Chains and sweeps address it as group
/// <see cref="LabelGroup"/>, after the layers (<see cref="GroupCount"/>, <see cref="GroupSize"/>).</para>
/// <para>Single-threaded: the machine, its scratch tensors and its callers' buffers belong to one thread.</para>
/// </remarks>
public sealed class DeepBoltzmannMachine
{
    private readonly Tensor[] _weights;
    private readonly Tensor[] _biases;
    private readonly int[] _sizes;
    private Workspace? _workspace;
    private const int NoLabels = 0;

    /// <summary>Creates a DBM with weights from N(0, <paramref name="initialWeightStd"/>^2) and zero biases.</summary>
    /// <param name="backend">The backend that owns the parameters.</param>
    /// <param name="layerSizes">n_0 (the visible units) through n_L; at least two hidden layers.</param>
    /// <param name="seed">Seed of the run; weight k comes from <c>Root(seed).Derive("dbm-weights", k)</c>.</param>
    /// <param name="initialWeightStd">Standard deviation of the initial weights (0: all zero).</param>
    /// <param name="labelCount">Softmax label units on the top layer (0: none, else at least 2); their weights come from
    /// <c>Root(seed).Derive("dbm-label-weights")</c>.</param>
    /// <exception cref="ArgumentException">Fewer than three layers, a size that is not positive, or a single label.</exception>
    public DeepBoltzmannMachine(IBackend backend, IReadOnlyList<int> layerSizes, ulong seed = 0, float initialWeightStd = 0.01f, int labelCount = NoLabels)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layerSizes);
        if (layerSizes.Count < 3)
            throw new ArgumentException($"A deep Boltzmann machine needs the visible layer and at least two hidden layers; got {layerSizes.Count} layer sizes.", nameof(layerSizes));
        for (int k = 0; k < layerSizes.Count; k++)
            if (layerSizes[k] <= 0) throw new ArgumentException($"Layer {k} has {layerSizes[k]} units; every layer needs at least one.", nameof(layerSizes));
        if (labelCount < 0 || labelCount == 1)
            throw new ArgumentException($"A DBM has no label units (0) or a softmax group of at least 2; got {labelCount}.", nameof(labelCount));
        Backend = backend;
        Seed = seed;
        _sizes = [.. layerSizes];
        LabelCount = labelCount;
        _weights = new Tensor[_sizes.Length - 1];
        _biases = new Tensor[_sizes.Length];
        for (int k = 0; k < _sizes.Length; k++) _biases[k] = backend.Allocate(_sizes[k]);
        var weights = RandomStream.Root(seed);
        for (int k = 0; k < _weights.Length; k++)
        {
            _weights[k] = backend.Allocate(_sizes[k], _sizes[k + 1]);
            if (initialWeightStd != 0f) backend.SampleGaussian(weights.Derive("dbm-weights", k), 0, 0f, initialWeightStd, _weights[k]);
        }
        if (labelCount > 0)
        {
            LabelWeights = backend.Allocate(labelCount, _sizes[^1]);
            LabelBias = backend.Allocate(labelCount);
            if (initialWeightStd != 0f) backend.SampleGaussian(weights.Derive("dbm-label-weights"), 0, 0f, initialWeightStd, LabelWeights);
        }
    }

    /// <summary>The backend holding the parameters.</summary>
    public IBackend Backend { get; }

    /// <summary>The seed of the run the machine belongs to.</summary>
    public ulong Seed { get; }

    /// <summary>Units per layer, the visible layer first.</summary>
    public IReadOnlyList<int> LayerSizes => _sizes;

    /// <summary>Number of hidden layers L.</summary>
    public int HiddenLayerCount => _sizes.Length - 1;

    /// <summary>Visible units n_0.</summary>
    public int VisibleCount => _sizes[0];

    /// <summary>Weights; entry k, [n_k, n_(k+1)], joins layer k and layer k + 1.</summary>
    public IReadOnlyList<Tensor> Weights => _weights;

    /// <summary>Biases; entry k, [n_k], belongs to layer k (entry 0 to the visible units).</summary>
    public IReadOnlyList<Tensor> Biases => _biases;

    /// <summary>Softmax label units on the top layer (0 when the machine has none).</summary>
    public int LabelCount { get; }

    /// <summary>Whether the machine has label units.</summary>
    public bool HasLabels => LabelCount > 0;

    /// <summary>The label weights U, [labels, n_L], or null.</summary>
    public Tensor? LabelWeights { get; }

    /// <summary>The label biases d, [labels], or null.</summary>
    public Tensor? LabelBias { get; }

    /// <summary>The groups a chain holds: the layers, then the label group when there is one.</summary>
    public int GroupCount => _sizes.Length + (HasLabels ? 1 : 0);

    /// <summary>The index of the label group among the chain's groups (one past the top layer); a group only where <see cref="HasLabels"/>.</summary>
    public int LabelGroup => _sizes.Length;

    /// <summary>Units in group <paramref name="group"/>: a layer's size, or the label count.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The machine has no such group.</exception>
    public int GroupSize(int group)
    {
        if (group < 0 || group >= GroupCount) throw new ArgumentOutOfRangeException(nameof(group), group, $"must be in 0..{GroupCount - 1}.");
        return group == LabelGroup ? LabelCount : _sizes[group];
    }

    /// <summary>The label group's parity in a Gibbs sweep (that of layer L + 1): 1 with the odd layers, 0 with the even ones.</summary>
    public int LabelParity => _sizes.Length % 2;

    /// <summary>The model's scratch tensors, by purpose.</summary>
    internal Workspace Workspace => _workspace ??= new Workspace(Backend);

    /// <summary>Philox blocks a sampling call over <paramref name="elements"/> elements consumes.</summary>
    public static ulong BlocksFor(int elements) => (ulong)((elements + 3) / 4);

    /// <summary>Checks host data: a whole number of samples of <see cref="VisibleCount"/> values, each in [0, 1].</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its sample and feature.</exception>
    public void ValidateData(ReadOnlySpan<float> data, string parameterName = "data")
    {
        int n = VisibleCount;
        if (data.Length % n != 0)
            throw new ArgumentException($"{data.Length} values are not a whole number of samples of {n} visible units.", parameterName);
        for (int i = 0; i < data.Length; i++)
            if (!(data[i] >= 0f && data[i] <= 1f))
                throw new ArgumentException($"Value {data[i]} at index {i} (sample {i / n}, feature {i % n}) is outside the range [0, 1] expected for binary visible units.", parameterName);
    }

    /// <summary>
    /// The total input of layer <paramref name="layer"/>, <c>b_k + belowScale x_(k-1) W_(k-1) + aboveScale x_(k+1) W_k^T</c>,
    /// into <paramref name="result"/> [N, n_k]; a null neighbour (or one that does not exist) contributes nothing. For the top layer
    /// of a machine with labels, <paramref name="labels"/> [N, labels] (one-hot states or softmax means) adds <c>y U</c>.
    /// </summary>
    public void LayerInput(int layer, Tensor? below, Tensor? above, Tensor result, float belowScale = 1f, float aboveScale = 1f, Tensor? labels = null)
    {
        CheckLayer(layer);
        if (labels is not null)
        {
            if (!HasLabels) throw new ArgumentException("The DBM has no label units.", nameof(labels));
            if (layer != HiddenLayerCount) throw new ArgumentException($"The labels join the top layer ({HiddenLayerCount}), not layer {layer}.", nameof(labels));
            CheckShape(labels, LabelCount, nameof(labels));
        }
        CheckShape(result, _sizes[layer], nameof(result));
        float beta = 0f;
        if (layer > 0 && below is not null)
        {
            CheckShape(below, _sizes[layer - 1], nameof(below));
            Backend.Gemm(Transpose.None, Transpose.None, belowScale, below, _weights[layer - 1], 0f, result);
            beta = 1f;
        }
        if (layer < HiddenLayerCount && above is not null)
        {
            CheckShape(above, _sizes[layer + 1], nameof(above));
            Backend.Gemm(Transpose.None, Transpose.Transposed, aboveScale, above, _weights[layer], beta, result);
            beta = 1f;
        }
        if (labels is not null)
        {
            Backend.Gemm(Transpose.None, Transpose.None, 1f, labels, LabelWeights!, beta, result);
            beta = 1f;
        }
        if (beta == 0f) Backend.Fill(result, 0f);
        Backend.AddRowVector(result, _biases[layer]);
    }

    /// <summary><c>p(y | x_L) = softmax(d + x_L U^T)</c> into <paramref name="result"/> [N, labels]; <paramref name="top"/> is [N, n_L].</summary>
    /// <exception cref="InvalidOperationException">The machine has no label units.</exception>
    public void LabelProbabilities(Tensor top, Tensor result)
    {
        LabelInput(top, result);
        Backend.SoftmaxRows(result, result);
    }

    /// <summary>The label units' input <c>d + x_L U^T</c> into <paramref name="result"/> [N, labels].</summary>
    /// <exception cref="InvalidOperationException">The machine has no label units.</exception>
    public void LabelInput(Tensor top, Tensor result)
    {
        if (!HasLabels) throw new InvalidOperationException("The DBM has no label units.");
        CheckShape(top, _sizes[^1], nameof(top));
        CheckShape(result, LabelCount, nameof(result));
        Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, top, LabelWeights!, 0f, result);
        Backend.AddRowVector(result, LabelBias!);
    }

    /// <summary>
    /// Mean-field inference of <c>q(h | v) = prod_k prod_j q_kj</c> for the rows of <paramref name="visible"/> [N, n_0]: the
    /// hidden layers are updated in turn, <c>mu_k = sigmoid(b_k + mu_(k-1) W_(k-1) + mu_(k+1) W_k^T)</c> (<c>mu_0 = v</c>), each update
    /// the exact coordinate ascent of the variational bound for its layer. The means start from a bottom-up pass that doubles the
    /// input from below for every layer but the top, standing in for the input from above it does not yet have.
    /// </summary>
    /// <remarks>
    /// In a machine with labels the top layer also reads <c>y U</c>: the clamped <paramref name="labels"/> when given (the
    /// positive phase of training), otherwise the label means <c>q(y) = softmax(d + mu_L U^T)</c>, updated after the top layer in
    /// every sweep (the exact coordinate ascent for a softmax group) and left in <paramref name="labelMeans"/>.
    /// </remarks>
    /// <param name="visible">The data, [N, n_0].</param>
    /// <param name="means">Receives the means: entry k - 1 is layer k's, [N, n_k].</param>
    /// <param name="options">Sweeps and tolerance.</param>
    /// <param name="startFromMeans">Continue from the means already in <paramref name="means"/> (and the label means) instead of the bottom-up pass.</param>
    /// <param name="labels">Clamped labels [N, labels] (one-hot rows), or null to infer them; only for a machine with labels.</param>
    /// <param name="labelMeans">Receives <c>q(y)</c> [N, labels] when the labels are inferred (and holds them on entry with
    /// <paramref name="startFromMeans"/>); null keeps them in a scratch tensor of the machine's, which a continued run cannot read.</param>
    public DbmMeanFieldResult MeanField(Tensor visible, IReadOnlyList<Tensor> means, DbmMeanFieldOptions options, bool startFromMeans = false,
        Tensor? labels = null, Tensor? labelMeans = null)
    {
        ArgumentNullException.ThrowIfNull(visible);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(options), $"MaxIterations must be >= 1, got {options.MaxIterations}.");
        if (!(options.Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"Tolerance must be >= 0, got {options.Tolerance}.");
        CheckShape(visible, VisibleCount, nameof(visible));
        if (means.Count != HiddenLayerCount) throw new ArgumentException($"{means.Count} mean tensors for {HiddenLayerCount} hidden layers.", nameof(means));
        for (int k = 1; k <= HiddenLayerCount; k++)
        {
            CheckShape(means[k - 1], _sizes[k], nameof(means));
            if (means[k - 1].Rows != visible.Rows) throw new ArgumentException($"means[{k - 1}] has {means[k - 1].Rows} rows, the data {visible.Rows}.", nameof(means));
        }
        if (!HasLabels && (labels is not null || labelMeans is not null))
            throw new ArgumentException("The DBM has no label units to clamp or infer.", labels is not null ? nameof(labels) : nameof(labelMeans));
        if (labels is not null && labelMeans is not null)
            throw new ArgumentException("Labels are either clamped (labels) or inferred (labelMeans), not both.", nameof(labelMeans));
        CheckLabelRows(labels, visible.Rows, nameof(labels));
        CheckLabelRows(labelMeans, visible.Rows, nameof(labelMeans));
        int top = HiddenLayerCount;
        bool inferLabels = HasLabels && labels is null;
        if (inferLabels && startFromMeans && labelMeans is null)
            throw new ArgumentException("Continuing mean-field with inferred labels needs their means: give labelMeans.", nameof(labelMeans));
        var y = labels ?? (inferLabels ? labelMeans ?? Workspace.Get("mean-field-label-means", visible.Rows, LabelCount) : null);
        // The data do not change between sweeps, so neither does the first hidden layer's input from below: one GEMM, not one a sweep.
        var fromData = Workspace.Get("mean-field-input-from-data", visible.Rows, _sizes[1]);
        LayerInput(1, visible, null, fromData);
        if (!startFromMeans)
        {
            for (int k = 1; k <= top; k++)
            {
                var mu = means[k - 1];
                if (k == 1)
                {
                    // 2 v W_0 + b_1 from the cached v W_0 + b_1.
                    var negatedBias = Workspace.Get("negated-bias", 1, _sizes[1]);
                    Backend.ScaleShift(_biases[1], -1f, 0f, negatedBias.Reshape(_sizes[1]));
                    Backend.ScaleShift(fromData, 2f, 0f, mu);
                    Backend.AddRowVector(mu, negatedBias.Reshape(_sizes[1]));
                }
                else LayerInput(k, means[k - 2], null, mu, belowScale: k < top ? 2f : 1f, labels: k == top && !inferLabels ? y : null);
                Backend.Activate(Activation.Sigmoid, mu, mu);
            }
            if (inferLabels) LabelProbabilities(means[top - 1], y!);
        }
        bool check = options.Tolerance > 0;
        // Only a checked run downloads: the training default allocates nothing here.
        var watched = check ? new List<Tensor>(means) : null;
        if (inferLabels) watched?.Add(y!);
        float[][]? previous = watched is null ? null : new float[watched.Count][];
        float[]? current = null;
        if (previous is not null)
        {
            int largestGroup = 0;
            for (int g = 0; g < previous.Length; g++)
            {
                previous[g] = new float[watched![g].Length];
                Backend.Download(watched[g], previous[g]);
                largestGroup = Math.Max(largestGroup, watched[g].Length);
            }
            current = new float[largestGroup];
        }
        double Moved(int group)
        {
            var now = current!.AsSpan(0, watched![group].Length);
            Backend.Download(watched[group], now);
            var before = previous![group];
            double most = 0;
            for (int i = 0; i < now.Length; i++) most = Math.Max(most, Math.Abs(now[i] - before[i]));
            now.CopyTo(before);
            return most;
        }
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            double largest = 0;
            for (int k = 1; k <= top; k++)
            {
                var mu = means[k - 1];
                if (k == 1)
                {
                    Backend.Copy(fromData, mu);
                    Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, means[1], _weights[1], 1f, mu);
                }
                else LayerInput(k, means[k - 2], k < top ? means[k] : null, mu, labels: k == top ? y : null);
                Backend.Activate(Activation.Sigmoid, mu, mu);
                if (check) largest = Math.Max(largest, Moved(k - 1));
            }
            if (inferLabels)
            {
                LabelProbabilities(means[top - 1], y!);
                if (check) largest = Math.Max(largest, Moved(top));
            }
            if (check && largest <= options.Tolerance) return new DbmMeanFieldResult(iteration, true);
        }
        return new DbmMeanFieldResult(options.MaxIterations, false);
    }

    /// <summary>
    /// One full Gibbs sweep over the chains in <paramref name="states"/> (entry g: group g's states, [C, <see cref="GroupSize"/>(g)]:
    /// the layers' binary states, then the label group's one-hot rows when the machine has labels): the odd layers given the even
    /// ones, then the even layers (the visible one included) given the odd ones, the label group with the layers of its
    /// <see cref="LabelParity"/>.
    /// </summary>
    /// <param name="states">The chains' states, updated in place.</param>
    /// <param name="probabilities">Receives each group's conditional probabilities from this sweep (the even layers' given the new
    /// odd states: what the negative statistics use in place of those layers' samples), or null.</param>
    /// <param name="stream">The sampler's stream.</param>
    /// <param name="counter">Its first unused block.</param>
    /// <param name="clampVisible">When true the visible layer keeps its states (conditional sampling given the pixels).</param>
    /// <param name="clampLabels">When true the label group keeps its states (label-clamped sampling).</param>
    /// <returns>The counter after the last block used.</returns>
    public ulong GibbsSweep(IReadOnlyList<Tensor> states, IReadOnlyList<Tensor>? probabilities, RandomStream stream, ulong counter, bool clampVisible = false,
        bool clampLabels = false)
    {
        ArgumentNullException.ThrowIfNull(states);
        int groups = GroupCount;
        if (states.Count != groups) throw new ArgumentException($"{states.Count} state tensors for {groups} groups ({_sizes.Length} layers{(HasLabels ? " and the labels" : "")}).", nameof(states));
        if (probabilities is not null && probabilities.Count != groups)
            throw new ArgumentException($"{probabilities.Count} probability tensors for {groups} groups.", nameof(probabilities));
        if (clampLabels && !HasLabels) throw new ArgumentException("The DBM has no label units to clamp.", nameof(clampLabels));
        for (int g = 0; g < groups; g++)
        {
            CheckShape(states[g], GroupSize(g), nameof(states));
            if (states[g].Rows != states[0].Rows) throw new ArgumentException($"states[{g}] has {states[g].Rows} chains, states[0] {states[0].Rows}.", nameof(states));
            if (probabilities is not null && (probabilities[g].Rank != 2 || probabilities[g].Rows != states[g].Rows || probabilities[g].Columns != GroupSize(g)))
                throw new ArgumentException($"probabilities[{g}] has shape {Tensor.ShapeText(probabilities[g].Shape)}; expected [{states[g].Rows}, {GroupSize(g)}].", nameof(probabilities));
        }
        int top = HiddenLayerCount;
        for (int parity = 1; parity >= 0; parity--)
        {
            for (int k = parity; k < _sizes.Length; k += 2)
            {
                if (k == 0 && clampVisible) continue;
                var p = probabilities?[k] ?? Workspace.Get("gibbs-probabilities", k, states[k].Rows, _sizes[k]);
                LayerInput(k, k > 0 ? states[k - 1] : null, k < top ? states[k + 1] : null, p, labels: k == top && HasLabels ? states[LabelGroup] : null);
                Backend.SigmoidBernoulli(stream, counter, p, p, states[k]);
                counter += BlocksFor(states[k].Length);
            }
            if (HasLabels && parity == LabelParity && !clampLabels)
            {
                var y = states[LabelGroup];
                var p = probabilities?[LabelGroup] ?? Workspace.Get("gibbs-probabilities", LabelGroup, y.Rows, LabelCount);
                LabelProbabilities(states[top], p);
                Backend.SampleOneHot(stream, counter, p, y);
                counter += BlocksFor(y.Rows);
            }
        }
        return counter;
    }

    /// <summary>
    /// Starts chains from mean-field means: samples every hidden layer k from <c>means[k - 1]</c> into <c>states[k]</c> and,
    /// when <paramref name="labelMeans"/> is given, one label per row into the label group, in that order, from
    /// <paramref name="stream"/> at <paramref name="counter"/>; returns the next free block.
    /// </summary>
    internal ulong SampleHiddenFromMeans(IReadOnlyList<Tensor> means, Tensor? labelMeans, IReadOnlyList<Tensor> states, RandomStream stream, ulong counter)
    {
        for (int k = 1; k < _sizes.Length; k++)
        {
            Backend.SampleBernoulli(stream, counter, means[k - 1], states[k]);
            counter += BlocksFor(states[k].Length);
        }
        if (labelMeans is not null)
        {
            Backend.SampleOneHot(stream, counter, labelMeans, states[LabelGroup]);
            counter += BlocksFor(labelMeans.Rows);
        }
        return counter;
    }

    /// <summary>
    /// Per row, the variational free energy <c>F_q(v) = E_q[E(v, h)] - H[q]</c> of fully factorised means (as
    /// <see cref="MeanField"/> leaves them), summed in double on the host: <c>-log p(v) &lt;= F_q(v) + log Z</c>. A machine with labels
    /// also needs <paramref name="labels"/> [N, labels]: the inferred <c>q(y)</c> (the bound is then on <c>log p(v)</c>, the labels
    /// summed out) or clamped one-hot rows (a bound on <c>log p(v, y)</c>; their entropy is 0).
    /// </summary>
    public double[] VariationalFreeEnergies(Tensor visible, IReadOnlyList<Tensor> means, Tensor? labels = null)
    {
        ArgumentNullException.ThrowIfNull(visible);
        ArgumentNullException.ThrowIfNull(means);
        CheckShape(visible, VisibleCount, nameof(visible));
        if (means.Count != HiddenLayerCount) throw new ArgumentException($"{means.Count} mean tensors for {HiddenLayerCount} hidden layers.", nameof(means));
        for (int k = 1; k <= HiddenLayerCount; k++)
        {
            CheckShape(means[k - 1], _sizes[k], nameof(means));
            if (means[k - 1].Rows != visible.Rows) throw new ArgumentException($"means[{k - 1}] has {means[k - 1].Rows} rows, the data {visible.Rows}.", nameof(means));
        }
        if (HasLabels != labels is not null)
            throw new ArgumentException(HasLabels ? "The DBM has label units: give their means or clamped values." : "The DBM has no label units.", nameof(labels));
        if (labels is not null)
        {
            CheckShape(labels, LabelCount, nameof(labels));
            if (labels.Rows != visible.Rows) throw new ArgumentException($"labels has {labels.Rows} rows, the data {visible.Rows}.", nameof(labels));
        }
        int n = visible.Rows;
        var result = new double[n];
        var layers = new Tensor[_sizes.Length];
        layers[0] = visible;
        for (int k = 1; k < layers.Length; k++) layers[k] = means[k - 1];
        var row = new float[n];
        var rowSum = Workspace.Get("free-energy-rows", n, 1);
        void SubtractRowSums(Tensor term)
        {
            Backend.SumRows(term, rowSum.Reshape(n));
            Backend.Download(rowSum, row);
            for (int r = 0; r < n; r++) result[r] -= row[r];
        }
        for (int k = 0; k < layers.Length; k++)
        {
            // -b_k . x_k - x_k W_k x_(k+1): one GEMM and a row-wise dot product per layer.
            var term = Workspace.Get("free-energy-term", k, n, _sizes[k]);
            if (k < HiddenLayerCount) Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, layers[k + 1], _weights[k], 0f, term);
            else Backend.Fill(term, 0f);
            Backend.AddRowVector(term, _biases[k]);
            Backend.Multiply(term, layers[k], term);
            SubtractRowSums(term);
        }
        if (labels is not null)
        {
            // The label group's energy reads like a layer's: its input from the top layer, times its means, summed per row.
            var term = Workspace.Get("free-energy-term", LabelGroup, n, LabelCount);
            LabelInput(layers[^1], term);
            Backend.Multiply(term, labels, term);
            SubtractRowSums(term);
        }
        var host = new float[0];
        for (int k = 1; k < layers.Length; k++)
        {
            int size = layers[k].Length;
            if (host.Length < size) host = new float[size];
            Backend.Download(layers[k], host.AsSpan(0, size));
            int width = _sizes[k];
            for (int r = 0; r < n; r++)
            {
                double entropy = 0;
                for (int j = 0; j < width; j++) entropy += BinaryEntropy(host[r * width + j]);
                result[r] -= entropy;
            }
        }
        if (labels is not null)
        {
            var q = new float[labels.Length];
            Backend.Download(labels, q);
            for (int r = 0; r < n; r++)
                for (int c = 0; c < LabelCount; c++)
                {
                    double p = q[r * LabelCount + c];
                    if (p > 0) result[r] += p * Math.Log(p);
                }
        }
        return result;
    }

    /// <summary>Copies every parameter of <paramref name="other"/> (same layer sizes) into this machine.</summary>
    public void CopyFrom(DeepBoltzmannMachine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other._sizes.AsSpan().SequenceEqual(_sizes) || other.LabelCount != LabelCount)
            throw new ArgumentException($"Cannot copy a {other.Describe()} DBM into a {Describe()} one.", nameof(other));
        var host = new float[0];
        void Move(Tensor from, Tensor to)
        {
            if (host.Length < from.Length) host = new float[from.Length];
            from.Backend.Download(from, host.AsSpan(0, from.Length));
            Backend.Upload(host.AsSpan(0, from.Length), to);
        }
        for (int k = 0; k < _weights.Length; k++) Move(other._weights[k], _weights[k]);
        for (int k = 0; k < _biases.Length; k++) Move(other._biases[k], _biases[k]);
        if (HasLabels)
        {
            Move(other.LabelWeights!, LabelWeights!);
            Move(other.LabelBias!, LabelBias!);
        }
    }

    /// <summary>The layer sizes, and the labels when there are any: <c>784-500-1000</c>, <c>784-500-1000 + 10 labels</c>.</summary>
    public string Describe() => string.Join("-", _sizes) + (HasLabels ? $" + {LabelCount} labels" : "");

    internal static double BinaryEntropy(double p) =>
        (p > 0 ? -p * Math.Log(p) : 0) - (p < 1 ? (1 - p) * Math.Log(1 - p) : 0);

    private void CheckLayer(int layer)
    {
        if (layer < 0 || layer >= _sizes.Length) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"must be in 0..{_sizes.Length - 1}.");
    }

    private void CheckLabelRows(Tensor? given, int rows, string name)
    {
        if (given is null) return;
        CheckShape(given, LabelCount, name);
        if (given.Rows != rows) throw new ArgumentException($"{name} has {given.Rows} rows, the data {rows}.", name);
    }

    private static void CheckShape(Tensor t, int columns, string name)
    {
        if (t.Rank != 2 || t.Columns != columns)
            throw new ArgumentException($"{name} has shape {Tensor.ShapeText(t.Shape)}; expected [N, {columns}].", name);
    }
}
