using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Random;

namespace Shinso.Models.FeedForward;

/// <summary>One layer of a <see cref="FeedForwardSpec"/>.</summary>
/// <param name="Type">dense, conv, maxpool, avgpool, lppool, lrn, lcn, flatten, sigmoid, tanh, relu, abs, dropout or softmax.</param>
/// <param name="Units">Output units (dense) or filters (conv).</param>
/// <param name="Rate">Drop probability (dropout only).</param>
/// <param name="Init">Weight initialisation (dense, conv).</param>
/// <param name="Sigma">Standard deviation for small-gaussian initialisation (dense, conv), or the Gaussian window's deviation in pixels (lcn).</param>
/// <param name="Kernel">Square kernel or pooling window side (conv, pooling).</param>
/// <param name="Stride">Stride (conv, pooling).</param>
/// <param name="Pad">Zero padding on every side (conv, pooling).</param>
/// <param name="Ceil">Round the pooled size up (pooling).</param>
/// <param name="P">Exponent of Lp pooling.</param>
/// <param name="Size">Window: channels (lrn) or pixels (lcn).</param>
/// <param name="Alpha">LRN alpha.</param>
/// <param name="Beta">LRN beta.</param>
/// <param name="Bias">LRN bias k.</param>
public sealed record LayerSpec(string Type, int Units = 0, float Rate = 0f, WeightInit Init = WeightInit.SmallGaussian, float Sigma = 0.01f,
    int Kernel = 0, int Stride = 1, int Pad = 0, bool Ceil = false, float P = 2f, int Size = 0, float Alpha = 1e-4f, float Beta = 0.75f, float Bias = 1f)
{
    internal const string Types = "dense, conv, maxpool, avgpool, lppool, lrn, lcn, flatten, sigmoid, tanh, relu, abs, dropout, softmax";

    /// <summary>A dense layer.</summary>
    public static LayerSpec Dense(int units, WeightInit init = WeightInit.SmallGaussian, float sigma = 0.01f) => new("dense", units, 0f, init, sigma);

    /// <summary>A convolution of <paramref name="filters"/> square <paramref name="kernel"/> x <paramref name="kernel"/> filters.</summary>
    public static LayerSpec Conv(int filters, int kernel, int stride = 1, int pad = 0, WeightInit init = WeightInit.HeNormal, float sigma = 0.01f) =>
        new("conv", filters, 0f, init, sigma, Kernel: kernel, Stride: stride, Pad: pad);

    /// <summary>A pooling layer: <paramref name="type"/> is maxpool, avgpool or lppool; the stride defaults to the window.</summary>
    public static LayerSpec Pool(string type, int size, int stride = 0, int pad = 0, bool ceil = false, float p = 2f) =>
        new(type, Kernel: size, Stride: stride > 0 ? stride : size, Pad: pad, Ceil: ceil, P: p);

    /// <summary>Local response normalization across <paramref name="size"/> channels (ONNX LRN).</summary>
    public static LayerSpec Lrn(int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f) =>
        new("lrn", Size: size, Alpha: alpha, Beta: beta, Bias: bias);

    /// <summary>Local contrast normalization over a <paramref name="size"/> x <paramref name="size"/> Gaussian window.</summary>
    public static LayerSpec Lcn(int size, float sigma) => new("lcn", Sigma: sigma, Size: size);

    /// <summary>A dropout layer.</summary>
    public static LayerSpec Dropout(float rate) => new("dropout", Rate: rate);

    /// <summary>An activation, softmax or flatten layer by type name.</summary>
    public static LayerSpec Of(string type) => new(type);

    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = Type };
        switch (Type)
        {
            case "dense" or "conv":
                o[Type == "dense" ? "units" : "filters"] = Units;
                if (Type == "conv")
                {
                    o["kernel"] = Kernel;
                    o["stride"] = Stride;
                    o["pad"] = Pad;
                }
                o["init"] = WeightInitializer.Name(Init);
                if (Init == WeightInit.SmallGaussian) o["sigma"] = Sigma;
                break;
            case "maxpool" or "avgpool" or "lppool":
                o["size"] = Kernel;
                o["stride"] = Stride;
                o["pad"] = Pad;
                o["ceil"] = Ceil;
                if (Type == "lppool") o["p"] = P;
                break;
            case "lrn":
                o["size"] = Size;
                o["alpha"] = Alpha;
                o["beta"] = Beta;
                o["bias"] = Bias;
                break;
            case "lcn":
                o["size"] = Size;
                o["sigma"] = Sigma;
                break;
            case "dropout":
                o["rate"] = Rate;
                break;
        }
        return o;
    }

    internal static LayerSpec FromJson(StrictJson json)
    {
        string type = json.String("type");
        LayerSpec spec;
        switch (type)
        {
            case "dense":
                int units = json.Int("units");
                if (units < 1) throw json.Invalid("units", $"must be a positive integer, got {units}.");
                var init = WeightInitializer.Parse(json.String("init", "small-gaussian"));
                spec = new LayerSpec(type, units, 0f, init, json.Float("sigma", 0.01f));
                json.RejectUnknownKeys("type, units, init, sigma");
                break;
            case "conv":
                int filters = json.Int("filters");
                if (filters < 1) throw json.Invalid("filters", $"must be a positive integer, got {filters}.");
                int kernel = Positive(json, "kernel", json.Int("kernel"));
                int convStride = Positive(json, "stride", json.Int("stride", 1));
                int convPad = NonNegative(json, "pad", json.Int("pad", 0));
                var convInit = WeightInitializer.Parse(json.String("init", "he-normal"));
                spec = Conv(filters, kernel, convStride, convPad, convInit, json.Float("sigma", 0.01f));
                json.RejectUnknownKeys("type, filters, kernel, stride, pad, init, sigma");
                break;
            case "maxpool" or "avgpool" or "lppool":
                int size = Positive(json, "size", json.Int("size"));
                int stride = Positive(json, "stride", json.Int("stride", size));
                int pad = NonNegative(json, "pad", json.Int("pad", 0));
                if (2 * pad > size) throw json.Invalid("pad", $"must be at most half the window {size}, got {pad}.");
                bool ceil = json.Bool("ceil", false);
                float p = 2f;
                if (type == "lppool")
                {
                    p = json.Float("p", 2f);
                    if (!(p >= 1f) || !float.IsFinite(p)) throw json.Invalid("p", $"must be a finite number >= 1, got {p}.");
                    json.RejectUnknownKeys("type, size, stride, pad, ceil, p");
                }
                else
                {
                    json.RejectUnknownKeys("type, size, stride, pad, ceil");
                }
                spec = Pool(type, size, stride, pad, ceil, p);
                break;
            case "lrn":
                spec = Lrn(Positive(json, "size", json.Int("size")), json.Float("alpha", 1e-4f), json.Float("beta", 0.75f), json.Float("bias", 1f));
                json.RejectUnknownKeys("type, size, alpha, beta, bias");
                try
                {
                    new LrnParameters(spec.Size, spec.Alpha, spec.Beta, spec.Bias).Validate();
                }
                catch (ArgumentException e)
                {
                    throw json.Invalid("type", e.Message);
                }
                break;
            case "lcn":
                int lcnSize = Positive(json, "size", json.Int("size", 9));
                if (lcnSize % 2 == 0) throw json.Invalid("size", $"must be odd, got {lcnSize}.");
                float lcnSigma = json.Float("sigma", lcnSize / 4f);
                if (!(lcnSigma > 0f) || !float.IsFinite(lcnSigma)) throw json.Invalid("sigma", $"must be positive, got {lcnSigma}.");
                spec = Lcn(lcnSize, lcnSigma);
                json.RejectUnknownKeys("type, size, sigma");
                break;
            case "dropout":
                float rate = json.Float("rate");
                if (!(rate >= 0f && rate < 1f)) throw json.Invalid("rate", $"must be in [0, 1), got {rate}.");
                spec = new LayerSpec(type, Rate: rate);
                json.RejectUnknownKeys("type, rate");
                break;
            case "sigmoid" or "tanh" or "relu" or "abs" or "softmax" or "flatten":
                spec = new LayerSpec(type);
                json.RejectUnknownKeys("type");
                break;
            default:
                throw json.Invalid("type", $"is '{type}'; expected one of {Types}.");
        }
        return spec;
    }

    private static int Positive(StrictJson json, string key, int value) =>
        value >= 1 ? value : throw json.Invalid(key, $"must be a positive integer, got {value}.");

    private static int NonNegative(StrictJson json, string key, int value) =>
        value >= 0 ? value : throw json.Invalid(key, $"must be >= 0, got {value}.");
}

