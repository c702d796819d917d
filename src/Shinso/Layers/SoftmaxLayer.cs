using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// A row-wise softmax as a stand-alone layer. Classifiers normally fold it into
/// <see cref="Losses.SoftmaxCrossEntropyLoss"/>, which is cheaper and more stable; this layer is
/// for softmax outputs trained with another loss.
/// </summary>
public sealed class SoftmaxLayer : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _lastOutput;

    /// <summary>Creates the layer.</summary>
    public SoftmaxLayer(IBackend backend)
    {
        _backend = backend;
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "softmax";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        var x = input.Rank == 2 ? input : input.Reshape(input.Rows, input.Columns);
        var y = _output.Get(x.Rows, [x.Columns]);
        _backend.SoftmaxRows(x, y);
        _lastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var y = _lastOutput ?? throw new InvalidOperationException("Backward called before Forward.");
        var dx = _inputGradient.Get(y.Rows, [y.Columns]);
        _backend.SoftmaxBackward(y, outputGradient, dx);
        return dx;
    }
}
