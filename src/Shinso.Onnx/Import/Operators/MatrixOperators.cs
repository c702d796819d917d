using Shinso.Operations;

namespace Shinso.Onnx.Import.Operators;

/// <summary>Gemm and MatMul through the backend's GEMM (MatMul's batch dimensions broadcast, one GEMM per matrix pair).</summary>
internal static class MatrixOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Gemm"] = Gemm;
        map["MatMul"] = MatMul;
    }

    private static OnnxValue[] Gemm(NodeContext n)
    {
        OnnxValue a = n.Input(0), b = n.Input(1);
        if (n.Opset < 7 && n.Attribute("broadcast") is not null) throw n.Unsupported("the pre-opset-7 broadcast attribute is not supported.");
        if (a.Rank != 2 || b.Rank != 2) throw n.Error($"A and B must be matrices, not {a} and {b}.");
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        float alpha = n.Float("alpha", 1f), beta = n.Float("beta", 1f);
        int m = ta ? a.Shape[1] : a.Shape[0], k = ta ? a.Shape[0] : a.Shape[1];
        int kb = tb ? b.Shape[1] : b.Shape[0], columns = tb ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw n.Error($"op(A) is {m} x {k} but op(B) is {kb} x {columns}.");
        var c = new float[m * columns];
        bool withC = n.Optional(2) is not null && beta != 0f;
        if (n.Optional(2) is { } bias)
        {
            var shape = Broadcasting.Shape(bias.Shape, [m, columns]);
            if (shape is null || !shape.SequenceEqual(new[] { m, columns })) throw n.Error($"C {OnnxValue.ShapeText(bias.Shape)} does not broadcast to [{m}, {columns}].");
            var data = n.Floats(2);
            var source = Broadcasting.SourceIndices(bias.Shape, [m, columns]);
            for (int i = 0; i < c.Length; i++) c[i] = data[source[i]];
        }
        if (c.Length == 0) return [OnnxValue.FromFloats([m, columns], c)];
        if (k == 0)
        {
            for (int i = 0; i < c.Length; i++) c[i] = withC ? beta * c[i] : 0f;
            return [OnnxValue.FromFloats([m, columns], c)];
        }
        var be = n.Backend;
        var output = BackendPass.Upload(be, c, m, columns);
        be.Gemm(ta ? Transpose.Transposed : Transpose.None, tb ? Transpose.Transposed : Transpose.None, alpha,
            BackendPass.Upload(be, n.Floats(0), a.Shape), BackendPass.Upload(be, n.Floats(1), b.Shape), withC ? beta : 0f, output);
        return [OnnxValue.FromFloats([m, columns], BackendPass.Download(be, output))];
    }

    private static OnnxValue[] MatMul(NodeContext n)
    {
        OnnxValue a = n.Input(0), b = n.Input(1);
        if (a.Rank == 0 || b.Rank == 0) throw n.Error($"MatMul needs tensors of rank 1 or more, not {a} and {b}.");
        int[] sa = a.Rank == 1 ? [1, a.Shape[0]] : a.Shape, sb = b.Rank == 1 ? [b.Shape[0], 1] : b.Shape;
        int m = sa[^2], k = sa[^1], kb = sb[^2], columns = sb[^1];
        if (k != kb) throw n.Error($"the matrices are {m} x {k} and {kb} x {columns}.");
        int[] batchA = sa[..^2], batchB = sb[..^2];
        var batch = Broadcasting.Shape(batchA, batchB) ?? throw n.Error($"batch dimensions {OnnxValue.ShapeText(batchA)} and {OnnxValue.ShapeText(batchB)} do not broadcast.");
        int batches = OnnxValue.CountOf(batch);
        int[] pickA = Broadcasting.SourceIndices(batchA, batch), pickB = Broadcasting.SourceIndices(batchB, batch);
        float[] da = n.Floats(0), db = n.Floats(1);
        var y = new float[batches * m * columns];
        if (y.Length > 0 && k > 0)
        {
            var be = n.Backend;
            var left = be.Allocate(m, k);
            var right = be.Allocate(k, columns);
            var product = be.Allocate(m, columns);
            for (int i = 0; i < batches; i++)
            {
                be.Upload(da.AsSpan(pickA[i] * m * k, m * k), left);
                be.Upload(db.AsSpan(pickB[i] * k * columns, k * columns), right);
                be.Gemm(Transpose.None, Transpose.None, 1f, left, right, 0f, product);
                be.Download(product, y.AsSpan(i * m * columns, m * columns));
            }
        }
        var shape = new List<int>(batch);
        if (a.Rank > 1) shape.Add(m);
        if (b.Rank > 1) shape.Add(columns);
        return [OnnxValue.FromFloats(shape.ToArray(), y)];
    }
}
