using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Layers;

/// <summary>
/// Local contrast normalization (Jarrett et al. 2009): a Gaussian-weighted local mean across channels and space is
/// subtracted, then the result is divided by <c>max(mean(s), s)</c> with s the Gaussian-weighted local deviation
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
}
