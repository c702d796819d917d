using Shinso.Backends;
using Shinso.Backends.KernelPairs;
using Shinso.Tensors;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// Maxout (Goodfellow, Warde-Farley, Mirza, Courville &amp; Bengio, ICML 2013): each output unit is the max of
/// <see cref="Pieces"/> inputs. After a dense layer of <c>pieces * units</c> outputs it is a maxout dense layer; on
/// images it takes the max over groups of channels. The groups are piece-major: unit <c>i</c>'s pieces are inputs
/// <c>i, i + units, ..., i + (pieces - 1) units</c> (channels likewise), which for learned weights is the same model as
/// consecutive groups up to a permutation of the layer before.
/// </summary>
public sealed class MaxoutLayer : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;
    private Tensor? _lastOutput;

    /// <summary>Creates the layer with <paramref name="pieces"/> pieces per unit.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pieces"/> is below 1.</exception>
    public MaxoutLayer(IBackend backend, int pieces)
    {
        if (pieces < 1) throw new ArgumentOutOfRangeException(nameof(pieces), pieces, "Maxout needs at least one piece.");
        _backend = backend;
        Pieces = pieces;
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <summary>Inputs per output unit.</summary>
    public int Pieces { get; }

    /// <inheritdoc />
    public string Kind => "maxout";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <summary>[units] for [pieces * units] samples; [channels / pieces, H, W] for [channels, H, W] images.</summary>
    /// <exception cref="ArgumentException">The first axis is not a multiple of <see cref="Pieces"/>.</exception>
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => OutputShapeOf(inputShape, Pieces) ?? throw new ArgumentException(
        $"maxout with {Pieces} pieces needs [features] or [channels, height, width] samples whose first axis is a multiple of {Pieces}, " +
        $"but gets {Tensor.ShapeText(inputShape.ToArray())}.", nameof(inputShape));

    /// <summary>The output shape of <paramref name="inputShape"/> samples, or null when maxout with <paramref name="pieces"/> does not fit them.</summary>
    internal static int[]? OutputShapeOf(ReadOnlySpan<int> inputShape, int pieces)
    {
        if (pieces < 1 || inputShape.Length is not (1 or 3) || inputShape[0] % pieces != 0) return null;
        var shape = inputShape.ToArray();
        shape[0] /= pieces;
        return shape;
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        var y = _output.Get(input.Rows, OutputShape(input.Shape[1..]));
        _backend.Run(new MaxoutForward(input, Pieces, y));
        _input = input;
        _lastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(x.Rows, x.Shape[1..]);
        _backend.Run(new MaxoutBackward(x, _lastOutput!, outputGradient, Pieces, dx));
        return dx;
    }

    /// <summary>
    /// <c>Reshape</c> to [N, pieces, units], <c>ReduceMax</c> over the pieces, and for images <c>Reshape</c> back to
    /// [N, C / pieces, H, W]. Finite inputs give the same values; where a piece is NaN, ONNX leaves the result to the
    /// runtime, while the kernels' <c>a &gt; b ? a : b</c> passes a NaN on only from the last piece.
    /// </summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var output = OutputShape([.. inputShape]);
        int units = 1;
        foreach (int d in output) units *= d;
        string slabs = graph.Node("Reshape", name + "_pieces", [input, graph.Int64Initializer(name + "_pieces_shape", 0, Pieces, units)]);
        if (output.Length == 1) return graph.Node("ReduceMax", name, [slabs], Ints("axes", 1), Int("keepdims", 0));
        string max = graph.Node("ReduceMax", name + "_max", [slabs], Ints("axes", 1), Int("keepdims", 0));
        return graph.Node("Reshape", name, [max, graph.Int64Initializer(name + "_shape", 0, output[0], output[1], output[2])]);
    }
}
