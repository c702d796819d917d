using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>The kind of an RBM's visible units.</summary>
public enum VisibleUnits
{
    /// <summary>Binary units: <c>p(v_i = 1 | h) = sigmoid(b_i + sum_j W_ij h_j)</c>; data must lie in [0, 1].</summary>
    Bernoulli,

    /// <summary>
    /// Real-valued units: <c>p(v_i | h) = N(b_i + sigma_i sum_j W_ij h_j, sigma_i^2)</c>, with unit variance
    /// (standardize the data first) or a learned per-unit sigma.
    /// </summary>
    Gaussian,
}

/// <summary>
/// A restricted Boltzmann machine (Smolensky 1986; Hinton 2002) with binary hidden units and Bernoulli or
/// Gaussian visible units; the parameters live in backend tensors and every batch operation runs through
/// <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// <para>Energies, with weights <c>W</c> stored [visible, hidden], visible biases <c>b</c>, hidden biases <c>c</c>:</para>
/// <para>Bernoulli: <c>E(v, h) = -b.v - c.h - v^T W h</c>, free energy <c>F(v) = -b.v - sum_j softplus(c_j + (v W)_j)</c>.</para>
/// <para>Gaussian: <c>E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - (v/sigma)^T W h</c>,
/// <c>F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + ((v/sigma) W)_j)</c>;
/// sigma is stored as its logarithm (<see cref="LogSigma"/>) so that it stays positive while it is learned.</para>
/// <para>Random numbers come from Philox (<see cref="RandomStream"/>): a sampling call with counter k reads blocks
/// k .. k + <see cref="BlocksFor"/>(n) - 1 of its stream, so a seed reproduces every chain.</para>
/// </remarks>
public sealed class RestrictedBoltzmannMachine
{
    private Workspace? _workspace;

    /// <summary>Creates an RBM with weights drawn from N(0, <paramref name="initialWeightStd"/>^2) (Hinton's guide: 0.01) and zero biases.</summary>
    /// <param name="backend">The backend that owns the parameters.</param>
    /// <param name="visibleCount">Number of visible units.</param>
    /// <param name="hiddenCount">Number of hidden units.</param>
    /// <param name="visibleUnits">Bernoulli or Gaussian visible units.</param>
    /// <param name="learnSigma">For Gaussian units, whether the trainers learn each unit's standard deviation (otherwise sigma = 1).</param>
    /// <param name="seed">Seed of the initial weights (their stream is <c>Root(seed).Derive("rbm-weights")</c>).</param>
    /// <param name="initialWeightStd">Standard deviation of the initial weights.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or sigma learning is asked for Bernoulli units.</exception>
    public RestrictedBoltzmannMachine(IBackend backend, int visibleCount, int hiddenCount, VisibleUnits visibleUnits = VisibleUnits.Bernoulli,
        bool learnSigma = false, ulong seed = 0, float initialWeightStd = 0.01f)
        : this(backend, visibleCount, hiddenCount, visibleUnits, learnSigma, seed, RandomStream.Root(seed).Derive("rbm-weights"), initialWeightStd)
    {
    }

    /// <summary>As the public constructor, with the initial weights drawn from <paramref name="weightStream"/> (an RBM that is one stage of a larger run).</summary>
    internal RestrictedBoltzmannMachine(IBackend backend, int visibleCount, int hiddenCount, VisibleUnits visibleUnits,
        bool learnSigma, ulong seed, RandomStream weightStream, float initialWeightStd = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(visibleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenCount);
        if (learnSigma && visibleUnits != VisibleUnits.Gaussian)
            throw new ArgumentOutOfRangeException(nameof(learnSigma), "Only Gaussian visible units have a sigma to learn.");
        Backend = backend;
        VisibleCount = visibleCount;
        HiddenCount = hiddenCount;
        Units = visibleUnits;
        LearnSigma = learnSigma;
        Seed = seed;
        Weights = backend.Allocate(visibleCount, hiddenCount);
        VisibleBias = backend.Allocate(visibleCount);
        HiddenBias = backend.Allocate(hiddenCount);
        LogSigma = backend.Allocate(visibleCount);
        Sigma = backend.Allocate(visibleCount);
        InverseSigma = backend.Allocate(visibleCount);
        if (initialWeightStd != 0f) backend.SampleGaussian(weightStream, 0, 0f, initialWeightStd, Weights);
        RefreshSigma();
    }

