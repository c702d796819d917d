using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// Dropout (Srivastava et al., JMLR 2014) with inverted scaling: during training each unit is kept
/// with probability <c>1 - rate</c> and scaled by <c>1/(1 - rate)</c>, so inference is the identity.
/// Masks come from Philox addressed by (the layer's <c>dropout-mask</c> stream under the training run's stream,
/// training step), so runs are reproducible and a resumed run draws the same masks.
/// </summary>
public sealed class Dropout : ILayer, IRepeatedInputGradient
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _mask;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _lastMask;
    private Tensor? _input;
    private RandomStream? _maskParent;
    private RandomStream _maskStream;

    /// <summary>Creates a dropout layer dropping a fraction <paramref name="rate"/> of units.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="rate">Drop probability in [0, 1).</param>
    /// <param name="maskIndex">Selects this layer's mask stream, <c>Derive("dropout-mask", maskIndex)</c> of the run's stream (unique within a model: the layer's position).</param>
    public Dropout(IBackend backend, float rate, int maskIndex)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout rate must be in [0, 1), got {rate}.");
        _backend = backend;
        Rate = rate;
        ArgumentOutOfRangeException.ThrowIfNegative(maskIndex);
        MaskIndex = maskIndex;
        _mask = new BatchBuffer(backend);
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <summary>The probability of dropping a unit.</summary>
    public float Rate { get; }

    /// <summary>The index of this layer's mask stream under the run's stream.</summary>
    public int MaskIndex { get; }

    /// <inheritdoc />
    public string Kind => "dropout";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _input = input;
        if (!context.Training || Rate == 0f)
        {
            _lastMask = null;
            return input;
        }
        var mask = _mask.Get(input.Rows, input.Shape[1..]);
        // One disjoint block range per step: a step never needs more than 2^32 numbers per layer.
        ulong counter = (ulong)context.Step << 30;
        if (context.Random != _maskParent)
        {
            _maskParent = context.Random;
            _maskStream = context.Random.Derive("dropout-mask", MaskIndex);
        }
        _backend.SampleDropoutMask(_maskStream, counter, 1f - Rate, mask);
        var y = _output.Get(input.Rows, input.Shape[1..]);
        _backend.Multiply(input, mask, y);
        _lastMask = mask;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        if (_lastMask is null) return outputGradient;
        var dx = _inputGradient.Get(_input!.Rows, _input.Shape[1..]);
        _backend.Multiply(outputGradient, _lastMask, dx);
        return dx;
    }

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        var x = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        if (_lastMask is not null) throw new InvalidOperationException("The dropout layer's last forward pass was a training pass: its mask differs from row to row.");
        RepeatedRows.Check(outputGradient, x.Rows, copies, Kind);
        return outputGradient;
    }

    /// <summary>The identity: inverted dropout scales at training time, so inference passes the input through.</summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => input;
}
