using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>An elementwise activation (JSON <c>sigmoid</c>, <c>tanh</c>, <c>relu</c>, <c>abs</c>, <c>step</c>; no fields).</summary>
/// <param name="Function">The function.</param>
public sealed record ActivationSpec(Activation Function) : LayerSpec
{
    /// <summary>The function; only those with a layer kind (not the identity).</summary>
    public Activation Function { get; init; } = Function is Activation.Sigmoid or Activation.Tanh or Activation.Relu or Activation.AbsoluteValue or Activation.Step
        ? Function
        : throw new ArgumentOutOfRangeException(nameof(Function), Function, "has no activation layer kind; expected sigmoid, tanh, relu, abs or step.");

    /// <summary>The registrations, one per function.</summary>
    public static IReadOnlyList<LayerKind> Kinds { get; } =
        [.. new[] { Activation.Sigmoid, Activation.Tanh, Activation.Relu, Activation.AbsoluteValue, Activation.Step }.Select(f =>
            new LayerKind(NameOf(f), json => Read(json, f), new ActivationSpec(f), HasFields: false))];

    /// <inheritdoc />
    public override string Type => NameOf(Function);

    private static string NameOf(Activation function) => function switch
    {
        Activation.Sigmoid => "sigmoid",
        Activation.Tanh => "tanh",
        Activation.Relu => "relu",
        Activation.AbsoluteValue => "abs",
        Activation.Step => "step",
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "has no layer kind."),
    };

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index) => input;

    internal override ILayer Build(LayerBuildContext context) => new ActivationLayer(context.Backend, Function);

    private static LayerSpec Read(StrictJson json, Activation function)
    {
        json.RejectUnknownKeys("type");
        return new ActivationSpec(function);
    }
}
