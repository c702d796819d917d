using System.Linq;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Tensors;

namespace Shinso.Models.Boltzmann;

/// <summary>Saves and loads <see cref="DeepBeliefNet"/>s in Shinso's model file format (kind <c>dbn</c>).</summary>
/// <remarks>
/// Architecture: <c>{"layers": [784, 500, 500, 2000], "labels": 10, "visible_units": "bernoulli" | "gaussian"}</c>;
/// tensors <c>layer{l}.recognition_weights</c> [n_l, n_{l+1}], <c>layer{l}.recognition_bias</c>,
/// <c>layer{l}.generative_weights</c> [n_l, n_{l+1}], <c>layer{l}.generative_bias</c> for each directed layer, and
/// <c>top.penultimate_weights</c>, <c>top.label_weights</c>, <c>top.penultimate_bias</c>, <c>top.label_bias</c>,
/// <c>top.hidden_bias</c>.
/// </remarks>
public static class DbnModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "dbn";

    /// <summary>The document for <paramref name="dbn"/>.</summary>
    public static ModelDocument ToDocument(DeepBeliefNet dbn, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        var doc = new ModelDocument(Kind)
        {
            Architecture = ArchitectureJson(dbn),
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.Metadata["seed"] = dbn.Seed;
        for (int l = 0; l < dbn.Layers.Count; l++)
        {
            var layer = dbn.Layers[l];
            doc.Add($"layer{l}.recognition_weights", layer.RecognitionWeights);
            doc.Add($"layer{l}.recognition_bias", layer.RecognitionBias);
            doc.Add($"layer{l}.generative_weights", layer.GenerativeWeights);
            doc.Add($"layer{l}.generative_bias", layer.GenerativeBias);
        }
        doc.Add("top.penultimate_weights", dbn.Top.PenultimateWeights);
        doc.Add("top.label_weights", dbn.Top.LabelWeights);
        doc.Add("top.penultimate_bias", dbn.Top.PenultimateBias);
        doc.Add("top.label_bias", dbn.Top.LabelBias);
        doc.Add("top.hidden_bias", dbn.Top.TopBias);
        return doc;
    }

    /// <summary>The architecture object of <paramref name="dbn"/>: layer sizes, label count and the data units' type.</summary>
    public static JsonObject ArchitectureJson(DeepBeliefNet dbn)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        var layers = new JsonArray();
        foreach (int n in dbn.LayerSizes) layers.Add(n);
        return new JsonObject
        {
            ["layers"] = layers,
            ["labels"] = dbn.LabelCount,
            ["visible_units"] = dbn.BottomUnits == VisibleUnits.Bernoulli ? "bernoulli" : "gaussian",
        };
    }

    /// <summary>Writes <paramref name="dbn"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(DeepBeliefNet dbn, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(dbn, hyperParameters, metadata));

    /// <summary>Reads a deep belief net from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The file is not a DBN or its tensors do not fit its architecture.</exception>
    public static DeepBeliefNet Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>Builds the net a document describes and copies its parameters in.</summary>
    /// <exception cref="ModelFileException">The document is not a DBN, its architecture is invalid or a tensor is missing or misshapen.</exception>
    public static DeepBeliefNet FromDocument(ModelDocument doc, string source, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(backend);
        if (doc.Kind != Kind)
            throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a deep belief net.");
        var architecture = new StrictJson(doc.Architecture, source, "architecture");
        int[] sizes = architecture.IntArray("layers");
        int labels = architecture.Int("labels");
        string units = architecture.String("visible_units", "bernoulli");
        var bottom = units switch
        {
            "bernoulli" => VisibleUnits.Bernoulli,
            "gaussian" => VisibleUnits.Gaussian,
            _ => throw new ModelFileException(source, "architecture.visible_units", $"expected 'bernoulli' or 'gaussian', found '{units}'."),
        };
        if (sizes.Length < 3 || sizes.Any(n => n < 1))
            throw new ModelFileException(source, "architecture.layers", $"expected at least three positive sizes, found [{string.Join(", ", sizes)}].");
        if (labels < 2)
            throw new ModelFileException(source, "architecture.labels", $"expected at least 2 label units, found {labels}.");
        ulong seed = doc.Metadata.TryGetPropertyValue("seed", out var s) && s is JsonValue v && v.TryGetValue<ulong>(out ulong u) ? u : 0;
        var dbn = new DeepBeliefNet(backend, sizes, labels, bottom, seed);
        for (int l = 0; l < dbn.Layers.Count; l++)
        {
            var layer = dbn.Layers[l];
            doc.CopyTensorTo($"layer{l}.recognition_weights", layer.RecognitionWeights, source);
            doc.CopyTensorTo($"layer{l}.recognition_bias", layer.RecognitionBias, source);
            doc.CopyTensorTo($"layer{l}.generative_weights", layer.GenerativeWeights, source);
            doc.CopyTensorTo($"layer{l}.generative_bias", layer.GenerativeBias, source);
        }
        doc.CopyTensorTo("top.penultimate_weights", dbn.Top.PenultimateWeights, source);
        doc.CopyTensorTo("top.label_weights", dbn.Top.LabelWeights, source);
        doc.CopyTensorTo("top.penultimate_bias", dbn.Top.PenultimateBias, source);
        doc.CopyTensorTo("top.label_bias", dbn.Top.LabelBias, source);
        doc.CopyTensorTo("top.hidden_bias", dbn.Top.TopBias, source);
        return dbn;
    }
}
