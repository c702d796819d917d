using Shinso.Backends;
using Shinso.Backends.KernelPairs;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.BackendOperations;

/// <summary>The activation, maxout, softmax, loss and Boltzmann-statistics entries (<see cref="IActivationsAndLosses"/>, <see cref="MaxoutForward"/>, <see cref="MaxoutBackward"/>, <see cref="IBoltzmannStatistics"/>).</summary>
internal static partial class BackendOperationTable
{
    private static readonly Activation[] Activations = Enum.GetValues<Activation>();

    private static IEnumerable<BackendOperation> ActivationsAndLosses =>
    [
        // Every activation in every case, so none depends on the draw to be covered.
        new(nameof(IBackend.Activate), r =>
        {
            int n = Length(r);
            var x = Values(r, n, -8, 8);
            var @case = new OperationCase($"every activation [{n}]")
            {
                Invoke = (b, t) => { foreach (var f in Activations) b.Activate(f, t("x"), t($"y {f}")); return null; },
                Relative = 4e-7, Absolute = 1e-7,
            }.In("x", x, n);
            foreach (var f in Activations) @case.Out($"y {f}", Map(x, v => NaiveKernels.Activate(f, v)), n);
            return @case;
        }),
        new(nameof(IBackend.ActivationBackward), r =>
        {
            int n = Length(r);
            var x = Values(r, n, -8, 8);
            var dy = Values(r, n);
            var @case = new OperationCase($"every activation [{n}]")
            {
                Invoke = (b, t) => { foreach (var f in Activations) b.ActivationBackward(f, t("x"), t($"y {f}"), t("dy"), t($"dx {f}")); return null; },
            }.In("x", x, n).In("dy", dy, n);
            foreach (var f in Activations)
            {
                var y = Round(Map(x, v => NaiveKernels.Activate(f, v)));
                @case.In($"y {f}", y, n).Out($"dx {f}", [.. x.Select((v, i) => NaiveKernels.Derivative(f, v, y[i], dy[i]))], n);
            }
            return @case;
        }),
        // Values on a coarse grid, so pieces often tie and the first-piece rule of the gradient is exercised.
        new(nameof(MaxoutForward), r =>
        {
            int rows = Between(r, 1, 4), pieces = Between(r, 1, 4), units = Length(r);
            var x = Grid(r, rows * pieces * units);
            return new OperationCase($"[{rows}, {pieces} x {units}]") { Invoke = (b, t) => { b.Run(new MaxoutForward(t("x"), pieces, t("y"))); return null; } }
                .In("x", x, rows, pieces * units).Exactly("y", null, NaiveKernels.Maxout(Widen(x), rows, pieces), rows, units);
        }),
        new(nameof(MaxoutBackward), r =>
        {
            int rows = Between(r, 1, 4), pieces = Between(r, 1, 4), units = Length(r);
            var x = Grid(r, rows * pieces * units);
            var dy = Values(r, rows * units);
            var y = Round(NaiveKernels.Maxout(Widen(x), rows, pieces));
            return new OperationCase($"[{rows}, {pieces} x {units}]")
                {
                    Invoke = (b, t) => { b.Run(new MaxoutBackward(t("x"), t("y"), t("dy"), pieces, t("dx"))); return null; },
                }
                .In("x", x, rows, pieces * units).In("y", y, rows, units).In("dy", dy, rows, units)
                .Exactly("dx", null, NaiveKernels.MaxoutBackward(Widen(x), Widen(dy), rows, pieces), rows, pieces * units);
        }),
        new(nameof(IBackend.SoftmaxRows), r =>
        {
            int rows = Between(r, 1, 6), cols = Length(r);
            // Offsets near 1000 in some rows: the row maximum must be subtracted.
            var x = Values(r, rows * cols, -10, 10);
            if (r.Next(2) == 0) for (int i = 0; i < cols; i++) x[i] += 1000f;
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.SoftmaxRows(t("x"), t("y")); return null; }, Relative = 1e-5, Absolute = 1e-8 }
                .In("x", x, rows, cols).Out("y", NaiveKernels.SoftmaxRows(x, rows, cols), rows, cols);
        }),
        new(nameof(IBackend.SoftmaxBackward), r =>
        {
            int rows = Between(r, 1, 6), cols = Length(r);
            var y = Round(NaiveKernels.SoftmaxRows(Values(r, rows * cols, -3, 3), rows, cols));
            var dy = Values(r, rows * cols);
            var expected = new double[y.Length];
            for (int i = 0; i < rows; i++)
            {
                double dot = 0;
                for (int j = 0; j < cols; j++) dot += (double)dy[i * cols + j] * y[i * cols + j];
                for (int j = 0; j < cols; j++) expected[i * cols + j] = y[i * cols + j] * (dy[i * cols + j] - dot);
            }
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.SoftmaxBackward(t("y"), t("dy"), t("dx")); return null; }, Relative = 1e-5, Absolute = 1e-7 }
                .In("y", y, rows, cols).In("dy", dy, rows, cols).Out("dx", expected, rows, cols);
        }),
        new(nameof(IBackend.LogSumExpRows), r =>
        {
            int rows = Between(r, 1, 6), cols = Length(r);
            var x = Values(r, rows * cols, -10, 10);
            if (r.Next(2) == 0) for (int i = 0; i < cols; i++) x[i] += 1000f;
            var expected = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < cols; j++) max = Math.Max(max, x[i * cols + j]);
                for (int j = 0; j < cols; j++) sum += Math.Exp(x[i * cols + j] - max);
                expected[i] = max + Math.Log(sum);
            }
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => { b.LogSumExpRows(t("x"), t("result")); return null; }, Relative = 1e-6, Absolute = 1e-5 }
                .In("x", x, rows, cols).Out("result", expected, rows);
        }),
        new(nameof(IBackend.SoftmaxCrossEntropy), r =>
        {
            int rows = Between(r, 1, 8), cols = Between(r, 2, 40);
            var z = Values(r, rows * cols, -5, 5);
            var targets = Round(NaiveKernels.SoftmaxRows(Values(r, rows * cols, -2, 2), rows, cols));
            var p = NaiveKernels.SoftmaxRows(z, rows, cols);
            double loss = 0;
            for (int i = 0; i < p.Length; i++) loss -= targets[i] * Math.Log(p[i]);
            return new OperationCase($"[{rows}, {cols}]")
            {
                Invoke = (b, t) => b.SoftmaxCrossEntropy(t("z"), t("targets"), t("p"), t("dz")),
                Scalar = loss / rows, Relative = 1e-5, Absolute = 1e-7,
            }
            .In("z", z, rows, cols).In("targets", targets, rows, cols).Out("p", p, rows, cols)
            .Out("dz", [.. p.Select((v, i) => (v - targets[i]) / rows)], rows, cols);
        }),
        new(nameof(IBackend.SigmoidCrossEntropy), r =>
        {
            int rows = Between(r, 1, 8), cols = Length(r);
            var z = Values(r, rows * cols, -30, 30);
            var targets = Values(r, rows * cols, 0, 1);
            var p = Map(z, Sigmoid);
            double loss = z.Select((v, i) => Math.Max(v, 0) - targets[i] * v + Math.Log(1 + Math.Exp(-Math.Abs(v)))).Sum();
            return new OperationCase($"[{rows}, {cols}]")
            {
                Invoke = (b, t) => b.SigmoidCrossEntropy(t("z"), t("targets"), t("p"), t("dz")),
                Scalar = loss / rows, Relative = 1e-5, Absolute = 1e-7,
            }
            .In("z", z, rows, cols).In("targets", targets, rows, cols).Out("p", p, rows, cols)
            .Out("dz", [.. p.Select((v, i) => (v - targets[i]) / rows)], rows, cols);
        }),
        new(nameof(IBackend.SquaredError), r =>
        {
            int rows = Between(r, 1, 8), cols = Length(r);
            var (y, targets) = (Values(r, rows * cols, -2, 2), Values(r, rows * cols, -2, 2));
            double loss = y.Select((v, i) => ((double)v - targets[i]) * ((double)v - targets[i])).Sum() / (2.0 * rows);
            return new OperationCase($"[{rows}, {cols}]") { Invoke = (b, t) => b.SquaredError(t("y"), t("targets"), t("dy")), Scalar = loss, Relative = 1e-5 }
                .In("y", y, rows, cols).In("targets", targets, rows, cols).Out("dy", Zip(y, targets, (u, v) => (u - v) / rows), rows, cols);
        }),
    ];

    private static IEnumerable<BackendOperation> BoltzmannStatistics =>
    [
        new(nameof(IBackend.SoftplusSumRows), r =>
        {
            int rows = Between(r, 1, 8), cols = Length(r);
            float scale = Values(r, 1, 0, 1.5f)[0];
            var x = Values(r, rows * cols, -40, 40);
            var expected = new double[rows];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    double v = scale * (double)x[i * cols + j];
                    expected[i] += Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v)));
                }
            return new OperationCase($"[{rows}, {cols}] scale {scale}") { Invoke = (b, t) => { b.SoftplusSumRows(t("x"), scale, t("result")); return null; }, Relative = 1e-5, Absolute = 1e-5 }
                .In("x", x, rows, cols).Out("result", expected, rows);
        }),
        new(nameof(IBackend.ScaledSigmoid), r =>
        {
            int n = Length(r);
            float scale = Values(r, 1, -2, 2)[0];
            var x = Values(r, n, -10, 10);
            return new OperationCase($"[{n}] scale {scale}") { Invoke = (b, t) => { b.ScaledSigmoid(t("x"), scale, t("y")); return null; }, Relative = 1e-6, Absolute = 1e-7 }
                .In("x", x, n).Out("y", Map(x, v => scale * Sigmoid(v)), n);
        }),
        new(nameof(IBackend.GaussianScaleStatistics), r =>
        {
            int rows = Between(r, 1, 20), cols = Length(r);
            float beta = r.Next(2) == 0 ? 0f : Values(r, 1)[0];
            var (v, drive) = (Values(r, rows * cols, -2, 2), Values(r, rows * cols, -2, 2));
            var (bias, sigma, result) = (Values(r, cols), Values(r, cols, 0.3f, 2f), Values(r, cols));
            var expected = new double[cols];
            for (int j = 0; j < cols; j++)
            {
                expected[j] = beta * (double)result[j];
                for (int i = 0; i < rows; i++)
                {
                    double d = (double)v[i * cols + j] - bias[j];
                    expected[j] += d * d / ((double)sigma[j] * sigma[j]) - (double)v[i * cols + j] * drive[i * cols + j] / sigma[j];
                }
            }
            return new OperationCase($"[{rows}, {cols}] beta {beta}")
            {
                Invoke = (b, t) => { b.GaussianScaleStatistics(t("v"), t("drive"), t("bias"), t("sigma"), t("result"), beta); return null; },
                Relative = 1e-5, Absolute = 1e-5 * rows,
            }
            .In("v", v, rows, cols).In("drive", drive, rows, cols).In("bias", bias, cols).In("sigma", sigma, cols).InOut("result", result, expected, cols);
        }),
        new(nameof(IBackend.ProbabilisticMaxPool), r =>
        {
            int n = Between(r, 1, 3), c = Between(r, 1, 3), block = Between(r, 1, 3);
            int h = block * Between(r, 1, 4), w = block * Between(r, 1, 4);
            var x = Values(r, n * c * h * w, -4, 4);
            var (hidden, pool) = NaiveKernels.ProbabilisticPooling(x, n * c, h, w, block);
            return new OperationCase($"[{n}, {c}, {h}, {w}] block {block}")
            {
                Invoke = (b, t) => { b.ProbabilisticMaxPool(t("x"), c, h, w, block, t("hidden"), t("pool")); return null; },
                Relative = 1e-5, Absolute = 1e-7,
            }
            .In("x", x, n, c * h * w).Out("hidden", hidden, n, c * h * w).Out("pool", pool, n, c * (h / block) * (w / block));
        }),
        new(nameof(IBackend.SampleProbabilisticMaxPool), r =>
        {
            int n = Between(r, 1, 3), c = Between(r, 1, 3), block = Between(r, 1, 3);
            int h = block * Between(r, 1, 4), w = block * Between(r, 1, 4);
            var hidden = Round(NaiveKernels.ProbabilisticPooling(Values(r, n * c * h * w, -3, 3), n * c, h, w, block).Hidden);
            var stream = RandomStream.Root((ulong)r.Next()).Derive("harness");
            ulong counter = (ulong)r.Next(1000);
            var (samples, pool) = NaiveKernels.SampleProbabilisticPooling(stream, counter, hidden, n * c, h, w, block);
            return new OperationCase($"[{n}, {c}, {h}, {w}] block {block} counter {counter}")
            {
                Invoke = (b, t) => { b.SampleProbabilisticMaxPool(stream, counter, t("hidden"), c, h, w, block, t("samples"), t("pool")); return null; },
            }
            .In("hidden", hidden, n, c * h * w).Exactly("samples", null, Widen(samples), n, c * h * w).Exactly("pool", null, Widen(pool), n, c * (h / block) * (w / block));
        }),
    ];
}