    /// <summary>The backend holding the parameters.</summary>
    public IBackend Backend { get; }

    /// <summary>Number of visible units.</summary>
    public int VisibleCount { get; }

    /// <summary>Number of hidden units.</summary>
    public int HiddenCount { get; }

    /// <summary>The visible unit type.</summary>
    public VisibleUnits Units { get; }

    /// <summary>Whether Gaussian standard deviations are learned.</summary>
    public bool LearnSigma { get; }

    /// <summary>The seed of the run the machine belongs to: its weights came from <c>Root(Seed).Derive("rbm-weights")</c>, or,
    /// for a stage of a DBN, from that stage's stream under the DBN's seed.</summary>
    public ulong Seed { get; }

    /// <summary>Weights, [visible, hidden].</summary>
    public Tensor Weights { get; }

    /// <summary>Visible biases b, [visible].</summary>
    public Tensor VisibleBias { get; }

    /// <summary>Hidden biases c, [hidden].</summary>
    public Tensor HiddenBias { get; }

    /// <summary>log sigma of Gaussian visible units, [visible] (zeros: unit variance; unused for Bernoulli units).</summary>
    public Tensor LogSigma { get; }

    /// <summary>sigma = exp(<see cref="LogSigma"/>), kept in step by <see cref="RefreshSigma"/>.</summary>
    public Tensor Sigma { get; }

    /// <summary>1 / sigma, kept in step by <see cref="RefreshSigma"/>.</summary>
    public Tensor InverseSigma { get; }

    /// <summary>True when visible values are divided by a sigma other than 1 (Gaussian units with learned sigma).</summary>
    public bool HasScaledVisible => Units == VisibleUnits.Gaussian && LearnSigma;

    /// <summary>
    /// The factor on the weights in the hidden units' input: 2 for the bottom RBM of a deep Boltzmann machine's greedy
    /// pretraining, whose doubled input stands in for the top-down input the hidden layer will get in the DBM (Salakhutdinov &amp;
    /// Hinton 2009); 1 for every other machine. Such a machine is a training device: its energies and free energies (which go through
    /// <see cref="HiddenInput"/>) are those of the doubled model, and it is never saved.
    /// </summary>
    internal float UpwardScale { get; init; } = 1f;

    /// <summary>The factor on the weights in the visible units' input: 2 for the top RBM of a DBM's pretraining; otherwise 1.</summary>
    internal float DownwardScale { get; init; } = 1f;

    /// <summary>Philox blocks (4 numbers each) a sampling call over <paramref name="elements"/> elements consumes.</summary>
    public static ulong BlocksFor(int elements) => (ulong)((elements + 3) / 4);

