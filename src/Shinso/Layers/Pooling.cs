using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Layers;

/// <summary>The pooling functions of <see cref="Pool2d"/>.</summary>
public enum PoolingKind
{
    /// <summary>The window's maximum (padding never wins).</summary>
    Max,
    /// <summary>
    /// The window's mean. The divisor counts zero padding inside the padded image, as PyTorch's
    /// <c>AvgPool2d</c> default <c>count_include_pad=True</c> (the ceil-mode overhang past the padding is not counted);
    /// without padding it is the number of inputs in the window.
    /// </summary>
    Average,
    /// <summary>ONNX <c>LpPool</c>: <c>(sum |x|^p)^(1/p)</c> over the window (L2 by default).</summary>
    Lp,
}

/// <summary>2-D max, average or Lp pooling over NCHW images, with stride, padding and floor or ceil output size.</summary>
public sealed class Pool2d : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _argmax;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;
    private Tensor? _lastOutput;
    private Tensor? _lastArgmax;

    /// <summary>Creates a pooling layer.</summary>
    /// <param name="backend">Where the operations run.</param>
    /// <param name="kind">Max, average or Lp.</param>
    /// <param name="geometry">Input size, window, stride, padding and output-size convention.</param>
    /// <param name="p">The exponent of Lp pooling (&gt;= 1; ignored by the others).</param>
    public Pool2d(IBackend backend, PoolingKind kind, PoolingGeometry geometry, float p = 2f)
    {
        geometry.Validate();
        if (kind == PoolingKind.Lp && (!(p >= 1f) || !float.IsFinite(p)))
            throw new ArgumentOutOfRangeException(nameof(p), $"Lp pooling needs a finite p >= 1, got {p}.");
        _backend = backend;
        PoolingKind = kind;
        Geometry = geometry;
        P = p;
        _output = new BatchBuffer(backend);
        _argmax = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => PoolingKind switch { PoolingKind.Max => "maxpool", PoolingKind.Average => "avgpool", _ => "lppool" };

    /// <summary>The pooling function.</summary>
    public PoolingKind PoolingKind { get; }

    /// <summary>Input size, window, stride, padding and output-size convention.</summary>
    public PoolingGeometry Geometry { get; }

    /// <summary>The Lp exponent.</summary>
    public float P { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        ImageShape.Check(inputShape, Geometry.InputLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        return [Geometry.Channels, Geometry.OutputHeight, Geometry.OutputWidth];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        ImageShape.Check(input.Shape[1..], Geometry.InputLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        int[] shape = [Geometry.Channels, Geometry.OutputHeight, Geometry.OutputWidth];
        var y = _output.Get(input.Rows, shape);
        switch (PoolingKind)
        {
            case PoolingKind.Max:
                _lastArgmax = _argmax.Get(input.Rows, shape);
                _backend.MaxPoolForward(input, Geometry, y, _lastArgmax);
                break;
            case PoolingKind.Average:
                _backend.AvgPoolForward(input, Geometry, countIncludePad: true, y);
                break;
            default:
                _backend.LpPoolForward(input, Geometry, P, y);
                break;
        }
        _input = input;
        _lastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(x.Rows, [Geometry.Channels, Geometry.Height, Geometry.Width]);
        switch (PoolingKind)
        {
            case PoolingKind.Max: _backend.MaxPoolBackward(outputGradient, _lastArgmax!, Geometry, dx); break;
            case PoolingKind.Average: _backend.AvgPoolBackward(outputGradient, Geometry, countIncludePad: true, dx); break;
            default: _backend.LpPoolBackward(x, _lastOutput!, outputGradient, Geometry, P, dx); break;
        }
        return dx;
    }
}
