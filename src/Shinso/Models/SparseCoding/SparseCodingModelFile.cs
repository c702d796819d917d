using Shinso.Data;
using Shinso.Models.ComponentAnalysis;
using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Models.SparseCoding;

/// <summary>Saves and loads <see cref="SparseCodingModel"/>s in Shinso's model file format (kind <c>sparse-coding</c>).</summary>
/// <remarks>
/// Architecture: <c>{"atoms": 256, "channels": 1, "patch_size": 8, "remove_mean": true, "unit_norm": true, "whitened": false}</c>;
/// hyper-parameters hold <c>lambda</c>; tensors <c>dictionary</c> [atoms, C·N²] and, when whitened, <c>whitening/mean</c> [C·N²] and
/// <c>whitening/matrix</c> [C·N², C·N²].
/// </remarks>
public static class SparseCodingModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "sparse-coding";

    /// <summary>The document for <paramref name="model"/>.</summary>
    public static ModelDocument ToDocument(SparseCodingModel model, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var doc = new ModelDocument(Kind)
        {
            Architecture = new JsonObject
            {
                ["atoms"] = model.AtomCount, ["channels"] = model.Channels, ["patch_size"] = model.Patches.Size,
                ["remove_mean"] = model.Patches.RemoveMean, ["unit_norm"] = model.Patches.UnitNorm, ["whitened"] = model.Whitening is not null,
            },
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.HyperParameters["lambda"] = model.Lambda;
        doc.Add("dictionary", [model.AtomCount, model.FeatureCount], model.Dictionary);
        if (model.Whitening is { } w)
        {
            doc.Add("whitening/mean", [model.FeatureCount], w.Mean);
            doc.Add("whitening/matrix", [model.FeatureCount, model.FeatureCount], w.Matrix);
        }
        return doc;
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(SparseCodingModel model, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(model, hyperParameters, metadata));

    /// <summary>Reads a sparse-coding model from <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is another kind, or a field or tensor does not fit.</exception>
    public static SparseCodingModel Load(string path) => FromDocument(ModelFile.Read(path), path);

    /// <summary>The model a document describes.</summary>
    /// <exception cref="ModelFileException">The document is another kind, or a field or tensor is missing or misshapen.</exception>
    public static SparseCodingModel FromDocument(ModelDocument doc, string source)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != Kind) throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a sparse-coding dictionary ('{Kind}').");
        int atoms = PositiveInt(doc.Architecture, "atoms", source);
        int channels = PositiveInt(doc.Architecture, "channels", source);
        int size = PositiveInt(doc.Architecture, "patch_size", source);
        bool removeMean = Flag(doc.Architecture, "remove_mean", source);
        bool unitNorm = Flag(doc.Architecture, "unit_norm", source);
        bool whitened = Flag(doc.Architecture, "whitened", source);
        if (doc.HyperParameters["lambda"] is not JsonValue lv || !lv.TryGetValue<float>(out float lambda) || !(lambda > 0) || !float.IsFinite(lambda))
            throw new ModelFileException(source, "hyperParameters.lambda", $"expected a positive number, found {doc.HyperParameters["lambda"]?.ToJsonString() ?? "nothing"}.");
        long features = (long)channels * size * size;
        if (features > 1 << 20) throw new ModelFileException(source, "architecture.patch_size", $"{channels} x {size} x {size} patches are larger than Shinso reads (2^20 values).");
        var dictionary = Tensor(doc, "dictionary", [atoms, (int)features], source);
        ZcaWhitening? whitening = null;
        if (whitened)
            whitening = new ZcaWhitening(Tensor(doc, "whitening/mean", [(int)features], source), Tensor(doc, "whitening/matrix", [(int)features, (int)features], source));
        foreach (float v in dictionary)
            if (!float.IsFinite(v)) throw new ModelFileException(source, "dictionary", "holds a value that is not finite.");
        return new SparseCodingModel(dictionary, channels, new PatchOptions(size, removeMean, unitNorm), lambda, whitening);
    }

    private static float[] Tensor(ModelDocument doc, string name, int[] shape, string source)
    {
        if (!doc.TryGetTensor(name, out var tensor))
            throw new ModelFileException(source, $"tensors.{name}", $"missing; the architecture needs it with shape {ModelFile.ShapeText(shape)}.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ModelFileException(source, $"tensors.{name}", $"has shape {ModelFile.ShapeText([.. tensor.Shape])}, expected {ModelFile.ShapeText(shape)}.");
        return tensor.Data;
    }

    private static int PositiveInt(JsonObject o, string field, string source) =>
        o[field] is JsonValue v && v.TryGetValue<int>(out int n) && n >= 1
            ? n
            : throw new ModelFileException(source, $"architecture.{field}", $"expected a positive whole number, found {o[field]?.ToJsonString() ?? "nothing"}.");

    private static bool Flag(JsonObject o, string field, string source) =>
        o[field] is JsonValue v && v.TryGetValue<bool>(out bool b)
            ? b
            : throw new ModelFileException(source, $"architecture.{field}", $"expected true or false, found {o[field]?.ToJsonString() ?? "nothing"}.");
}
