namespace Shinso.Onnx.Import.Operators;

/// <summary>ReduceSum, ReduceMean and ReduceMax over any axes, on the host (sums in double).</summary>
internal static class ReductionOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["ReduceSum"] = n => [Reduce(n, Kind.Sum)];
        map["ReduceMean"] = n => [Reduce(n, Kind.Mean)];
        map["ReduceMax"] = n => [Reduce(n, Kind.Max)];
    }

    private enum Kind { Sum, Mean, Max }

    private static OnnxValue Reduce(NodeContext n, Kind kind)
    {
        var x = n.Input(0);
        var data = n.Floats(0);
        // ReduceSum took its axes as an input in opset 13; the others keep the attribute until opset 18.
        long[]? axes = kind == Kind.Sum && n.Opset >= 13 ? n.IntegersOrNull(1) : n.Ints("axes");
        bool keep = n.Int("keepdims", 1) != 0;
        if ((axes is null || axes.Length == 0) && n.Int("noop_with_empty_axes", 0) != 0) return x;
        var reduced = new bool[x.Rank];
        if (axes is null || axes.Length == 0) Array.Fill(reduced, true);
        else foreach (long a in axes) reduced[n.Axis(a, x.Rank, "axes value")] = true;
        var kept = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++) kept[d] = reduced[d] ? 1 : x.Shape[d];
        int count = OnnxValue.CountOf(kept);
        var target = Broadcasting.SourceIndices(kept, x.Shape);
        var sums = new double[count];
        var counts = new int[count];
        if (kind == Kind.Max) Array.Fill(sums, double.NegativeInfinity);
        for (int i = 0; i < data.Length; i++)
        {
            int t = target[i];
            sums[t] = kind == Kind.Max ? Math.Max(sums[t], data[i]) : sums[t] + data[i];
            counts[t]++;
        }
        var y = new float[count];
        for (int t = 0; t < count; t++) y[t] = (float)(kind == Kind.Mean ? sums[t] / counts[t] : sums[t]);
        var shape = keep ? kept : x.Shape.Where((_, d) => !reduced[d]).ToArray();
        return OnnxValue.FromFloats(shape, y);
    }
}
