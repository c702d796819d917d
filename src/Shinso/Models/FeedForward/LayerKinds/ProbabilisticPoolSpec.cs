using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>Probabilistic max-pooling's expectation over square blocks (JSON <c>probabilistic-pool</c>: size); see <see cref="ProbabilisticMaxPool"/>.</summary>
/// <param name="Size">The block side; it must divide the maps.</param>
public sealed record ProbabilisticPoolSpec(int Size) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("probabilistic-pool", Read, new ProbabilisticPoolSpec(2));

    /// <inheritdoc />
    public override string Type => "probabilistic-pool";

    /// <inheritdoc />
    public override string Summary => $"probpool{Size}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index)
    {
        var shape = Image(input, index);
        Check(shape, index);
        return [shape[0], shape[1] / Size, shape[2] / Size];
    }

    internal override ILayer Build(LayerBuildContext context)
    {
        var shape = context.InputShape;
        Check(shape, context.Index);
        return new ProbabilisticMaxPool(context.Backend, shape[0], shape[1], shape[2], Size);
    }

    private void Check(int[] shape, int index)
    {
        if (shape[1] % Size != 0 || shape[2] % Size != 0)
            throw new ArgumentException($"Layer {index} ({Type}) on [{shape[0]}, {shape[1]}, {shape[2]}]: the pooling block {Size} x {Size} does not divide the {shape[1]} x {shape[2]} maps.", nameof(shape));
    }

    private protected override void WriteFields(JsonObject json) => json["size"] = Size;

    private static LayerSpec Read(StrictJson json)
    {
        var spec = new ProbabilisticPoolSpec(Positive(json, "size", json.Int("size")));
        json.RejectUnknownKeys("type, size");
        return spec;
    }
}
