using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>Saves and loads <see cref="DeepBoltzmannMachine"/>s in Shinso's model file format (kind <c>dbm</c>).</summary>
/// <remarks>Architecture: <c>{"layers": [784, 500, 1000]}</c>, plus <c>"labels": 10</c> for a machine with label units; tensors
/// <c>weights/k</c> [n_k, n_(k+1)], <c>bias/k</c> [n_k], and with labels <c>label-weights</c> [labels, n_L] and <c>label-bias</c> [labels].</remarks>
public static class DbmModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "dbm";

    /// <summary>The document for <paramref name="dbm"/>: its layer sizes, its parameters and optional metadata.</summary>
    public static ModelDocument ToDocument(DeepBoltzmannMachine dbm, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        var layers = new JsonArray();
        foreach (int n in dbm.LayerSizes) layers.Add(n);
        var doc = new ModelDocument(Kind)
        {
            Architecture = new JsonObject { ["layers"] = layers },
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.Metadata["seed"] = dbm.Seed;
        for (int k = 0; k < dbm.Weights.Count; k++) doc.Add($"weights/{k}", dbm.Weights[k]);
        for (int k = 0; k < dbm.Biases.Count; k++) doc.Add($"bias/{k}", dbm.Biases[k]);
        if (dbm.HasLabels)
        {
            doc.Architecture["labels"] = dbm.LabelCount;
            doc.Add("label-weights", dbm.LabelWeights!);
            doc.Add("label-bias", dbm.LabelBias!);
        }
        return doc;
    }

    /// <summary>Writes <paramref name="dbm"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(DeepBoltzmannMachine dbm, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(dbm, hyperParameters, metadata));

    /// <summary>Reads a DBM from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The file is not a DBM or its tensors do not fit its layer sizes.</exception>
    public static DeepBoltzmannMachine Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>Builds the machine a document describes (kind <c>dbm</c>, or <paramref name="kind"/>) and copies its parameters in.</summary>
    /// <exception cref="ModelFileException">The document is another kind, its layer sizes are invalid, or a tensor is missing or misshapen.</exception>
    public static DeepBoltzmannMachine FromDocument(ModelDocument doc, string source, IBackend backend, string kind = Kind)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != kind) throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a deep Boltzmann machine ('{kind}').");
        if (doc.Architecture["layers"] is not JsonArray array)
            throw new ModelFileException(source, "architecture.layers", "expected an array of layer sizes, visible units first.");
        var sizes = new int[array.Count];
        for (int k = 0; k < sizes.Length; k++)
        {
            if (array[k] is not JsonValue value || !value.TryGetValue<int>(out sizes[k]) || sizes[k] < 1)
                throw new ModelFileException(source, $"architecture.layers[{k}]", $"expected a positive whole number of units, found {array[k]?.ToJsonString() ?? "null"}.");
        }
        if (sizes.Length < 3)
            throw new ModelFileException(source, "architecture.layers", $"a DBM has the visible layer and at least two hidden layers; found {sizes.Length} sizes.");
        int labels = 0;
        if (doc.Architecture["labels"] is { } labelNode && (labelNode is not JsonValue labelValue || !labelValue.TryGetValue<int>(out labels) || labels < 2))
            throw new ModelFileException(source, "architecture.labels", $"expected a whole number of label units, at least 2, found {labelNode.ToJsonString()}.");
        ulong seed = doc.Metadata["seed"] is JsonValue s && s.TryGetValue<ulong>(out ulong u) ? u : 0;
        var dbm = new DeepBoltzmannMachine(backend, sizes, seed, initialWeightStd: 0f, labelCount: labels);
        for (int k = 0; k < dbm.Weights.Count; k++) doc.CopyTensorTo($"weights/{k}", dbm.Weights[k], source);
        for (int k = 0; k < dbm.Biases.Count; k++) doc.CopyTensorTo($"bias/{k}", dbm.Biases[k], source);
        if (dbm.HasLabels)
        {
            doc.CopyTensorTo("label-weights", dbm.LabelWeights!, source);
            doc.CopyTensorTo("label-bias", dbm.LabelBias!, source);
        }
        return dbm;
    }
}
