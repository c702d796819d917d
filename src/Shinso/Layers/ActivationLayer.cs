using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Layers;

/// <summary>An elementwise nonlinearity (sigmoid, tanh, ReLU, absolute value, or the threshold step).</summary>
public sealed class ActivationLayer : ILayer, IRepeatedInputGradient
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _slope;
    private Tensor? _ones;
    private readonly RepeatedRows _repeatedSlope;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;
    private Tensor? _lastOutput;

    /// <summary>Creates the layer for <paramref name="function"/>.</summary>
    public ActivationLayer(IBackend backend, Activation function)
    {
        _backend = backend;
        Function = function;
        _output = new BatchBuffer(backend);
        _slope = new BatchBuffer(backend);
        _repeatedSlope = new RepeatedRows(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <summary>The function applied.</summary>
    public Activation Function { get; }

    /// <inheritdoc />
    public string Kind => Function switch
    {
        Activation.Sigmoid => "sigmoid",
        Activation.Tanh => "tanh",
        Activation.Relu => "relu",
        Activation.AbsoluteValue => "abs",
        Activation.Step => "step",
        _ => "identity",
    };

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _input = input;
        var y = _output.Get(input.Rows, input.Shape[1..]);
        _backend.Activate(Function, input, y);
        _lastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        var dx = _inputGradient.Get(x.Rows, x.Shape[1..]);
        _backend.ActivationBackward(Function, x, _lastOutput!, outputGradient, dx);
        return dx;
    }

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        var x = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        RepeatedRows.Check(outputGradient, x.Rows, copies, Kind);
        if (copies == 1) return Backward(outputGradient, needInputGradient: true)!;
        // Every activation is elementwise, dx = dy f'(x): the slopes once per forward row, then repeated with the rows.
        // The ones are filled when their storage is allocated, not on every call.
        if (_ones is null || _ones.Rows < x.Rows || _ones.Columns != x.Columns)
        {
            _ones = _backend.Allocate(x.Rows, x.Columns);
            _backend.Fill(_ones, 1f);
        }
        var ones = _ones.SliceRows(0, x.Rows).Reshape(x.Shape.ToArray());
        var slope = _slope.Get(x.Rows, x.Shape[1..]);
        _backend.ActivationBackward(Function, x, _lastOutput!, ones, slope);
        var dx = _inputGradient.Get(outputGradient.Rows, x.Shape[1..]);
        _backend.Multiply(outputGradient, _repeatedSlope.Of(slope, copies), dx);
        return dx;
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => Function switch
    {
        Activation.Sigmoid => graph.Node("Sigmoid", name, [input]),
        Activation.Tanh => graph.Node("Tanh", name, [input]),
        Activation.Relu => graph.Node("Relu", name, [input]),
        Activation.AbsoluteValue => graph.Node("Abs", name, [input]),
        // ONNX has no step: x >= 0 as a boolean, cast to float (Cast's to = 1 is FLOAT).
        Activation.Step => graph.Node("Cast", name, [graph.Node("GreaterOrEqual", name + "_fires", [input, graph.Initializer(name + "_zero", [], [0f])])],
            GraphAttribute.Int("to", 1)),
        Activation.Identity => input,
        _ => throw new NotSupportedException($"The activation {Function} has no inference graph form."),
    };
}
