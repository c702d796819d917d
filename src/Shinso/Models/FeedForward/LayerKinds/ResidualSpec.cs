using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Models.FeedForward;

/// <summary>
/// A residual block, <c>y = f(x + F(x))</c> (JSON <c>residual</c>: layers, activation): F is the block's own short
/// stack of dense, conv, activation and lrn layers, f is relu, sigmoid, tanh or none. When F changes the sample's
/// shape the shortcut is projected: a 1x1 convolution whose stride takes the input's height and width to F's (images),
/// or a dense map (vectors); both start Glorot-uniform. A block counts as one layer with weights (transfer copies it whole).
/// </summary>
/// <param name="Body">The layers of F, input first.</param>
/// <param name="Function">f, applied after the sum (<see cref="Activation.Identity"/>: none).</param>
public sealed record ResidualSpec(IReadOnlyList<LayerSpec> Body, Activation Function = Activation.Relu) : LayerSpec
{
    /// <summary>The layers of F: at least one, each dense, conv, an activation or lrn (layers that draw random numbers or refer to other layers have no place in a body).</summary>
    public IReadOnlyList<LayerSpec> Body { get; init => field = Checked(value); } = Checked(Body);

    /// <summary><paramref name="body"/> when every layer may stand in a block (a <c>with</c> expression is checked as the constructor is).</summary>
    private static IReadOnlyList<LayerSpec> Checked(IReadOnlyList<LayerSpec> body) =>
        body is { Count: > 0 } && body.All(l => l is DenseSpec or ConvSpec or ActivationSpec or LrnSpec)
            ? body
            : throw new ArgumentException("A residual block's body holds at least one layer, each dense, conv, an activation (sigmoid, tanh, relu, abs, step) or lrn.", nameof(body));

    /// <summary>f: relu, sigmoid, tanh, or <see cref="Activation.Identity"/> for none.</summary>
    public Activation Function { get; init; } = Function is Activation.Relu or Activation.Sigmoid or Activation.Tanh or Activation.Identity
        ? Function
        : throw new ArgumentOutOfRangeException(nameof(Function), Function, "A residual block's activation is relu, sigmoid, tanh or none.");

    /// <summary>The registration; its example changes the channels, so it has a projection.</summary>
    public static LayerKind Kind { get; } = new("residual", Read,
        new ResidualSpec([new ConvSpec(3, 3, Pad: 1), new ActivationSpec(Activation.Relu), new ConvSpec(3, 3, Pad: 1)]));

    /// <inheritdoc />
    public override string Type => "residual";

    /// <inheritdoc />
    public override string Summary => "res(" + string.Join("-", Body.Select(l => l.Summary)) + ")" + (Function == Activation.Identity ? "" : FunctionName(Function));

    /// <inheritdoc />
    public override string Description => "residual[" + string.Join(" → ", Body.Select(l => l.Description)) + "]" +
                                          (Function == Activation.Identity ? "" : " → " + FunctionName(Function));

    /// <inheritdoc />
    public override int[] OutputShape(int[] input, int index)
    {
        var output = BodyShape(input, index);
        ProjectionStride(input, output, index);
        return output;
    }

    /// <summary>The shape F gives one sample of <paramref name="input"/>.</summary>
    private int[] BodyShape(int[] input, int index)
    {
        var shape = input;
        for (int j = 0; j < Body.Count; j++)
        {
            try { shape = Body[j].OutputShape(shape, index); }
            catch (ArgumentException e) { throw new ArgumentException($"Layer {index} (residual), body layer {j}: {e.Message}", nameof(input), e); }
        }
        return shape;
    }

