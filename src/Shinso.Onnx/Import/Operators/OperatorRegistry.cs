namespace Shinso.Onnx.Import.Operators;

/// <summary>Runs one node: its outputs, in order, from its inputs and attributes.</summary>
internal delegate OnnxValue[] OnnxOperator(NodeContext node);

/// <summary>Every operator the importer implements, by <c>op_type</c>; each family registers its own.</summary>
internal static class OperatorRegistry
{
    private static readonly Dictionary<string, OnnxOperator> ByName = Build();

    /// <summary>The implemented operators, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = ByName.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The operator <paramref name="opType"/>, or null.</summary>
    public static OnnxOperator? Find(string opType) => ByName.GetValueOrDefault(opType);

    private static Dictionary<string, OnnxOperator> Build()
    {
        var map = new Dictionary<string, OnnxOperator>(StringComparer.Ordinal);
        ElementwiseOperators.Register(map);
        LogicOperators.Register(map);
        MatrixOperators.Register(map);
        ConvolutionOperators.Register(map);
        NormalizationOperators.Register(map);
        ShapeOperators.Register(map);
        ReductionOperators.Register(map);
        ControlFlowOperators.Register(map);
        return map;
    }
}
