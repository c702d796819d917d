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
/// <c>E(x) = -sum_k b_k . x_k - sum_k x_k^T W_k x_(k+1)</c>. The parameters live in backend tensors; every batch operation
/// runs through <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// <para>Given its two neighbours a layer's units are independent: <c>p(x_k = 1 | rest) = sigmoid(b_k + x_(k-1) W_(k-1) + x_(k+1) W_k^T)</c>.
/// So the even layers (v, h2, ...) are independent given the odd ones and the reverse; a full Gibbs sweep samples the odd layers,
/// then the even ones, and the odd layers can be summed out of <c>exp(-E)</c> in closed form (<see cref="DbmEvaluation"/>).</para>
/// <para>Weights <c>W_k</c> are stored [n_k, n_(k+1)]; <see cref="Weights"/>[k] joins layer k and layer k + 1.</para>
/// <para>Single-threaded: the machine, its scratch tensors and its callers' buffers belong to one thread.</para>
/// </remarks>
public sealed class DeepBoltzmannMachine
{
    private readonly Tensor[] _weights;
    private readonly Tensor[] _biases;
    private readonly int[] _sizes;
    private Workspace? _workspace;

    /// <summary>Creates a DBM with weights from N(0, <paramref name="initialWeightStd"/>^2) and zero biases.</summary>
    /// <param name="backend">The backend that owns the parameters.</param>
    /// <param name="layerSizes">n_0 (the visible units) through n_L; at least two hidden layers.</param>
    /// <param name="seed">Seed of the run; weight k comes from <c>Root(seed).Derive("dbm-weights", k)</c>.</param>
    /// <param name="initialWeightStd">Standard deviation of the initial weights (0: all zero).</param>
    /// <exception cref="ArgumentException">Fewer than three layers, or a size that is not positive.</exception>
    public DeepBoltzmannMachine(IBackend backend, IReadOnlyList<int> layerSizes, ulong seed = 0, float initialWeightStd = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layerSizes);
        if (layerSizes.Count < 3)
            throw new ArgumentException($"A deep Boltzmann machine needs the visible layer and at least two hidden layers; got {layerSizes.Count} layer sizes.", nameof(layerSizes));
        for (int k = 0; k < layerSizes.Count; k++)
            if (layerSizes[k] <= 0) throw new ArgumentException($"Layer {k} has {layerSizes[k]} units; every layer needs at least one.", nameof(layerSizes));
        Backend = backend;
        Seed = seed;
        _sizes = [.. layerSizes];
        _weights = new Tensor[_sizes.Length - 1];
        _biases = new Tensor[_sizes.Length];
        for (int k = 0; k < _sizes.Length; k++) _biases[k] = backend.Allocate(_sizes[k]);
        var weights = RandomStream.Root(seed);
        for (int k = 0; k < _weights.Length; k++)
        {
            _weights[k] = backend.Allocate(_sizes[k], _sizes[k + 1]);
            if (initialWeightStd != 0f) backend.SampleGaussian(weights.Derive("dbm-weights", k), 0, 0f, initialWeightStd, _weights[k]);
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
    /// into <paramref name="result"/> [N, n_k]; a null neighbour (or one that does not exist) contributes nothing.
    /// </summary>
    public void LayerInput(int layer, Tensor? below, Tensor? above, Tensor result, float belowScale = 1f, float aboveScale = 1f)
    {
        CheckLayer(layer);
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
        if (beta == 0f) Backend.Fill(result, 0f);
        Backend.AddRowVector(result, _biases[layer]);
    }

    /// <summary>
    /// Mean-field inference of <c>q(h | v) = prod_k prod_j q_kj</c> for the rows of <paramref name="visible"/> [N, n_0]: the
    /// hidden layers are updated in turn, <c>mu_k = sigmoid(b_k + mu_(k-1) W_(k-1) + mu_(k+1) W_k^T)</c> (<c>mu_0 = v</c>), each update
    /// the exact coordinate ascent of the variational bound for its layer. The means start from a bottom-up pass that doubles the
    /// input from below for every layer but the top, standing in for the input from above it does not yet have.
    /// </summary>
    /// <param name="visible">The data, [N, n_0].</param>
    /// <param name="means">Receives the means: entry k - 1 is layer k's, [N, n_k].</param>
    /// <param name="options">Sweeps and tolerance.</param>
    /// <param name="startFromMeans">Continue from the means already in <paramref name="means"/> instead of the bottom-up pass.</param>
    public DbmMeanFieldResult MeanField(Tensor visible, IReadOnlyList<Tensor> means, DbmMeanFieldOptions options, bool startFromMeans = false)
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
        // The data do not change between sweeps, so neither does the first hidden layer's input from below: one GEMM, not one a sweep.
        var fromData = Workspace.Get("mean-field-input-from-data", visible.Rows, _sizes[1]);
        LayerInput(1, visible, null, fromData);
        if (!startFromMeans)
            for (int k = 1; k <= HiddenLayerCount; k++)
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
                else LayerInput(k, means[k - 2], null, mu, belowScale: k < HiddenLayerCount ? 2f : 1f);
                Backend.Activate(Activation.Sigmoid, mu, mu);
            }
        bool check = options.Tolerance > 0;
        float[][]? previous = check ? new float[HiddenLayerCount][] : null;
        float[]? current = null;
        if (previous is not null)
        {
            int largestLayer = 0;
            for (int k = 0; k < previous.Length; k++)
            {
                previous[k] = new float[means[k].Length];
                Backend.Download(means[k], previous[k]);
                largestLayer = Math.Max(largestLayer, means[k].Length);
            }
            current = new float[largestLayer];
        }
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            double largest = 0;
            for (int k = 1; k <= HiddenLayerCount; k++)
            {
                var mu = means[k - 1];
                if (k == 1)
                {
                    Backend.Copy(fromData, mu);
                    Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, means[1], _weights[1], 1f, mu);
                }
                else LayerInput(k, means[k - 2], k < HiddenLayerCount ? means[k] : null, mu);
                Backend.Activate(Activation.Sigmoid, mu, mu);
                if (previous is not null && current is not null)
                {
                    var now = current.AsSpan(0, mu.Length);
                    Backend.Download(mu, now);
                    var before = previous[k - 1];
                    for (int i = 0; i < now.Length; i++) largest = Math.Max(largest, Math.Abs(now[i] - before[i]));
                    now.CopyTo(before);
                }
            }
            if (check && largest <= options.Tolerance) return new DbmMeanFieldResult(iteration, true);
        }
        return new DbmMeanFieldResult(options.MaxIterations, false);
    }

    /// <summary>
    /// One full Gibbs sweep over the chains in <paramref name="states"/> (entry k: layer k's binary states, [C, n_k]): the odd layers
    /// given the even ones, then the even layers (the visible one included) given the odd ones.
    /// </summary>
    /// <param name="states">The chains' states, updated in place.</param>
    /// <param name="probabilities">Receives each layer's conditional probabilities from this sweep (the even layers' given the new
    /// odd states: what the negative statistics use in place of those layers' samples), or null.</param>
    /// <param name="stream">The sampler's stream.</param>
    /// <param name="counter">Its first unused block.</param>
    /// <param name="clampVisible">When true the visible layer keeps its states (conditional sampling given the pixels).</param>
    /// <returns>The counter after the last block used.</returns>
    public ulong GibbsSweep(IReadOnlyList<Tensor> states, IReadOnlyList<Tensor>? probabilities, RandomStream stream, ulong counter, bool clampVisible = false)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Count != _sizes.Length) throw new ArgumentException($"{states.Count} state tensors for {_sizes.Length} layers.", nameof(states));
        if (probabilities is not null && probabilities.Count != _sizes.Length)
            throw new ArgumentException($"{probabilities.Count} probability tensors for {_sizes.Length} layers.", nameof(probabilities));
        for (int k = 0; k < _sizes.Length; k++)
        {
            CheckShape(states[k], _sizes[k], nameof(states));
            if (probabilities is not null && (probabilities[k].Rank != 2 || probabilities[k].Rows != states[k].Rows || probabilities[k].Columns != _sizes[k]))
                throw new ArgumentException($"probabilities[{k}] has shape {Tensor.ShapeText(probabilities[k].Shape)}; expected [{states[k].Rows}, {_sizes[k]}].", nameof(probabilities));
        }
        for (int parity = 1; parity >= 0; parity--)
            for (int k = parity; k < _sizes.Length; k += 2)
            {
                if (k == 0 && clampVisible) continue;
                var p = probabilities?[k] ?? Workspace.Get("gibbs-probabilities", k, states[k].Rows, _sizes[k]);
                LayerInput(k, k > 0 ? states[k - 1] : null, k < HiddenLayerCount ? states[k + 1] : null, p);
                Backend.SigmoidBernoulli(stream, counter, p, p, states[k]);
                counter += BlocksFor(states[k].Length);
            }
        return counter;
    }

    /// <summary>
    /// Per row, the variational free energy <c>F_q(v) = E_q[E(v, h)] - H[q]</c> of fully factorised means (as
    /// <see cref="MeanField"/> leaves them), summed in double on the host: <c>-log p(v) &lt;= F_q(v) + log Z</c>.
    /// </summary>
    public double[] VariationalFreeEnergies(Tensor visible, IReadOnlyList<Tensor> means)
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
        int n = visible.Rows;
        var result = new double[n];
        var layers = new Tensor[_sizes.Length];
        layers[0] = visible;
        for (int k = 1; k < layers.Length; k++) layers[k] = means[k - 1];
        var row = new float[n];
        var rowSum = Workspace.Get("free-energy-rows", n, 1);
        for (int k = 0; k < layers.Length; k++)
        {
            // -b_k . x_k - x_k W_k x_(k+1): one GEMM and a row-wise dot product per layer.
            var term = Workspace.Get("free-energy-term", k, n, _sizes[k]);
            if (k < HiddenLayerCount) Backend.Gemm(Transpose.None, Transpose.Transposed, 1f, layers[k + 1], _weights[k], 0f, term);
            else Backend.Fill(term, 0f);
            Backend.AddRowVector(term, _biases[k]);
            Backend.Multiply(term, layers[k], term);
            Backend.SumRows(term, rowSum.Reshape(n));
            Backend.Download(rowSum, row);
            for (int r = 0; r < n; r++) result[r] -= row[r];
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
        return result;
    }

    /// <summary>Copies every parameter of <paramref name="other"/> (same layer sizes) into this machine.</summary>
    public void CopyFrom(DeepBoltzmannMachine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other._sizes.AsSpan().SequenceEqual(_sizes))
            throw new ArgumentException($"Cannot copy a {string.Join("-", other._sizes)} DBM into a {string.Join("-", _sizes)} one.", nameof(other));
        var host = new float[0];
        void Move(Tensor from, Tensor to)
        {
            if (host.Length < from.Length) host = new float[from.Length];
            from.Backend.Download(from, host.AsSpan(0, from.Length));
            Backend.Upload(host.AsSpan(0, from.Length), to);
        }
        for (int k = 0; k < _weights.Length; k++) Move(other._weights[k], _weights[k]);
        for (int k = 0; k < _biases.Length; k++) Move(other._biases[k], _biases[k]);
    }

    internal static double BinaryEntropy(double p) =>
        (p > 0 ? -p * Math.Log(p) : 0) - (p < 1 ? (1 - p) * Math.Log(1 - p) : 0);

    private void CheckLayer(int layer)
    {
        if (layer < 0 || layer >= _sizes.Length) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"must be in 0..{_sizes.Length - 1}.");
    }

    private static void CheckShape(Tensor t, int columns, string name)
    {
        if (t.Rank != 2 || t.Columns != columns)
            throw new ArgumentException($"{name} has shape {Tensor.ShapeText(t.Shape)}; expected [N, {columns}].", name);
    }
}
