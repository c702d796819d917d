using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>Inverted dropout (JSON <c>dropout</c>: rate); the identity at inference.</summary>
/// <param name="Rate">The drop probability, in [0, 1).</param>
public sealed record DropoutSpec(float Rate) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("dropout", Read, new DropoutSpec(0.5f));

    /// <inheritdoc />
    public override string Type => "dropout";

    /// <inheritdoc />
    public override string Summary => "dropout" + Rate.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string Description => $"dropout {Rate}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override ILayer Build(LayerBuildContext context) => new Dropout(context.Backend, Rate, maskIndex: context.Index);

    private protected override void WriteFields(JsonObject json) => json["rate"] = Rate;

    private static LayerSpec Read(StrictJson json)
    {
        float rate = json.Float("rate");
        if (!(rate >= 0f && rate < 1f)) throw json.Invalid("rate", $"must be in [0, 1), got {rate}.");
        json.RejectUnknownKeys("type, rate");
        return new DropoutSpec(rate);
    }
}
