using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Models.Boltzmann;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>Saves and loads <see cref="ConvolutionalDbn"/>s (kind <c>cdbn</c>; a convolutional RBM is a one-layer one).</summary>
/// <remarks>
/// Architecture: <c>{"channels": 1, "height": 28, "width": 28, "visible_units": "bernoulli" | "gaussian", "layers": [{"groups": 24, "filter": 7, "block": 2}, ...]}</c>;
/// tensors <c>layer{l}/weights</c> <c>[K, C*N*N]</c>, <c>layer{l}/hidden_bias</c> <c>[K]</c>, <c>layer{l}/visible_bias</c> <c>[C]</c>.
/// </remarks>
public static class ConvolutionalDbnModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "cdbn";

    /// <summary>The document for <paramref name="dbn"/>.</summary>
    public static ModelDocument ToDocument(ConvolutionalDbn dbn, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        var first = dbn.Layers[0];
        var layers = new JsonArray();
        foreach (var l in dbn.Layers) layers.Add(new JsonObject { ["groups"] = l.Groups, ["filter"] = l.Geometry.KernelHeight, ["block"] = l.Block });
        var doc = new ModelDocument(Kind)
        {
            Architecture = new JsonObject
            {
                ["channels"] = first.Geometry.Channels, ["height"] = first.Geometry.Height, ["width"] = first.Geometry.Width,
                ["visible_units"] = first.Visible == VisibleUnits.Gaussian ? "gaussian" : "bernoulli", ["layers"] = layers,
            },
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        for (int l = 0; l < dbn.Layers.Count; l++)
        {
            doc.Add($"layer{l}/weights", dbn.Layers[l].Weights);
            doc.Add($"layer{l}/hidden_bias", dbn.Layers[l].HiddenBias);
            doc.Add($"layer{l}/visible_bias", dbn.Layers[l].VisibleBias);
        }
        return doc;
    }

    /// <summary>Writes <paramref name="dbn"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(ConvolutionalDbn dbn, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(dbn, hyperParameters, metadata));

    /// <summary>Reads a convolutional DBN from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The file is another kind, or a field or tensor does not fit.</exception>
    public static ConvolutionalDbn Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>The net a document describes, its parameters on <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The document is another kind, or a field or tensor is missing, misshapen or not finite.</exception>
    public static ConvolutionalDbn FromDocument(ModelDocument doc, string source, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != Kind) throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a convolutional DBN ('{Kind}').");
        const string A = "architecture";
        int channels = ModelFields.PositiveInt(doc.Architecture, A, "channels", source, 4096);
        int height = ModelFields.PositiveInt(doc.Architecture, A, "height", source, 1 << 14);
        int width = ModelFields.PositiveInt(doc.Architecture, A, "width", source, 1 << 14);
        var visible = (doc.Architecture["visible_units"] as JsonValue)?.TryGetValue(out string? units) == true ? units : null;
        var visibleUnits = visible switch
        {
            "bernoulli" => VisibleUnits.Bernoulli,
            "gaussian" => VisibleUnits.Gaussian,
            _ => throw new ModelFileException(source, "architecture.visible_units", $"expected \"bernoulli\" or \"gaussian\", found {doc.Architecture["visible_units"]?.ToJsonString() ?? "nothing"}."),
        };
        if (doc.Architecture["layers"] is not JsonArray specs || specs.Count == 0)
            throw new ModelFileException(source, "architecture.layers", $"expected a non-empty array of layers, found {doc.Architecture["layers"]?.ToJsonString() ?? "nothing"}.");
        var layers = new List<ConvolutionalRbm>();
        int c = channels, h = height, w = width;
        for (int l = 0; l < specs.Count; l++)
        {
            string section = $"{A}.layers[{l}]";
            if (specs[l] is not JsonObject spec) throw new ModelFileException(source, section, $"expected an object, found {specs[l]?.ToJsonString() ?? "null"}.");
            int groups = ModelFields.PositiveInt(spec, section, "groups", source, 1 << 14);
            int filter = ModelFields.PositiveInt(spec, section, "filter", source, Math.Min(h, w));
            int block = ModelFields.PositiveInt(spec, section, "block", source, h - filter + 1);
            if ((h - filter + 1) % block != 0 || (w - filter + 1) % block != 0)
                throw new ModelFileException(source, $"{section}.block", $"the {block} x {block} block does not divide the {h - filter + 1} x {w - filter + 1} detection maps.");
            var rbm = new ConvolutionalRbm(backend, c, h, w, groups, filter, block, l == 0 ? visibleUnits : VisibleUnits.Bernoulli);
            backend.Upload(doc.FiniteTensor($"layer{l}/weights", [groups, c * filter * filter], source), rbm.Weights);
            backend.Upload(doc.FiniteTensor($"layer{l}/hidden_bias", [groups], source), rbm.HiddenBias);
            backend.Upload(doc.FiniteTensor($"layer{l}/visible_bias", [c], source), rbm.VisibleBias);
            layers.Add(rbm);
            (c, h, w) = (groups, rbm.PoolHeight, rbm.PoolWidth);
        }
        return new ConvolutionalDbn(layers);
    }
}
