using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;

namespace Shinso.Models.Boltzmann;

/// <summary>Saves and loads <see cref="RestrictedBoltzmannMachine"/>s in Shinso's model file format (kind <c>rbm</c>).</summary>
/// <remarks>
/// Architecture: <c>{"visible": 784, "hidden": 500, "visible_units": "bernoulli" | "gaussian", "learn_sigma": false}</c>;
/// tensors <c>weights</c> [visible, hidden], <c>visible_bias</c>, <c>hidden_bias</c> and, for Gaussian units, <c>log_sigma</c>.
/// </remarks>
public static class RbmModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "rbm";

    /// <summary>The document for <paramref name="rbm"/>: its architecture, its parameters and optional metadata.</summary>
    public static ModelDocument ToDocument(RestrictedBoltzmannMachine rbm, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        var doc = new ModelDocument(Kind)
        {
            Architecture = ArchitectureJson(rbm),
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.Metadata["seed"] = rbm.Seed;
        AddTensors(doc, rbm);
        return doc;
    }

    /// <summary>The architecture object of <paramref name="rbm"/>.</summary>
    public static JsonObject ArchitectureJson(RestrictedBoltzmannMachine rbm) => new()
    {
        ["visible"] = rbm.VisibleCount,
        ["hidden"] = rbm.HiddenCount,
        ["visible_units"] = rbm.Units == VisibleUnits.Bernoulli ? "bernoulli" : "gaussian",
        ["learn_sigma"] = rbm.LearnSigma,
    };

    /// <summary>Adds the machine's tensors to <paramref name="doc"/>, names prefixed with <paramref name="tensorPrefix"/>.</summary>
    public static void AddTensors(ModelDocument doc, RestrictedBoltzmannMachine rbm, string tensorPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(rbm);
        doc.Add(tensorPrefix + "weights", rbm.Weights);
        doc.Add(tensorPrefix + "visible_bias", rbm.VisibleBias);
        doc.Add(tensorPrefix + "hidden_bias", rbm.HiddenBias);
        if (rbm.Units == VisibleUnits.Gaussian) doc.Add(tensorPrefix + "log_sigma", rbm.LogSigma);
    }

    /// <summary>Writes <paramref name="rbm"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(RestrictedBoltzmannMachine rbm, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(rbm, hyperParameters, metadata));

    /// <summary>Reads an RBM from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The file is not an RBM or its tensors do not fit its architecture.</exception>
    public static RestrictedBoltzmannMachine Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>Builds the machine a document describes and copies its parameters in.</summary>
    /// <exception cref="ModelFileException">The document is not an RBM or its tensors do not fit its architecture.</exception>
    public static RestrictedBoltzmannMachine FromDocument(ModelDocument doc, string source, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != Kind)
            throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not an RBM.");
        ulong seed = doc.Metadata.TryGetPropertyValue("seed", out var s) && s is JsonValue v && v.TryGetValue<ulong>(out ulong u) ? u : 0;
        return FromArchitecture(new StrictJson(doc.Architecture, source, "architecture"), doc, source, backend, seed);
    }

    /// <summary>Builds a machine from an architecture object and copies the tensors named with <paramref name="tensorPrefix"/>.</summary>
    /// <exception cref="ModelFileException">A tensor is missing or has the wrong shape, or the architecture is invalid.</exception>
    public static RestrictedBoltzmannMachine FromArchitecture(StrictJson architecture, ModelDocument doc, string source, IBackend backend,
        ulong seed = 0, string tensorPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(doc);
        int visible = architecture.Int("visible"), hidden = architecture.Int("hidden");
        string units = architecture.String("visible_units", "bernoulli");
        bool learnSigma = architecture.Bool("learn_sigma", false);
        VisibleUnits kind = units switch
        {
            "bernoulli" => VisibleUnits.Bernoulli,
            "gaussian" => VisibleUnits.Gaussian,
            _ => throw new ModelFileException(source, "architecture.visible_units", $"expected 'bernoulli' or 'gaussian', found '{units}'."),
        };
        if (visible < 1 || hidden < 1)
            throw new ModelFileException(source, "architecture", $"layer sizes must be positive, found visible {visible}, hidden {hidden}.");
        if (learnSigma && kind != VisibleUnits.Gaussian)
            throw new ModelFileException(source, "architecture.learn_sigma", "only Gaussian visible units learn sigma.");
        var rbm = new RestrictedBoltzmannMachine(backend, visible, hidden, kind, learnSigma, seed, initialWeightStd: 0f);
        doc.CopyTensorTo(tensorPrefix + "weights", rbm.Weights, source);
        doc.CopyTensorTo(tensorPrefix + "visible_bias", rbm.VisibleBias, source);
        doc.CopyTensorTo(tensorPrefix + "hidden_bias", rbm.HiddenBias, source);
        if (kind == VisibleUnits.Gaussian) doc.CopyTensorTo(tensorPrefix + "log_sigma", rbm.LogSigma, source);
        rbm.RefreshSigma();
        return rbm;
    }
}
