using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.ComponentAnalysis;

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
        model.Whitening?.AddTo(doc);
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
        const string A = "architecture";
        int atoms = ModelFields.PositiveInt(doc.Architecture, A, "atoms", source, 1 << 20);
        int channels = ModelFields.PositiveInt(doc.Architecture, A, "channels", source, 4096);
        int size = ModelFields.PositiveInt(doc.Architecture, A, "patch_size", source, 4096);
        bool removeMean = ModelFields.Flag(doc.Architecture, A, "remove_mean", source);
        bool unitNorm = ModelFields.Flag(doc.Architecture, A, "unit_norm", source);
        bool whitened = ModelFields.Flag(doc.Architecture, A, "whitened", source);
        float lambda = ModelFields.Number(doc.HyperParameters, "hyperParameters", "lambda", source, positive: true);
        long features = (long)channels * size * size;
        if (features > 1 << 16) throw new ModelFileException(source, "architecture.patch_size", $"{channels} x {size} x {size} patches are larger than Shinso reads (2^16 values).");
        var dictionary = doc.FiniteTensor("dictionary", [atoms, (int)features], source);
        ZcaWhitening? whitening = whitened ? ZcaWhitening.FromDocument(doc, (int)features, source) : null;
        return new SparseCodingModel(dictionary, channels, new PatchOptions(size, removeMean, unitNorm), lambda, whitening);
    }
}