/// <summary>
/// The architecture of a <see cref="FeedForwardNet"/> as data: input shape, layers and loss. It is
/// what presets produce, what config files and model files hold, and what exporters read.
/// </summary>
/// <param name="InputShape">The shape of one input sample, e.g. [784].</param>
/// <param name="Layers">The layers, input first; the last produces the scores.</param>
/// <param name="Loss">softmax-cross-entropy, binary-cross-entropy or squared-error.</param>
public sealed record FeedForwardSpec(int[] InputShape, IReadOnlyList<LayerSpec> Layers, string Loss)
{
    /// <summary>Features per input sample.</summary>
    public int InputLength
    {
        get
        {
            int n = 1;
            foreach (int d in InputShape) n *= d;
            return n;
        }
    }

    /// <summary>Values per output sample (the units of the last dense layer).</summary>
    public int OutputLength
    {
        get
        {
            int n = InputLength;
            foreach (var l in Layers) if (l.Type == "dense") n = l.Units;
            return n;
        }
    }

    /// <summary>The architecture as JSON (the <c>architecture</c> object of model files and configs).</summary>
    public JsonObject ToJson()
    {
        var layers = new JsonArray();
        foreach (var l in Layers) layers.Add(l.ToJson());
        var input = new JsonArray();
        foreach (int d in InputShape) input.Add(d);
        return new JsonObject { ["input"] = input, ["layers"] = layers, ["loss"] = Loss };
    }

