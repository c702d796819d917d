using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>A softmax over each sample's features (JSON <c>softmax</c>; no fields).</summary>
public sealed record SoftmaxSpec : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("softmax", Read, new SoftmaxSpec(), HasFields: false);

    /// <inheritdoc />
    public override string Type => "softmax";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override ILayer Build(LayerBuildContext context) => new SoftmaxLayer(context.Backend);

    private static LayerSpec Read(StrictJson json)
    {
        json.RejectUnknownKeys("type");
        return new SoftmaxSpec();
    }
}
