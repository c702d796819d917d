using System.Buffers.Binary;
using Google.Protobuf;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx;

/// <summary>
/// Appends nodes, initializers and typed inputs/outputs to an ONNX <see cref="GraphProto"/>, giving every value a
/// unique name. All tensors are float32 except the int64 shape/axis/pad operands some operators take as inputs.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>The symbolic name of the batch dimension of inputs and outputs.</summary>
    public const string BatchDimension = "batch";

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphProto Graph { get; } = new();

    /// <summary><paramref name="hint"/> if no value has that name yet, else hint_2, hint_3, ...</summary>
    public string UniqueName(string hint)
    {
        if (_names.Add(hint)) return hint;
        for (int suffix = 2; ; suffix++)
        {
            string candidate = $"{hint}_{suffix}";
            if (_names.Add(candidate)) return candidate;
        }
    }

    /// <summary>Declares a float input of shape [batch, <paramref name="sampleShape"/>...].</summary>
    public string Input(string name, IReadOnlyList<int> sampleShape)
    {
        string unique = UniqueName(name);
        Graph.Input.Add(BatchedValue(unique, sampleShape));
        return unique;
    }

    /// <summary>Declares <paramref name="value"/> a float output of shape [batch, <paramref name="sampleShape"/>...].</summary>
    public void Output(string value, IReadOnlyList<int> sampleShape) => Graph.Output.Add(BatchedValue(value, sampleShape));

    /// <summary>Adds a float32 constant of shape <paramref name="dims"/> (row-major <paramref name="data"/>) and returns its name.</summary>
    public string Initializer(string name, IReadOnlyList<int> dims, ReadOnlySpan<float> data)
    {
        long count = 1;
        foreach (int d in dims) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"Initializer '{name}' of shape [{string.Join(", ", dims)}] needs {count} values, got {data.Length}.", nameof(data));
        var bytes = new byte[data.Length * sizeof(float)];
        // raw_data is little-endian whatever the host's byte order (ONNX IR spec).
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        var tensor = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        foreach (int d in dims) tensor.Dims.Add(d);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a 1-D int64 constant (shapes, pads, axes) and returns its name.</summary>
    public string Int64Initializer(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.Add(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Appends a node of the default ONNX domain with one output named after <paramref name="outputHint"/>; returns the output's name.</summary>
    public string Node(string opType, string outputHint, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        string output = UniqueName(outputHint);
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>
    /// Renames the value the last node produces to <paramref name="name"/> (e.g. "output"), so that graph outputs
    /// have stable names whatever the last layer is. Returns the new name.
    /// </summary>
    public string RenameLastOutput(string current, string name)
    {
        if (Graph.Node.Count == 0 || Graph.Node[^1].Output[0] != current)
            throw new InvalidOperationException($"'{current}' is not the output of the graph's last node.");
        if (current == name) return name;
        if (!_names.Add(name)) throw new InvalidOperationException($"The name '{name}' is already taken in the graph.");
        var last = Graph.Node[^1];
        last.Output[0] = name;
        last.Name = name;
        _names.Remove(current);
        return name;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static ValueInfoProto BatchedValue(string name, IReadOnlyList<int> sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (int d in sampleShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