    /// <summary>Reads an architecture, rejecting unknown keys and wrong types with messages naming <paramref name="json"/>'s source.</summary>
    public static FeedForwardSpec FromJson(StrictJson json)
    {
        var input = json.IntArray("input");
        if (input.Length == 0 || Array.Exists(input, d => d < 1)) throw json.Invalid("input", "must be a non-empty array of positive sizes.");
        var layers = Array.ConvertAll(json.ObjectArray("layers"), LayerSpec.FromJson);
        string loss = json.String("loss", "softmax-cross-entropy");
        json.RejectUnknownKeys("input, layers, loss");
        var spec = new FeedForwardSpec(input, layers, loss);
        try
        {
            Losses.LossFactory.Create(loss);
        }
        catch (ArgumentException e)
        {
            throw json.Invalid("loss", e.Message);
        }
        if (!Array.Exists(layers, l => l.Type == "dense")) throw json.Invalid("layers", "must contain at least one dense layer.");
        try
        {
            spec.SampleShapes();
        }
        catch (ArgumentException e)
        {
            throw json.Invalid("layers", e.Message);
        }
        return spec;
    }

    /// <summary>
    /// The per-sample shape after each layer (element i is layer i's output), tracking [C, H, W] through
    /// convolutions and pooling; throws <see cref="ArgumentException"/> naming the layer when a shape does not fit.
    /// </summary>
    public int[][] SampleShapes()
    {
        var shapes = new int[Layers.Count][];
        int[] shape = InputShape;
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            shape = l.Type switch
            {
                "dense" => [l.Units],
                "flatten" => [Product(shape)],
                "conv" => ConvGeometry(l, Image(shape, i, l.Type), i) is var g ? [l.Units, g.OutputHeight, g.OutputWidth] : shape,
                "maxpool" or "avgpool" or "lppool" => PoolGeometry(l, Image(shape, i, l.Type), i) is var p ? [p.Channels, p.OutputHeight, p.OutputWidth] : shape,
                "lrn" or "lcn" => Image(shape, i, l.Type),
                _ => shape,
            };
            shapes[i] = shape;
        }
        return shapes;
    }

    /// <summary>Creates the layers on <paramref name="backend"/>, drawing initial weights from <paramref name="seed"/>.</summary>
    internal ILayer[] Build(IBackend backend, ulong seed)
    {
        var layers = new ILayer[Layers.Count];
        int[] shape = InputShape;
        var shapes = SampleShapes();
        for (int i = 0; i < layers.Length; i++)
        {
            var l = Layers[i];
            int features = Product(shape);
            switch (l.Type)
            {
                case "dense":
                    var dense = new Dense(backend, features, l.Units, $"layer{i}");
                    // Stream 2i for layer i's weights; biases start at zero.
                    WeightInitializer.Initialize(dense.Weight.Value, l.Init, new RandomStream(seed, (ulong)(2 * i)), features, l.Units, l.Sigma);
                    layers[i] = dense;
                    break;
                case "conv":
                    var g = ConvGeometry(l, shape, i);
                    var conv = new Conv2d(backend, g.Channels, g.Height, g.Width, l.Units, l.Kernel, l.Stride, l.Pad, $"layer{i}");
                    WeightInitializer.Initialize(conv.Weight.Value, l.Init, new RandomStream(seed, (ulong)(2 * i)),
                        g.ColumnRows, l.Units * l.Kernel * l.Kernel, l.Sigma);
                    layers[i] = conv;
                    break;
                case "maxpool" or "avgpool" or "lppool":
                    var kind = l.Type == "maxpool" ? PoolingKind.Max : l.Type == "avgpool" ? PoolingKind.Average : PoolingKind.Lp;
                    layers[i] = new Pool2d(backend, kind, PoolGeometry(l, shape, i), l.P);
                    break;
                case "lrn":
                    layers[i] = new LocalResponseNormalization(backend, shape[0], shape[1], shape[2], new LrnParameters(l.Size, l.Alpha, l.Beta, l.Bias));
                    break;
                case "lcn":
                    layers[i] = new LocalContrastNormalization(backend, new LcnGeometry(shape[0], shape[1], shape[2], l.Size, l.Sigma));
                    break;
                case "flatten":
                    layers[i] = new Flatten();
                    break;
                case "dropout":
                    layers[i] = new Dropout(backend, l.Rate, streamId: (ulong)(2 * i + 1));
                    break;
                case "softmax":
                    layers[i] = new SoftmaxLayer(backend);
                    break;
                default:
                    layers[i] = new ActivationLayer(backend, ActivationOf(l.Type));
                    break;
            }
            shape = shapes[i];
        }
        return layers;
    }

    private static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    private static int[] Image(int[] shape, int index, string type) => shape.Length == 3
        ? shape
        : throw new ArgumentException($"Layer {index} ({type}) needs [channels, height, width] samples but gets {Tensors.Tensor.ShapeText(shape)}.", nameof(shape));

    private static ConvolutionGeometry ConvGeometry(LayerSpec l, int[] shape, int index)
    {
        var g = new ConvolutionGeometry(shape[0], shape[1], shape[2], l.Kernel, l.Kernel, l.Stride, l.Stride, l.Pad, l.Pad);
        try
        {
            g.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer {index} (conv) on [{shape[0]}, {shape[1]}, {shape[2]}]: {e.Message}", nameof(shape), e);
        }
        return g;
    }

    private static PoolingGeometry PoolGeometry(LayerSpec l, int[] shape, int index)
    {
        var g = new PoolingGeometry(shape[0], shape[1], shape[2], l.Kernel, l.Kernel, l.Stride, l.Stride, l.Pad, l.Pad, l.Ceil);
        try
        {
            g.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer {index} ({l.Type}) on [{shape[0]}, {shape[1]}, {shape[2]}]: {e.Message}", nameof(shape), e);
        }
        return g;
    }

    private static Activation ActivationOf(string type) => type switch
    {
        "sigmoid" => Activation.Sigmoid,
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        "abs" => Activation.AbsoluteValue,
        _ => throw new ArgumentException($"Unknown layer type '{type}'; expected one of {LayerSpec.Types}.", nameof(type)),
    };
}
