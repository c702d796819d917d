using Shinso.Backends;
using Shinso.Random;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.BackendOperations;

/// <summary>The optimizer-update, sampling and sparse-coding entries (<see cref="IOptimizerUpdates"/>, <see cref="ISampling"/>, <see cref="ISparseCoding"/>).</summary>
internal static partial class BackendOperationTable
{
    /// <summary>An elementwise update of parameters and their state: <paramref name="rule"/> maps (θ, g, s1, s2) to their new values in double.</summary>
    private static BackendOperation Update(string name, int states, Func<System.Random, (string Settings, Action<IBackend, Func<string, Shinso.Tensors.Tensor>> Call, Func<double, double, double, double, (double, double, double)> Rule)> draw) =>
        new(name, r =>
        {
            int n = Length(r);
            var (settings, call, rule) = draw(r);
            var (theta, g) = (Values(r, n), Values(r, n));
            var (s1, s2) = (Values(r, n, 0, 0.5f), Values(r, n, 0, 0.5f));
            var (e0, e1, e2) = (new double[n], new double[n], new double[n]);
            for (int i = 0; i < n; i++) (e0[i], e1[i], e2[i]) = rule(theta[i], g[i], s1[i], s2[i]);
            var @case = new OperationCase($"[{n}] {settings}") { Invoke = (b, t) => { call(b, t); return null; }, Relative = 1e-5, Absolute = 1e-6 }
                .InOut("theta", theta, e0, n).In("g", g, n).InOut("s1", s1, e1, n);
            return states == 2 ? @case.InOut("s2", s2, e2, n) : @case;
        });

    private static IEnumerable<BackendOperation> OptimizerUpdates =>
    [
        Update(nameof(IBackend.MomentumUpdate), 1, r =>
        {
            float eta = Values(r, 1, 0.001f, 0.5f)[0], mu = Values(r, 1, 0, 0.99f)[0];
            return ($"lr {eta} momentum {mu}", (b, t) => b.MomentumUpdate(t("theta"), t("g"), t("s1"), eta, mu),
                (p, g, v, _) => { double nv = mu * v - eta * g; return (p + nv, nv, 0); });
        }),
        Update(nameof(IBackend.NesterovUpdate), 1, r =>
        {
            float eta = Values(r, 1, 0.001f, 0.5f)[0], mu = Values(r, 1, 0, 0.99f)[0];
            return ($"lr {eta} momentum {mu}", (b, t) => b.NesterovUpdate(t("theta"), t("g"), t("s1"), eta, mu),
                (p, g, v, _) => { double nv = mu * v - eta * g; return (p + mu * nv - eta * g, nv, 0); });
        }),
        Update(nameof(IBackend.AdaGradUpdate), 1, r =>
        {
            float eta = Values(r, 1, 0.001f, 0.5f)[0], eps = 1e-6f;
            return ($"lr {eta}", (b, t) => b.AdaGradUpdate(t("theta"), t("g"), t("s1"), eta, eps),
                (p, g, h, _) => { double nh = h + g * g; return (p - eta * g / (Math.Sqrt(nh) + eps), nh, 0); });
        }),
        Update(nameof(IBackend.RmsPropUpdate), 1, r =>
        {
            float eta = Values(r, 1, 0.001f, 0.5f)[0], rho = Values(r, 1, 0.5f, 0.99f)[0], eps = 1e-6f;
            return ($"lr {eta} decay {rho}", (b, t) => b.RmsPropUpdate(t("theta"), t("g"), t("s1"), eta, rho, eps),
                (p, g, ms, _) => { double nm = rho * ms + (1 - rho) * g * g; return (p - eta * g / (Math.Sqrt(nm) + eps), nm, 0); });
        }),
        Update(nameof(IBackend.AdaDeltaUpdate), 2, r =>
        {
            float rho = Values(r, 1, 0.5f, 0.99f)[0], eps = 1e-6f;
            return ($"decay {rho}", (b, t) => b.AdaDeltaUpdate(t("theta"), t("g"), t("s1"), t("s2"), rho, eps),
                (p, g, eg, ed) =>
                {
                    double ng = rho * eg + (1 - rho) * g * g;
                    double d = -Math.Sqrt(ed + eps) / Math.Sqrt(ng + eps) * g;
                    return (p + d, ng, rho * ed + (1 - rho) * d * d);
                });
        }),
        Update(nameof(IBackend.AdamUpdate), 2, r =>
        {
            float eta = Values(r, 1, 0.001f, 0.1f)[0], b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            int step = Between(r, 1, 50);
            return ($"lr {eta} step {step}", (b, t) => b.AdamUpdate(t("theta"), t("g"), t("s1"), t("s2"), eta, b1, b2, eps, step),
                (p, g, m, v) =>
                {
                    double nm = b1 * m + (1 - b1) * g, nv = b2 * v + (1 - b2) * g * g;
                    return (p - eta * (nm / (1 - Math.Pow(b1, step))) / (Math.Sqrt(nv / (1 - Math.Pow(b2, step))) + eps), nm, nv);
                });
        }),
    ];