    /// <summary>Null when the shortcut is the identity, 0 for a dense projection, else the 1x1 convolution's stride.</summary>
    private int? ProjectionStride(int[] input, int[] output, int index)
    {
        if (input.SequenceEqual(output)) return null;
        if (input.Length == 1 && output.Length == 1) return 0;
        if (input.Length == 3 && output.Length == 3)
            for (int s = 1; s <= Math.Max(input[1], input[2]); s++)
                if ((input[1] - 1) / s + 1 == output[1] && (input[2] - 1) / s + 1 == output[2]) return s;
        throw new ArgumentException($"Layer {index} (residual): its body maps {Tensors.Tensor.ShapeText(input)} to {Tensors.Tensor.ShapeText(output)}, " +
                                    "which no shortcut projection (a strided 1x1 convolution between images, a dense map between vectors) reaches.", nameof(input));
    }

    internal override ILayer Build(LayerBuildContext context)
    {
        var layers = new ILayer[Body.Count];
        var shape = context.InputShape;
        for (int j = 0; j < layers.Length; j++)
        {
            layers[j] = Body[j].Build(context with
            {
                InputShape = shape, NameOverride = $"{context.Name}.body{j}", WeightStreamOverride = context.WeightStream.Derive("residual-body", j),
            });
            shape = Body[j].OutputShape(shape, context.Index);
        }
        var stream = context.WeightStream.Derive("residual-projection");
        string name = context.Name + ".projection";
        var input = context.InputShape;
        ILayer? projection = null;
        switch (ProjectionStride(input, shape, context.Index))
        {
            case 0:
                var dense = new Dense(context.Backend, input[0], shape[0], name);
                WeightInitializer.Initialize(dense.Weight.Value, WeightInit.GlorotUniform, stream, input[0], shape[0], 0f);
                projection = dense;
                break;
            case int stride:
                var conv = new Conv2d(context.Backend, input[0], input[1], input[2], shape[0], 1, stride, 0, name);
                WeightInitializer.Initialize(conv.Weight.Value, WeightInit.GlorotUniform, stream, input[0], shape[0], 0f);
                projection = conv;
                break;
        }
        var activation = Function == Activation.Identity ? null : new ActivationLayer(context.Backend, Function);
        return new ResidualBlock(context.Backend, layers, projection, activation);
    }

    /// <inheritdoc />
    public bool Equals(ResidualSpec? other) => other is not null && Function == other.Function && Body.SequenceEqual(other.Body);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Function);
        foreach (var layer in Body) hash.Add(layer);
        return hash.ToHashCode();
    }

    private protected override void WriteFields(JsonObject json)
    {
        var layers = new JsonArray();
        foreach (var layer in Body) layers.Add(layer.ToJson());
        json["layers"] = layers;
        json["activation"] = Function == Activation.Identity ? "none" : FunctionName(Function);
    }

    private static string FunctionName(Activation function) => function switch
    {
        Activation.Relu => "relu",
        Activation.Sigmoid => "sigmoid",
        Activation.Tanh => "tanh",
        _ => "none",
    };

    private static LayerSpec Read(StrictJson json)
    {
        var items = json.ObjectArray("layers");
        if (items.Length == 0) throw json.Invalid("layers", "must hold at least one layer (the residual function F).");
        var body = new LayerSpec[items.Length];
        for (int j = 0; j < items.Length; j++)
        {
            body[j] = LayerSpec.FromJson(items[j]);
            if (body[j] is not (DenseSpec or ConvSpec or ActivationSpec or LrnSpec))
                throw items[j].Invalid("type", $"is '{body[j].Type}'; a residual block's body holds dense, conv, activation (sigmoid, tanh, relu, abs, step) and lrn layers.");
        }
        string activation = json.String("activation", "relu");
        var function = activation switch
        {
            "relu" => Activation.Relu,
            "sigmoid" => Activation.Sigmoid,
            "tanh" => Activation.Tanh,
            "none" => Activation.Identity,
            _ => throw json.Invalid("activation", $"is '{activation}'; expected relu, sigmoid, tanh or none."),
        };
        json.RejectUnknownKeys("type, layers, activation");
        return new ResidualSpec(body, function);
    }
}
