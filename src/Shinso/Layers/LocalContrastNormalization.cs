using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// Local contrast normalization (Jarrett et al. 2009): a Gaussian-weighted local mean across channels and space is
/// subtracted, then the result is divided by <c>max(mean(s), s, 1e-4)</c> (the floor keeps a constant image at 0 rather than 0/0) with s the Gaussian-weighted local deviation
/// (see <see cref="LcnGeometry"/> for the exact definition, including the image borders).
/// </summary>
public sealed class LocalContrastNormalization : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _deviation;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _lastOutput;
    private Tensor? _lastDeviation;

    /// <summary>Creates the layer.</summary>
    public LocalContrastNormalization(IBackend backend, LcnGeometry geometry)
    {
        geometry.Validate();
        _backend = backend;
        Geometry = geometry;
        _output = new BatchBuffer(backend);
        _deviation = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "lcn";

    /// <summary>Image size, window and Gaussian deviation.</summary>
    public LcnGeometry Geometry { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        ImageShape.Check(inputShape, Geometry.ImageLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        return [Geometry.Channels, Geometry.Height, Geometry.Width];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        ImageShape.Check(input.Shape[1..], Geometry.ImageLength, Kind, Geometry.Channels, Geometry.Height, Geometry.Width);
        var y = _output.Get(input.Rows, [Geometry.Channels, Geometry.Height, Geometry.Width]);
        var s = _deviation.Get(input.Rows, [Geometry.PlaneLength]);
        _backend.LcnForward(input, Geometry, y, s);
        _lastOutput = y;
        _lastDeviation = s;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var y = _lastOutput ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(y.Rows, [Geometry.Channels, Geometry.Height, Geometry.Width]);
        _backend.LcnBackward(y, _lastDeviation!, outputGradient, Geometry, dx);
        return dx;
    }

    /// <summary>
    /// Local contrast normalization (see <see cref="LcnGeometry"/>) from standard operators: one single-output
    /// <c>Conv</c> with the separable Gaussian over every channel computes the channel sum and the blur at once;
    /// multiplying by the constant <c>1 / (C * coverage)</c> map makes it the local mean L.
    /// <c>v = x - L(x)</c>, <c>s = sqrt(L(v^2))</c>, <c>y = v / max(mean(s), s, eps)</c>.
    /// </summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var g = Geometry;
        string x = input;
        var (window, normalizer) = InferenceConstants(g);
        int r = g.Size / 2;
        string w = graph.Initializer(name + "_window", [1, g.Channels, g.Size, g.Size], window);
        string scale = graph.Initializer(name + "_normalizer", [1, 1, g.Height, g.Width], normalizer);
        var kernel = Ints("kernel_shape", g.Size, g.Size);
        var pads = Ints("pads", r, r, r, r);
        string mean = graph.Node("Mul", name + "_mean", [graph.Node("Conv", name + "_sum", [x, w], kernel, pads), scale]);
        string centred = graph.Node("Sub", name + "_centred", [x, mean]);
        string squares = graph.Node("Mul", name + "_squares", [centred, centred]);
        string variance = graph.Node("Mul", name + "_variance", [graph.Node("Conv", name + "_square_sum", [squares, w], kernel, pads), scale]);
        string deviation = graph.Node("Sqrt", name + "_deviation", [variance]);
        string floor = graph.Node("ReduceMean", name + "_mean_deviation", [deviation], Ints("axes", 1, 2, 3), Int("keepdims", 1));
        string least = graph.Initializer(name + "_divisor_floor", [1], [LcnGeometry.DivisorFloor]);
        string divisor = graph.Node("Max", name + "_divisor", [deviation, floor, least]);
        return graph.Node("Div", name, [centred, divisor]);
    }

    /// <summary>
    /// The Gaussian window over all channels, <c>[1, C, S, S]</c>, and the per-position normalizer
    /// <c>1 / (C * coverage_h * coverage_w)</c>, <c>[1, 1, H, W]</c>, computed as Shinso's LCN kernel computes them.
    /// </summary>
    internal static (float[] Window, float[] Normalizer) InferenceConstants(LcnGeometry g)
    {
        int r = g.Size / 2;
        var gaussian = new float[g.Size];
        float sum = 0f;
        for (int i = 0; i < g.Size; i++) sum += gaussian[i] = MathF.Exp(-(i - r) * (i - r) / (2f * g.Sigma * g.Sigma));
        for (int i = 0; i < g.Size; i++) gaussian[i] /= sum;
        var window = new float[g.Channels * g.Size * g.Size];
        for (int c = 0; c < g.Channels; c++)
            for (int p = 0; p < g.Size; p++)
                for (int q = 0; q < g.Size; q++) window[(c * g.Size + p) * g.Size + q] = gaussian[p] * gaussian[q];
        var coverageH = Coverage(gaussian, g.Height, r);
        var coverageW = Coverage(gaussian, g.Width, r);
        var normalizer = new float[g.PlaneLength];
        for (int i = 0; i < g.Height; i++)
            for (int j = 0; j < g.Width; j++) normalizer[i * g.Width + j] = 1f / (g.Channels * coverageH[i] * coverageW[j]);
        return (window, normalizer);
    }

    /// <summary>The Gaussian weight inside the image along one axis, per position (the window clipped at the borders).</summary>
    private static float[] Coverage(float[] gaussian, int length, int r)
    {
        var coverage = new float[length];
        for (int i = 0; i < length; i++)
        {
            float sum = 0f;
            for (int q = -r; q <= r; q++)
                if (i + q >= 0 && i + q < length) sum += gaussian[q + r];
            coverage[i] = sum;
        }
        return coverage;
    }
}
