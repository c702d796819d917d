using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>
/// Maxout (JSON <c>maxout</c>: pieces): each output unit is the max of <paramref name="Pieces"/> inputs, over
/// features or over groups of channels (see <see cref="MaxoutLayer"/>).
/// </summary>
/// <param name="Pieces">Inputs per output unit (at least 1).</param>
public sealed record MaxoutSpec(int Pieces) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("maxout", Read, new MaxoutSpec(2));

    /// <inheritdoc />
    public override string Type => "maxout";

    /// <inheritdoc />
    public override string Summary => $"maxout{Pieces}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => MaxoutLayer.OutputShapeOf(input, Pieces) ?? throw new ArgumentException(
        $"Layer {index} ({Type}) needs [features] or [channels, height, width] samples whose first axis is a multiple of its {Pieces} pieces, " +
        $"but gets {Tensors.Tensor.ShapeText(input)}.", nameof(input));

    internal override ILayer Build(LayerBuildContext context) => new MaxoutLayer(context.Backend, Pieces);

    private protected override void WriteFields(JsonObject json) => json["pieces"] = Pieces;

    private static LayerSpec Read(StrictJson json)
    {
        var spec = new MaxoutSpec(Positive(json, "pieces", json.Int("pieces")));
        json.RejectUnknownKeys("type, pieces");
        return spec;
    }
}
