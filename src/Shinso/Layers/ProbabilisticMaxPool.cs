using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tensors;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// The deterministic form of probabilistic max-pooling (Lee et al. 2009): each block x block block of a map pools to the
/// probability that its pooling unit is on, <c>1 − 1 / (1 + sum_block exp(x_i))</c>. A convolutional RBM's conditional
/// expectation as a layer, so a convolutional DBN becomes a feed-forward net to classify with, fine-tune or export.
/// </summary>
/// <remarks>
/// With <c>S = sum exp(x_j)</c> and <c>q = S / (1 + S)</c>, <c>dq/dx_i = exp(x_i) / (1 + S)²</c> = <c>h_i (1 − q)</c>, where
/// <c>h_i = exp(x_i) / (1 + S)</c> is the detection probability the forward pass keeps: the backward pass scales the output
/// gradient by <c>1 − q</c>, spreads it over its block and multiplies by h, all backend operations.
/// </remarks>
public sealed class ProbabilisticMaxPool : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output, _detection, _inputGradient, _scaled;
    private Tensor? _lastOutput, _lastDetection;

    /// <summary>Creates the layer over maps <c>[channels, height, width]</c> in <paramref name="block"/> x block blocks.</summary>
    /// <exception cref="ArgumentException">The block does not divide the maps.</exception>
    public ProbabilisticMaxPool(IBackend backend, int channels, int height, int width, int block)
    {
        OperationArguments.ProbabilisticPooling((long)channels * height * width, (long)channels * (height / Math.Max(1, block)) * (width / Math.Max(1, block)),
            channels, height, width, block);
        _backend = backend;
        Channels = channels;
        Height = height;
        Width = width;
        Block = block;
        _output = new BatchBuffer(backend);
        _detection = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
        _scaled = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "probabilistic-pool";

    /// <summary>Maps.</summary>
    public int Channels { get; }

    /// <summary>Map height.</summary>
    public int Height { get; }

    /// <summary>Map width.</summary>
    public int Width { get; }

    /// <summary>The block side.</summary>
    public int Block { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        ImageShape.Check(inputShape, Channels * Height * Width, Kind, Channels, Height, Width);
        return [Channels, Height / Block, Width / Block];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        ImageShape.Check(input.Shape[1..], Channels * Height * Width, Kind, Channels, Height, Width);
        var detection = _detection.Get(input.Rows, [Channels, Height, Width]);
        var pool = _output.Get(input.Rows, [Channels, Height / Block, Width / Block]);
        _backend.ProbabilisticMaxPool(input, Channels, Height, Width, Block, detection, pool);
        _lastDetection = detection;
        _lastOutput = pool;
        return pool;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var pool = _lastOutput ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        int n = pool.Rows;
        var scaled = _scaled.Get(n, [Channels, Height / Block, Width / Block]);
        _backend.ScaleShift(pool, -1f, 1f, scaled);
        _backend.Multiply(scaled, outputGradient.Reshape(scaled.Shape.ToArray()), scaled);
        var dx = _inputGradient.Get(n, [Channels, Height, Width]);
        // Average pooling's gradient spreads each value over its block divided by the block's size: scale it back.
        var g = new PoolingGeometry(Channels, Height, Width, Block, Block, Block, Block, 0, 0, false);
        _backend.AvgPoolBackward(scaled, g, countIncludePad: false, dx);
        _backend.ScaleShift(dx, Block * Block, 0f, dx);
        _backend.Multiply(dx, _lastDetection!, dx);
        return dx;
    }

    /// <inheritdoc />
    /// <remarks><c>1 − 1 / (1 + B² AveragePool(Exp(x)))</c>: an overflowing exponential gives an infinite sum and the pool its limit 1.</remarks>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        string exp = graph.Node("Exp", name + "_exp", [input]);
        string mean = graph.Node("AveragePool", name + "_mean", [exp], Ints("kernel_shape", Block, Block), Ints("strides", Block, Block));
        string sum = graph.Node("Mul", name + "_sum", [mean, graph.Initializer(name + "_block", [], [Block * Block])]);
        string one = graph.Initializer(name + "_one", [], [1f]);
        string denominator = graph.Node("Add", name + "_denominator", [sum, one]);
        string off = graph.Node("Reciprocal", name + "_off", [denominator]);
        return graph.Node("Sub", name, [one, off]);
    }
}
