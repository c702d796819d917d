using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Random;

namespace Shinso.Models.FeedForward;

/// <summary>
/// One layer of a <see cref="FeedForwardSpec"/>. Each layer kind is one subclass that owns its JSON name and fields,
/// their validation (errors name the key), its output shape and the construction of its <see cref="ILayer"/>; the
/// kinds are registered once in <see cref="LayerKinds"/>. The static factories build the common ones.
/// </summary>
public abstract record LayerSpec
{
    /// <summary>The JSON name of the kind, e.g. <c>dense</c> or <c>maxpool</c>.</summary>
    public abstract string Type { get; }

    /// <summary>A compact token for one-line architectures (ONNX metadata), e.g. <c>conv6k5s1p2</c>.</summary>
    public virtual string Summary => Type;

    /// <summary>A short phrase for progress lines, e.g. <c>10</c> for a dense layer of 10 units.</summary>
    public virtual string Description => Type;

    /// <summary>The units this layer gives the net's output when it is the last layer that sets them (dense layers), or null.</summary>
    public virtual int? OutputUnits => null;

    /// <summary>The per-sample output shape for <paramref name="input"/>; an <see cref="ArgumentException"/> naming layer <paramref name="index"/> when it does not fit.</summary>
    public abstract int[] OutputShape(int[] input, int index);

    /// <summary>
    /// The per-sample output shape of layer <paramref name="index"/> in its net, where <paramref name="inputShapes"/>[i] is
    /// layer i's input for the layers before it: a kind that refers to another layer (a tied one) or depends on its
    /// neighbours (a sparsity penalty after a sigmoid) overrides this; the others give <see cref="OutputShape(int[], int)"/>.
    /// </summary>
    internal virtual int[] OutputShape(int[] input, int index, IReadOnlyList<LayerSpec> layers, int[][] inputShapes) => OutputShape(input, index);

    /// <summary>Creates the layer.</summary>
    internal abstract ILayer Build(LayerBuildContext context);

