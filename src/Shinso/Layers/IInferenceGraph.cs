using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>An attribute of a graph node: an integer, a float or a list of integers (ONNX's INT, FLOAT and INTS).</summary>
/// <param name="Name">The attribute's name, e.g. <c>kernel_shape</c>.</param>
/// <param name="Integer">The value of an integer attribute.</param>
/// <param name="Real">The value of a float attribute.</param>
/// <param name="Integers">The values of an integer-list attribute.</param>
public readonly record struct GraphAttribute(string Name, long? Integer = null, float? Real = null, long[]? Integers = null)
{
    /// <summary>Whether exactly one of the three values is set, as a writer requires.</summary>
    public bool HasOneValue => (Integer.HasValue ? 1 : 0) + (Real.HasValue ? 1 : 0) + (Integers is null ? 0 : 1) == 1;

    /// <summary>An integer attribute.</summary>
    public static GraphAttribute Int(string name, long value) => new(name, Integer: value);

    /// <summary>A float attribute.</summary>
    public static GraphAttribute Float(string name, float value) => new(name, Real: value);

    /// <summary>An integer-list attribute.</summary>
    public static GraphAttribute Ints(string name, params long[] values) => new(name, Integers: values);
}

/// <summary>
/// The graph of standard operators (ONNX's, valid in operator sets 13 to 17, NCHW, with a symbolic batch dimension) that a layer writes its
/// inference form into. Each <see cref="ILayer"/> owns its form; the ONNX project turns the graph into protobuf, so the
/// core needs no ONNX dependency.
/// </summary>
public interface IInferenceGraph
{
    /// <summary>Whether a dense layer is one <c>Gemm</c> node (true) or <c>MatMul</c> + <c>Add</c> (false).</summary>
    bool DenseAsGemm { get; }

    /// <summary>Adds a node with one output; returns the output value's (unique) name, made from <paramref name="outputHint"/>.</summary>
    string Node(string opType, string outputHint, IReadOnlyList<string> inputs, params GraphAttribute[] attributes);

    /// <summary>Adds a float constant of shape <paramref name="dims"/> (empty for a scalar); returns its name.</summary>
    string Initializer(string name, IReadOnlyList<int> dims, ReadOnlySpan<float> data);

    /// <summary>Adds a 1-D int64 constant (shapes, axes, pads); returns its name.</summary>
    string Int64Initializer(string name, params long[] values);
}

/// <summary>Helpers the layers' inference forms share.</summary>
internal static class InferenceForms
{
    /// <summary>A parameter's values on the host, row-major.</summary>
    public static float[] Host(Tensor tensor)
    {
        var data = new float[tensor.Length];
        tensor.Backend.Download(tensor, data);
        return data;
    }

    /// <summary>A [rows, columns] matrix's transpose on the host, row-major [columns, rows] (a tied weight as a dense layer's).</summary>
    public static float[] HostTransposed(Tensor matrix)
    {
        var data = Host(matrix);
        int rows = matrix.Rows, columns = matrix.Columns;
        var transposed = new float[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) transposed[c * rows + r] = data[r * columns + c];
        return transposed;
    }

    /// <summary>
    /// <c>Y = X W + b</c> in standard operators: Gemm, or MatMul + Add (<see cref="IInferenceGraph.DenseAsGemm"/>), after a
    /// Flatten when the input is not [N, features] (ONNX's Gemm and MatMul need that).
    /// </summary>
    public static string Affine(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name,
        string weightName, int inputs, int units, float[] weight, string biasName, float[] bias)
    {
        string x = inputShape.Count > 1 ? graph.Node("Flatten", name + "_flatten", [input], GraphAttribute.Int("axis", 1)) : input;
        string w = graph.Initializer(weightName, [inputs, units], weight);
        string b = graph.Initializer(biasName, [units], bias);
        if (graph.DenseAsGemm) return graph.Node("Gemm", name, [x, w, b]);
        string product = graph.Node("MatMul", name + "_matmul", [x, w]);
        return graph.Node("Add", name, [product, b]);
    }
}
