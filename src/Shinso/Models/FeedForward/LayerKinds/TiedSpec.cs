using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>
/// A dense layer on an earlier dense layer's weights transposed (JSON <c>tied</c>: to): an autoencoder's tied decoder,
/// <c>W' = Wᵀ</c>, one parameter used by two layers. It maps the earlier layer's units back to its inputs.
/// </summary>
/// <param name="To">The index (0-based, in the net's layer list) of the earlier dense layer whose weight this layer uses.</param>
public sealed record TiedSpec(int To) : LayerSpec
{
    /// <summary>The registration (its example is valid in the net the layer tests build around it, where layer 2 is dense).</summary>
    public static LayerKind Kind { get; } = new("tied", Read, new TiedSpec(2));

    /// <inheritdoc />
    public override string Type => "tied";

    /// <inheritdoc />
    public override string Summary => $"tied{To}";

    /// <inheritdoc />
    public override string Description => $"tied to layer {To}";

    /// <summary>A tied layer's width is the earlier layer's input: only the net knows it.</summary>
    public override int[] OutputShape(int[] input, int index) =>
        throw new InvalidOperationException($"Layer {index} (tied) takes its shape from layer {To}; ask the net (FeedForwardSpec.SampleShapes).");

    internal override int[] OutputShape(int[] input, int index, IReadOnlyList<LayerSpec> layers, int[][] inputShapes)
    {
        if (To < 0 || To >= index)
            throw new ArgumentException($"Layer {index} (tied) is tied to layer {To}, which is not an earlier layer (0 to {index - 1}).", "to");
        if (layers[To] is not DenseSpec dense)
            throw new ArgumentException($"Layer {index} (tied) is tied to layer {To}, a '{layers[To].Type}' layer; it must be dense.", "to");
        int features = Product(input);
        if (features != dense.Units)
            throw new ArgumentException(
                $"Layer {index} (tied) transposes layer {To}'s {Product(inputShapes[To])} x {dense.Units} weights, so it needs {dense.Units} inputs, but gets {Tensors.Tensor.ShapeText(input)} ({features}).", "to");
        return [Product(inputShapes[To])];
    }

    internal override ILayer Build(LayerBuildContext context) =>
        context.Earlier[To] is Dense dense
            ? new TiedDense(context.Backend, dense, context.Name)
            : throw new InvalidOperationException($"Layer {context.Index} is tied to layer {To}, which is not dense.");

    private protected override void WriteFields(JsonObject json) => json["to"] = To;

    private static LayerSpec Read(StrictJson json)
    {
        var spec = new TiedSpec(NonNegative(json, "to", json.Int("to")));
        json.RejectUnknownKeys("type, to");
        return spec;
    }
}
