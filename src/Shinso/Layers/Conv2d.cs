using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// A 2-D convolution over NCHW images through im2col and GEMM: filters <c>W</c> of shape
/// <c>[F, C*KH*KW]</c> (row f holds filter f in (c, kh, kw) order, as PyTorch's <c>[F, C, KH, KW]</c>),
/// a bias per filter, a stride and zero padding. Like PyTorch and cuda-convnet it computes a cross-correlation.
/// </summary>
/// <remarks>
/// The passes are the backend's <see cref="IConvolution.ConvolutionForward"/> and <see cref="IConvolution.ConvolutionBackward"/>
/// (and <see cref="IConvolution.ConvolutionInputGradient"/> where no parameter gradient is wanted):
/// im2col and GEMM on chunks of images whose columns fit in <see cref="IConvolution.ColumnChunkFloats"/>. The layer reads
/// its forward input again in the backward pass, so that input must not change in between (as for every layer that
/// keeps its input for the gradient).
/// </remarks>
public sealed class Conv2d : ILayer, IRepeatedInputGradient
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;

    /// <summary>Creates the layer with zero weights; initialise them with <see cref="WeightInitializer"/> or load values.</summary>
    /// <param name="backend">Where the parameters live.</param>
    /// <param name="channels">Input channels C.</param>
    /// <param name="height">Input height H.</param>
    /// <param name="width">Input width W.</param>
    /// <param name="filters">Output channels F.</param>
    /// <param name="kernel">Square kernel side.</param>
    /// <param name="stride">Stride in both directions.</param>
    /// <param name="pad">Zero padding on every side.</param>
    /// <param name="name">Prefix of the parameter names.</param>
    public Conv2d(IBackend backend, int channels, int height, int width, int filters, int kernel, int stride = 1, int pad = 0, string name = "conv")
    {
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"A convolution needs at least one filter, got {filters}.");
        Geometry = new ConvolutionGeometry(channels, height, width, kernel, kernel, stride, stride, pad, pad);
        Geometry.Validate();
        _backend = backend;
        Filters = filters;
        Weight = new Parameter(name + ".weight", backend.Allocate(filters, Geometry.ColumnRows), ParameterRole.Weight);
        Bias = new Parameter(name + ".bias", backend.Allocate(filters), ParameterRole.Bias);
        Parameters = [Weight, Bias];
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "conv";

    /// <summary>The input size, kernel, stride and padding.</summary>
    public ConvolutionGeometry Geometry { get; }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>W, <c>[F, C*KH*KW]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>b, one per filter.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        ImageShape.Check(inputShape, Geometry.ImageLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        return [Filters, Geometry.OutputHeight, Geometry.OutputWidth];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        ImageShape.Check(input.Shape[1..], Geometry.ImageLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        var y = _output.Get(input.Rows, [Filters, Geometry.OutputHeight, Geometry.OutputWidth]);
        _backend.ConvolutionForward(input, Geometry, Weight.Value, Bias.Value, y);
        _input = input;
        LastInput = input;
        return y;
    }

    /// <summary>The input of the last forward pass, kept after the backward pass for K-FAC's statistics (<see cref="Optimizers.Kfac"/>).</summary>
    internal Tensor? LastInput { get; private set; }

    /// <summary>The output gradient of the last backward or input-gradient pass, for K-FAC's statistics.</summary>
    internal Tensor? LastOutputGradient { get; private set; }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var dx = Propagate(outputGradient, needInputGradient);
        _input = null;
        return dx;
    }

    /// <summary>
    /// dLoss/dInput without ending the pass: the layer keeps its input, so a training backward pass may follow (K-FAC's
    /// sampled-Fisher pass comes before the training one). The parameter gradients are left unspecified: they are not
    /// computed, which halves the pass.
    /// </summary>
    public Tensor InputGradient(Tensor outputGradient) => RepeatedInputGradient(outputGradient, 1);

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        var input = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        RepeatedRows.Check(outputGradient, input.Rows, copies, Kind);
        // The input gradient reads only the filters, so the rows may be any number of gradients per forward row.
        int n = outputGradient.Rows;
        CheckOutputGradient(outputGradient, n);
        var dx = _inputGradient.Get(n, [Geometry.Channels, Geometry.Height, Geometry.Width]);
        _backend.ConvolutionInputGradient(outputGradient.Reshape(n, Filters * Geometry.ColumnCount), Geometry, Weight.Value, dx);
        LastOutputGradient = copies == 1 ? outputGradient : null;
        return dx;
    }

    private void CheckOutputGradient(Tensor outputGradient, int n)
    {
        if (outputGradient.Length != (long)n * Filters * Geometry.ColumnCount)
            throw new ArgumentException($"The output gradient {Tensor.ShapeText(outputGradient.Shape)} does not match the last output [{n}, {Filters}, {Geometry.OutputHeight}, {Geometry.OutputWidth}].", nameof(outputGradient));
    }

    /// <summary>The training backward pass: parameter gradients and, when asked, dLoss/dInput of the last forward input.</summary>
    private Tensor? Propagate(Tensor outputGradient, bool needInputGradient)
    {
        var input = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        int n = input.Rows;
        CheckOutputGradient(outputGradient, n);
        var dx = needInputGradient ? _inputGradient.Get(n, [Geometry.Channels, Geometry.Height, Geometry.Width]) : null;
        _backend.ConvolutionBackward(input, Geometry, Weight.Value, outputGradient.Reshape(n, Filters * Geometry.ColumnCount),
            Weight.Gradient, Bias.Gradient, dx);
        LastOutputGradient = outputGradient;
        return dx;
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var g = Geometry;
        // Shinso's [F, C*KH*KW] rows are filters in (c, kh, kw) order: the same bytes as ONNX's [F, C, KH, KW].
        string w = graph.Initializer(Weight.Name, [Filters, g.Channels, g.KernelHeight, g.KernelWidth], InferenceForms.Host(Weight.Value));
        string b = graph.Initializer(Bias.Name, [Filters], InferenceForms.Host(Bias.Value));
        return graph.Node("Conv", name, [input, w, b],
            Ints("kernel_shape", g.KernelHeight, g.KernelWidth),
            Ints("strides", g.StrideHeight, g.StrideWidth),
            Ints("pads", g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth));
    }
}

/// <summary>Shape checks shared by the image layers.</summary>
internal static class ImageShape
{
    /// <summary>Throws unless <paramref name="sampleShape"/> holds <paramref name="length"/> values (any rank: a flat [C*H*W] sample is accepted).</summary>
    public static void Check(ReadOnlySpan<int> sampleShape, int length, string kind, int channels, int height, int width)
    {
        long n = 1;
        foreach (int d in sampleShape) n *= d;
        if (n != length)
            throw new ArgumentException(
                $"The {kind} layer expects samples of [{channels}, {height}, {width}] ({length} values) but got shape {Tensor.ShapeText(sampleShape)} ({n}).", "input");
    }
}