    private static (RandomStream Stream, ulong Counter) Draw(System.Random r) => (RandomStream.Root((ulong)r.Next()).Derive("harness"), (ulong)r.Next(1 << 20));

    private static IEnumerable<BackendOperation> Sampling =>
    [
        new(nameof(IBackend.SampleUniform), r =>
        {
            int n = Length(r);
            var (stream, counter) = Draw(r);
            return new OperationCase($"[{n}] counter {counter}") { Invoke = (b, t) => { b.SampleUniform(stream, counter, t("u")); return null; } }
                .Exactly("u", null, [.. Enumerable.Range(0, n).Select(i => (double)NaiveKernels.Uniform(stream, counter, i))], n);
        }),
        new(nameof(IBackend.SampleGaussian), r =>
        {
            int n = Length(r);
            var (stream, counter) = Draw(r);
            float mean = Values(r, 1, -2, 2)[0], sd = Values(r, 1, 0.1f, 3f)[0];
            return new OperationCase($"[{n}] counter {counter} N({mean}, {sd}²)") { Invoke = (b, t) => { b.SampleGaussian(stream, counter, mean, sd, t("z")); return null; }, Relative = 2e-6, Absolute = 4e-6 * sd }
                .Out("z", [.. Enumerable.Range(0, n).Select(i => mean + sd * NaiveKernels.Gaussian(stream, counter, i))], n);
        }),
        new(nameof(IBackend.SampleBernoulli), r =>
        {
            int n = Length(r);
            var (stream, counter) = Draw(r);
            var p = Values(r, n, 0, 1);
            return new OperationCase($"[{n}] counter {counter}") { Invoke = (b, t) => { b.SampleBernoulli(stream, counter, t("p"), t("s")); return null; } }
                .In("p", p, n).Exactly("s", null, [.. p.Select((v, i) => NaiveKernels.Uniform(stream, counter, i) < v ? 1.0 : 0.0)], n);
        }),
        new(nameof(IBackend.SigmoidBernoulli), r =>
        {
            int n = Length(r);
            var (stream, counter) = Draw(r);
            var x = Values(r, n, -6, 6);
            var p = Map(x, Sigmoid);
            // A uniform within rounding of its probability may fall either way: not compared.
            double[] samples = [.. p.Select((v, i) => Math.Abs(NaiveKernels.Uniform(stream, counter, i) - v) < 1e-6 ? double.NaN : NaiveKernels.Uniform(stream, counter, i) < v ? 1.0 : 0.0)];
            return new OperationCase($"[{n}] counter {counter}") { Invoke = (b, t) => { b.SigmoidBernoulli(stream, counter, t("x"), t("p"), t("s")); return null; }, Relative = 1e-6, Absolute = 1e-7 }
                .In("x", x, n).Out("p", p, n).Exactly("s", null, samples, n);
        }),
        new(nameof(IBackend.SampleDropoutMask), r =>
        {
            int n = Length(r);
            var (stream, counter) = Draw(r);
            float keep = Values(r, 1, 0.1f, 0.95f)[0];
            return new OperationCase($"[{n}] counter {counter} keep {keep}") { Invoke = (b, t) => { b.SampleDropoutMask(stream, counter, keep, t("mask")); return null; } }
                .Exactly("mask", null, [.. Enumerable.Range(0, n).Select(i => NaiveKernels.Uniform(stream, counter, i) < keep ? (double)(1f / keep) : 0.0)], n);
        }),
        new(nameof(IBackend.SampleOneHot), r =>
        {
            int rows = Between(r, 1, 40), cols = Between(r, 2, 12);
            var (stream, counter) = Draw(r);
            var p = NaiveKernels.SoftmaxRows(Values(r, rows * cols, -3, 3), rows, cols);
            var probabilities = Array.ConvertAll(p, v => (float)v);
            return new OperationCase($"[{rows}, {cols}] counter {counter}") { Invoke = (b, t) => { b.SampleOneHot(stream, counter, t("p"), t("s")); return null; } }
                .In("p", probabilities, rows, cols).Exactly("s", null, NaiveKernels.SampleOneHot(stream, counter, probabilities, rows, cols), rows, cols);
        }),
    ];

