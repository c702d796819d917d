using System.Globalization;
using System.Text;
using Google.Protobuf;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Models.Autoencoders;
using Shinso.Models.Boltzmann;
using Shinso.Models.ConvolutionalBoltzmann;
using Shinso.Models.FeedForward;
using Shinso.Models.Perceptrons;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx;

/// <summary>
/// Exports Shinso models to ONNX (IR version 8, opsets 13 to 17) with a symbolic batch dimension, for ONNX Runtime
/// and other ONNX consumers. Every model with a feed-forward form goes through one path: it becomes a
/// <see cref="FeedForwardForm"/> and that form's network is written layer by layer. Files are written atomically.
/// </summary>
/// <example>
/// <code>
/// OnnxExporter.Export(net, "model.onnx");                                         // a FeedForwardNet, opset 13
/// OnnxExporter.Export(rbm, "decoder.onnx", new() { RbmPart = RbmPart.Decoder, Opset = 17 });
/// OnnxExporter.Export(dbn, "dbn.onnx");                                           // label probabilities of the up pass
/// OnnxExporter.ExportModelFile("runs/x/model.shinso", "model.onnx");                 // any exportable model file
/// </code>
/// </example>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written (8: ONNX 1.10 to 1.12, opsets up to 17).</summary>
    public const int IrVersion = 8;

    /// <summary>The operator set used when none is asked for.</summary>
    public const int DefaultOpset = 13;

    /// <summary>The oldest operator set the exporter writes (Softmax, ReduceSum and friends took their current form in 13).</summary>
    public const int MinOpset = 13;

    /// <summary>The newest operator set the exporter writes (the newest that IR version 8 and Debian's onnx 1.12 checker know).</summary>
    public const int MaxOpset = 17;

    /// <summary>How a model document of one kind becomes its feed-forward form (source names the file in errors).</summary>
    private delegate FeedForwardForm FormReader(ModelDocument document, string kind, string source, IBackend backend, RbmPart rbmPart);

    /// <summary>Every exportable model-file kind, registered once (with variants: <c>KIND-*</c> too, such as checkpoints); a new family with a feed-forward form adds one entry.</summary>
    private static readonly (string Kind, bool WithVariants, FormReader Read)[] Forms =
    [
        (FeedForwardModelFile.Kind, true, (d, kind, source, be, _) => FeedForwardForm.Of(FeedForwardModelFile.FromDocument(d, source, be), kind)),
        (RbmModelFile.Kind, false, (d, _, source, be, part) => FeedForwardForm.Of(RbmModelFile.FromDocument(d, source, be), part)),
        (DbnModelFile.Kind, false, (d, _, source, be, _) => FeedForwardForm.Of(DbnModelFile.FromDocument(d, source, be))),
        (Autoencoder.FileKind, false, (d, kind, source, be, part) => FeedForwardForm.Of(FeedForwardModelFile.FromDocument(d, source, be), part, kind)),
        (PerceptronModelFile.Kind, false, (d, kind, source, be, _) =>
            new FeedForwardForm(PerceptronModelFile.FromDocument(d, source, be).Net, kind, d.Architecture.DeepClone().AsObject(), "decisions")),
        (ConvolutionalDbnModelFile.Kind, false, (d, kind, source, be, _) =>
            new FeedForwardForm(ConvolutionalDbnModelFile.FromDocument(d, source, be).ToFeedForwardNet(seed: 1), kind, d.Architecture.DeepClone().AsObject(), "features",
                "images", "pooled_probabilities")),
    ];

    /// <summary>The model-file kinds <see cref="ExportModelFile"/> accepts (plus <c>feedforward-*</c> variants, such as checkpoints).</summary>
    public static IReadOnlyList<string> ExportableKinds { get; } = [.. Forms.Select(f => f.Kind)];

    /// <summary>Writes <paramref name="net"/>'s predictions (dropout left out, the loss's output function applied) to <paramref name="path"/>.</summary>
    /// <param name="net">The network.</param>
    /// <param name="path">The .onnx file; written atomically, its folder created if missing.</param>
    /// <param name="options">Opset and operator choices; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void Export(FeedForwardNet net, string path, OnnxExportOptions? options = null) => Export(FeedForwardForm.Of(net), path, options);

    /// <summary>Writes the half of <paramref name="rbm"/> chosen by <see cref="OnnxExportOptions.RbmPart"/> (the encoder by default).</summary>
    /// <param name="rbm">The machine.</param>
    /// <param name="path">The .onnx file; written atomically, its folder created if missing.</param>
    /// <param name="options">Opset, operator choices and the RBM part; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void Export(RestrictedBoltzmannMachine rbm, string path, OnnxExportOptions? options = null) =>
        Export(FeedForwardForm.Of(rbm, (options ?? OnnxExportOptions.Default).RbmPart), path, options);

    /// <summary>
    /// Writes <paramref name="dbn"/>'s deterministic up-pass classifier (see <see cref="FeedForwardForm.Of(DeepBeliefNet)"/>):
    /// data <c>[batch, n_0]</c> in, the label probabilities of <see cref="DeepBeliefNet.LabelProbabilities"/> out.
    /// </summary>
    /// <param name="dbn">The deep belief net.</param>
    /// <param name="path">The .onnx file; written atomically, its folder created if missing.</param>
    /// <param name="options">Opset and operator choices; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void Export(DeepBeliefNet dbn, string path, OnnxExportOptions? options = null) => Export(FeedForwardForm.Of(dbn), path, options);

    /// <summary>Writes a model's feed-forward form to <paramref name="path"/>; the path every exportable model takes.</summary>
    /// <param name="form">The network and where it came from.</param>
    /// <param name="path">The .onnx file; written atomically, its folder created if missing.</param>
    /// <param name="options">Opset and operator choices; <see cref="OnnxExportOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void Export(FeedForwardForm form, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(form, options);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The serialized ONNX <c>ModelProto</c> of <paramref name="form"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static byte[] ToBytes(FeedForwardForm form, OnnxExportOptions? options = null) => BuildModel(form, options).ToByteArray();

    /// <summary>
    /// Reads a Shinso model file and writes its feed-forward form (see <see cref="FromDocument"/>) to <paramref name="onnxPath"/>.
    /// </summary>
    /// <exception cref="ModelFileException">The file cannot be read, or its kind has no feed-forward form.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void ExportModelFile(string modelPath, string onnxPath, OnnxExportOptions? options = null)
    {
        options ??= OnnxExportOptions.Default;
        CheckOpset(options.Opset);
        var document = ModelFile.Read(modelPath);
        // Export only reads parameters, so one thread is plenty.
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        Export(FromDocument(document, modelPath, backend, options.RbmPart), onnxPath, options);
    }

    /// <summary>
    /// The feed-forward form of a model document: a <c>feedforward</c> (or <c>feedforward-*</c>) net as it is, an
    /// <c>rbm</c> or an <c>autoencoder</c> as its encoder or decoder, a <c>dbn</c> as its deterministic up-pass classifier, a <c>perceptron</c> as its
    /// threshold units' decisions, a <c>cdbn</c> as its deterministic feature extractor (convolutions and probabilistic max-pooling's expectation). Each new model family with a feed-forward form adds one entry to the registry of forms.
    /// </summary>
    /// <param name="document">The model file's content.</param>
    /// <param name="source">The file it came from, for error messages.</param>
    /// <param name="backend">Where the converted network's parameters live.</param>
    /// <param name="rbmPart">Which half an RBM exports as.</param>
    /// <exception cref="ModelFileException">The kind has no feed-forward form, or the document is invalid for its kind.</exception>
    public static FeedForwardForm FromDocument(ModelDocument document, string source, IBackend backend, RbmPart rbmPart = RbmPart.Encoder)
    {
        ArgumentNullException.ThrowIfNull(document);
        string kind = document.Kind;
        foreach (var (registered, withVariants, read) in Forms)
            if (kind == registered || (withVariants && kind.StartsWith(registered + "-", StringComparison.Ordinal)))
                return read(document, kind, source, backend, rbmPart);
        throw new ModelFileException(source, "kind",
            $"a '{kind}' model has no feed-forward form, so it cannot be exported to ONNX; exportable kinds: {string.Join(", ", ExportableKinds)}.");
    }

    /// <summary>Throws unless <paramref name="opset"/> is one the exporter writes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</exception>
    public static void CheckOpset(int opset)
    {
        if (opset < MinOpset || opset > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset,
                $"ONNX opset {opset} is not supported; Shinso exports opsets {MinOpset} to {MaxOpset} (IR version {IrVersion}).");
    }

    /// <summary>The whole ONNX model: graph, opset import, producer and provenance metadata.</summary>
    internal static ModelProto BuildModel(FeedForwardForm form, OnnxExportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(form);
        options ??= OnnxExportOptions.Default;
        CheckOpset(options.Opset);
        var graph = new OnnxGraphBuilder();
        FeedForwardGraph.Write(graph, form, options);
        string version = ModelFile.ShinsoVersion;
        string architecture = form.Architecture.ToJsonString();
        graph.Graph.Name = $"Shinso {version} {form.Kind} {form.Part}: {Summary(form)}";
        graph.Graph.DocString = $"Shinso {version} export of a '{form.Kind}' model ({form.Part}). Architecture: {architecture}";
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Shinso",
            ProducerVersion = version,
            ModelVersion = 1,
            DocString = graph.Graph.DocString,
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "shinso.version", Value = version });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "shinso.kind", Value = form.Kind });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "shinso.part", Value = form.Part });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "shinso.architecture", Value = architecture });
        return model;
    }

    /// <summary>A one-line architecture, e.g. <c>[1x28x28] conv6k5s1p2 relu maxpool2s2 flatten dense10 | softmax-cross-entropy</c>.</summary>
    internal static string Summary(FeedForwardSpec spec)
    {
        var text = new StringBuilder().Append('[').AppendJoin('x', spec.InputShape).Append(']');
        foreach (var l in spec.Layers)
        {
            text.Append(' ').Append(l.Summary);
        }
        return text.Append(" | ").Append(spec.Loss).ToString();
    }

    /// <summary><see cref="Summary(FeedForwardSpec)"/> of the form's net, or for a net with a label head its layers and then the head, e.g. <c>[20] dense12 sigmoid | top RBM 12+3x10, free-energy softmax</c>.</summary>
    internal static string Summary(FeedForwardForm form)
    {
        string net = Summary(form.Net.Spec);
        if (form.LabelHead is not { } head) return net;
        return string.Concat(net.AsSpan(0, net.LastIndexOf(" | ", StringComparison.Ordinal)),
            string.Create(CultureInfo.InvariantCulture, $" | top RBM {head.PenultimateCount}+{head.LabelCount}x{head.TopCount}, free-energy softmax"));
    }
}
