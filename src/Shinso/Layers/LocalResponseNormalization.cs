using Shinso.Backends;
using Shinso.Backends.KernelPairs;
using Shinso.Tensors;
using Shinso.Operations;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// Local response normalization across channels, exactly as ONNX <c>LRN</c> (and PyTorch's
/// <c>LocalResponseNorm</c> for odd sizes): <c>b = a / (bias + alpha/size * sum_window a^2)^beta</c>.
/// </summary>
public sealed class LocalResponseNormalization : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _scale;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;
    private Tensor? _lastOutput;
    private Tensor? _lastScale;

    /// <summary>Creates the layer for samples of shape [channels, height, width].</summary>
    public LocalResponseNormalization(IBackend backend, int channels, int height, int width, LrnParameters parameters)
    {
        parameters.Validate();
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"Image size C={channels}, H={height}, W={width} must be positive.", nameof(channels));
        _backend = backend;
        Channels = channels;
        Height = height;
        Width = width;
        Settings = parameters;
        _output = new BatchBuffer(backend);
        _scale = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "lrn";

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Height H.</summary>
    public int Height { get; }

    /// <summary>Width W.</summary>
    public int Width { get; }

    /// <summary>Size, alpha, beta and bias.</summary>
    public LrnParameters Settings { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        ImageShape.Check(inputShape, Channels * Height * Width, Kind, Channels, Height, Width);
        return [Channels, Height, Width];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        ImageShape.Check(input.Shape[1..], Channels * Height * Width, Kind, Channels, Height, Width);
        var y = _output.Get(input.Rows, [Channels, Height, Width]);
        var s = _scale.Get(input.Rows, [Channels, Height, Width]);
        _backend.Run(new LrnForward(input, Channels, Settings, y, s));
        _input = input;
        _lastOutput = y;
        _lastScale = s;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(x.Rows, [Channels, Height, Width]);
        _backend.Run(new LrnBackward(x, _lastOutput!, _lastScale!, outputGradient, Channels, Settings, dx));
        return dx;
    }

    /// <summary>
    /// ONNX <c>LRN</c> where ONNX Runtime runs it (odd sizes). ONNX Runtime refuses even sizes, which ONNX allows, so
    /// those are composed: the windowed channel sum of squares is a 1x1 <c>Conv</c> with a banded 0/1 matrix, then
    /// <c>y = x / (bias + alpha/size * sum)^beta</c>.
    /// </summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var p = Settings;
        string x = input;
        if (p.Size % 2 == 1)
            return graph.Node("LRN", name, [x], Int("size", p.Size), Float("alpha", p.Alpha), Float("beta", p.Beta), Float("bias", p.Bias));
        int channels = Channels;
        var band = new float[channels * channels];
        for (int c = 0; c < channels; c++)
            for (int j = Math.Max(0, c - p.Before); j <= Math.Min(channels - 1, c + p.After); j++) band[c * channels + j] = 1f;
        string squares = graph.Node("Mul", name + "_squares", [x, x]);
        string sum = graph.Node("Conv", name + "_window_sum", [squares, graph.Initializer(name + "_band", [channels, channels, 1, 1], band)],
            Ints("kernel_shape", 1, 1));
        string scaled = graph.Node("Mul", name + "_scaled", [sum, graph.Initializer(name + "_alpha_over_size", [], [p.Alpha / p.Size])]);
        string scale = graph.Node("Add", name + "_scale", [scaled, graph.Initializer(name + "_bias", [], [p.Bias])]);
        string denominator = graph.Node("Pow", name + "_denominator", [scale, graph.Initializer(name + "_beta", [], [p.Beta])]);
        return graph.Node("Div", name, [x, denominator]);
    }
}
