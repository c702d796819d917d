using Google.Protobuf;
using Shinso.Backends;
using Shinso.Onnx.Import.Operators;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx.Import;

/// <summary>A graph input or output as the file declares it.</summary>
/// <param name="Name">The value's name.</param>
/// <param name="ElementType">The declared element type code (ONNX <c>TensorProto.DataType</c>), 0 when not declared.</param>
/// <param name="Shape">Each dimension's size, or null where it is symbolic (such as a batch dimension) or not declared; null for no declared shape.</param>
public sealed record OnnxValueInfo(string Name, int ElementType, IReadOnlyList<long?>? Shape)
{
    /// <summary>The shape as text, e.g. <c>[batch, 784]</c>.</summary>
    public string ShapeText(IReadOnlyList<string?>? names = null) =>
        Shape is null ? "(no shape)" : $"[{string.Join(", ", Shape.Select((d, i) => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? names?[i] ?? "?"))}]";
}

/// <summary>
/// An ONNX model read from a file (IR versions 3 to 9, default-domain opsets 1 to 17), validated and ready to run on any
/// backend: the graph's nodes in order, its initialisers decoded, every operator known. Running it evaluates the nodes one
/// by one; convolutions, matrix products, pooling, normalisation, softmax and the activations Shinso has kernels for run
/// through the backend seam, the shape operators and the remaining elementwise ones on the host.
/// </summary>
/// <example>
/// <code>
/// var model = OnnxModel.Load("model.onnx");
/// var outputs = model.Run(backend, new Dictionary&lt;string, OnnxValue&gt; { ["input"] = OnnxValue.FromFloats([1, 784], pixels) });
/// </code>
/// </example>
public sealed class OnnxModel
{
    /// <summary>The oldest IR version read.</summary>
    public const int MinIrVersion = 3;

    /// <summary>The newest IR version read.</summary>
    public const int MaxIrVersion = 9;

    /// <summary>The oldest default-domain opset read (operators whose early versions differ, such as Add's pre-7 broadcast attribute, say so when they meet one).</summary>
    public const int MinOpset = 1;

    /// <summary>The newest default-domain opset read.</summary>
    public const int MaxOpset = 17;

    private readonly GraphProto _graph;
    private readonly OnnxGraph _root;

    private OnnxModel(string source, ModelProto model, OnnxGraph root, IReadOnlyList<OnnxValueInfo> inputs, IReadOnlyList<OnnxValueInfo> outputs, int opset)
    {
        Source = source;
        _graph = model.Graph;
        _root = root;
        Inputs = inputs;
        Outputs = outputs;
        Opset = opset;
        IrVersion = (int)model.IrVersion;
        Producer = (model.ProducerName + " " + model.ProducerVersion).Trim();
    }

    /// <summary>The graph as read (for the converters that recognise layer chains).</summary>
    internal GraphProto Graph => _graph;

    /// <summary>The decoded initialisers by name.</summary>
    internal IReadOnlyDictionary<string, OnnxValue> Initialisers => _root.Initialisers;

    /// <summary>Where the model came from, as errors name it.</summary>
    public string Source { get; }

    /// <summary>The IR version of the file.</summary>
    public int IrVersion { get; }

    /// <summary>The default domain's operator-set version.</summary>
    public int Opset { get; }

    /// <summary>The tool that wrote the file, as it says (may be empty).</summary>
    public string Producer { get; }

    /// <summary>The inputs a caller feeds (graph inputs that are not initialisers).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>The graph's outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>The distinct operators of the graph, in the order they first appear.</summary>
    public IReadOnlyList<string> Operators => _graph.Node.Select(n => n.OpType).Distinct().ToList();

    /// <summary>The nodes.</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>Elements of the float initialisers: the parameter count.</summary>
    public long ParameterCount => _root.Initialisers.Values.Where(v => v.ElementType == OnnxElementType.Float).Sum(v => (long)v.Length);

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="OnnxImportException">The file is missing, is not a valid ONNX model, or its graph is malformed.</exception>
    /// <exception cref="OnnxUnsupportedException">The graph needs an operator, opset or element type Shinso does not implement.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new OnnxImportException($"{path} does not exist.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new OnnxImportException($"{path}: {e.Message}", e); }
        return Parse(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Reads and validates a model from <paramref name="bytes"/>; <paramref name="source"/> names it in errors and <paramref name="directory"/> holds its external data files, if any.</summary>
    /// <exception cref="OnnxImportException">The bytes are not a valid ONNX model, or its graph is malformed.</exception>
    /// <exception cref="OnnxUnsupportedException">The graph needs an operator, opset or element type Shinso does not implement.</exception>
    public static OnnxModel Parse(byte[] bytes, string source, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new OnnxImportException($"{source} is not an ONNX model (protobuf: {e.Message}).", e); }
        try { return Validate(model, source, directory); }
        catch (ArgumentException e) { throw new OnnxImportException($"{source}: {e.Message}", e); }
    }

