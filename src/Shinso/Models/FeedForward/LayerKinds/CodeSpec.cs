using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>Marks an autoencoder's code (JSON <c>code</c>, no fields): the encoder ends before it, the decoder starts after it. At most one per net.</summary>
public sealed record CodeSpec : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("code", Read, new CodeSpec(), HasFields: false);

    /// <inheritdoc />
    public override string Type => "code";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override int[] OutputShape(int[] input, int index, IReadOnlyList<LayerSpec> layers, int[][] inputShapes)
    {
        for (int i = 0; i < index; i++)
            if (layers[i] is CodeSpec) throw new ArgumentException($"Layer {index} (code) marks a second code; layer {i} already marks the code.", "layers");
        return input;
    }

    internal override ILayer Build(LayerBuildContext context) => new CodeLayer();

    private static LayerSpec Read(StrictJson json)
    {
        json.RejectUnknownKeys("type");
        return new CodeSpec();
    }
}
