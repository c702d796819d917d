using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>2-D max, average or Lp pooling over square windows (JSON <c>maxpool</c>, <c>avgpool</c>, <c>lppool</c>: size, stride, pad, ceil, and p for lppool).</summary>
/// <param name="Pooling">Max, average or Lp.</param>
/// <param name="Size">Window side.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Pad">Padding on every side.</param>
/// <param name="Ceil">Round the pooled size up.</param>
/// <param name="P">Exponent of Lp pooling.</param>
public sealed record PoolSpec(PoolingKind Pooling, int Size, int Stride, int Pad = 0, bool Ceil = false, float P = 2f) : LayerSpec
{
    /// <summary>The registrations, one per pooling kind.</summary>
    public static IReadOnlyList<LayerKind> Kinds { get; } =
    [
        new("maxpool", json => Read(json, PoolingKind.Max), new PoolSpec(PoolingKind.Max, 2, 2)),
        new("avgpool", json => Read(json, PoolingKind.Average), new PoolSpec(PoolingKind.Average, 2, 2)),
        new("lppool", json => Read(json, PoolingKind.Lp), new PoolSpec(PoolingKind.Lp, 3, 2, Ceil: true, P: 3f)),
    ];

    /// <inheritdoc />
    public override string Type => NameOf(Pooling);

    /// <inheritdoc />
    public override string Summary => string.Create(CultureInfo.InvariantCulture, $"{Type}{Size}s{Stride}p{Pad}") + (Ceil ? "ceil" : "")
        + (Pooling == PoolingKind.Lp ? string.Create(CultureInfo.InvariantCulture, $"P{P}") : "");

    private static string NameOf(PoolingKind kind) => kind switch
    {
        PoolingKind.Max => "maxpool",
        PoolingKind.Average => "avgpool",
        _ => "lppool",
    };

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index)
    {
        var g = Geometry(Image(input, index), index);
        return [g.Channels, g.OutputHeight, g.OutputWidth];
    }

    internal override ILayer Build(LayerBuildContext context) =>
        new Pool2d(context.Backend, Pooling, Geometry(context.InputShape, context.Index), P);

    private PoolingGeometry Geometry(int[] shape, int index) =>
        Validated(new PoolingGeometry(shape[0], shape[1], shape[2], Size, Size, Stride, Stride, Pad, Pad, Ceil), g => g.Validate(), shape, index);

    private protected override void WriteFields(JsonObject json)
    {
        json["size"] = Size;
        json["stride"] = Stride;
        json["pad"] = Pad;
        json["ceil"] = Ceil;
        if (Pooling == PoolingKind.Lp) json["p"] = P;
    }

    private static LayerSpec Read(StrictJson json, PoolingKind pooling)
    {
        int size = Positive(json, "size", json.Int("size"));
        int stride = Positive(json, "stride", json.Int("stride", size));
        int pad = NonNegative(json, "pad", json.Int("pad", 0));
        if (2 * pad > size) throw json.Invalid("pad", $"must be at most half the window {size}, got {pad}.");
        bool ceil = json.Bool("ceil", false);
        float p = 2f;
        if (pooling == PoolingKind.Lp)
        {
            p = json.Float("p", 2f);
            if (!(p >= 1f) || !float.IsFinite(p)) throw json.Invalid("p", $"must be a finite number >= 1, got {p}.");
            json.RejectUnknownKeys("type, size, stride, pad, ceil, p");
        }
        else
        {
            json.RejectUnknownKeys("type, size, stride, pad, ceil");
        }
        return new PoolSpec(pooling, size, stride, pad, ceil, p);
    }
}
