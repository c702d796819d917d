using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// A residual block (He et al. 2016, "Deep residual learning for image recognition"): <c>y = f(x + F(x))</c>, where the
/// residual function F is a short stack of layers (its body) and f an elementwise activation (or none). When F changes
/// the sample's shape, the shortcut is a projection <c>P x</c> (a 1x1 convolution, strided to F's output size, for
/// images; a dense map for vectors) instead of the identity.
/// </summary>
/// <remarks>
/// The shortcut adds the input gradient straight to the body's: <c>dL/dx = dL/ds · (∂F/∂x + P)</c> with
/// <c>s = x + F(x)</c>, which is what lets deep stacks of blocks train where the same layers without it degrade.
/// </remarks>
public sealed class ResidualBlock : ILayer
{
    private readonly IBackend _backend;
    private readonly ILayer[] _body;
    private readonly ILayer? _projection;
    private readonly BatchBuffer _sum;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;

    /// <summary>A block of <paramref name="body"/>, with <paramref name="projection"/> on the shortcut (null: the identity) and <paramref name="activation"/> after the sum (null: none).</summary>
    /// <exception cref="ArgumentException">The body is empty.</exception>
    public ResidualBlock(IBackend backend, IReadOnlyList<ILayer> body, ILayer? projection, ActivationLayer? activation)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body.Count == 0) throw new ArgumentException("A residual block needs at least one layer in its body.", nameof(body));
        _backend = backend;
        _body = [.. body];
        _projection = projection;
        OutputActivation = activation;
        _sum = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
        var parameters = new List<Parameter>();
        foreach (var layer in _body) parameters.AddRange(layer.Parameters);
        if (projection is not null) parameters.AddRange(projection.Parameters);
        Parameters = parameters;
    }

    /// <inheritdoc />
    public string Kind => "residual";

    /// <summary>The layers of the residual function F, input first.</summary>
    public IReadOnlyList<ILayer> Body => _body;

    /// <summary>The shortcut's projection, or null when it is the identity.</summary>
    public ILayer? Projection => _projection;

    /// <summary>The activation applied after the sum (null: none).</summary>
    public ActivationLayer? OutputActivation { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        var shape = inputShape.ToArray();
        foreach (var layer in _body) shape = layer.OutputShape(shape);
        return shape;
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _input = input;
        var h = input;
        foreach (var layer in _body) h = layer.Forward(h, context);
        var shortcut = _projection?.Forward(input, context) ?? input;
        var sum = _sum.Get(h.Rows, h.Shape[1..]);
        _backend.Copy(h, sum);
        _backend.Axpy(1f, shortcut, sum);
        return OutputActivation?.Forward(sum, context) ?? sum;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        var sumGradient = OutputActivation is null ? outputGradient : OutputActivation.Backward(outputGradient, needInputGradient: true)!;
        Tensor? body = sumGradient;
        for (int j = _body.Length - 1; j >= 0 && body is not null; j--) body = _body[j].Backward(body, needInputGradient: j > 0 || needInputGradient);
        var shortcut = _projection is null ? sumGradient : _projection.Backward(sumGradient, needInputGradient);
        return needInputGradient ? Add(x, body!, shortcut!) : null;
    }

    /// <inheritdoc />
    public Tensor InputGradient(Tensor outputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        // InputGradient is the interface's default member, reached through ILayer.
        var sumGradient = ((ILayer?)OutputActivation)?.InputGradient(outputGradient) ?? outputGradient;
        var body = sumGradient;
        for (int j = _body.Length - 1; j >= 0; j--) body = _body[j].InputGradient(body);
        return Add(x, body, _projection?.InputGradient(sumGradient) ?? sumGradient);
    }

    /// <summary>The input gradient: the body's and the shortcut's, summed into this block's buffer.</summary>
    private Tensor Add(Tensor input, Tensor body, Tensor shortcut)
    {
        var dx = _inputGradient.Get(input.Rows, input.Shape[1..]);
        _backend.Copy(body, dx);
        _backend.Axpy(1f, shortcut, dx);
        return dx;
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        string h = input;
        int[] shape = [.. inputShape];
        for (int j = 0; j < _body.Length; j++)
        {
            h = _body[j].WriteInference(graph, h, shape, $"{name}_body{j}_{_body[j].Kind}");
            shape = _body[j].OutputShape(shape);
        }
        string shortcut = _projection?.WriteInference(graph, input, inputShape, $"{name}_projection") ?? input;
        string sum = graph.Node("Add", OutputActivation is null ? name : name + "_sum", [h, shortcut]);
        return OutputActivation?.WriteInference(graph, sum, shape, name) ?? sum;
    }
}
