using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>A fully connected layer of <paramref name="Units"/> units (JSON <c>dense</c>: units, init, sigma).</summary>
/// <param name="Units">Output units.</param>
/// <param name="Init">Weight initialisation.</param>
/// <param name="Sigma">Standard deviation of small-gaussian initialisation.</param>
public sealed record DenseSpec(int Units, WeightInit Init = WeightInit.SmallGaussian, float Sigma = 0.01f) : LayerSpec
{
    /// <summary>The registration.</summary>
    public static LayerKind Kind { get; } = new("dense", Read, new DenseSpec(3));

    /// <inheritdoc />
    public override string Type => "dense";

    /// <inheritdoc />
    public override string Summary => $"dense{Units}";

    /// <inheritdoc />
    public override string Description => Units.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override int? OutputUnits => Units;

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => [Units];

    internal override ILayer Build(LayerBuildContext context)
    {
        var dense = new Dense(context.Backend, context.Features, Units, context.Name);
        WeightInitializer.Initialize(dense.Weight.Value, Init, context.WeightStream, context.Features, Units, Sigma);
        return dense;
    }

    private protected override void WriteFields(JsonObject json)
    {
        json["units"] = Units;
        json["init"] = WeightInitializer.Name(Init);
        if (Init == WeightInit.SmallGaussian) json["sigma"] = Sigma;
    }

    private static LayerSpec Read(StrictJson json)
    {
        int units = Positive(json, "units", json.Int("units"));
        var init = WeightInitializer.Parse(json.String("init", "small-gaussian"));
        var spec = new DenseSpec(units, init, json.Float("sigma", 0.01f));
        json.RejectUnknownKeys("type, units, init, sigma");
        return spec;
    }
}
