using System.Text;
using Shinso.Backends;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx.Import;

/// <summary>What an operator sees of its node when it runs: the inputs, the attributes, the opset and the backend.</summary>
internal sealed class NodeContext(NodeProto node, OnnxValue?[] inputs, int opset, IBackend backend, string source,
    IReadOnlyDictionary<string, OnnxGraph>? subgraphs = null, ValueScope? scope = null)
{
    /// <summary>The node.</summary>
    public NodeProto Node { get; } = node;

    /// <summary>The inputs in order; null where an optional input is left out (an empty name).</summary>
    public OnnxValue?[] Inputs { get; } = inputs;

    /// <summary>The default domain's operator-set version the graph imports.</summary>
    public int Opset { get; } = opset;

    /// <summary>Where the heavy passes run.</summary>
    public IBackend Backend { get; } = backend;

    /// <summary>The values of the graph the node runs in, which its subgraphs read by name.</summary>
    public ValueScope? Scope { get; } = scope;

    /// <summary>The validated graph held by the GRAPH attribute <paramref name="name"/>.</summary>
    public OnnxGraph Subgraph(string name) =>
        subgraphs?.GetValueOrDefault(name) ?? throw Error($"the graph attribute '{name}' is required.");

    /// <summary>The node as errors name it, e.g. <c>node 'conv1' (Conv) of model.onnx</c>.</summary>
    public string Describe => $"node '{(Node.Name.Length > 0 ? Node.Name : string.Join(",", Node.Output))}' ({Node.OpType}) of {source}";

    /// <summary>How many outputs the graph asks of the node (trailing empty names do not count).</summary>
    public int OutputCount
    {
        get
        {
            int n = Node.Output.Count;
            while (n > 0 && Node.Output[n - 1].Length == 0) n--;
            return n;
        }
    }

    /// <summary>An error naming the node.</summary>
    public OnnxImportException Error(string message) => new($"{Describe}: {message}");

    /// <summary>An error saying the node needs something Shinso does not implement.</summary>
    public OnnxUnsupportedException Unsupported(string message) => new($"{Describe}: {message}", Node.OpType);

    /// <summary>Input <paramref name="index"/>, which must be present.</summary>
    public OnnxValue Input(int index) =>
        Optional(index) ?? throw Error($"input {index} is required but {(index < Node.Input.Count ? "empty" : "missing")}.");

    /// <summary>Input <paramref name="index"/>, or null when left out.</summary>
    public OnnxValue? Optional(int index) => index < Inputs.Length ? Inputs[index] : null;

    /// <summary>Input <paramref name="index"/> as floats.</summary>
    public float[] Floats(int index)
    {
        var v = Input(index);
        return v.Floats ?? throw Unsupported($"input {index} is {v}; this operator computes on float tensors only.");
    }

    /// <summary>Input <paramref name="index"/> as integers (an int64 or int32 tensor, e.g. a shape), or null when left out.</summary>
    public long[]? IntegersOrNull(int index)
    {
        var v = Optional(index);
        if (v is null) return null;
        return v.Integers ?? throw Error($"input {index} must be an integer tensor, not {v}.");
    }

    /// <summary>The attribute <paramref name="name"/>, or null.</summary>
    public AttributeProto? Attribute(string name)
    {
        foreach (var a in Node.Attribute)
            if (a.Name == name) return a;
        return null;
    }

    /// <summary>An INT attribute, or <paramref name="fallback"/> when absent.</summary>
    public long Int(string name, long fallback) => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Int).I : fallback;

    /// <summary>A FLOAT attribute, or <paramref name="fallback"/> when absent.</summary>
    public float Float(string name, float fallback) => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Float).F : fallback;

    /// <summary>A STRING attribute, or <paramref name="fallback"/> when absent.</summary>
    public string String(string name, string fallback) =>
        Attribute(name) is { } a ? Encoding.UTF8.GetString(Expect(a, AttributeProto.Types.AttributeType.String).S.Span) : fallback;

    /// <summary>An INTS attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Ints).Ints.ToArray() : null;

    /// <summary>A FLOATS attribute, or null when absent.</summary>
    public float[]? FloatList(string name) => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Floats).Floats.ToArray() : null;

    /// <summary>An axis attribute or value normalised to <c>0 .. rank-1</c>.</summary>
    public int Axis(long axis, int rank, string what = "axis")
    {
        if (rank == 0) throw Error($"{what} {axis} names an axis of a scalar, which has none.");
        if (axis < -rank || axis >= rank)
            throw Error($"{what} {axis} is out of range for rank {rank}; expected {-rank} to {rank - 1}.");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    private AttributeProto Expect(AttributeProto a, AttributeProto.Types.AttributeType type)
    {
        // Old writers leave the type unset; the field that holds the value says it then.
        if (a.HasType && a.Type != type) throw Error($"attribute '{a.Name}' is {a.Type}; expected {type}.");
        return a;
    }
}
