using Shinso.Backends;
using Shinso.Onnx.Import.Operators;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx.Import;

/// <summary>
/// The values visible while a graph runs: its own (initialisers, inputs, node outputs) and, for a subgraph of If, Loop or
/// Scan, those of the graphs around it, which ONNX lets a subgraph read by name.
/// </summary>
internal sealed class ValueScope(ValueScope? outer)
{
    private readonly Dictionary<string, OnnxValue> _own = new(StringComparer.Ordinal);

    /// <summary>The value named <paramref name="name"/>, looked up from the innermost graph outwards.</summary>
    public OnnxValue this[string name]
    {
        get
        {
            for (var scope = this; scope is not null; scope = scope.Outer)
                if (scope._own.TryGetValue(name, out var value)) return value;
            throw new KeyNotFoundException(name); // validation guarantees every name a node reads is defined
        }
    }

    /// <summary>The scope around this one, or null for the model's graph.</summary>
    public ValueScope? Outer { get; } = outer;

    /// <summary>Defines (or, for a loop body's next iteration, redefines) <paramref name="name"/> in this scope.</summary>
    public void Set(string name, OnnxValue value) => _own[name] = value;
}

/// <summary>
/// One validated graph: the model's own, or a subgraph held in a node's GRAPH attribute (If's branches, Loop's and Scan's
/// bodies). Validation checks that every name a node reads is defined earlier in this graph or in an enclosing one, that each
/// name is assigned once across the graph and its subgraphs, that every operator (nested graphs' included) is implemented,
/// and that If's branches and Loop's and Scan's bodies take and give as many values as their nodes.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly OnnxOperator[] _operators;
    private readonly IReadOnlyDictionary<string, OnnxGraph>?[] _subgraphs;

    private OnnxGraph(GraphProto proto, string source, int opset, Dictionary<string, OnnxValue> initialisers,
        OnnxOperator[] operators, IReadOnlyDictionary<string, OnnxGraph>?[] subgraphs, IReadOnlyList<string> inputNames)
    {
        Proto = proto;
        Source = source;
        Opset = opset;
        Initialisers = initialisers;
        _operators = operators;
        _subgraphs = subgraphs;
        InputNames = inputNames;
    }

    /// <summary>The graph as read.</summary>
    public GraphProto Proto { get; }

    /// <summary>The graph as errors name it (the file, and for a subgraph the node and attribute holding it).</summary>
    public string Source { get; }

    /// <summary>The default domain's operator-set version.</summary>
    public int Opset { get; }

    /// <summary>The decoded initialisers by name.</summary>
    public Dictionary<string, OnnxValue> Initialisers { get; }

    /// <summary>The names of the inputs a caller binds (graph inputs that are not initialisers), in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Validates <paramref name="graph"/>; <paramref name="outer"/> holds the names its enclosing graphs define before it.</summary>
    public static OnnxGraph Build(GraphProto graph, string source, string? directory, int opset, IReadOnlySet<string> outer)
    {
        var defined = new HashSet<string>(outer, StringComparer.Ordinal);
        var own = new HashSet<string>(StringComparer.Ordinal);
        var initialisers = new Dictionary<string, OnnxValue>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer)
        {
            if (t.Name.Length == 0) throw new OnnxImportException($"{source}: an initialiser has no name.");
            if (!initialisers.TryAdd(t.Name, TensorDecoding.Decode(t, $"{source}: initialiser '{t.Name}'", directory)))
                throw new OnnxImportException($"{source}: initialiser '{t.Name}' is defined twice.");
            Unshadowed(t.Name, outer, source);
            defined.Add(t.Name);
            own.Add(t.Name);
        }
        var inputNames = new List<string>();
        foreach (var i in graph.Input)
        {
            if (initialisers.ContainsKey(i.Name)) continue; // IR < 4 lists initialisers among the inputs
            if (i.Name.Length == 0) throw new OnnxImportException($"{source}: a graph input has no name.");
            if (!own.Add(i.Name)) throw new OnnxImportException($"{source}: graph input '{i.Name}' is defined twice.");
            RefuseNonTensor(i, source, "input");
            Unshadowed(i.Name, outer, source);
            defined.Add(i.Name);
            inputNames.Add(i.Name);
        }

        var operators = new OnnxOperator[graph.Node.Count];
        var subgraphs = new IReadOnlyDictionary<string, OnnxGraph>?[graph.Node.Count];
        for (int n = 0; n < graph.Node.Count; n++)
        {
            var node = graph.Node[n];
            string name = $"node {n} '{(node.Name.Length > 0 ? node.Name : string.Join(",", node.Output))}' ({node.OpType}) of {source}";
            if (node.Domain is not ("" or "ai.onnx"))
                throw new OnnxUnsupportedException($"{name}: operators of domain '{node.Domain}' are not supported; Shinso implements the default domain.", node.OpType);
            operators[n] = OperatorRegistry.Find(node.OpType)
                ?? throw new OnnxUnsupportedException($"{name}: operator {node.OpType} is not supported; Shinso implements {string.Join(", ", OperatorRegistry.Names)}.", node.OpType);
            foreach (var input in node.Input)
                if (input.Length > 0 && !defined.Contains(input))
                    throw new OnnxImportException($"{name}: input '{input}' is not defined by the graph's inputs, its initialisers, an earlier node or an enclosing graph (the graph is cyclic, out of order or refers to a missing tensor).");
            var attributeNames = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, OnnxGraph>? nested = null;
            foreach (var attribute in node.Attribute)
            {
                if (!attributeNames.Add(attribute.Name)) throw new OnnxImportException($"{name}: attribute '{attribute.Name}' is given twice.");
                if (attribute.Type == AttributeProto.Types.AttributeType.Graphs || attribute.Graphs.Count > 0)
                    throw new OnnxUnsupportedException($"{name}: attribute '{attribute.Name}' holds a list of graphs, which no operator Shinso implements takes.", node.OpType);
                if (attribute.G is null) continue;
                // A subgraph sees what is defined before its node, never the node's own outputs.
                nested ??= new Dictionary<string, OnnxGraph>(StringComparer.Ordinal);
                nested[attribute.Name] = Build(attribute.G, $"subgraph '{attribute.Name}' of {name}", directory, opset, defined);
            }
            subgraphs[n] = nested;
            ControlFlowOperators.CheckSignature(node, subgraphs[n], name, opset);
            foreach (var output in node.Output)
                if (output.Length > 0 && outer.Contains(output))
                    throw new OnnxImportException($"{name}: output '{output}' is already defined by an enclosing graph (ONNX names each value once across a graph and its subgraphs).");
                else if (output.Length > 0 && !own.Add(output))
                    throw new OnnxImportException($"{name}: output '{output}' is already defined (ONNX graphs assign each name once).");
                else if (output.Length > 0) defined.Add(output);
        }
        var outputNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in graph.Output)
        {
            RefuseNonTensor(o, source, "output");
            if (!outputNames.Add(o.Name)) throw new OnnxImportException($"{source}: graph output '{o.Name}' is listed twice.");
            if (!defined.Contains(o.Name)) throw new OnnxImportException($"{source}: graph output '{o.Name}' is not computed by any node.");
        }
        return new OnnxGraph(graph, source, opset, initialisers, operators, subgraphs, inputNames);
    }

    /// <summary>ONNX names a value once across a graph and its subgraphs: a subgraph may read an enclosing graph's name, not redefine it.</summary>
    private static void Unshadowed(string name, IReadOnlySet<string> outer, string source)
    {
        if (outer.Contains(name)) throw new OnnxImportException($"{source}: '{name}' is already defined by an enclosing graph (ONNX names each value once across a graph and its subgraphs).");
    }

    private static void RefuseNonTensor(ValueInfoProto v, string source, string role)
    {
        if (v.Type is { } type && type.TensorType is null)
            throw new OnnxUnsupportedException($"{source}: graph {role} '{v.Name}' is not a tensor (a sequence, map or optional value); Shinso imports tensor graphs.", "");
    }

    /// <summary>
    /// Runs the graph with <paramref name="inputs"/> bound to its inputs in order, inside <paramref name="outer"/> (null for the
    /// model's graph), and returns its outputs in the order the graph lists them.
    /// </summary>
    public OnnxValue[] Run(IBackend backend, ValueScope? outer, IReadOnlyList<OnnxValue> inputs)
    {
        if (inputs.Count != InputNames.Count)
            throw new OnnxImportException($"{Source}: {inputs.Count} input value(s) given; the graph takes {InputNames.Count}.");
        var scope = new ValueScope(outer);
        foreach (var (name, value) in Initialisers) scope.Set(name, value);
        for (int i = 0; i < inputs.Count; i++) scope.Set(InputNames[i], inputs[i]);
        for (int n = 0; n < Proto.Node.Count; n++)
        {
            var node = Proto.Node[n];
            var arguments = new OnnxValue?[node.Input.Count];
            for (int i = 0; i < arguments.Length; i++) arguments[i] = node.Input[i].Length == 0 ? null : scope[node.Input[i]];
            var context = new NodeContext(node, arguments, Opset, backend, Source, _subgraphs[n], scope);
            OnnxValue[] results;
            try { results = _operators[n](context); }
            // Sizes and attribute values that do not fit (a dimension past int.MaxValue, a malformed shape) name the node.
            catch (Exception e) when (e is ArgumentException or OverflowException) { throw context.Error(e.Message); }
            for (int o = 0; o < node.Output.Count && o < results.Length; o++)
                if (node.Output[o].Length > 0) scope.Set(node.Output[o], results[o]);
            for (int o = results.Length; o < node.Output.Count; o++)
                if (node.Output[o].Length > 0) throw context.Unsupported($"output {o} ('{node.Output[o]}') is not computed by Shinso's {node.OpType}.");
        }
        var outputs = new OnnxValue[Proto.Output.Count];
        for (int o = 0; o < outputs.Length; o++) outputs[o] = scope[Proto.Output[o].Name];
        return outputs;
    }
}
