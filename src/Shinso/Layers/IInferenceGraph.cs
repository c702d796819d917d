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
}
