using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>The corruption a denoising autoencoder learns to undo (Vincent et al. 2008).</summary>
public enum NoiseKind
{
    /// <summary>Each input is set to 0 with probability <c>amount</c> (masking noise, not rescaled).</summary>
    Masking,
    /// <summary>Each input gets independent Gaussian noise of deviation <c>amount</c>.</summary>
    Gaussian,
}

/// <summary>
/// Corrupts its input during training (the identity at inference): masking noise or additive Gaussian noise. The
/// numbers come from Philox addressed by (the layer's <c>input-noise</c> stream under the run's stream, training step),
/// so a run repeats exactly on every backend and a resumed run draws the same corruption.
/// </summary>
public sealed class InputNoise : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _noise;
    private readonly BatchBuffer _keep;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _lastMask;
    private RandomStream? _parent;
    private RandomStream _stream;

    /// <summary>Creates the layer.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="noise">Masking or Gaussian.</param>
    /// <param name="amount">The masked fraction, in [0, 1), or the Gaussian deviation, >= 0.</param>
    /// <param name="streamIndex">Selects the layer's stream, <c>Derive("input-noise", streamIndex)</c> of the run's stream (the layer's position).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is outside its range.</exception>
    public InputNoise(IBackend backend, NoiseKind noise, float amount, int streamIndex)
    {
        if (noise == NoiseKind.Masking && !(amount >= 0f && amount < 1f))
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "The masked fraction must lie in [0, 1).");
        if (noise == NoiseKind.Gaussian && !(amount >= 0f && float.IsFinite(amount)))
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "The noise deviation must be finite and >= 0.");
        ArgumentOutOfRangeException.ThrowIfNegative(streamIndex);
        _backend = backend;
        Noise = noise;
        Amount = amount;
        StreamIndex = streamIndex;
        _noise = new BatchBuffer(backend);
        _keep = new BatchBuffer(backend);
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <summary>Masking or Gaussian.</summary>
    public NoiseKind Noise { get; }

    /// <summary>The masked fraction or the deviation.</summary>
    public float Amount { get; }

    /// <summary>The index of the layer's stream under the run's stream.</summary>
    public int StreamIndex { get; }

    /// <inheritdoc />
    public string Kind => Noise == NoiseKind.Masking ? "masking-noise" : "gaussian-noise";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _lastMask = null;
        if (!context.Training || Amount == 0f) return input;
        if (context.Random != _parent)
        {
            _parent = context.Random;
            _stream = context.Random.Derive("input-noise", StreamIndex);
        }
        // One disjoint block range per step, as dropout's masks.
        ulong counter = (ulong)context.Step << 30;
        var sampleShape = input.Shape[1..];
        var noise = _noise.Get(input.Rows, sampleShape);
        var y = _output.Get(input.Rows, sampleShape);
        if (Noise == NoiseKind.Masking)
        {
            // Bernoulli draws against a tensor of keep probabilities give a mask of exact 0s and 1s.
            var keep = _keep.Get(input.Rows, sampleShape);
            _backend.Fill(keep, 1f - Amount);
            _backend.SampleBernoulli(_stream, counter, keep, noise);
            _backend.Multiply(input, noise, y);
            _lastMask = noise;
        }
        else
        {
            _backend.SampleGaussian(_stream, counter, 0f, Amount, noise);
            _backend.Copy(input, y);
            _backend.Axpy(1f, noise, y);
        }
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        if (_lastMask is null) return outputGradient;
        var dx = _inputGradient.Get(outputGradient.Rows, outputGradient.Shape[1..]);
        _backend.Multiply(outputGradient, _lastMask, dx);
        return dx;
    }

    /// <summary>The identity: the corruption is for training only.</summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => input;
}
