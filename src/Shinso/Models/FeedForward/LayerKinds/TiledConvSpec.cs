using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>A tiled convolution of square filters (JSON <c>tiled-conv</c>: filters, kernel, tile, stride, pad, init, sigma); see <see cref="TiledConv2d"/>.</summary>
/// <param name="Filters">Output maps F.</param>
/// <param name="Kernel">Filter side.</param>
/// <param name="Tile">k: filters repeat every k positions (1 is an ordinary convolution).</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Pad">Zero padding on every side.</param>
/// <param name="Init">Weight initialisation.</param>
/// <param name="Sigma">Standard deviation of small-gaussian initialisation.</param>
public sealed record TiledConvSpec(int Filters, int Kernel, int Tile, int Stride = 1, int Pad = 0, WeightInit Init = WeightInit.HeNormal, float Sigma = 0.01f) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("tiled-conv", Read, new TiledConvSpec(2, 3, 2, Pad: 1));

    /// <inheritdoc />
    public override string Type => "tiled-conv";

    /// <inheritdoc />
    public override string Summary => string.Create(CultureInfo.InvariantCulture, $"tiled{Filters}k{Kernel}t{Tile}s{Stride}p{Pad}");

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index)
    {
        var g = Geometry(Image(input, index), index).Convolution;
        return [Filters, g.OutputHeight, g.OutputWidth];
    }

    internal override ILayer Build(LayerBuildContext context)
    {
        var g = Geometry(context.InputShape, context.Index).Convolution;
        var layer = new TiledConv2d(context.Backend, g.Channels, g.Height, g.Width, Filters, Kernel, Tile, Stride, Pad, context.Name);
        WeightInitializer.Initialize(layer.Weight.Value, Init, context.WeightStream, g.ColumnRows, Filters * Kernel * Kernel, Sigma);
        return layer;
    }

    private TiledConvolutionGeometry Geometry(int[] shape, int index) =>
        Validated(new TiledConvolutionGeometry(new ConvolutionGeometry(shape[0], shape[1], shape[2], Kernel, Kernel, Stride, Stride, Pad, Pad), Tile),
            g => g.Validate(), shape, index);

    private protected override void WriteFields(JsonObject json)
    {
        json["filters"] = Filters;
        json["kernel"] = Kernel;
        json["tile"] = Tile;
        json["stride"] = Stride;
        json["pad"] = Pad;
        json["init"] = WeightInitializer.Name(Init);
        if (Init == WeightInit.SmallGaussian) json["sigma"] = Sigma;
    }

    private static LayerSpec Read(StrictJson json)
    {
        int filters = Positive(json, "filters", json.Int("filters"));
        int kernel = Positive(json, "kernel", json.Int("kernel"));
        int tile = Positive(json, "tile", json.Int("tile"));
        int stride = Positive(json, "stride", json.Int("stride", 1));
        int pad = NonNegative(json, "pad", json.Int("pad", 0));
        var init = WeightInitializer.Parse(json.String("init", "he-normal"));
        var spec = new TiledConvSpec(filters, kernel, tile, stride, pad, init, json.Float("sigma", 0.01f));
        json.RejectUnknownKeys("type, filters, kernel, tile, stride, pad, init, sigma");
        return spec;
    }
}
