using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Random;

namespace Shinso.Models.FeedForward;

/// <summary>One layer of a <see cref="FeedForwardSpec"/>.</summary>
/// <param name="Type">dense, sigmoid, tanh, relu, abs, dropout or softmax.</param>
/// <param name="Units">Output units (dense only).</param>
/// <param name="Rate">Drop probability (dropout only).</param>
/// <param name="Init">Weight initialisation (dense only).</param>
/// <param name="Sigma">Standard deviation for small-gaussian initialisation (dense only).</param>
public sealed record LayerSpec(string Type, int Units = 0, float Rate = 0f, WeightInit Init = WeightInit.SmallGaussian, float Sigma = 0.01f)
{
    internal const string Types = "dense, sigmoid, tanh, relu, abs, dropout, softmax";

    /// <summary>A dense layer.</summary>
    public static LayerSpec Dense(int units, WeightInit init = WeightInit.SmallGaussian, float sigma = 0.01f) => new("dense", units, 0f, init, sigma);

    /// <summary>A dropout layer.</summary>
    public static LayerSpec Dropout(float rate) => new("dropout", Rate: rate);

    /// <summary>An activation or softmax layer by type name.</summary>
    public static LayerSpec Of(string type) => new(type);

    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = Type };
        if (Type == "dense")
        {
            o["units"] = Units;
            o["init"] = WeightInitializer.Name(Init);
            if (Init == WeightInit.SmallGaussian) o["sigma"] = Sigma;
        }
        if (Type == "dropout") o["rate"] = Rate;
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
            case "dropout":
                float rate = json.Float("rate");
                if (!(rate >= 0f && rate < 1f)) throw json.Invalid("rate", $"must be in [0, 1), got {rate}.");
                spec = new LayerSpec(type, Rate: rate);
                json.RejectUnknownKeys("type, rate");
                break;
            case "sigmoid" or "tanh" or "relu" or "abs" or "softmax":
                spec = new LayerSpec(type);
                json.RejectUnknownKeys("type");
                break;
            default:
                throw json.Invalid("type", $"is '{type}'; expected one of {Types}.");
        }
        return spec;
    }
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
        return spec;
    }

    /// <summary>Creates the layers on <paramref name="backend"/>, drawing initial weights from <paramref name="seed"/>.</summary>
    internal ILayer[] Build(IBackend backend, ulong seed)
    {
        var layers = new ILayer[Layers.Count];
        int features = InputLength;
        for (int i = 0; i < layers.Length; i++)
        {
            var l = Layers[i];
            switch (l.Type)
            {
                case "dense":
                    var dense = new Dense(backend, features, l.Units, $"layer{i}");
                    // Stream 2i for layer i's weights; biases start at zero.
                    WeightInitializer.Initialize(dense.Weight.Value, l.Init, new RandomStream(seed, (ulong)(2 * i)), features, l.Units, l.Sigma);
                    layers[i] = dense;
                    features = l.Units;
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
        }
        return layers;
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
