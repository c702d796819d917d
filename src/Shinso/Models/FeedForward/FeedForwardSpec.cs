using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;

namespace Shinso.Models.FeedForward;

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

    /// <summary>Values per output sample (the last layer's output).</summary>
    public int OutputLength
    {
        get
        {
            var shapes = SampleShapes();
            if (shapes.Length == 0) return InputLength;
            int n = 1;
            foreach (int d in shapes[^1]) n *= d;
            return n;
        }
    }

    /// <summary>The index of the layer that marks an autoencoder's code (<see cref="CodeSpec"/>), or -1.</summary>
    public int CodeIndex
    {
        get
        {
            for (int i = 0; i < Layers.Count; i++) if (Layers[i] is CodeSpec) return i;
            return -1;
        }
    }

    /// <summary>
    /// Whether the net can take over an input standardisation by folding it into its weights: its first layer after any
    /// dropout, input noise or flatten is dense and shares its weight with no tied layer (see <see cref="FeedForwardNet.AbsorbInputStandardization"/>).
    /// </summary>
    public bool CanAbsorbInputStandardization
    {
        get
        {
            for (int i = 0; i < Layers.Count; i++)
                if (Layers[i] is not (DropoutSpec or FlattenSpec or NoiseSpec))
                    return Layers[i] is DenseSpec && !Layers.Any(l => l is TiedSpec t && t.To == i);
            return false;
        }
    }

    /// <summary>Whether a regression net can take over a target standardisation: it ends in a dense layer scored by squared error.</summary>
    public bool CanAbsorbTargetStandardization => Layers.Count > 0 && Layers[^1] is DenseSpec && Loss == "squared-error";

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
        if (!Array.Exists(layers, l => l is DenseSpec)) throw json.Invalid("layers", "must contain at least one dense layer.");
        for (int i = 0; i < layers.Length; i++)
            if (layers[i] is TiedSpec tied && (tied.To >= i || layers[tied.To] is not DenseSpec))
                throw json.Invalid($"layers[{i}].to", tied.To >= i ? $"names layer {tied.To}, which is not an earlier layer (0 to {i - 1})." : $"names layer {tied.To}, a '{layers[tied.To].Type}' layer; a tied layer transposes a dense layer's weights.");
        // Each layer's shape in turn, so that an error names the layer (and the key, for a tied layer's 'to').
        var inputs = new int[layers.Length][];
        int[] shape = input;
        for (int i = 0; i < layers.Length; i++)
        {
            inputs[i] = shape;
            try
            {
                shape = layers[i].OutputShape(shape, i, layers, inputs);
            }
            catch (ArgumentException e)
            {
                string message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
                throw json.Invalid(e.ParamName == "to" ? $"layers[{i}].to" : $"layers[{i}]", message);
            }
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
        var inputs = new int[Layers.Count][];
        int[] shape = InputShape;
        for (int i = 0; i < Layers.Count; i++)
        {
            inputs[i] = shape;
            shapes[i] = shape = Layers[i].OutputShape(shape, i, Layers, inputs);
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
            layers[i] = Layers[i].Build(new LayerBuildContext(backend, shape, i, seed, layers[..i]));
            shape = shapes[i];
        }
        return layers;
    }
}
