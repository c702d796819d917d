namespace Shinso.Onnx.Import.Operators;

/// <summary>
/// Operators that move elements without arithmetic, on the host, for float and integer tensors alike: Reshape, Flatten,
/// Transpose, Squeeze, Unsqueeze, Concat, Pad, Slice, Tile, Gather, Shape, Identity, Constant, ConstantOfShape and Dropout in inference.
/// </summary>
internal static class ShapeOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Identity"] = n => [n.Input(0)];
        map["Reshape"] = Reshape;
        map["Flatten"] = Flatten;
        map["Transpose"] = Transpose;
        map["Squeeze"] = Squeeze;
        map["Unsqueeze"] = Unsqueeze;
        map["Concat"] = Concat;
        map["Pad"] = Pad;
        map["Constant"] = Constant;
        map["Dropout"] = Dropout;
        map["Slice"] = Slice;
        map["Shape"] = Shape;
        map["Tile"] = Tile;
        map["Gather"] = Gather;
        map["ConstantOfShape"] = ConstantOfShape;
    }

    /// <summary><paramref name="v"/>'s elements under a new shape (shared, not copied).</summary>
    public static OnnxValue WithShape(OnnxValue v, int[] shape) =>
        v.Floats is { } f ? OnnxValue.FromFloats(shape, f) : OnnxValue.FromIntegers(v.ElementType, shape, v.Integers!);

    /// <summary>A tensor of <paramref name="shape"/> whose element k is <paramref name="v"/>'s element <c>source[k]</c> (or <paramref name="fill"/> where it is -1).</summary>
    public static OnnxValue Gather(OnnxValue v, int[] shape, int[] source, float fill = 0f)
    {
        if (v.Floats is { } f)
        {
            var y = new float[source.Length];
            for (int k = 0; k < y.Length; k++) y[k] = source[k] < 0 ? fill : f[source[k]];
            return OnnxValue.FromFloats(shape, y);
        }
        var integers = v.Integers!;
        var z = new long[source.Length];
        for (int k = 0; k < z.Length; k++) z[k] = source[k] < 0 ? (long)fill : integers[source[k]];
        return OnnxValue.FromIntegers(v.ElementType, shape, z);
    }

    private static OnnxValue[] Reshape(NodeContext n)
    {
        var x = n.Input(0);
        if (n.Opset < 5) throw n.Unsupported("Reshape before opset 5 (the shape as an attribute) is not supported.");
        var requested = n.IntegersOrNull(1) ?? throw n.Error("the shape input is required.");
        bool allowZero = n.Int("allowzero", 0) != 0;
        var shape = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            long r = requested[d];
            if (r == -1)
            {
                if (inferred >= 0) throw n.Error($"shape [{string.Join(", ", requested)}] has more than one -1.");
                inferred = d;
                continue;
            }
            if (r == 0 && !allowZero)
            {
                if (d >= x.Rank) throw n.Error($"shape [{string.Join(", ", requested)}] copies dimension {d} (0), which X {x} does not have.");
                r = x.Shape[d];
            }
            if (r < 0) throw n.Error($"shape [{string.Join(", ", requested)}] has the negative dimension {r}.");
            shape[d] = checked((int)r);
            known *= r;
        }
        if (inferred >= 0)
        {
            if (known == 0 || x.Length % known != 0) throw n.Error($"X {x} cannot be reshaped to [{string.Join(", ", requested)}].");
            shape[inferred] = (int)(x.Length / known);
        }
        if (OnnxValue.CountOf(shape) != x.Length) throw n.Error($"X {x} has {x.Length} elements; shape {OnnxValue.ShapeText(shape)} holds {OnnxValue.CountOf(shape)}.");
        return [WithShape(x, shape)];
    }

    private static OnnxValue[] Flatten(NodeContext n)
    {
        var x = n.Input(0);
        long axisValue = n.Int("axis", 1);
        if (axisValue < -x.Rank || axisValue > x.Rank) throw n.Error($"axis {axisValue} is out of range for rank {x.Rank}; expected {-x.Rank} to {x.Rank}.");
        int axis = (int)(axisValue < 0 ? axisValue + x.Rank : axisValue);
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        return [WithShape(x, [outer, outer == 0 ? 0 : x.Length / outer])];
    }

    private static OnnxValue[] Transpose(NodeContext n)
    {
        var x = n.Input(0);
        int rank = x.Rank;
        var perm = n.Ints("perm")?.Select(p => checked((int)p)).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any()) throw n.Error($"perm [{string.Join(", ", perm)}] is not a permutation of X's {rank} axes.");
        var shape = perm.Select(p => x.Shape[p]).ToArray();
        var inputStrides = Strides(x.Shape);
        var source = new int[x.Length];
        var position = new int[rank];
        for (int k = 0; k < source.Length; k++)
        {
            int s = 0;
            for (int d = 0; d < rank; d++) s += position[d] * inputStrides[perm[d]];
            source[k] = s;
            Advance(position, shape);
        }
        return [Gather(x, shape, source)];
    }

    /// <summary>Steps <paramref name="position"/> to the next index of <paramref name="shape"/> in row-major order.</summary>
    private static void Advance(int[] position, int[] shape)
    {
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (++position[d] < shape[d]) return;
            position[d] = 0;
        }
    }

    /// <summary>Row-major strides of <paramref name="shape"/>.</summary>
    public static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }

    /// <summary>The axes of Squeeze and Unsqueeze: an attribute before opset 13, the second input from 13 on.</summary>
    private static long[]? Axes(NodeContext n) => n.Opset < 13 ? n.Ints("axes") : n.IntegersOrNull(1);

    private static OnnxValue[] Squeeze(NodeContext n)
    {
        var x = n.Input(0);
        var axes = Axes(n);
        var drop = new HashSet<int>();
        if (axes is null)
        {
            for (int d = 0; d < x.Rank; d++) if (x.Shape[d] == 1) drop.Add(d);
        }
        else
            foreach (long a in axes)
            {
                int d = n.Axis(a, x.Rank, "axes value");
                if (x.Shape[d] != 1) throw n.Error($"axis {a} of X {x} has size {x.Shape[d]}, not 1.");
                drop.Add(d);
            }
        return [WithShape(x, x.Shape.Where((_, d) => !drop.Contains(d)).ToArray())];
    }

    private static OnnxValue[] Unsqueeze(NodeContext n)
    {
        var x = n.Input(0);
        var axes = Axes(n) ?? throw n.Error("axes are required.");
        int rank = x.Rank + axes.Length;
        var inserted = new HashSet<int>();
        foreach (long a in axes)
            if (!inserted.Add(n.Axis(a, rank, "axes value"))) throw n.Error($"axes [{string.Join(", ", axes)}] repeat an axis.");
        var shape = new int[rank];
        for (int d = 0, k = 0; d < rank; d++) shape[d] = inserted.Contains(d) ? 1 : x.Shape[k++];
        return [WithShape(x, shape)];
    }

    private static OnnxValue[] Concat(NodeContext n)
    {
        var parts = Enumerable.Range(0, n.Inputs.Length).Select(n.Input).ToArray();
        if (parts.Length == 0) throw n.Error("needs at least one input.");
        var first = parts[0];
        int axis = n.Axis(n.Attribute("axis") is null ? throw n.Error("axis is required.") : n.Int("axis", 0), first.Rank);
        var shape = (int[])first.Shape.Clone();
        shape[axis] = 0;
        foreach (var p in parts)
        {
            if (p.ElementType != first.ElementType || p.Rank != first.Rank || Enumerable.Range(0, p.Rank).Any(d => d != axis && p.Shape[d] != first.Shape[d]))
                throw n.Error($"inputs {string.Join(", ", parts.Select(v => v.ToString()))} differ outside axis {axis}.");
            shape[axis] += p.Shape[axis];
        }
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        int count = OnnxValue.CountOf(shape);
        if (first.Floats is not null)
        {
            var y = new float[count];
            Fill(parts.Select(p => p.Floats!).ToArray(), y);
            return [OnnxValue.FromFloats(shape, y)];
        }
        var z = new long[count];
        Fill(parts.Select(p => p.Integers!).ToArray(), z);
        return [OnnxValue.FromIntegers(first.ElementType, shape, z)];

        void Fill<T>(T[][] sources, T[] target)
        {
            int at = 0;
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < sources.Length; k++)
                {
                    int block = parts[k].Shape[axis] * inner;
                    sources[k].AsSpan(o * block, block).CopyTo(target.AsSpan(at));
                    at += block;
                }
        }
    }

    private static OnnxValue[] Pad(NodeContext n)
    {
        var x = n.Input(0);
        string mode = n.String("mode", "constant");
        long[] pads = (n.Opset < 11 ? n.Ints("pads") : n.IntegersOrNull(1)) ?? throw n.Error("pads are required.");
        if (n.Optional(3) is not null) throw n.Unsupported("Pad's axes input is not supported.");
        if (pads.Length != 2 * x.Rank) throw n.Error($"pads has {pads.Length} values; X {x} needs {2 * x.Rank}.");
        float value = n.Opset < 11 ? n.Float("value", 0f) : n.Optional(2) is { } c ? (c.Floats is { Length: 1 } f ? f[0] : c.Integers is { Length: 1 } ci ? ci[0] : throw n.Error($"constant_value must be a scalar, not {c}.")) : 0f;
        if (mode is not ("constant" or "reflect" or "edge")) throw n.Error($"mode is '{mode}'; expected constant, reflect or edge.");
        int rank = x.Rank;
        var shape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = checked(x.Shape[d] + pads[d] + pads[d + rank]);
            if (size < 0) throw n.Error($"pads [{string.Join(", ", pads)}] leave axis {d} of X {x} with a negative size.");
            shape[d] = checked((int)size);
            if (mode != "constant" && shape[d] > 0 && x.Shape[d] == 0) throw n.Error($"{mode} padding needs a non-empty axis {d}.");
            if (mode == "reflect" && x.Shape[d] == 1 && (pads[d] > 0 || pads[d + rank] > 0))
                throw n.Error($"reflect padding needs axis {d} longer than 1.");
        }
        var strides = Strides(x.Shape);
        int count = OnnxValue.CountOf(shape);
        var source = new int[count];
        var position = new int[rank];
        for (int k = 0; k < count; k++)
        {
            int s = 0;
            for (int d = 0; d < rank && s >= 0; d++)
            {
                int i = position[d] - checked((int)pads[d]), size = x.Shape[d];
                if (i < 0 || i >= size)
                {
                    if (mode == "constant") { s = -1; break; }
                    if (mode == "edge") i = Math.Clamp(i, 0, size - 1);
                    else
                    {
                        int period = 2 * (size - 1);
                        i = Math.Abs(i) % period;
                        if (i >= size) i = period - i;
                    }
                }
                s += i * strides[d];
            }
            source[k] = s;
            Advance(position, shape);
        }
        return [Gather(x, shape, source, value)];
    }

    private static OnnxValue[] Constant(NodeContext n)
    {
        if (n.Node.Attribute.Count != 1) throw n.Error($"needs exactly one attribute, has {n.Node.Attribute.Count}.");
        var a = n.Node.Attribute[0];
        return a.Name switch
        {
            "value" => [TensorDecoding.Decode(a.T ?? throw n.Error("attribute 'value' holds no tensor."), $"{n.Describe}: attribute 'value'", null)],
            "value_float" => [OnnxValue.FromFloats([], [a.F])],
            "value_floats" => [OnnxValue.FromFloats([a.Floats.Count], a.Floats.ToArray())],
            "value_int" => [OnnxValue.FromIntegers(OnnxElementType.Int64, [], [a.I])],
            "value_ints" => [OnnxValue.FromIntegers(OnnxElementType.Int64, [a.Ints.Count], a.Ints.ToArray())],
            _ => throw n.Unsupported($"the Constant attribute '{a.Name}' is not supported."),
        };
    }

    private static OnnxValue[] Dropout(NodeContext n)
    {
        var x = n.Input(0);
        bool training = n.Optional(2) is { Integers: { Length: 1 } t } && t[0] != 0;
        if (training) throw n.Unsupported("training-mode dropout is not supported; Shinso imports the inference form.");
        if (n.OutputCount < 2) return [x];
        return [x, OnnxValue.FromIntegers(OnnxElementType.Bool, x.Shape, Enumerable.Repeat(1L, x.Length).ToArray())];
    }

    private static OnnxValue[] Slice(NodeContext n)
    {
        var x = n.Input(0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (n.Opset < 10)
        {
            starts = n.Ints("starts") ?? throw n.Error("starts are required.");
            ends = n.Ints("ends") ?? throw n.Error("ends are required.");
            axes = n.Ints("axes");
        }
        else
        {
            starts = n.IntegersOrNull(1) ?? throw n.Error("starts are required.");
            ends = n.IntegersOrNull(2) ?? throw n.Error("ends are required.");
            axes = n.IntegersOrNull(3);
            steps = n.IntegersOrNull(4);
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw n.Error($"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length} and {steps.Length} values; they must match.");
        int rank = x.Rank;
        var first = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        var shape = (int[])x.Shape.Clone();
        var seen = new HashSet<int>();
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = n.Axis(axes[k], rank, "axes value");
            if (!seen.Add(axis)) throw n.Error($"axis {axes[k]} is sliced twice.");
            long dim = x.Shape[axis], s = steps[k];
            if (s == 0) throw n.Error("a step of 0 is not allowed.");
            long start = starts[k] < 0 ? starts[k] + dim : starts[k], end = ends[k] < 0 ? ends[k] + dim : ends[k];
            long count;
            if (s > 0)
            {
                start = Math.Clamp(start, 0, dim);
                end = Math.Clamp(end, 0, dim);
                count = end > start ? (end - start - 1) / s + 1 : 0;
            }
            else if (dim == 0) count = 0;
            else
            {
                start = Math.Clamp(start, 0, dim - 1);
                end = Math.Clamp(end, -1, dim - 1);
                count = start > end ? (start - end - 1) / -s + 1 : 0;
            }
            shape[axis] = (int)Math.Max(0, count);
            first[axis] = start;
            step[axis] = s;
        }
        var strides = Strides(x.Shape);
        int total = OnnxValue.CountOf(shape);
        var source = new int[total];
        var position = new int[rank];
        for (int k = 0; k < total; k++)
        {
            long at = 0;
            for (int d = 0; d < rank; d++) at += (first[d] + position[d] * step[d]) * strides[d];
            source[k] = (int)at;
            Advance(position, shape);
        }
        return [Gather(x, shape, source)];
    }

    private static OnnxValue[] Shape(NodeContext n)
    {
        var x = n.Input(0);
        int rank = x.Rank;
        long start = n.Int("start", 0), end = n.Int("end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        var dims = x.Shape.Skip((int)start).Take((int)Math.Max(0, end - start)).Select(d => (long)d).ToArray();
        return [OnnxValue.FromIntegers(OnnxElementType.Int64, [dims.Length], dims)];
    }

    private static OnnxValue[] Tile(NodeContext n)
    {
        var x = n.Input(0);
        var repeats = n.IntegersOrNull(1) ?? throw n.Error("repeats are required.");
        if (repeats.Length != x.Rank || repeats.Any(r => r < 0)) throw n.Error($"repeats [{string.Join(", ", repeats)}] must give one non-negative count for each of X's {x.Rank} axes.");
        var shape = x.Shape.Select((d, i) => checked(d * checked((int)repeats[i]))).ToArray();
        var strides = Strides(x.Shape);
        int total = OnnxValue.CountOf(shape);
        var source = new int[total];
        var position = new int[x.Rank];
        for (int k = 0; k < total; k++)
        {
            int at = 0;
            for (int d = 0; d < x.Rank; d++) at += position[d] % x.Shape[d] * strides[d];
            source[k] = at;
            Advance(position, shape);
        }
        return [Gather(x, shape, source)];
    }

    private static OnnxValue[] Gather(NodeContext n)
    {
        var x = n.Input(0);
        var indices = n.IntegersOrNull(1) ?? throw n.Error("indices are required.");
        var indexShape = n.Input(1).Shape;
        int axis = n.Axis(n.Int("axis", 0), x.Rank);
        int outer = 1, inner = 1, size = x.Shape[axis];
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        for (int d = axis + 1; d < x.Rank; d++) inner *= x.Shape[d];
        var shape = x.Shape[..axis].Concat(indexShape).Concat(x.Shape[(axis + 1)..]).ToArray();
        var source = new int[OnnxValue.CountOf(shape)];
        int k = 0;
        for (int o = 0; o < outer; o++)
            foreach (long raw in indices)
            {
                long index = raw < 0 ? raw + size : raw;
                if (index < 0 || index >= size) throw n.Error($"index {raw} is out of range for axis {axis} of size {size}.");
                for (int i = 0; i < inner; i++) source[k++] = (int)((o * size + index) * inner + i);
            }
        return [Gather(x, shape, source)];
    }

    private static OnnxValue[] ConstantOfShape(NodeContext n)
    {
        var dims = n.IntegersOrNull(0) ?? throw n.Error("the shape input is required.");
        if (dims.Any(d => d < 0 || d > int.MaxValue)) throw n.Error($"shape [{string.Join(", ", dims)}] has a negative or absurd dimension.");
        var shape = dims.Select(d => (int)d).ToArray();
        int count = OnnxValue.CountOf(shape);
        var value = n.Attribute("value")?.T is { } t ? TensorDecoding.Decode(t, $"{n.Describe}: attribute 'value'", null) : OnnxValue.FromFloats([1], [0f]);
        if (value.Length != 1) throw n.Error($"value must hold one element, not {value}.");
        return [value.Floats is { } f
            ? OnnxValue.FromFloats(shape, Enumerable.Repeat(f[0], count).ToArray())
            : OnnxValue.FromIntegers(value.ElementType, shape, Enumerable.Repeat(value.Integers![0], count).ToArray())];
    }
}
