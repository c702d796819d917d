using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>
/// The sparse autoencoder's KL penalty on the mean activation of the sigmoid layer before it (JSON <c>sparsity</c>:
/// target, weight); the identity on values. Defaults as in the UFLDL setting: target 0.05, weight 3.
/// </summary>
/// <param name="Target">rho, the target mean activation, in (0, 1).</param>
/// <param name="Weight">beta, the penalty's weight, >= 0.</param>
public sealed record SparsitySpec(float Target = 0.05f, float Weight = 3f) : LayerSpec
{
    /// <summary>The registration (its example is valid after a sigmoid, as in the net the layer tests build around it).</summary>
    public static LayerKind Kind { get; } = new("sparsity", Read, new SparsitySpec());

    /// <inheritdoc />
    public override string Type => "sparsity";

    /// <inheritdoc />
    public override string Summary => "sparsity" + Target.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string Description => $"sparsity {Target.ToString(CultureInfo.InvariantCulture)} x {Weight.ToString(CultureInfo.InvariantCulture)}";

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override int[] OutputShape(int[] input, int index, IReadOnlyList<LayerSpec> layers, int[][] inputShapes) =>
        index > 0 && layers[index - 1] is ActivationSpec { Function: Activation.Sigmoid }
            ? input
            : throw new ArgumentException(
                $"Layer {index} (sparsity) penalises mean activations, which must lie in (0, 1), so it must follow a sigmoid layer; it follows {(index == 0 ? "the input" : $"a '{layers[index - 1].Type}' layer")}.", "layers");

    internal override ILayer Build(LayerBuildContext context) => new SparsityPenalty(context.Backend, Target, Weight);

    private protected override void WriteFields(JsonObject json)
    {
        json["target"] = Target;
        json["weight"] = Weight;
    }

    private static LayerSpec Read(StrictJson json)
    {
        float target = json.Float("target", 0.05f), weight = json.Float("weight", 3f);
        if (!(target > 0f && target < 1f)) throw json.Invalid("target", $"is the target mean activation, which must lie in (0, 1); got {target.ToString(CultureInfo.InvariantCulture)}.");
        if (!(weight >= 0f) || float.IsInfinity(weight)) throw json.Invalid("weight", $"must be finite and >= 0, got {weight.ToString(CultureInfo.InvariantCulture)}.");
        json.RejectUnknownKeys("type, target, weight");
        return new SparsitySpec(target, weight);
    }
}
