using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;

namespace Shinso.Models.Perceptrons;

/// <summary>Saves and loads <see cref="Perceptron"/>s in Shinso's model file format (kind <c>perceptron</c>).</summary>
/// <remarks>Architecture: <c>{"inputs": 784, "units": 10}</c>; tensors <c>weights</c> [inputs, units] and <c>bias</c> [units].</remarks>
public static class PerceptronModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "perceptron";

    /// <summary>The document for <paramref name="perceptron"/>: its architecture, its weights and optional hyper-parameters and metadata.</summary>
    public static ModelDocument ToDocument(Perceptron perceptron, JsonObject? hyperParameters = null, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(perceptron);
        var doc = new ModelDocument(Kind)
        {
            Architecture = new JsonObject { ["inputs"] = perceptron.Scores.Inputs, ["units"] = perceptron.Units },
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.Add("weights", perceptron.Scores.Weight.Value);
        doc.Add("bias", perceptron.Scores.Bias.Value);
        return doc;
    }

    /// <summary>Writes <paramref name="perceptron"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(Perceptron perceptron, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null) =>
        ModelFile.Write(path, ToDocument(perceptron, hyperParameters, metadata));

    /// <summary>Reads a perceptron from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    /// <exception cref="ModelFileException">The file is not a perceptron or its tensors do not fit its architecture.</exception>
    public static Perceptron Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>Builds the perceptron a document describes and copies its weights in.</summary>
    /// <exception cref="ModelFileException">The document is not a perceptron or its tensors do not fit its architecture.</exception>
    public static Perceptron FromDocument(ModelDocument doc, string source, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Kind != Kind) throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a perceptron.");
        var architecture = new StrictJson(doc.Architecture, source, "architecture");
        int inputs = architecture.Int("inputs"), units = architecture.Int("units");
        if (inputs < 1 || units < 1) throw new ModelFileException(source, "architecture", $"sizes must be positive, found inputs {inputs}, units {units}.");
        // The stored tensors must fit the header before the header's sizes are allocated.
        if (!doc.TryGetTensor("weights", out var w) || w.Shape.Count != 2 || w.Shape[0] != inputs || w.Shape[1] != units)
            throw new ModelFileException(source, "tensor 'weights'", $"must be [{inputs}, {units}] as the architecture says.");
        if (!doc.TryGetTensor("bias", out var b) || b.Shape.Count != 1 || b.Shape[0] != units)
            throw new ModelFileException(source, "tensor 'bias'", $"must be [{units}] as the architecture says.");
        var perceptron = new Perceptron(backend, inputs, units);
        doc.CopyTensorTo("weights", perceptron.Scores.Weight.Value, source);
        doc.CopyTensorTo("bias", perceptron.Scores.Bias.Value, source);
        return perceptron;
    }
}
