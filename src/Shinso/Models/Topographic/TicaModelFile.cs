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
        var f = model.Bank;
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
        model.Whitening?.AddTo(doc);
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
        const string A = "architecture", H = "hyperParameters";
        int side = ModelFields.PositiveInt(doc.Architecture, A, "side", source, 4096);
        int neighbourhood = ModelFields.PositiveInt(doc.Architecture, A, "neighbourhood", source, side);
        if (neighbourhood % 2 == 0) throw new ModelFileException(source, "architecture.neighbourhood", $"expected an odd window side, found {neighbourhood}.");
        int channels = ModelFields.PositiveInt(doc.Architecture, A, "channels", source, 4096);
        int size = ModelFields.PositiveInt(doc.Architecture, A, "patch_size", source, 4096);
        long features = (long)channels * size * size;
        if (features > 1 << 16) throw new ModelFileException(source, "architecture.patch_size", $"{channels} x {size} x {size} patches are larger than Shinso reads (2^16 values).");
        bool removeMean = ModelFields.Flag(doc.Architecture, A, "remove_mean", source);
        bool unitNorm = ModelFields.Flag(doc.Architecture, A, "unit_norm", source);
        bool whitened = ModelFields.Flag(doc.Architecture, A, "whitened", source);
        float epsilon = ModelFields.Number(doc.HyperParameters, H, "epsilon", source, positive: true);
        float reconstruction = ModelFields.Number(doc.HyperParameters, H, "reconstruction", source, positive: false);
        var filters = doc.FiniteTensor("filters", [side * side, (int)features], source);
        ZcaWhitening? whitening = whitened ? ZcaWhitening.FromDocument(doc, (int)features, source) : null;
        var bank = new TopographicIca(filters, (int)features, side, neighbourhood, epsilon, reconstruction);
        return new TicaModel(bank, channels, new PatchOptions(size, removeMean, unitNorm), whitening);
    }
}
