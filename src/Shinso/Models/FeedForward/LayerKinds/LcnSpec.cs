using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>Local contrast normalization over a Gaussian window (JSON <c>lcn</c>: size, sigma).</summary>
/// <param name="Size">Window side in pixels (odd).</param>
/// <param name="Sigma">The Gaussian window's deviation in pixels.</param>
public sealed record LcnSpec(int Size, float Sigma) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("lcn", Read, new LcnSpec(3, 1f));

    /// <inheritdoc />
    public override string Type => "lcn";

    /// <inheritdoc />
    public override string Summary => $"lcn{Size}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => Image(input, index);

    internal override ILayer Build(LayerBuildContext context)
    {
        var shape = context.InputShape;
        return new LocalContrastNormalization(context.Backend, new LcnGeometry(shape[0], shape[1], shape[2], Size, Sigma));
    }

    private protected override void WriteFields(JsonObject json)
    {
        json["size"] = Size;
        json["sigma"] = Sigma;
    }

    private static LayerSpec Read(StrictJson json)
    {
        int size = Positive(json, "size", json.Int("size", 9));
        if (size % 2 == 0) throw json.Invalid("size", $"must be odd, got {size}.");
        float sigma = json.Float("sigma", size / 4f);
        if (!(sigma > 0f) || !float.IsFinite(sigma)) throw json.Invalid("sigma", $"must be positive, got {sigma}.");
        json.RejectUnknownKeys("type, size, sigma");
        return new LcnSpec(size, sigma);
    }
}
