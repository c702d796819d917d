using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>Local response normalization across channels, as ONNX LRN (JSON <c>lrn</c>: size, alpha, beta, bias).</summary>
/// <param name="Size">Channels in the window.</param>
/// <param name="Alpha">The scale alpha.</param>
/// <param name="Beta">The exponent beta.</param>
/// <param name="Bias">The bias k.</param>
public sealed record LrnSpec(int Size, float Alpha = 1e-4f, float Beta = 0.75f, float Bias = 1f) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("lrn", Read, new LrnSpec(3));

    /// <inheritdoc />
    public override string Type => "lrn";

    /// <inheritdoc />
    public override string Summary => $"lrn{Size}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => Image(input, index);

    internal override ILayer Build(LayerBuildContext context)
    {
        var shape = context.InputShape;
        return new LocalResponseNormalization(context.Backend, shape[0], shape[1], shape[2], new LrnParameters(Size, Alpha, Beta, Bias));
    }

    private protected override void WriteFields(JsonObject json)
    {
        json["size"] = Size;
        json["alpha"] = Alpha;
        json["beta"] = Beta;
        json["bias"] = Bias;
    }

    private static LayerSpec Read(StrictJson json)
    {
        var spec = new LrnSpec(Positive(json, "size", json.Int("size")), json.Float("alpha", 1e-4f), json.Float("beta", 0.75f), json.Float("bias", 1f));
        json.RejectUnknownKeys("type, size, alpha, beta, bias");
        try
        {
            new LrnParameters(spec.Size, spec.Alpha, spec.Beta, spec.Bias).Validate();
        }
        catch (ArgumentException e)
        {
            throw json.Invalid("type", e.Message);
        }
        return spec;
    }
}
