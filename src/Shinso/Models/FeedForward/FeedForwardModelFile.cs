using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;

namespace Shinso.Models.FeedForward;

/// <summary>Saves and loads <see cref="FeedForwardNet"/>s in Shinso's model file format (kind <c>feedforward</c>).</summary>
public static class FeedForwardModelFile
{
    /// <summary>The model kind written into the file header.</summary>
    public const string Kind = "feedforward";

    /// <summary>The document for <paramref name="net"/>: its architecture, its parameters and optional metadata.</summary>
    /// <param name="net">The net.</param>
    /// <param name="hyperParameters">The config it trained with.</param>
    /// <param name="metadata">Free metadata.</param>
    /// <param name="kind">The kind the header records: <see cref="Kind"/>, or a family whose models are feed-forward nets (an autoencoder).</param>
    public static ModelDocument ToDocument(FeedForwardNet net, JsonObject? hyperParameters = null, JsonObject? metadata = null, string kind = Kind)
    {
        var doc = new ModelDocument(kind)
        {
            Architecture = net.Spec.ToJson(),
            HyperParameters = hyperParameters ?? [],
            Metadata = metadata ?? [],
        };
        doc.Metadata["seed"] = net.Seed;
        foreach (var p in net.Parameters) doc.Add(p.Name, p.Value);
        return doc;
    }

    /// <summary>Writes <paramref name="net"/> to <paramref name="path"/> (atomically: temp file, then rename).</summary>
    public static void Save(FeedForwardNet net, string path, JsonObject? hyperParameters = null, JsonObject? metadata = null, string kind = Kind) =>
        ModelFile.Write(path, ToDocument(net, hyperParameters, metadata, kind));

    /// <summary>Reads a feed-forward model from <paramref name="path"/> onto <paramref name="backend"/>.</summary>
    public static FeedForwardNet Load(string path, IBackend backend) => FromDocument(ModelFile.Read(path), path, backend);

    /// <summary>The kinds of model whose files hold a feed-forward net as they are (besides <c>feedforward</c> and <c>feedforward-*</c>).</summary>
    public static IReadOnlyList<string> NetKinds { get; } = [AutoencoderKind];

    /// <summary>The kind of an autoencoder's file: a feed-forward net with a code layer, trained to reconstruct its input.</summary>
    public const string AutoencoderKind = "autoencoder";

    /// <summary>Builds the network a document describes and copies its parameters in.</summary>
    public static FeedForwardNet FromDocument(ModelDocument doc, string source, IBackend backend, string tensorPrefix = "")
    {
        if (doc.Kind != Kind && !doc.Kind.StartsWith(Kind + "-", StringComparison.Ordinal) && !NetKinds.Contains(doc.Kind))
            throw new ModelFileException(source, "kind", $"the file holds a '{doc.Kind}' model, not a feed-forward net.");
        var spec = FeedForwardSpec.FromJson(new StrictJson(doc.Architecture, source, "architecture"));
        ulong seed = doc.Metadata.TryGetPropertyValue("seed", out var s) && s is JsonValue v && v.TryGetValue<ulong>(out ulong u) ? u : 0;
        var net = new FeedForwardNet(backend, spec, seed);
        foreach (var p in net.Parameters) doc.CopyTensorTo(tensorPrefix + p.Name, p.Value, source);
        return net;
    }
}
