using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.ComponentAnalysis;

namespace Shinso.Models.Topographic;

/// <summary>Saves and loads <see cref="TicaModel"/>s in Shinso's model file format (kind <c>tica</c>, TICA and RICA alike).</summary>
/// <remarks>
/// Architecture: <c>{"side": 8, "neighbourhood": 3, "channels": 1, "patch_size": 8, "remove_mean": true, "unit_norm": false, "whitened": true}</c>;
/// hyper-parameters <c>epsilon</c> and <c>reconstruction</c> (0 for TICA); tensors <c>filters</c> [side², C·N²] and, when whitened,
/// <c>whitening/mean</c> and <c>whitening/matrix</c>.
/// </remarks>
public static class TicaModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "tica";

    /// <summary>The document for <paramref name="model"/>.</summary>
    public static ModelDocument ToDocument(TicaModel model, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var f = model.Filters;
        var doc = new ModelDocument(Kind)
        {
            Architecture = new JsonObject
            {
                ["side"] = f.Side, ["neighbourhood"] = f.Neighbourhood, ["channels"] = model.Channels, ["patch_size"] = model.Patches.Size,
                ["remove_mean"] = model.Patches.RemoveMean, ["unit_norm"] = model.Patches.UnitNorm, ["whitened"] = model.Whitening is not null,
            },
            HyperParameters = new JsonObject { ["epsilon"] = f.Epsilon, ["reconstruction"] = f.Reconstruction },
            Metadata = metadata ?? [],
        };
        doc.Add("filters", [f.FilterCount, f.FeatureCount], f.Filters);
        if (model.Whitening is { } w)
        {
            doc.Add("whitening/mean", [f.FeatureCount], w.Mean);
            doc.Add("whitening/matrix", [f.FeatureCount, f.FeatureCount], w.Matrix);
        }
        return doc;
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(TicaModel model, string path, JsonObject? metadata = null) => ModelFile.Write(path, ToDocument(model, metadata));

    /// <summary>Reads a TICA or RICA model from <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is another kind, or a field or tensor does not fit.</exception>
    public static TicaModel Load(string path) => FromDocument(ModelFile.Read(path), path);

    /// <summary>The model a document describes.</summary>
    /// <exception cref="ModelFileException">The document is another kind, or a field or tensor is missing or misshapen.</exception>
    public static TicaModel FromDocument(ModelDocument doc, string source)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != Kind) throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a topographic ICA filter bank ('{Kind}').");
        int side = PositiveInt(doc.Architecture, "side", source, 4096);
        int neighbourhood = PositiveInt(doc.Architecture, "neighbourhood", source, side);
        if (neighbourhood % 2 == 0) throw new ModelFileException(source, "architecture.neighbourhood", $"expected an odd window side, found {neighbourhood}.");
        int channels = PositiveInt(doc.Architecture, "channels", source, 4096);
        int size = PositiveInt(doc.Architecture, "patch_size", source, 4096);
        long features = (long)channels * size * size;
        if (features > 1 << 16) throw new ModelFileException(source, "architecture.patch_size", $"{channels} x {size} x {size} patches are larger than Shinso reads (2^16 values).");
        bool removeMean = Flag(doc.Architecture, "remove_mean", source), unitNorm = Flag(doc.Architecture, "unit_norm", source), whitened = Flag(doc.Architecture, "whitened", source);
        float epsilon = Number(doc.HyperParameters, "epsilon", source, positive: true);
        float reconstruction = Number(doc.HyperParameters, "reconstruction", source, positive: false);
        var filters = Tensor(doc, "filters", [side * side, (int)features], source);
        foreach (float v in filters)
            if (!float.IsFinite(v)) throw new ModelFileException(source, "tensors.filters", "holds a value that is not finite.");
        ZcaWhitening? whitening = whitened
            ? new ZcaWhitening(Tensor(doc, "whitening/mean", [(int)features], source), Tensor(doc, "whitening/matrix", [(int)features, (int)features], source))
            : null;
        var bank = new TopographicIca(filters, (int)features, side, neighbourhood, epsilon, reconstruction);
        return new TicaModel(bank, channels, new PatchOptions(size, removeMean, unitNorm), whitening);
    }

    private static float[] Tensor(ModelDocument doc, string name, int[] shape, string source)
    {
        if (!doc.TryGetTensor(name, out var tensor))
            throw new ModelFileException(source, $"tensors.{name}", $"missing; the architecture needs it with shape {ModelFile.ShapeText(shape)}.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ModelFileException(source, $"tensors.{name}", $"has shape {ModelFile.ShapeText([.. tensor.Shape])}, expected {ModelFile.ShapeText(shape)}.");
        return tensor.Data;
    }

    private static int PositiveInt(JsonObject o, string field, string source, int most) =>
        o[field] is JsonValue v && v.TryGetValue<int>(out int n) && n >= 1 && n <= most
            ? n
            : throw new ModelFileException(source, $"architecture.{field}", $"expected a whole number from 1 to {most}, found {o[field]?.ToJsonString() ?? "nothing"}.");

    private static bool Flag(JsonObject o, string field, string source) =>
        o[field] is JsonValue v && v.TryGetValue<bool>(out bool b)
            ? b
            : throw new ModelFileException(source, $"architecture.{field}", $"expected true or false, found {o[field]?.ToJsonString() ?? "nothing"}.");

    private static float Number(JsonObject o, string field, string source, bool positive) =>
        o[field] is JsonValue v && v.TryGetValue<float>(out float x) && float.IsFinite(x) && (positive ? x > 0 : x >= 0)
            ? x
            : throw new ModelFileException(source, $"hyperParameters.{field}", $"expected a {(positive ? "positive" : "non-negative")} number, found {o[field]?.ToJsonString() ?? "nothing"}.");
}
