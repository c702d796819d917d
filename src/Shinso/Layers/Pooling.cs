using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;
using static Shinso.Layers.GraphAttribute;

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
public sealed class Pool2d : ILayer, IRepeatedInputGradient
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly RepeatedRows _repeatedInput, _repeatedOutput;
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
        _repeatedInput = new RepeatedRows(backend);
        _repeatedOutput = new RepeatedRows(backend);
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

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        var x = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        RepeatedRows.Check(outputGradient, x.Rows, copies, Kind);
        var dx = _inputGradient.Get(outputGradient.Rows, [Geometry.Channels, Geometry.Height, Geometry.Width]);
        switch (PoolingKind)
        {
            // The argmax is a forward value like the others: repeated with the rows it belongs to.
            case PoolingKind.Max: _backend.MaxPoolBackward(outputGradient, _repeatedOutput.Of(_lastArgmax!, copies), Geometry, dx); break;
            case PoolingKind.Average: _backend.AvgPoolBackward(outputGradient, Geometry, countIncludePad: true, dx); break;
            default: _backend.LpPoolBackward(_repeatedInput.Of(x, copies), _repeatedOutput.Of(_lastOutput!, copies), outputGradient, Geometry, P, dx); break;
        }
        return dx;
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var g = Geometry;
        string x = input;
        if (PoolingKind == PoolingKind.Lp) return WriteLpPool(graph, x, g, P, name);
        var kernel = Ints("kernel_shape", g.KernelHeight, g.KernelWidth);
        var strides = Ints("strides", g.StrideHeight, g.StrideWidth);
        bool max = PoolingKind == PoolingKind.Max;
        if (!g.CeilMode || CeilModeAgrees(g))
        {
            var pads = Ints("pads", g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth);
            var ceil = Int("ceil_mode", g.CeilMode ? 1 : 0);
            // Shinso's average counts the zero padding (PyTorch's default), which ONNX spells count_include_pad=1.
            return max
                ? graph.Node("MaxPool", name, [x], kernel, strides, pads, ceil)
                : graph.Node("AveragePool", name, [x], kernel, strides, pads, ceil, Int("count_include_pad", 1));
        }
        // Shinso drops a last window that would start in the bottom/right padding (PyTorch's rule); ONNX's ceil mode
        // up to opset 17 keeps it. Floor mode with the end padding stretched to reach exactly Shinso's last window
        // gives Shinso's windows. Max pooling ignores padding, so asymmetric pads suffice.
        int bottom = EndPadding(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight, g.OutputHeight);
        int right = EndPadding(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth, g.OutputWidth);
        if (max) return graph.Node("MaxPool", name, [x], kernel, strides, Ints("pads", g.PadHeight, g.PadWidth, bottom, right));
        // The average's divisor counts Shinso's zero padding but not the overhang beyond it: make that padding real zeros
        // (Pad), then pool without counting the stretched end padding (count_include_pad=0).
        string padded = graph.Node("Pad", name + "_pad", [x,
            graph.Int64Initializer(name + "_pads", 0, 0, g.PadHeight, g.PadWidth, 0, 0, g.PadHeight, g.PadWidth)]);
        return graph.Node("AveragePool", name, [padded], kernel, strides,
            Ints("pads", 0, 0, Math.Max(0, bottom - g.PadHeight), Math.Max(0, right - g.PadWidth)), Int("count_include_pad", 0));
    }

    /// <summary>Whether ONNX's ceil-mode output size (opsets up to 17: <c>ceil((size + 2 pad - kernel) / stride) + 1</c>) is Shinso's in both directions.</summary>
    private static bool CeilModeAgrees(PoolingGeometry g) =>
        OnnxCeilSize(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight) == g.OutputHeight
        && OnnxCeilSize(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth) == g.OutputWidth;

    private static int OnnxCeilSize(int size, int kernel, int stride, int pad) => (size + 2 * pad - kernel + stride - 1) / stride + 1;

    /// <summary>
    /// The end padding that makes floor-mode pooling produce exactly <paramref name="outputs"/> windows, the last ending
    /// where Shinso's does: <c>(outputs - 1) * stride + kernel - size - pad</c>, at least 0. It is below the kernel size,
    /// as Shinso's last window starts inside the image or its leading padding.
    /// </summary>
    private static int EndPadding(int size, int kernel, int stride, int pad, int outputs) =>
        Math.Max(0, (outputs - 1) * stride + kernel - size - pad);

    /// <summary>
    /// ONNX <c>LpPool</c> up to opset 17 takes an integer p and has no ceil mode. A fractional p becomes
    /// <c>Pow(LpPool_{p=1}(|x|^p), 1/p)</c>; ceil mode becomes explicit zero padding of the bottom and right edges up to
    /// the last window (padding adds zero to an Lp sum, so this is exact), followed by floor-mode pooling.
    /// </summary>
    private static string WriteLpPool(IInferenceGraph graph, string x, PoolingGeometry g, float p, string name)
    {
        long[] pads = [g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth];
        if (g.CeilMode)
        {
            int bottom = EndPadding(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight, g.OutputHeight);
            int right = EndPadding(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth, g.OutputWidth);
            // Pad's pads list every axis's begin, then every axis's end: [N, C, H, W] begins, then ends.
            string padding = graph.Int64Initializer(name + "_pads", 0, 0, g.PadHeight, g.PadWidth, 0, 0, bottom, right);
            x = graph.Node("Pad", name + "_pad", [x, padding]);
            pads = [0, 0, 0, 0];
        }
        var kernel = Ints("kernel_shape", g.KernelHeight, g.KernelWidth);
        var strides = Ints("strides", g.StrideHeight, g.StrideWidth);
        if (p == MathF.Round(p)) return graph.Node("LpPool", name, [x], kernel, strides, Ints("pads", pads), Int("p", (long)p));
        string magnitude = graph.Node("Abs", name + "_abs", [x]);
        string powered = graph.Node("Pow", name + "_pow", [magnitude, graph.Initializer(name + "_p", [], [p])]);
        string sum = graph.Node("LpPool", name + "_sum", [powered], kernel, strides, Ints("pads", pads), Int("p", 1));
        return graph.Node("Pow", name, [sum, graph.Initializer(name + "_inverse_p", [], [1f / p])]);
    }
}
