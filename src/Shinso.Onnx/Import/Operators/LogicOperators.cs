namespace Shinso.Onnx.Import.Operators;

/// <summary>Comparisons, boolean logic, Where and Cast, on the host (booleans are 0 / 1 integers).</summary>
internal static class LogicOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Equal"] = n => [Compare(n, (a, b) => a == b)];
        map["Greater"] = n => [Compare(n, (a, b) => a > b)];
        map["GreaterOrEqual"] = n => [Compare(n, (a, b) => a >= b)];
        map["Less"] = n => [Compare(n, (a, b) => a < b)];
        map["LessOrEqual"] = n => [Compare(n, (a, b) => a <= b)];
        map["Not"] = n => [OnnxValue.FromIntegers(OnnxElementType.Bool, n.Input(0).Shape, Booleans(n, 0).Select(v => v == 0 ? 1L : 0L).ToArray())];
        map["And"] = n => [Logic(n, (a, b) => a & b)];
        map["Or"] = n => [Logic(n, (a, b) => a | b)];
        map["Xor"] = n => [Logic(n, (a, b) => a ^ b)];
        map["Where"] = Where;
        map["Cast"] = Cast;
    }

    private static long[] Booleans(NodeContext n, int index)
    {
        var v = n.Input(index);
        return v.ElementType == OnnxElementType.Bool ? v.Integers! : throw n.Error($"input {index} must be a bool tensor, not {v}.");
    }

    private static OnnxValue Compare(NodeContext n, Func<double, double, bool> test)
    {
        OnnxValue a = n.Input(0), b = n.Input(1);
        if (a.ElementType != b.ElementType) throw n.Error($"the inputs are {a} and {b}; both must have one element type.");
        var (shape, sources) = Broadcasting.Operands(n, a, b);
        int[] ia = sources[0], ib = sources[1];
        var y = new long[ia.Length];
        for (int i = 0; i < y.Length; i++)
        {
            if (a.Floats is { } fa) y[i] = test(fa[ia[i]], b.Floats![ib[i]]) ? 1 : 0;
            else
            {
                // Integers compare exactly (a double holds only 53 bits): by their order alone.
                long p = a.Integers![ia[i]], q = b.Integers![ib[i]];
                y[i] = test(p.CompareTo(q), 0) ? 1 : 0;
            }
        }
        return OnnxValue.FromIntegers(OnnxElementType.Bool, shape, y);
    }

    private static OnnxValue Logic(NodeContext n, Func<long, long, long> f)
    {
        long[] a = Booleans(n, 0), b = Booleans(n, 1);
        var (shape, sources) = Broadcasting.Operands(n, n.Input(0), n.Input(1));
        int[] ia = sources[0], ib = sources[1];
        var y = new long[ia.Length];
        for (int i = 0; i < y.Length; i++) y[i] = f(a[ia[i]], b[ib[i]]);
        return OnnxValue.FromIntegers(OnnxElementType.Bool, shape, y);
    }

    private static OnnxValue[] Where(NodeContext n)
    {
        var condition = Booleans(n, 0);
        OnnxValue c = n.Input(0), x = n.Input(1), y = n.Input(2);
        if (x.ElementType != y.ElementType) throw n.Error($"X {x} and Y {y} must have one element type.");
        var (shape, sources) = Broadcasting.Operands(n, c, x, y);
        int[] ic = sources[0], ix = sources[1], iy = sources[2];
        if (x.Floats is { } fx)
        {
            var fy = y.Floats!;
            var r = new float[ic.Length];
            for (int i = 0; i < r.Length; i++) r[i] = condition[ic[i]] != 0 ? fx[ix[i]] : fy[iy[i]];
            return [OnnxValue.FromFloats(shape, r)];
        }
        var z = new long[ic.Length];
        for (int i = 0; i < z.Length; i++) z[i] = condition[ic[i]] != 0 ? x.Integers![ix[i]] : y.Integers![iy[i]];
        return [OnnxValue.FromIntegers(x.ElementType, shape, z)];
    }

    private static OnnxValue[] Cast(NodeContext n)
    {
        var x = n.Input(0);
        long to = n.Attribute("to") is null ? throw n.Error("the attribute 'to' is required.") : n.Int("to", 0);
        if (!Enum.IsDefined((OnnxElementType)to)) throw n.Unsupported($"casts to element type {to} are not supported; Shinso computes with float, int32, int64 and bool.");
        var type = (OnnxElementType)to;
        if (type == OnnxElementType.Float)
            return [OnnxValue.FromFloats(x.Shape, x.Floats ?? x.Integers!.Select(v => (float)v).ToArray())];
        long[] values = x.Floats is { } f
            ? f.Select(v => type == OnnxElementType.Bool ? (v != 0 ? 1L : 0L) : float.IsNaN(v) ? 0L
                : type == OnnxElementType.Int32 ? unchecked((int)(long)MathF.Truncate(v)) : (long)MathF.Truncate(v)).ToArray()
            : x.Integers!.Select(v => type == OnnxElementType.Bool ? (v != 0 ? 1L : 0L) : type == OnnxElementType.Int32 ? unchecked((int)v) : v).ToArray();
        return [OnnxValue.FromIntegers(type, x.Shape, values)];
    }
}
