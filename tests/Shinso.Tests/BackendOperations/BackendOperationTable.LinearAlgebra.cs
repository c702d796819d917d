using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.BackendOperations;

/// <summary>The memory and linear-algebra entries (<see cref="ITensorMemory"/>, <see cref="ILinearAlgebra"/>).</summary>
internal static partial class BackendOperationTable
{
    private static IEnumerable<BackendOperation> Memory =>
    [
        new(nameof(IBackend.Copy), r =>
        {
            int n = Length(r);
            var x = Values(r, n);
            return new OperationCase($"[{n}]") { Invoke = (b, t) => { b.Copy(t("x"), t("y")); return null; } }
                .In("x", x, n).Exactly("y", null, Widen(x), n);
        }),
        new(nameof(IBackend.Fill), r =>
        {
            int n = Length(r);
            float value = Values(r, 1)[0];
            return new OperationCase($"[{n}] with {value}") { Invoke = (b, t) => { b.Fill(t("x"), value); return null; } }
                .Exactly("x", null, Enumerable.Repeat((double)value, n).ToArray(), n);
        }),
    ];

    private static IEnumerable<BackendOperation> LinearAlgebra =>
    [
        new(nameof(IBackend.Gemm), r =>
        {
            int m = Between(r, 1, 70), n = Between(r, 1, 70), k = Between(r, 1, 90);
            var ta = r.Next(2) == 0 ? Transpose.None : Transpose.Transposed;
            var tb = r.Next(2) == 0 ? Transpose.None : Transpose.Transposed;
            float alpha = Values(r, 1, -2, 2)[0], beta = r.Next(3) == 0 ? 0f : Values(r, 1, -1, 1)[0];
            var a = Values(r, m * k);
            var bm = Values(r, k * n);
            var c = Values(r, m * n);
            var expected = NaiveGemm.Compute(ta, tb, m, n, k, alpha, a, ta == Transpose.None ? k : m, bm, tb == Transpose.None ? n : k, beta, c, n, out _);
            var @case = new OperationCase($"{m}x{n}x{k} {ta}/{tb} alpha {alpha} beta {beta}")
            {
                Invoke = (b, t) => { b.Gemm(ta, tb, alpha, t("a"), t("b"), beta, t("c")); return null; },
                Absolute = 2e-6 * k,
                Relative = 1e-5,
            }
            .In("a", a, ta == Transpose.None ? [m, k] : [k, m]).In("b", bm, tb == Transpose.None ? [k, n] : [n, k]);
            // beta 0: C is not read, so it starts as NaN.
            return beta == 0f ? @case.Out("c", expected, m, n) : @case.InOut("c", c, expected, m, n);
        }),
        new(nameof(IBackend.PackColumnPanels), r =>
        {
            int k = Between(r, 1, 40), n = Between(r, 1, 150);
            var bm = Values(r, k * n);
            var shape = ColumnPanels.Shape(k, n);
            return new OperationCase($"{k}x{n}") { Invoke = (b, t) => { b.PackColumnPanels(t("b"), t("panels")); return null; } }
                .In("b", bm, k, n).Exactly("panels", null, Widen(NaiveColumnPanels(bm, k, n)), shape);
        }),
        new(nameof(IBackend.AffineColumnPanels), r =>
        {
            // Rows in the streaming kernel's groups of four and past ColumnPanels.MaxRows into the blocked GEMM's tiles,
            // several panels with a ragged last one, and K past one 256-deep block.
            int m = r.Next(3) == 0 ? Between(r, 17, 60) : Between(r, 1, 16), n = Between(r, 1, 150), k = r.Next(3) == 0 ? Between(r, 257, 400) : Between(r, 1, 90);
            var x = Values(r, m * k);
            var bm = Values(r, k * n);
            var bias = Values(r, n);
            var product = NaiveGemm.Compute(Transpose.None, Transpose.None, m, n, k, 1f, x, k, bm, n, 0f, new float[m * n], n, out _);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) product[i * n + j] += bias[j];
            return new OperationCase($"{m}x{n}x{k}")
            {
                Invoke = (b, t) => { b.AffineColumnPanels(t("x"), t("panels"), t("bias"), t("y")); return null; },
                Absolute = 2e-6 * k,
                Relative = 1e-5,
            }
            .In("x", x, m, k).In("panels", NaiveColumnPanels(bm, k, n), ColumnPanels.Shape(k, n)).In("bias", bias, n).Out("y", product, m, n);
        }),
        new(nameof(IBackend.Axpy), r =>
        {
            int n = Length(r);
            float alpha = Values(r, 1, -2, 2)[0];
            var (x, y) = (Values(r, n), Values(r, n));
            return new OperationCase($"[{n}] alpha {alpha}") { Invoke = (b, t) => { b.Axpy(alpha, t("x"), t("y")); return null; } }
                .In("x", x, n).InOut("y", y, Zip(x, y, (u, v) => alpha * u + v), n);
        }),
        new(nameof(IBackend.Axpby), r =>
        {
            int n = Length(r);
            float alpha = Values(r, 1, -2, 2)[0], beta = Values(r, 1, -2, 2)[0];
            var (x, y) = (Values(r, n), Values(r, n));
            return new OperationCase($"[{n}] alpha {alpha} beta {beta}") { Invoke = (b, t) => { b.Axpby(alpha, t("x"), beta, t("y")); return null; } }
                .In("x", x, n).InOut("y", y, Zip(x, y, (u, v) => alpha * u + beta * v), n);
        }),
        new(nameof(IBackend.ScaleShift), r =>
        {
            int n = Length(r);
            float scale = Values(r, 1, -2, 2)[0], shift = Values(r, 1, -2, 2)[0];
            var x = Values(r, n);
            return new OperationCase($"[{n}] scale {scale} shift {shift}") { Invoke = (b, t) => { b.ScaleShift(t("x"), scale, shift, t("y")); return null; } }
                .In("x", x, n).Out("y", Map(x, v => scale * v + shift), n);
        }),
        new(nameof(IBackend.Multiply), r =>
        {
            int n = Length(r);
            var (x, y) = (Values(r, n), Values(r, n));
            return new OperationCase($"[{n}]") { Invoke = (b, t) => { b.Multiply(t("a"), t("b"), t("c")); return null; } }
                .In("a", x, n).In("b", y, n).Out("c", Zip(x, y, (u, v) => u * v), n);
        }),
        new(nameof(IBackend.AddRowVector), r =>
        {
            int rows = Between(r, 1, 9), cols = Length(r);
            var (m, row) = (Values(r, rows * cols), Values(r, cols));
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.AddRowVector(t("m"), t("row")); return null; } }
                .InOut("m", m, [.. m.Select((v, i) => (double)v + row[i % cols])], rows, cols).In("row", row, cols);
        }),
        new(nameof(IBackend.SumColumns), r =>
        {
            int rows = Between(r, 1, 40), cols = Length(r);
            float beta = r.Next(2) == 0 ? 0f : Values(r, 1)[0];
            var (m, result) = (Values(r, rows * cols), Values(r, cols));
            var expected = new double[cols];
            for (int j = 0; j < cols; j++)
            {
                expected[j] = beta * (double)result[j];
                for (int i = 0; i < rows; i++) expected[j] += m[i * cols + j];
            }
            return new OperationCase($"[{rows}, {cols}] beta {beta}") { Invoke = (b, t) => { b.SumColumns(t("m"), t("result"), beta); return null; }, Absolute = 1e-6 * rows }
                .In("m", m, rows, cols).InOut("result", result, expected, cols);
        }),
        new(nameof(IBackend.SumRows), r =>
        {
            int rows = Between(r, 1, 9), cols = Length(r);
            var m = Values(r, rows * cols);
            var expected = new double[rows];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) expected[i] += m[i * cols + j];
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.SumRows(t("m"), t("result")); return null; }, Absolute = 1e-6 * cols }
                .In("m", m, rows, cols).Out("result", expected, rows);
        }),
        new(nameof(IBackend.Sum), r =>
        {
            int n = Length(r) * Between(r, 1, 30);
            var x = Values(r, n);
            return new OperationCase($"[{n}]") { Invoke = (b, t) => b.Sum(t("x")), Scalar = x.Sum(v => (double)v), Absolute = 1e-6 * Math.Sqrt(n) * 4 }.In("x", x, n);
        }),
        new(nameof(IBackend.SumOfSquares), r =>
        {
            int n = Length(r) * Between(r, 1, 30);
            var x = Values(r, n);
            return new OperationCase($"[{n}]") { Invoke = (b, t) => b.SumOfSquares(t("x")), Scalar = x.Sum(v => (double)v * v), Relative = 1e-5 }.In("x", x, n);
        }),
        new(nameof(IBackend.SwapLeadingAxes), r =>
        {
            int outer = Between(r, 1, 6), inner = Between(r, 1, 6), rest = Between(r, 1, 20);
            var x = Values(r, outer * inner * rest);
            var expected = new double[x.Length];
            for (int i = 0; i < outer; i++)
                for (int j = 0; j < inner; j++)
                    for (int s = 0; s < rest; s++) expected[(j * outer + i) * rest + s] = x[(i * inner + j) * rest + s];
            return new OperationCase($"[{outer}, {inner}, {rest}]") { Invoke = (b, t) => { b.SwapLeadingAxes(t("x"), outer, inner, t("y")); return null; } }
                .In("x", x, outer, inner * rest).Exactly("y", null, expected, inner, outer * rest);
        }),
        new(nameof(IBackend.ScaleColumns), r =>
        {
            int rows = Between(r, 1, 9), cols = Length(r);
            var (m, scale) = (Values(r, rows * cols), Values(r, cols, 0.1f, 3f));
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.ScaleColumns(t("m"), t("scale"), t("result")); return null; } }
                .In("m", m, rows, cols).In("scale", scale, cols).Out("result", [.. m.Select((v, i) => (double)v * scale[i % cols])], rows, cols);
        }),
        new(nameof(IBackend.ClipColumnNorms), r =>
        {
            int rows = Between(r, 1, 20), cols = Between(r, 1, 40);
            var m = Values(r, rows * cols);
            float maxNorm = (float)(0.5 * Math.Sqrt(rows / 3.0) * (0.5 + r.NextDouble()));
            var expected = Widen(m);
            for (int j = 0; j < cols; j++)
            {
                double norm = 0;
                for (int i = 0; i < rows; i++) norm += (double)m[i * cols + j] * m[i * cols + j];
                norm = Math.Sqrt(norm);
                if (norm > maxNorm)
                    for (int i = 0; i < rows; i++) expected[i * cols + j] *= maxNorm / norm;
            }
            return new OperationCase($"[{rows}, {cols}] max norm {maxNorm}") { Invoke = (b, t) => { b.ClipColumnNorms(t("m"), maxNorm); return null; }, Relative = 1e-5 }
                .InOut("m", m, expected, rows, cols);
        }),
    ];

    /// <summary>B [k, n] in column panels, element by element from the layout's definition: the packing kernels' naive twin.</summary>
    internal static float[] NaiveColumnPanels(float[] b, int k, int n)
    {
        int width = ColumnPanels.Width, count = (n + width - 1) / width;
        var panels = new float[count * k * width];
        for (int j = 0; j < count; j++)
            for (int p = 0; p < k; p++)
                for (int c = 0; c < width; c++)
                {
                    int column = j * width + c;
                    panels[(j * k + p) * width + c] = column < n ? b[p * n + column] : 0f;
                }
        return panels;
    }
}
