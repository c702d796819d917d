using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>A 2-D convolution of square filters (JSON <c>conv</c>: filters, kernel, stride, pad, init, sigma).</summary>
/// <param name="Filters">Output channels.</param>
/// <param name="Kernel">Filter side.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Pad">Zero padding on every side.</param>
/// <param name="Init">Weight initialisation.</param>
/// <param name="Sigma">Standard deviation of small-gaussian initialisation.</param>
public sealed record ConvSpec(int Filters, int Kernel, int Stride = 1, int Pad = 0, WeightInit Init = WeightInit.HeNormal, float Sigma = 0.01f) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("conv", Read, new ConvSpec(2, 3, Pad: 1));

    /// <inheritdoc />
    public override string Type => "conv";

    /// <inheritdoc />
    public override string Summary => string.Create(CultureInfo.InvariantCulture, $"conv{Filters}k{Kernel}s{Stride}p{Pad}");

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index)
    {
        var g = Geometry(Image(input, index), index);
        return [Filters, g.OutputHeight, g.OutputWidth];
    }

    internal override ILayer Build(LayerBuildContext context)
    {
        var g = Geometry(context.InputShape, context.Index);
        var conv = new Conv2d(context.Backend, g.Channels, g.Height, g.Width, Filters, Kernel, Stride, Pad, context.Name);
        WeightInitializer.Initialize(conv.Weight.Value, Init, context.WeightStream, g.ColumnRows, Filters * Kernel * Kernel, Sigma);
        return conv;
    }

    private ConvolutionGeometry Geometry(int[] shape, int index) =>
        Validated(new ConvolutionGeometry(shape[0], shape[1], shape[2], Kernel, Kernel, Stride, Stride, Pad, Pad), g => g.Validate(), shape, index);

    private protected override void WriteFields(JsonObject json)
    {
        json["filters"] = Filters;
        json["kernel"] = Kernel;
        json["stride"] = Stride;
        json["pad"] = Pad;
        json["init"] = WeightInitializer.Name(Init);
        if (Init == WeightInit.SmallGaussian) json["sigma"] = Sigma;
    }

    private static LayerSpec Read(StrictJson json)
    {
        int filters = Positive(json, "filters", json.Int("filters"));
        int kernel = Positive(json, "kernel", json.Int("kernel"));
        int stride = Positive(json, "stride", json.Int("stride", 1));
        int pad = NonNegative(json, "pad", json.Int("pad", 0));
        var init = WeightInitializer.Parse(json.String("init", "he-normal"));
        var spec = new ConvSpec(filters, kernel, stride, pad, init, json.Float("sigma", 0.01f));
        json.RejectUnknownKeys("type, filters, kernel, stride, pad, init, sigma");
        return spec;
    }
}