    private static OnnxModel Validate(ModelProto model, string source, string? directory)
    {
        if (!model.HasIrVersion || model.IrVersion < MinIrVersion || model.IrVersion > MaxIrVersion)
            throw new OnnxUnsupportedException($"{source}: ir_version is {(model.HasIrVersion ? model.IrVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) : "missing")}; Shinso reads {MinIrVersion} to {MaxIrVersion}.", "");
        var graph = model.Graph ?? throw new OnnxImportException($"{source}: the model has no graph.");
        int opset = -1;
        foreach (var o in model.OpsetImport)
            if (o.Domain is "" or "ai.onnx") opset = (int)Math.Min(o.Version, int.MaxValue);
        bool defaultDomain = graph.Node.Any(n => n.Domain is "" or "ai.onnx");
        if (opset < 0 && defaultDomain) throw new OnnxImportException($"{source}: opset_import names no default-domain (ai.onnx) operator set.");
        if (defaultDomain && (opset < MinOpset || opset > MaxOpset))
            throw new OnnxUnsupportedException($"{source}: the default domain's opset is {opset}; Shinso reads {MinOpset} to {MaxOpset}.", "");

        var root = OnnxGraph.Build(graph, source, directory, opset, new HashSet<string>(StringComparer.Ordinal));
        var inputs = graph.Input.Where(i => !root.Initialisers.ContainsKey(i.Name)).Select(i => Info(i, source, "input")).ToList();
        var outputs = graph.Output.Select(o => Info(o, source, "output")).ToList();
        return new OnnxModel(source, model, root, inputs, outputs, opset);
    }

    /// <summary>
    /// Evaluates the graph on <paramref name="backend"/> for <paramref name="inputs"/> (by name) and returns every graph output by name.
    /// </summary>
    /// <exception cref="OnnxImportException">An input is missing or has the wrong element type or rank, or a node's inputs do not fit it.</exception>
    /// <exception cref="OnnxUnsupportedException">A node needs a form of its operator Shinso does not implement.</exception>
    public IReadOnlyDictionary<string, OnnxValue> Run(IBackend backend, IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(inputs);
        var bound = new OnnxValue[Inputs.Count];
        for (int k = 0; k < Inputs.Count; k++)
        {
            var info = Inputs[k];
            if (!inputs.TryGetValue(info.Name, out var value)) throw new OnnxImportException($"{Source}: input '{info.Name}' is not given; the model needs {string.Join(", ", Inputs.Select(i => i.Name))}.");
            if (info.ElementType != 0 && info.ElementType != (int)value.ElementType)
                throw new OnnxImportException($"{Source}: input '{info.Name}' is declared with element type {info.ElementType}, but a {value} tensor was given.");
            if (info.Shape is { } shape)
            {
                bool fits = shape.Count == value.Rank;
                for (int d = 0; fits && d < shape.Count; d++) fits = shape[d] is not long size || size == value.Shape[d];
                if (!fits) throw new OnnxImportException($"{Source}: input '{info.Name}' is declared {info.ShapeText()}, but a {value} tensor was given.");
            }
            bound[k] = value;
        }
        foreach (var name in inputs.Keys)
            if (!Inputs.Any(i => i.Name == name)) throw new OnnxImportException($"{Source}: '{name}' is not an input of the model; it takes {string.Join(", ", Inputs.Select(i => i.Name))}.");
        var results = _root.Run(backend, null, bound);
        var named = new Dictionary<string, OnnxValue>(StringComparer.Ordinal);
        for (int o = 0; o < Outputs.Count; o++) named[Outputs[o].Name] = results[o];
        return named;
    }

    private static OnnxValueInfo Info(ValueInfoProto v, string source, string role)
    {
        if (v.Type is { } type && type.TensorType is null)
            throw new OnnxUnsupportedException($"{source}: graph {role} '{v.Name}' is not a tensor (a sequence, map or optional value); Shinso imports tensor graphs.", "");
        var tensor = v.Type?.TensorType;
        IReadOnlyList<long?>? shape = tensor?.Shape is { } s
            ? s.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null).ToList()
            : null;
        return new OnnxValueInfo(v.Name, tensor?.ElemType ?? 0, shape);
    }
}
