using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>Flattens [channels, height, width] samples to vectors (JSON <c>flatten</c>; no fields).</summary>
public sealed record FlattenSpec : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("flatten", Read, new FlattenSpec(), HasFields: false);

    /// <inheritdoc />
    public override string Type => "flatten";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => [Product(input)];

    internal override ILayer Build(LayerBuildContext context) => new Flatten();

    private static LayerSpec Read(StrictJson json)
    {
        json.RejectUnknownKeys("type");
        return new FlattenSpec();
    }
}