    private static double Soft(double u, double tau) => u - Math.Clamp(u, -tau, tau);

    private static IEnumerable<BackendOperation> SparseCoding =>
    [
        new(nameof(IBackend.ShrinkageStep), r =>
        {
            int rows = Between(r, 1, 8), atoms = Length(r);
            float step = Values(r, 1, 0.1f, 1f)[0], threshold = Values(r, 1, 0, 0.3f)[0];
            var (h, hp, p, pp, bm) = (Values(r, rows * atoms), Values(r, rows * atoms), Values(r, rows * atoms), Values(r, rows * atoms), Values(r, rows * atoms));
            var m = Values(r, rows, 0, 1);
            var expected = new double[h.Length];
            for (int i = 0; i < h.Length; i++)
            {
                double mu = m[i / atoms], y = h[i] + mu * (h[i] - hp[i]), g = p[i] + mu * (p[i] - pp[i]) - bm[i];
                expected[i] = Soft(y - step * g, threshold);
            }
            return new OperationCase($"[{rows}, {atoms}] step {step} threshold {threshold}")
            {
                Invoke = (b, t) => { b.ShrinkageStep(t("h"), t("hp"), t("p"), t("pp"), t("b"), t("m"), step, threshold); return null; }, Relative = 1e-5, Absolute = 1e-6,
            }
            .In("h", h, rows, atoms).InOut("hp", hp, expected, rows, atoms).In("p", p, rows, atoms).In("pp", pp, rows, atoms).In("b", bm, rows, atoms).In("m", m, rows);
        }),
        new(nameof(IBackend.ProximalStep), r =>
        {
            int rows = Between(r, 1, 8), atoms = Length(r);
            float step = Values(r, 1, 0.1f, 1f)[0], threshold = Values(r, 1, 0, 0.3f)[0];
            var (h, hp, g) = (Values(r, rows * atoms), Values(r, rows * atoms), Values(r, rows * atoms));
            var m = Values(r, rows, 0, 1);
            double[] expected = [.. h.Select((v, i) => Soft(v + m[i / atoms] * ((double)v - hp[i]) - step * (double)g[i], threshold))];
            return new OperationCase($"[{rows}, {atoms}] step {step} threshold {threshold}")
            {
                Invoke = (b, t) => { b.ProximalStep(t("h"), t("hp"), t("g"), t("m"), step, threshold); return null; }, Relative = 1e-5, Absolute = 1e-6,
            }
            .In("h", h, rows, atoms).InOut("hp", hp, expected, rows, atoms).In("g", g, rows, atoms).In("m", m, rows);
        }),
        new(nameof(IBackend.ExtrapolatedResidual), r =>
        {
            int rows = Between(r, 1, 8), features = Length(r);
            var (rc, rp, x) = (Values(r, rows * features), Values(r, rows * features), Values(r, rows * features));
            var m = Values(r, rows, 0, 1);
            double[] expected = [.. rc.Select((v, i) => v + m[i / features] * ((double)v - rp[i]) - x[i])];
            return new OperationCase($"[{rows}, {features}]") { Invoke = (b, t) => { b.ExtrapolatedResidual(t("r"), t("rp"), t("x"), t("m"), t("residual")); return null; }, Relative = 1e-5, Absolute = 1e-6 }
                .In("r", rc, rows, features).In("rp", rp, rows, features).In("x", x, rows, features).In("m", m, rows).Out("residual", expected, rows, features);
        }),
        new(nameof(IBackend.PoolingRoots), r =>
        {
            int n = Length(r);
            float epsilon = Values(r, 1, 1e-4f, 0.1f)[0];
            var pooled = Values(r, n, 0, 4);
            return new OperationCase($"[{n}] epsilon {epsilon}") { Invoke = (b, t) => { b.PoolingRoots(t("pooled"), epsilon, t("roots"), t("inverse")); return null; }, Relative = 1e-6 }
                .In("pooled", pooled, n).Out("roots", Map(pooled, v => Math.Sqrt(epsilon + v)), n).Out("inverse", Map(pooled, v => 1 / Math.Sqrt(epsilon + v)), n);
        }),
        new(nameof(IBackend.AcceptDescent), r => Acceptance(r, factored: false)),
        new(nameof(IBackend.AcceptReconstruction), r => Acceptance(r, factored: true)),
    ];

