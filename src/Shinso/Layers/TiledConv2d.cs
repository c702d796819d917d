using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tensors;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// A tiled convolution (Le et al., "Tiled convolutional neural networks", NIPS 2010): F maps whose filters are untied
/// within a k x k tile of output positions and tied every k positions, so output (oh, ow) of map f uses filter
/// <c>W[t*F + f]</c> with t = <c>(oh % k) * k + ow % k</c>. Tile 1 is <see cref="Conv2d"/>; tile max(OH, OW) is a
/// locally connected layer. Weights <c>[k*k*F, C*KH*KW]</c> (each row in <see cref="Conv2d"/>'s order), a bias
/// per (tile, map).
/// </summary>
/// <remarks>
/// The passes unfold each tile's output positions into their own dense column block
/// (<see cref="IConvolution.TiledIm2Col"/>), so each tile's filters are one GEMM over the batch: the work equals one
/// convolution of F filters, not of k*k*F. The columns are kept from the forward pass for the weight gradient.
/// </remarks>
public sealed class TiledConv2d : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _columns, _products;
    private int _batch;

    /// <summary>Creates the layer with zero weights; initialise them with <see cref="WeightInitializer"/> or load values.</summary>
    /// <param name="backend">Where the parameters live.</param>
    /// <param name="channels">Input channels C.</param>
    /// <param name="height">Input height H.</param>
    /// <param name="width">Input width W.</param>
    /// <param name="filters">Maps F (each has k*k filters).</param>
    /// <param name="kernel">Square kernel side.</param>
    /// <param name="tile">k, the period of the weight tying.</param>
    /// <param name="stride">Stride in both directions.</param>
    /// <param name="pad">Zero padding on every side.</param>
    /// <param name="name">Prefix of the parameter names.</param>
    public TiledConv2d(IBackend backend, int channels, int height, int width, int filters, int kernel, int tile, int stride = 1, int pad = 0, string name = "tiled")
    {
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"A tiled convolution needs at least one map, got {filters}.");
        Geometry = new TiledConvolutionGeometry(new ConvolutionGeometry(channels, height, width, kernel, kernel, stride, stride, pad, pad), tile);
        Geometry.Validate();
        _backend = backend;
        Filters = filters;
        Weight = new Parameter(name + ".weight", backend.Allocate(Geometry.Tiles * filters, Geometry.Convolution.ColumnRows), ParameterRole.Weight);
        Bias = new Parameter(name + ".bias", backend.Allocate(Geometry.Tiles * filters), ParameterRole.Bias);
        Parameters = [Weight, Bias];
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "tiled-conv";

    /// <summary>The convolution's geometry and the tile size.</summary>
    public TiledConvolutionGeometry Geometry { get; }

    /// <summary>Output maps F.</summary>
    public int Filters { get; }

    /// <summary>W, <c>[k*k*F, C*KH*KW]</c>: row t*F + f is map f's filter in tile t.</summary>
    public Parameter Weight { get; }

    /// <summary>b, <c>[k*k*F]</c>, one per (tile, map).</summary>
    public Parameter Bias { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        var c = Geometry.Convolution;
        ImageShape.Check(inputShape, c.ImageLength, Kind, c.Channels, c.Height, c.Width);
        return [Filters, c.OutputHeight, c.OutputWidth];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        var c = Geometry.Convolution;
        ImageShape.Check(input.Shape[1..], c.ImageLength, Kind, c.Channels, c.Height, c.Width);
        int n = input.Rows, rows = c.ColumnRows;
        var (columns, products) = Workspace(n);
        _backend.TiledIm2Col(input, Geometry, columns);
        for (int t = 0; t < Geometry.Tiles; t++)
            _backend.Gemm(Transpose.None, Transpose.None, 1f, Weight.Value.SliceRows(t * Filters, Filters), columns.SliceRows(t * rows, rows),
                0f, products.SliceRows(t * Filters, Filters));
        var y = _output.Get(n, [Filters, c.OutputHeight, c.OutputWidth]);
        _backend.TileInterleave(products, Geometry, Filters, Bias.Value, y);
        _batch = n;
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (_batch == 0) throw new InvalidOperationException("Backward called before Forward.");
        var c = Geometry.Convolution;
        int n = _batch, rows = c.ColumnRows;
        if (outputGradient.Length != (long)n * Filters * c.ColumnCount)
            throw new ArgumentException($"The output gradient {Tensor.ShapeText(outputGradient.Shape)} does not match the last output [{n}, {Filters}, {c.OutputHeight}, {c.OutputWidth}].", nameof(outputGradient));
        var (columns, products) = Workspace(n);
        _backend.TileDeinterleave(outputGradient, Geometry, Filters, products);
        _backend.SumRows(products, Bias.Gradient);
        for (int t = 0; t < Geometry.Tiles; t++)
            _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, products.SliceRows(t * Filters, Filters), columns.SliceRows(t * rows, rows),
                0f, Weight.Gradient.SliceRows(t * Filters, Filters));
        _batch = 0;
        if (!needInputGradient) return null;
        // The columns are no longer needed: they take each tile's W^T dY, then fold into dX.
        for (int t = 0; t < Geometry.Tiles; t++)
            _backend.Gemm(Transpose.Transposed, Transpose.None, 1f, Weight.Value.SliceRows(t * Filters, Filters), products.SliceRows(t * Filters, Filters),
                0f, columns.SliceRows(t * rows, rows));
        var dx = _inputGradient.Get(n, [c.Channels, c.Height, c.Width]);
        _backend.TiledCol2Im(columns, Geometry, dx);
        return dx;
    }

    /// <summary>The column blocks <c>[k*k*C*KH*KW, N*U*V]</c> and products <c>[k*k*F, N*U*V]</c> for a batch of <paramref name="n"/>.</summary>
    private (Tensor Columns, Tensor Products) Workspace(int n)
    {
        int width = checked(n * Geometry.SlotsPerImage);
        int columnRows = Geometry.Tiles * Geometry.Convolution.ColumnRows, productRows = Geometry.Tiles * Filters;
        if (_columns is null || _columns.Length < (long)columnRows * width) _columns = _backend.Allocate(checked(columnRows * width));
        if (_products is null || _products.Length < (long)productRows * width) _products = _backend.Allocate(checked(productRows * width));
        return (_columns.SliceRows(0, columnRows * width).Reshape(columnRows, width), _products.SliceRows(0, productRows * width).Reshape(productRows, width));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Tile 1 is one <c>Conv</c>. Otherwise each tile (a, b) is a <c>Conv</c> of stride k*S on the zero-padded input sliced
    /// from row a*S, column b*S, giving its U x V slots; the k*k results are concatenated, reshaped to
    /// <c>[N, k, k, F, U, V]</c>, transposed to <c>[N, F, U, k, V, k]</c> so slot (u, v) of tile (a, b) lands on
    /// (a + k*u, b + k*v), flattened to <c>[N, F, k*U, k*V]</c> and cut to the output size.
    /// </remarks>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        var g = Geometry;
        var c = g.Convolution;
        int k = g.Tile, u = g.SlotRows, v = g.SlotColumns, rows = c.ColumnRows;
        var weight = InferenceForms.Host(Weight.Value);
        var bias = InferenceForms.Host(Bias.Value);
        if (k == 1)
        {
            string w1 = graph.Initializer(Weight.Name, [Filters, c.Channels, c.KernelHeight, c.KernelWidth], weight);
            string b1 = graph.Initializer(Bias.Name, [Filters], bias);
            return graph.Node("Conv", name, [input, w1, b1], Ints("kernel_shape", c.KernelHeight, c.KernelWidth),
                Ints("strides", c.StrideHeight, c.StrideWidth), Ints("pads", c.PadHeight, c.PadWidth, c.PadHeight, c.PadWidth));
        }
        // Every tile's last slot must lie inside the padded input: rows up to (k*U - 1)*S + KH.
        int bottom = Math.Max(c.PadHeight, (k * u - 1) * c.StrideHeight + c.KernelHeight - c.Height - c.PadHeight);
        int right = Math.Max(c.PadWidth, (k * v - 1) * c.StrideWidth + c.KernelWidth - c.Width - c.PadWidth);
        string padded = graph.Node("Pad", name + "_pad", [input, graph.Int64Initializer(name + "_pads", 0, 0, c.PadHeight, c.PadWidth, 0, 0, bottom, right)]);
        string axes = graph.Int64Initializer(name + "_axes", 2, 3);
        var tiles = new string[g.Tiles];
        for (int t = 0; t < g.Tiles; t++)
        {
            int a = t / k, b = t % k;
            long top = (long)a * c.StrideHeight, left = (long)b * c.StrideWidth;
            string sliced = graph.Node("Slice", $"{name}_tile{t}_input", [padded,
                graph.Int64Initializer($"{name}_tile{t}_starts", top, left),
                graph.Int64Initializer($"{name}_tile{t}_ends", top + (long)(u - 1) * k * c.StrideHeight + c.KernelHeight, left + (long)(v - 1) * k * c.StrideWidth + c.KernelWidth),
                axes]);
            string w = graph.Initializer($"{Weight.Name}.tile{t}", [Filters, c.Channels, c.KernelHeight, c.KernelWidth], weight.AsSpan(t * Filters * rows, Filters * rows));
            string bt = graph.Initializer($"{Bias.Name}.tile{t}", [Filters], bias.AsSpan(t * Filters, Filters));
            tiles[t] = graph.Node("Conv", $"{name}_tile{t}", [sliced, w, bt], Ints("kernel_shape", c.KernelHeight, c.KernelWidth),
                Ints("strides", k * c.StrideHeight, k * c.StrideWidth));
        }
        string stacked = graph.Node("Concat", name + "_tiles", tiles, Int("axis", 1));
        // Reshape's 0 copies the input's dimension: the batch size stays symbolic.
        string split = graph.Node("Reshape", name + "_split", [stacked, graph.Int64Initializer(name + "_split_shape", 0, k, k, Filters, u, v)]);
        string moved = graph.Node("Transpose", name + "_interleave", [split], Ints("perm", 0, 3, 4, 1, 5, 2));
        string maps = graph.Node("Reshape", name + "_maps", [moved, graph.Int64Initializer(name + "_maps_shape", 0, Filters, k * u, k * v)]);
        if (k * u == c.OutputHeight && k * v == c.OutputWidth) return maps;
        return graph.Node("Slice", name, [maps, graph.Int64Initializer(name + "_starts", 0, 0),
            graph.Int64Initializer(name + "_ends", c.OutputHeight, c.OutputWidth), axes]);
    }
}
