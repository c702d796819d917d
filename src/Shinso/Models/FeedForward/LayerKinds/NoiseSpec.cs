using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

/// <summary>
/// A denoising autoencoder's corruption of its input during training (JSON <c>masking-noise</c>: fraction;
/// <c>gaussian-noise</c>: sigma); the identity at inference.
/// </summary>
/// <param name="Noise">Masking or Gaussian.</param>
/// <param name="Amount">The masked fraction, in [0, 1), or the Gaussian deviation, >= 0.</param>
public sealed record NoiseSpec(NoiseKind Noise, float Amount) : LayerSpec
{
    /// <summary>The registrations: masking noise and Gaussian noise.</summary>
    public static IReadOnlyList<LayerKind> Kinds { get; } =
    [
        new("masking-noise", json => Read(json, NoiseKind.Masking), new NoiseSpec(NoiseKind.Masking, 0.25f)),
        new("gaussian-noise", json => Read(json, NoiseKind.Gaussian), new NoiseSpec(NoiseKind.Gaussian, 0.1f)),
    ];

    /// <inheritdoc />
    public override string Type => Noise == NoiseKind.Masking ? "masking-noise" : "gaussian-noise";

    private string Field => Noise == NoiseKind.Masking ? "fraction" : "sigma";

    /// <inheritdoc />
    public override string Summary => Type + Amount.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string Description => $"{Type} {Amount.ToString(CultureInfo.InvariantCulture)}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override ILayer Build(LayerBuildContext context) => new InputNoise(context.Backend, Noise, Amount, streamIndex: context.Index);

    private protected override void WriteFields(JsonObject json) => json[Field] = Amount;

    private static LayerSpec Read(StrictJson json, NoiseKind noise)
    {
        var spec = new NoiseSpec(noise, 0f);
        float amount = json.Float(spec.Field);
        if (noise == NoiseKind.Masking && !(amount >= 0f && amount < 1f))
            throw json.Invalid("fraction", $"is the share of inputs masked, which must lie in [0, 1); got {amount.ToString(CultureInfo.InvariantCulture)}.");
        if (noise == NoiseKind.Gaussian && !(amount >= 0f && float.IsFinite(amount)))
            throw json.Invalid("sigma", $"must be finite and >= 0, got {amount.ToString(CultureInfo.InvariantCulture)}.");
        json.RejectUnknownKeys("type, " + spec.Field);
        return spec with { Amount = amount };
    }
}
