using Shinso.Backends;
using Shinso.Tensors;
using static Shinso.Layers.GraphAttribute;

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

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) =>
        WriteSoftmax(graph, input, inputShape, name);

    /// <summary>
    /// Shinso's softmax over each sample's values as one vector, in <paramref name="graph"/>: <c>Softmax</c> over axis 1, or
    /// for image-shaped samples Flatten, Softmax and a Reshape back to the sample shape. Also the output function of the
    /// softmax losses.
    /// </summary>
    /// <param name="graph">The graph being written.</param>
    /// <param name="x">The input value's name, [batch, ...<paramref name="sampleShape"/>].</param>
    /// <param name="sampleShape">The shape of one sample.</param>
    /// <param name="name">The output's name hint and the prefix of helper nodes.</param>
    /// <returns>The output value's name.</returns>
    public static string WriteSoftmax(IInferenceGraph graph, string x, IReadOnlyList<int> sampleShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Count == 1) return graph.Node("Softmax", name, [x], Int("axis", 1));
        string flat = graph.Node("Flatten", name + "_flatten", [x], Int("axis", 1));
        string softmax = graph.Node("Softmax", name + "_softmax", [flat], Int("axis", 1));
        var target = new long[sampleShape.Count + 1];
        // Reshape's 0 copies the input's dimension: the batch size stays symbolic.
        for (int d = 0; d < sampleShape.Count; d++) target[d + 1] = sampleShape[d];
        return graph.Node("Reshape", name, [softmax, graph.Int64Initializer(name + "_shape", target)]);
    }
}