    /// <summary>The JSON form: <c>type</c>, then the kind's fields.</summary>
    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = Type };
        WriteFields(o);
        return o;
    }

    /// <summary>Adds the kind's fields to its JSON form.</summary>
    private protected virtual void WriteFields(JsonObject json) { }

    /// <summary>Reads any registered kind.</summary>
    internal static LayerSpec FromJson(StrictJson json) => LayerKinds.Read(json);

    /// <summary>A dense layer.</summary>
    public static LayerSpec Dense(int units, WeightInit init = WeightInit.SmallGaussian, float sigma = 0.01f) => new DenseSpec(units, init, sigma);

    /// <summary>A convolution of <paramref name="filters"/> square <paramref name="kernel"/> x <paramref name="kernel"/> filters.</summary>
    public static LayerSpec Conv(int filters, int kernel, int stride = 1, int pad = 0, WeightInit init = WeightInit.HeNormal, float sigma = 0.01f) =>
        new ConvSpec(filters, kernel, stride, pad, init, sigma);

    /// <summary>A tiled convolution of <paramref name="filters"/> maps whose filters repeat every <paramref name="tile"/> positions (see <see cref="TiledConv2d"/>).</summary>
    public static LayerSpec TiledConv(int filters, int kernel, int tile, int stride = 1, int pad = 0, WeightInit init = WeightInit.HeNormal, float sigma = 0.01f) =>
        new TiledConvSpec(filters, kernel, tile, stride, pad, init, sigma);

    /// <summary>A pooling layer: <paramref name="type"/> is maxpool, avgpool or lppool; the stride defaults to the window.</summary>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a pooling kind.</exception>
    public static LayerSpec Pool(string type, int size, int stride = 0, int pad = 0, bool ceil = false, float p = 2f) =>
        LayerKinds.Find(type)?.Example is PoolSpec kind
            ? new PoolSpec(kind.Pooling, size, stride > 0 ? stride : size, pad, ceil, p)
            : throw new ArgumentException($"'{type}' is not a pooling layer; expected {string.Join(", ", PoolSpec.Kinds.Select(k => k.Name))}.", nameof(type));

    /// <summary>Local response normalization across <paramref name="size"/> channels (ONNX LRN).</summary>
    public static LayerSpec Lrn(int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f) => new LrnSpec(size, alpha, beta, bias);

    /// <summary>Local contrast normalization over a <paramref name="size"/> x <paramref name="size"/> Gaussian window.</summary>
    public static LayerSpec Lcn(int size, float sigma) => new LcnSpec(size, sigma);

    /// <summary>A residual block <c>y = f(x + F(x))</c> of <paramref name="body"/>, f = <paramref name="function"/> (see <see cref="ResidualSpec"/>).</summary>
    public static LayerSpec Residual(IReadOnlyList<LayerSpec> body, Operations.Activation function = Operations.Activation.Relu) => new ResidualSpec(body, function);

    /// <summary>A dropout layer.</summary>
    public static LayerSpec Dropout(float rate) => new DropoutSpec(rate);

    /// <summary>A kind without fields by its name: sigmoid, tanh, relu, abs, step, softmax or flatten.</summary>
    /// <exception cref="ArgumentException">The name is not such a kind.</exception>
    public static LayerSpec Of(string type) => LayerKinds.Find(type) is { HasFields: false } kind
        ? kind.Example
        : throw new ArgumentException($"'{type}' is not a layer kind without fields; those are {string.Join(", ", LayerKinds.All.Where(k => !k.HasFields).Select(k => k.Name))}.", nameof(type));

    private protected static int Positive(StrictJson json, string key, int value) =>
        value >= 1 ? value : throw json.Invalid(key, $"must be a positive integer, got {value}.");

    private protected static int NonNegative(StrictJson json, string key, int value) =>
        value >= 0 ? value : throw json.Invalid(key, $"must be >= 0, got {value}.");

    /// <summary><paramref name="shape"/> when it is [channels, height, width]; an error naming the layer otherwise.</summary>
    private protected int[] Image(int[] shape, int index) => shape.Length == 3
        ? shape
        : throw new ArgumentException($"Layer {index} ({Type}) needs [channels, height, width] samples but gets {Tensors.Tensor.ShapeText(shape)}.", nameof(shape));

    /// <summary><paramref name="geometry"/> once <paramref name="validate"/> accepts it; its error otherwise, prefixed with the layer and its input.</summary>
    private protected TGeometry Validated<TGeometry>(TGeometry geometry, Action<TGeometry> validate, int[] shape, int index)
    {
        try
        {
            validate(geometry);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer {index} ({Type}) on [{shape[0]}, {shape[1]}, {shape[2]}]: {e.Message}", nameof(shape), e);
        }
        return geometry;
    }

    private protected static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }
}

/// <summary>What a <see cref="LayerSpec"/> needs to build its layer: where, on what input, at which position, from which seed.</summary>
/// <param name="Backend">Where the layer's tensors live.</param>
/// <param name="InputShape">The per-sample input shape.</param>
/// <param name="Index">The layer's position in the net (names its parameters and its random streams).</param>
/// <param name="Seed">The net's seed.</param>
/// <param name="Earlier">The layers built before this one (a tied layer shares one's weight).</param>
internal readonly record struct LayerBuildContext(IBackend Backend, int[] InputShape, int Index, ulong Seed, IReadOnlyList<ILayer> Earlier)
{
    /// <summary>The prefix of the layer's parameter names, e.g. <c>layer3</c> (<c>layer3.body0</c> inside a block).</summary>
    public string Name => NameOverride ?? $"layer{Index}";

    /// <summary>Set for a layer inside another (a residual block's body): its own parameter-name prefix.</summary>
    public string? NameOverride { get; init; }

    /// <summary>Set for a layer inside another: its own weight stream, derived from the enclosing layer's.</summary>
    public RandomStream? WeightStreamOverride { get; init; }

    /// <summary>Input features per sample.</summary>
    public int Features
    {
        get
        {
            int n = 1;
            foreach (int d in InputShape) n *= d;
            return n;
        }
    }

    /// <summary>The stream of the layer's initial weights, <c>Root(seed).Derive("layer-weights", index)</c> unless overridden (biases start at zero).</summary>
    public RandomStream WeightStream => WeightStreamOverride ?? RandomStream.Root(Seed).Derive("layer-weights", Index);
}
