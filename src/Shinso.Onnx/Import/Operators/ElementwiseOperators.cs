using Shinso.Operations;

namespace Shinso.Onnx.Import.Operators;

/// <summary>
/// Arithmetic with broadcasting (Add, Sub, Mul, Div, Pow, Sum, Max, Min) and the unary functions: Relu, Sigmoid, Tanh and Abs
/// through the backend's activation pass, the rest (LeakyRelu, Elu, Selu, HardSigmoid, Softsign, Softplus, Exp, Log, Sqrt, Neg,
/// Floor, Ceil, Reciprocal, Clip) on the host.
/// </summary>
internal static class ElementwiseOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Add"] = n => [Binary(n, (a, b) => a + b, (a, b) => a + b)];
        map["Sub"] = n => [Binary(n, (a, b) => a - b, (a, b) => a - b)];
        map["Mul"] = n => [Binary(n, (a, b) => a * b, (a, b) => a * b)];
        map["Div"] = n => [Binary(n, (a, b) => a / b, (a, b) => b == 0 ? throw n.Error("integer division by zero.") : a / b)];
        map["Sum"] = n => [Variadic(n, (a, b) => a + b, (a, b) => a + b)];
        map["Max"] = n => [Variadic(n, MathF.Max, Math.Max)];
        map["Min"] = n => [Variadic(n, MathF.Min, Math.Min)];
        map["Relu"] = n => [Activation(n, Operations.Activation.Relu)];
        map["Sigmoid"] = n => [Activation(n, Operations.Activation.Sigmoid)];
        map["Tanh"] = n => [Activation(n, Operations.Activation.Tanh)];
        map["Abs"] = n => [n.Input(0).Integers is { } i ? OnnxValue.FromIntegers(n.Input(0).ElementType, n.Input(0).Shape, i.Select(Math.Abs).ToArray()) : Activation(n, Operations.Activation.AbsoluteValue)];
        map["LeakyRelu"] = n =>
        {
            float alpha = n.Float("alpha", 0.01f);
            return [Unary(n, x => x >= 0 ? x : alpha * x)];
        };
        map["Elu"] = n =>
        {
            float alpha = n.Float("alpha", 1f);
            return [Unary(n, x => x >= 0 ? x : alpha * (MathF.Exp(x) - 1f))];
        };
        map["HardSigmoid"] = n =>
        {
            float alpha = n.Float("alpha", 0.2f), beta = n.Float("beta", 0.5f);
            return [Unary(n, x => MathF.Max(0f, MathF.Min(1f, alpha * x + beta)))];
        };
        map["Selu"] = n =>
        {
            float alpha = n.Float("alpha", 1.67326319217681884765625f), gamma = n.Float("gamma", 1.05070102214813232421875f);
            return [Unary(n, x => x > 0 ? gamma * x : gamma * (alpha * MathF.Exp(x) - alpha))];
        };
        map["Softsign"] = n => [Unary(n, x => x / (1f + MathF.Abs(x)))];
        map["Softplus"] = n => [Unary(n, x => x > 0 ? x + MathF.Log(1f + MathF.Exp(-x)) : MathF.Log(1f + MathF.Exp(x)))];
        map["Exp"] = n => [Unary(n, MathF.Exp)];
        map["Log"] = n => [Unary(n, MathF.Log)];
        map["Sqrt"] = n => [Unary(n, MathF.Sqrt)];
        map["Neg"] = n => [n.Input(0).Integers is { } i ? OnnxValue.FromIntegers(n.Input(0).ElementType, n.Input(0).Shape, i.Select(v => -v).ToArray()) : Unary(n, x => -x)];
        map["Clip"] = Clip;
        map["Floor"] = n => [Unary(n, MathF.Floor)];
        map["Ceil"] = n => [Unary(n, MathF.Ceiling)];
        map["Reciprocal"] = n => [Unary(n, x => 1f / x)];
        map["Pow"] = Pow;
    }

    private static OnnxValue[] Pow(NodeContext n)
    {
        OnnxValue x = n.Input(0), e = n.Input(1);
        var (shape, sources) = Broadcasting.Operands(n, x, e);
        int[] ix = sources[0], ie = sources[1];
        double Exponent(int i) => e.Floats is { } fe ? fe[ie[i]] : e.Integers![ie[i]];
        // The result has the base's element type (an integer base gives the truncated integer power).
        if (x.Floats is { } data)
        {
            var y = new float[ix.Length];
            for (int i = 0; i < y.Length; i++) y[i] = (float)Math.Pow(data[ix[i]], Exponent(i));
            return [OnnxValue.FromFloats(shape, y)];
        }
        var z = new long[ix.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (long)Math.Pow(x.Integers![ix[i]], Exponent(i));
        return [OnnxValue.FromIntegers(x.ElementType, shape, z)];
    }

    private static OnnxValue Activation(NodeContext n, Activation function)
    {
        var x = n.Input(0);
        var data = n.Floats(0);
        return OnnxValue.FromFloats(x.Shape, BackendPass.Map(n.Backend, data, 1, (input, output) => n.Backend.Activate(function, input, output)));
    }

    private static OnnxValue Unary(NodeContext n, Func<float, float> f)
    {
        var x = n.Floats(0);
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = f(x[i]);
        return OnnxValue.FromFloats(n.Input(0).Shape, y);
    }

    private static OnnxValue[] Clip(NodeContext n)
    {
        var x = n.Input(0);
        if (x.Floats is { } data)
        {
            float low, high;
            if (n.Opset < 11)
            {
                low = n.Float("min", float.MinValue);
                high = n.Float("max", float.MaxValue);
            }
            else
            {
                low = n.Optional(1) is { } lo ? Scalar(n, lo, "min") : float.NegativeInfinity;
                high = n.Optional(2) is { } hi ? Scalar(n, hi, "max") : float.PositiveInfinity;
            }
            var y = new float[data.Length];
            for (int i = 0; i < y.Length; i++) y[i] = MathF.Min(MathF.Max(data[i], low), high);
            return [OnnxValue.FromFloats(x.Shape, y)];
        }
        long lowInt = n.IntegersOrNull(1) is { Length: 1 } l ? l[0] : long.MinValue, highInt = n.IntegersOrNull(2) is { Length: 1 } h ? h[0] : long.MaxValue;
        return [OnnxValue.FromIntegers(x.ElementType, x.Shape, x.Integers!.Select(v => Math.Min(Math.Max(v, lowInt), highInt)).ToArray())];
    }

    private static float Scalar(NodeContext n, OnnxValue v, string what) =>
        v is { Floats: { Length: 1 } f } ? f[0] : throw n.Error($"{what} must be a float scalar, not {v}.");

    private static OnnxValue Binary(NodeContext n, Func<float, float, float> onFloats, Func<long, long, long> onIntegers)
    {
        if (n.Opset < 7 && n.Attribute("broadcast") is not null) throw n.Unsupported("the pre-opset-7 broadcast attribute is not supported.");
        OnnxValue a = n.Input(0), b = n.Input(1);
        if (a.ElementType != b.ElementType) throw n.Error($"the inputs are {a} and {b}; both must have one element type.");
        var (shape, sources) = Broadcasting.Operands(n, a, b);
        int count = OnnxValue.CountOf(shape);
        int[] ia = sources[0], ib = sources[1];
        if (a.Floats is { } fa)
        {
            var fb = b.Floats!;
            var y = new float[count];
            for (int i = 0; i < count; i++) y[i] = onFloats(fa[ia[i]], fb[ib[i]]);
            return OnnxValue.FromFloats(shape, y);
        }
        var la = a.Integers!;
        var lb = b.Integers!;
        var z = new long[count];
        for (int i = 0; i < count; i++) z[i] = onIntegers(la[ia[i]], lb[ib[i]]);
        if (a.ElementType == OnnxElementType.Int32)
            for (int i = 0; i < count; i++) z[i] = unchecked((int)z[i]);
        return OnnxValue.FromIntegers(a.ElementType, shape, z);
    }

    private static OnnxValue Variadic(NodeContext n, Func<float, float, float> onFloats, Func<long, long, long> onIntegers)
    {
        if (n.Inputs.Length == 0) throw n.Error("needs at least one input.");
        var values = Enumerable.Range(0, n.Inputs.Length).Select(n.Input).ToArray();
        var type = values[0].ElementType;
        if (values.Any(v => v.ElementType != type)) throw n.Error($"the inputs are {string.Join(", ", values.Select(v => v.ToString()))}; all must have one element type.");
        var (shape, sources) = Broadcasting.Operands(n, values);
        int count = OnnxValue.CountOf(shape);
        if (type == OnnxElementType.Float)
        {
            var y = new float[count];
            for (int k = 0; k < values.Length; k++)
            {
                var data = values[k].Floats!;
                var source = sources[k];
                for (int i = 0; i < count; i++) y[i] = k == 0 ? data[source[i]] : onFloats(y[i], data[source[i]]);
            }
            return OnnxValue.FromFloats(shape, y);
        }
        var z = new long[count];
        for (int k = 0; k < values.Length; k++)
        {
            var data = values[k].Integers!;
            var source = sources[k];
            for (int i = 0; i < count; i++) z[i] = k == 0 ? data[source[i]] : onIntegers(z[i], data[source[i]]);
        }
        if (type == OnnxElementType.Int32)
            for (int i = 0; i < count; i++) z[i] = unchecked((int)z[i]);
        return OnnxValue.FromIntegers(type, shape, z);
    }
}
