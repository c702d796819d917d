using Shinso.Kernels.Cpu;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.SparseCoding;

/// <summary>The FISTA passes against naive double-precision twins, on every SIMD path and at lengths that leave scalar tails.</summary>
public sealed class SparseCodingKernelTests
{
    /// <summary>The step as the interface defines it, element by element in double.</summary>
    private static double NaiveStep(double h, double hp, double p, double pp, double b, double m, double step, double threshold)
    {
        double y = h + m * (h - hp);
        double g = p + m * (p - pp) - b;
        double u = y - step * g;
        return Math.Sign(u) * Math.Max(Math.Abs(u) - threshold, 0);
    }

    public static TheoryData<SimdPath, int> PathsAndWidths()
    {
        var data = new TheoryData<SimdPath, int>();
        foreach (var path in KernelTestData.ExplicitPaths())
            foreach (int columns in new[] { 1, 7, 8, 16, 17, 64, 83 }) data.Add(path, columns);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndWidths))]
    public void Shrinkage_step_matches_its_definition_and_is_the_same_on_every_path(SimdPath path, int columns)
    {
        var random = new System.Random(columns);
        const int rows = 5;
        int n = rows * columns;
        var h = KernelTestData.RandomArray(random, n, -1, 1);
        var hp = KernelTestData.RandomArray(random, n, -1, 1);
        var p = KernelTestData.RandomArray(random, n, -2, 2);
        var pp = KernelTestData.RandomArray(random, n, -2, 2);
        var b = KernelTestData.RandomArray(random, n, -2, 2);
        var m = KernelTestData.RandomArray(random, rows, 0, 1);
        m[0] = 0f;
        const float step = 0.25f, threshold = 0.3f;
        var guarded = KernelTestData.Guarded(hp);
        SparseCodingKernels.ShrinkageStep(h, KernelTestData.Window(guarded), p, pp, b, m, rows, columns, step, threshold, new CpuKernelOptions(path));
        KernelTestData.AssertGuards(guarded, "previous");
        var result = KernelTestData.Window(guarded).ToArray();
        var scalar = (float[])hp.Clone();
        SparseCodingKernels.ShrinkageStep(h, scalar, p, pp, b, m, rows, columns, step, threshold, new CpuKernelOptions(SimdPath.Scalar));
        int zeros = 0;
        for (int i = 0; i < n; i++)
        {
            double expected = NaiveStep(h[i], hp[i], p[i], pp[i], b[i], m[i / columns], step, threshold);
            KernelTestData.AssertClose(expected, result[i], 1e-5, $"element {i}");
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(result[i]), $"element {i}: {path} {result[i]} vs scalar {scalar[i]}");
            if (expected == 0) Assert.True(result[i] == 0f, $"element {i}: thresholded to {result[i]}, not zero");
            if (result[i] == 0f) zeros++;
        }
        if (n >= 40) Assert.InRange(zeros, 1, n - 1);
    }

    [Theory]
    [MemberData(nameof(PathsAndWidths))]
    public void Accept_descent_takes_lower_candidates_advances_t_and_restarts_the_others(SimdPath path, int columns)
    {
        var random = new System.Random(100 + columns);
        const int rows = 6;
        int n = rows * columns;
        var z = KernelTestData.RandomArray(random, n, -1, 1);
        for (int i = 0; i < n; i += 3) z[i] = 0f;
        var pz = KernelTestData.RandomArray(random, n, -1, 1);
        var h = KernelTestData.RandomArray(random, n, -1, 1);
        var p = KernelTestData.RandomArray(random, n, -1, 1);
        var b = KernelTestData.RandomArray(random, n, -1, 1);
        const float lambda = 0.1f;
        var f = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < columns; j++)
            {
                int e = r * columns + j;
                f[r] += (double)z[e] * (0.5 * pz[e] - b[e]) + lambda * Math.Abs(z[e]);
            }
        // Rows alternate: a current objective clearly above the candidate's (accept) or clearly below (restart).
        var objective = new float[rows];
        for (int r = 0; r < rows; r++) objective[r] = (float)(r % 2 == 0 ? f[r] + 0.5 : f[r] - 0.5);
        var t = new float[rows];
        for (int r = 0; r < rows; r++) t[r] = 1f + r;
        var momentum = new float[rows];
        var (z0, pz0) = ((float[])z.Clone(), (float[])pz.Clone());
        SparseCodingKernels.AcceptDescent(z, pz, h, p, b, lambda, objective, t, momentum, rows, columns, new CpuKernelOptions(path));
        for (int r = 0; r < rows; r++)
        {
            double t0 = 1 + r;
            var zr = z.AsSpan(r * columns, columns).ToArray();
            var pr = pz.AsSpan(r * columns, columns).ToArray();
            if (r % 2 == 0)
            {
                KernelTestData.AssertClose(f[r], objective[r], 1e-5 * (1 + Math.Abs(f[r])), $"row {r} objective");
                double next = (1 + Math.Sqrt(1 + 4 * t0 * t0)) / 2;
                KernelTestData.AssertClose(next, t[r], 1e-6 * next, $"row {r} t");
                KernelTestData.AssertClose((t0 - 1) / next, momentum[r], 1e-6, $"row {r} momentum");
                Assert.Equal(z0.AsSpan(r * columns, columns).ToArray(), zr);
                Assert.Equal(pz0.AsSpan(r * columns, columns).ToArray(), pr);
            }
            else
            {
                Assert.Equal((float)(f[r] - 0.5), objective[r]);
                Assert.Equal(1f, t[r]);
                Assert.Equal(0f, momentum[r]);
                Assert.Equal(h.AsSpan(r * columns, columns).ToArray(), zr);
                Assert.Equal(p.AsSpan(r * columns, columns).ToArray(), pr);
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndWidths))]
    public void The_factored_form_passes_match_their_definitions_on_every_path(SimdPath path, int columns)
    {
        var random = new System.Random(200 + columns);
        const int rows = 5, features = 11;
        int n = rows * columns;
        var options = new CpuKernelOptions(path);
        var m = KernelTestData.RandomArray(random, rows, 0, 1);
        // Residual at the extrapolated point (rows x features).
        var r = KernelTestData.RandomArray(random, rows * features, -1, 1);
        var rp = KernelTestData.RandomArray(random, rows * features, -1, 1);
        var x = KernelTestData.RandomArray(random, rows * features, -1, 1);
        var e = new float[rows * features];
        SparseCodingKernels.ExtrapolatedResidual(r, rp, x, m, e, rows, features, options);
        for (int i = 0; i < e.Length; i++)
            KernelTestData.AssertClose((double)r[i] + m[i / features] * ((double)r[i] - rp[i]) - x[i], e[i], 1e-5, $"residual {i}");
        // The step given the gradient, bit for bit the scalar path's.
        var h = KernelTestData.RandomArray(random, n, -1, 1);
        var hp = KernelTestData.RandomArray(random, n, -1, 1);
        var g = KernelTestData.RandomArray(random, n, -2, 2);
        var result = (float[])hp.Clone();
        var scalar = (float[])hp.Clone();
        SparseCodingKernels.ProximalStep(h, result, g, m, rows, columns, 0.25f, 0.3f, options);
        SparseCodingKernels.ProximalStep(h, scalar, g, m, rows, columns, 0.25f, 0.3f, new CpuKernelOptions(SimdPath.Scalar));
        for (int i = 0; i < n; i++)
        {
            double u = h[i] + m[i / columns] * ((double)h[i] - hp[i]) - 0.25 * g[i];
            KernelTestData.AssertClose(Math.Sign(u) * Math.Max(Math.Abs(u) - 0.3, 0), result[i], 1e-5, $"step {i}");
            Assert.Equal(BitConverter.SingleToInt32Bits(scalar[i]), BitConverter.SingleToInt32Bits(result[i]));
        }
        // The acceptance from reconstructions: rows alternate accept (current objective above) and restart (below).
        var rz = KernelTestData.RandomArray(random, rows * features, -1, 1);
        var z = (float[])result.Clone();
        var f = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < features; j++) f[i] += 0.5 * Math.Pow(rz[i * features + j] - x[i * features + j], 2);
            for (int j = 0; j < columns; j++) f[i] += 0.1 * Math.Abs(z[i * columns + j]);
        }
        var objective = Enumerable.Range(0, rows).Select(i => (float)(i % 2 == 0 ? f[i] + 0.5 : f[i] - 0.5)).ToArray();
        var t = Enumerable.Range(0, rows).Select(i => 1f + i).ToArray();
        var momentum = new float[rows];
        var (z0, rz0) = ((float[])z.Clone(), (float[])rz.Clone());
        SparseCodingKernels.AcceptReconstruction(z, rz, h, r, x, 0.1f, objective, t, momentum, rows, columns, features, options);
        for (int i = 0; i < rows; i++)
        {
            if (i % 2 == 0)
            {
                KernelTestData.AssertClose(f[i], objective[i], 1e-5 * (1 + f[i]), $"row {i} objective");
                Assert.Equal(z0.AsSpan(i * columns, columns).ToArray(), z.AsSpan(i * columns, columns).ToArray());
                Assert.True(t[i] > 1 + i);
            }
            else
            {
                Assert.Equal(h.AsSpan(i * columns, columns).ToArray(), z.AsSpan(i * columns, columns).ToArray());
                Assert.Equal(r.AsSpan(i * features, features).ToArray(), rz.AsSpan(i * features, features).ToArray());
                Assert.Equal(1f, t[i]);
                Assert.Equal(0f, momentum[i]);
            }
        }
        Assert.Equal(rz0.AsSpan(0, features).ToArray(), rz.AsSpan(0, features).ToArray());
    }

    [Fact]
    public void Misshapen_operands_are_refused_with_their_names()
    {
        var four = new float[4];
        var e = Assert.Throws<ArgumentException>(() =>
            SparseCodingKernels.ShrinkageStep(four, four, four, four, new float[3], new float[2], 2, 2, 1f, 0.1f));
        Assert.Equal("correlation", e.ParamName);
        e = Assert.Throws<ArgumentException>(() =>
            SparseCodingKernels.AcceptDescent(four, four, four, four, four, 0.1f, new float[2], new float[2], new float[3], 2, 2));
        Assert.Equal("momentum", e.ParamName);
    }
}
