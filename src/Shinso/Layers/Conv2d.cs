using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// A 2-D convolution over NCHW images through im2col and GEMM: filters <c>W</c> of shape
/// <c>[F, C*KH*KW]</c> (row f holds filter f in (c, kh, kw) order, as PyTorch's <c>[F, C, KH, KW]</c>),
/// a bias per filter, a stride and zero padding. Like PyTorch and cuda-convnet it computes a cross-correlation.
/// </summary>
/// <remarks>
/// The batch runs in chunks of as many images as keep the chunk's columns within the backend's
/// <see cref="IBackend.ColumnChunkFloats"/>, and only one chunk's columns are kept. The forward pass unfolds a chunk of
/// n images into one column matrix <c>cols = [C*KH*KW, n*OH*OW]</c> and runs one GEMM, <c>Y' = W cols</c>
/// (<c>[F, n*OH*OW]</c>), then swaps Y's two leading axes into <c>[n, F, OH, OW]</c>. The backward pass walks the chunks
/// last to first: it unfolds the chunk again (except the last, still in the buffer), swaps dY into <c>dY'</c>, accumulates
/// <c>dW += dY' cols^T</c>, then overwrites the columns with <c>W^T dY'</c> and folds them back (col2im) into dX.
/// Unfolding twice costs less than keeping a batch's columns: a LeNet batch's are 5.8 MB, which would be written to and
/// read back from memory, while a chunk of them stays in cache (6.5 -> 5.0 ms per LeNet-5 training step). One image
/// at a time is too small a product to run well (14k samples/s against 18.7k in chunks of 26).
/// The layer reads its forward input again in the backward pass, so that input must not change in between (as for
/// every layer that keeps its input for the gradient).
/// </remarks>
public sealed class Conv2d : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _columns;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _product;
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
        _columns = new BatchBuffer(backend);
        _output = new BatchBuffer(backend);
        _product = new BatchBuffer(backend);
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
        int n = input.Rows, rows = Geometry.ColumnRows, count = Geometry.ColumnCount;
        int chunk = Chunk(n);
        var cols = _columns.Get(chunk, [rows * count]);
        var product = _product.Get(chunk, [Filters * count]);
        var y = _output.Get(n, [Filters, Geometry.OutputHeight, Geometry.OutputWidth]);
        for (int start = 0; start < n; start += chunk)
        {
            int images = Math.Min(chunk, n - start);
            var c = cols.SliceRows(0, images).Reshape(rows, images * count);
            var p = product.SliceRows(0, images).Reshape(Filters, images * count);
            _backend.Im2Col(input.SliceRows(start, images), Geometry, c);
            _backend.Gemm(Transpose.None, Transpose.None, 1f, Weight.Value, c, 0f, p);
            _backend.SwapLeadingAxes(p, Filters, images, y.SliceRows(start, images));
        }
        _backend.AddChannelBias(y, Filters, Bias.Value);
        _input = input;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var input = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        int n = input.Rows, rows = Geometry.ColumnRows, count = Geometry.ColumnCount;
        if (outputGradient.Length != (long)n * Filters * count)
            throw new ArgumentException($"The output gradient {Tensor.ShapeText(outputGradient.Shape)} does not match the last output [{n}, {Filters}, {Geometry.OutputHeight}, {Geometry.OutputWidth}].", nameof(outputGradient));
        _backend.SumChannelBias(outputGradient, Filters, Bias.Gradient);
        var gradient = outputGradient.Reshape(n, Filters * count);
        int chunk = Chunk(n);
        var cols = _columns.Get(chunk, [rows * count]);
        var product = _product.Get(chunk, [Filters * count]);
        var dx = needInputGradient ? _inputGradient.Get(n, [Geometry.Channels, Geometry.Height, Geometry.Width]) : null;
        // Backwards through the chunks: the forward pass's last chunk is still unfolded in the buffer.
        int last = (n - 1) / chunk * chunk;
        for (int start = last; start >= 0; start -= chunk)
        {
            int images = Math.Min(chunk, n - start);
            var c = cols.SliceRows(0, images).Reshape(rows, images * count);
            var p = product.SliceRows(0, images).Reshape(Filters, images * count);
            if (start != last)
                _backend.Im2Col(input.SliceRows(start, images), Geometry, c);
            _backend.SwapLeadingAxes(gradient.SliceRows(start, images), images, Filters, p);
            _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, p, c, start == last ? 0f : 1f, Weight.Gradient);
            if (dx is null) continue;
            // These columns are no longer needed: they take W^T dY', then fold into dX.
            _backend.Gemm(Transpose.Transposed, Transpose.None, 1f, Weight.Value, p, 0f, c);
            _backend.Col2Im(c, Geometry, dx.SliceRows(start, images));
        }
        _input = null;
        return dx;
    }

    private int Chunk(int batch) => (int)Math.Clamp(_backend.ColumnChunkFloats / ((long)Geometry.ColumnRows * Geometry.ColumnCount), 1, batch);
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