    /// <summary>
    /// FISTA's monotone acceptance per row: a candidate whose objective is not above the row's is accepted (objective, t and
    /// momentum advance), otherwise the row restarts from the current iterate. Each row's old objective is drawn a clear margin
    /// above or below the candidate's, so the reference never sits on the 1e-6 boundary.
    /// </summary>
    private static OperationCase Acceptance(System.Random r, bool factored)
    {
        int rows = Between(r, 1, 8), atoms = Length(r), features = Between(r, 1, 40);
        int width = factored ? features : atoms;
        float lambda = Values(r, 1, 0, 0.5f)[0];
        var (z, zp, h, hp) = (Values(r, rows * atoms), Values(r, rows * width), Values(r, rows * atoms), Values(r, rows * width));
        var bm = Values(r, rows * width);
        var t0 = Values(r, rows, 1, 5);
        var objective = new float[rows];
        var (eZ, eZp, eObjective, eT, eM) = (Widen(z), Widen(zp), new double[rows], new double[rows], new double[rows]);
        for (int i = 0; i < rows; i++)
        {
            double f = 0;
            for (int j = 0; j < atoms; j++) f += lambda * Math.Abs((double)z[i * atoms + j]);
            for (int j = 0; j < width; j++)
            {
                int k = i * width + j;
                f += factored ? 0.5 * ((double)zp[k] - bm[k]) * ((double)zp[k] - bm[k]) : 0;
            }
            if (!factored)
                for (int j = 0; j < atoms; j++) f += (double)z[i * atoms + j] * (0.5 * zp[i * atoms + j] - bm[i * atoms + j]);
            bool accept = r.Next(2) == 0;
            objective[i] = (float)(f + (accept ? 1 : -1) * (0.1 + 0.01 * Math.Abs(f)));
            if (accept)
            {
                double next = (1 + Math.Sqrt(1 + 4.0 * t0[i] * t0[i])) / 2;
                (eObjective[i], eM[i], eT[i]) = (f, (t0[i] - 1) / next, next);
            }
            else
            {
                (eObjective[i], eM[i], eT[i]) = (objective[i], 0, 1);
                for (int j = 0; j < atoms; j++) eZ[i * atoms + j] = h[i * atoms + j];
                for (int j = 0; j < width; j++) eZp[i * width + j] = hp[i * width + j];
            }
        }
        var @case = new OperationCase($"[{rows}, {atoms}]{(factored ? $" features {features}" : "")} lambda {lambda}")
        {
            Invoke = factored
                ? (b, t) => { b.AcceptReconstruction(t("z"), t("zp"), t("h"), t("hp"), t("x"), lambda, t("objective"), t("t"), t("m")); return null; }
                : (b, t) => { b.AcceptDescent(t("z"), t("zp"), t("h"), t("hp"), t("x"), lambda, t("objective"), t("t"), t("m")); return null; },
            Relative = 1e-5, Absolute = 1e-5,
        };
        return @case.InOut("z", z, eZ, rows, atoms).InOut("zp", zp, eZp, rows, width).In("h", h, rows, atoms).In("hp", hp, rows, width).In("x", bm, rows, width)
            .InOut("objective", objective, eObjective, rows).InOut("t", t0, eT, rows).Out("m", eM, rows);
    }
}