    /// <summary>Recomputes <see cref="Sigma"/> and <see cref="InverseSigma"/> from <see cref="LogSigma"/> (after loading or an update).</summary>
    public void RefreshSigma()
    {
        var log = new float[VisibleCount];
        Backend.Download(LogSigma, log);
        var s = new float[VisibleCount];
        var inv = new float[VisibleCount];
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = MathF.Exp(log[i]);
            inv[i] = 1f / s[i];
        }
        Backend.Upload(s, Sigma);
        Backend.Upload(inv, InverseSigma);
    }

    /// <summary>
    /// Checks host data for this machine: every value finite, and within [0, 1] for Bernoulli visible units.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its index (and sample, feature) and the expected range.</exception>
    public void ValidateData(ReadOnlySpan<float> data, string parameterName = "data")
    {
        if (data.Length % VisibleCount != 0)
            throw new ArgumentException($"{data.Length} values are not a whole number of samples of {VisibleCount} visible units.", parameterName);
        bool bernoulli = Units == VisibleUnits.Bernoulli;
        for (int i = 0; i < data.Length; i++)
        {
            float x = data[i];
            bool ok = bernoulli ? x >= 0f && x <= 1f : float.IsFinite(x);
            if (!ok)
                throw new ArgumentException(
                    $"Value {x} at index {i} (sample {i / VisibleCount}, feature {i % VisibleCount}) is outside " +
                    (bernoulli ? "the range [0, 1] expected for Bernoulli visible units." : "the finite range expected for Gaussian visible units."),
                    parameterName);
        }
    }

    /// <summary><c>pre = c + (v / sigma) W</c>, the hidden units' total input, [N, hidden].</summary>
    public void HiddenInput(Tensor visible, Tensor preActivation)
    {
        CheckRows(visible, VisibleCount, nameof(visible));
        CheckRows(preActivation, HiddenCount, nameof(preActivation));
        var v = visible;
        if (HasScaledVisible)
        {
            v = Workspace.Get("scaled-visible", visible.Rows, VisibleCount);
            Backend.ScaleColumns(visible, InverseSigma, v);
        }
        Backend.Gemm(Transpose.None, Transpose.None, UpwardScale, v, Weights, 0f, preActivation);
        Backend.AddRowVector(preActivation, HiddenBias);
    }

    /// <summary><c>p(h_j = 1 | v)</c>, [N, hidden].</summary>
    public void HiddenProbabilities(Tensor visible, Tensor probabilities)
    {
        HiddenInput(visible, probabilities);
        Backend.Activate(Activation.Sigmoid, probabilities, probabilities);
    }

    /// <summary>Samples <c>h ~ p(h | v)</c> with the fused sigmoid+Bernoulli op; returns the number of Philox blocks used.</summary>
    public ulong SampleHidden(Tensor visible, RandomStream stream, ulong counter, Tensor probabilities, Tensor samples)
    {
        HiddenInput(visible, probabilities);
        Backend.SigmoidBernoulli(stream, counter, probabilities, probabilities, samples);
        return BlocksFor(samples.Length);
    }

    /// <summary>
    /// The visible units' conditional mean given h, [N, visible]: <c>sigmoid(b + h W^T)</c> for Bernoulli units,
    /// <c>b + sigma (h W^T)</c> for Gaussian units.
    /// </summary>
    public void VisibleMean(Tensor hidden, Tensor mean)
    {
        VisibleInput(hidden, mean);
        if (Units == VisibleUnits.Bernoulli) Backend.Activate(Activation.Sigmoid, mean, mean);
    }

    /// <summary>Samples <c>v ~ p(v | h)</c>; <paramref name="mean"/> receives the conditional mean. Returns the Philox blocks used.</summary>
    public ulong SampleVisible(Tensor hidden, RandomStream stream, ulong counter, Tensor mean, Tensor samples)
    {
        VisibleInput(hidden, mean);
        if (Units == VisibleUnits.Bernoulli)
        {
            Backend.SigmoidBernoulli(stream, counter, mean, mean, samples);
            return BlocksFor(samples.Length);
        }
        Backend.SampleGaussian(stream, counter, 0f, 1f, samples);
        if (LearnSigma) Backend.ScaleColumns(samples, Sigma, samples);
        Backend.Axpy(1f, mean, samples);
        return BlocksFor(samples.Length);
    }

    /// <summary>Bernoulli: <c>b + h W^T</c> (the logits); Gaussian: <c>b + sigma (h W^T)</c> (the mean).</summary>
    public void VisibleInput(Tensor hidden, Tensor result)
    {
        CheckRows(hidden, HiddenCount, nameof(hidden));
        CheckRows(result, VisibleCount, nameof(result));
        Backend.Gemm(Transpose.None, Transpose.Transposed, DownwardScale, hidden, Weights, 0f, result);
        if (HasScaledVisible) Backend.ScaleColumns(result, Sigma, result);
        Backend.AddRowVector(result, VisibleBias);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> steps of block Gibbs sampling (h ~ p(h|v), then v ~ p(v|h)) on the chains in
    /// <paramref name="visible"/> [N, visible], in place. Returns the counter after the last block used.
    /// </summary>
    public ulong Gibbs(Tensor visible, int steps, RandomStream stream, ulong counter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var hp = Workspace.Get("gibbs-hidden-probabilities", visible.Rows, HiddenCount);
        var hs = Workspace.Get("gibbs-hidden-samples", visible.Rows, HiddenCount);
        var vm = Workspace.Get("gibbs-visible-mean", visible.Rows, VisibleCount);
        for (int s = 0; s < steps; s++)
        {
            counter += SampleHidden(visible, stream, counter, hp, hs);
            counter += SampleVisible(hs, stream, counter, vm, visible);
        }
        return counter;
    }

    /// <summary>Free energy <c>F(v) = -log sum_h exp(-E(v, h))</c> of each row of <paramref name="visible"/>, into <paramref name="result"/> [N].</summary>
    public void FreeEnergy(Tensor visible, Tensor result)
    {
        CheckRows(visible, VisibleCount, nameof(visible));
        if (result.Length != visible.Rows) throw new ArgumentException($"result has {result.Length} elements, expected {visible.Rows}.", nameof(result));
        var pre = Workspace.Get("hidden-input", visible.Rows, HiddenCount);
        HiddenInput(visible, pre);
        Backend.SoftplusSumRows(pre, 1f, result);
        var visibleTerm = Workspace.Get("visible-energy-term", visible.Rows, 1);
        VisibleEnergy(visible, visibleTerm);
        // F = visibleTerm - softplus sums
        Backend.Axpby(1f, visibleTerm.Reshape(visible.Rows), -1f, result);
    }

    /// <summary>Energy <c>E(v, h)</c> of each row pair, into <paramref name="result"/> [N].</summary>
    public void Energy(Tensor visible, Tensor hidden, Tensor result)
    {
        CheckRows(visible, VisibleCount, nameof(visible));
        CheckRows(hidden, HiddenCount, nameof(hidden));
        if (hidden.Rows != visible.Rows) throw new ArgumentException($"hidden has {hidden.Rows} rows but visible has {visible.Rows}.", nameof(hidden));
        if (result.Length != visible.Rows) throw new ArgumentException($"result has {result.Length} elements, expected {visible.Rows}.", nameof(result));
        var pre = Workspace.Get("hidden-input", visible.Rows, HiddenCount);
        HiddenInput(visible, pre); // c + (v/sigma) W
        Backend.Multiply(pre, hidden, pre);
        Backend.SumRows(pre, result);
        var visibleTerm = Workspace.Get("visible-energy-term", visible.Rows, 1);
        VisibleEnergy(visible, visibleTerm);
        Backend.Axpby(1f, visibleTerm.Reshape(visible.Rows), -1f, result);
    }

    /// <summary>The part of the energy that depends on v alone: <c>-b.v</c> (Bernoulli) or <c>sum (v-b)^2/(2 sigma^2)</c> (Gaussian).</summary>
    private void VisibleEnergy(Tensor visible, Tensor result)
    {
        if (Units == VisibleUnits.Bernoulli)
        {
            Backend.Gemm(Transpose.None, Transpose.None, -1f, visible, VisibleBias.Reshape(VisibleCount, 1), 0f, result);
            return;
        }
        var d = Workspace.Get("visible-deviation", visible.Rows, VisibleCount);
        var negBias = Workspace.Get("negated-visible-bias", 1, VisibleCount);
        Backend.ScaleShift(VisibleBias, -1f, 0f, negBias.Reshape(VisibleCount));
        Backend.Copy(visible, d);
        Backend.AddRowVector(d, negBias.Reshape(VisibleCount));
        if (LearnSigma) Backend.ScaleColumns(d, InverseSigma, d);
        Backend.Multiply(d, d, d);
        Backend.SumRows(d, result.Reshape(visible.Rows));
        Backend.ScaleShift(result, 0.5f, 0f, result);
    }

    /// <summary>Copies the parameters of <paramref name="other"/> (same sizes and unit type) into this machine.</summary>
    public void CopyFrom(RestrictedBoltzmannMachine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.VisibleCount != VisibleCount || other.HiddenCount != HiddenCount || other.Units != Units)
            throw new ArgumentException($"Cannot copy a {other.VisibleCount}x{other.HiddenCount} {other.Units} RBM into a {VisibleCount}x{HiddenCount} {Units} one.", nameof(other));
        Backend.Upload(Download(other.Weights), Weights);
        Backend.Upload(Download(other.VisibleBias), VisibleBias);
        Backend.Upload(Download(other.HiddenBias), HiddenBias);
        Backend.Upload(Download(other.LogSigma), LogSigma);
        RefreshSigma();
    }

    /// <summary>A host copy of a tensor's elements.</summary>
    public static float[] Download(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = new float[tensor.Length];
        tensor.Backend.Download(tensor, data);
        return data;
    }

    /// <summary>The model's scratch tensors, by purpose.</summary>
    internal Workspace Workspace => _workspace ??= new Workspace(Backend);

    private static void CheckRows(Tensor t, int columns, string name)
    {
        if (t.Columns != columns)
            throw new ArgumentException($"{name} has shape {Tensor.ShapeText(t.Shape)}; expected [N, {columns}].", name);
    }
}
