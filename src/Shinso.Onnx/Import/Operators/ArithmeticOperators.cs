namespace Shinso.Onnx.Import.Operators;

/// <summary>Pow, Floor, Ceil and Reciprocal on the host.</summary>
internal static class ArithmeticOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Pow"] = Pow;
        map["Floor"] = n => [Map(n, MathF.Floor)];
        map["Ceil"] = n => [Map(n, MathF.Ceiling)];
        map["Reciprocal"] = n => [Map(n, x => 1f / x)];
    }

    private static OnnxValue Map(NodeContext n, Func<float, float> f)
    {
        var x = n.Floats(0);
        var y = new float[x.Length];
        for (int i = 0; i < y.Length; i++) y[i] = f(x[i]);
        return OnnxValue.FromFloats(n.Input(0).Shape, y);
    }

    private static OnnxValue[] Pow(NodeContext n)
    {
        OnnxValue x = n.Input(0), e = n.Input(1);
        var data = n.Floats(0);
        var shape = Broadcasting.Shape(x.Shape, e.Shape) ?? throw n.Error($"shapes {OnnxValue.ShapeText(x.Shape)} and {OnnxValue.ShapeText(e.Shape)} do not broadcast.");
        int[] ix = Broadcasting.SourceIndices(x.Shape, shape), ie = Broadcasting.SourceIndices(e.Shape, shape);
        var y = new float[ix.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double exponent = e.Floats is { } fe ? fe[ie[i]] : e.Integers![ie[i]];
            y[i] = (float)Math.Pow(data[ix[i]], exponent);
        }
        return [OnnxValue.FromFloats(shape, y)];
    }
}
