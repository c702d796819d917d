using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;

namespace Shinso.Tests.Kernels;

public class OptimizerKernelsTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private const double Eps = 5.9604644775390625E-8;

    /// <summary>One optimizer: runs the kernel on (theta, g, s1, s2) in place, and the double twin on copies.
    /// The twin's last argument is the sign of its subtractions: -1 computes the update, +1 run on absolute
    /// values computes the magnitude of every term, which bounds the rounding error (a few ulp of it).</summary>
    private sealed record Case(string Name, int States,
        Action<float[], float[], float[], float[], CpuKernelOptions> Kernel,
        Action<double[], double[], double[], double[], double> Twin, double Ulps);

    private static readonly Case[] Cases =
    {
        new("momentum", 1,
            (p, g, a, _, o) => OptimizerKernels.Momentum(p, g, a, 0.05f, 0.9f, o),
            (p, g, a, _, m) =>
            {
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] = 0.9f * a[i] + m * 0.05f * g[i];
                    p[i] += a[i];
                }
            }, 4),
        new("nesterov", 1,
            (p, g, a, _, o) => OptimizerKernels.Nesterov(p, g, a, 0.05f, 0.9f, o),
            (p, g, a, _, m) =>
            {
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] = 0.9f * a[i] + m * 0.05f * g[i];
                    p[i] += 0.9f * a[i] + m * 0.05f * g[i];
                }
            }, 6),
        new("adagrad", 1,
            (p, g, a, _, o) => OptimizerKernels.AdaGrad(p, g, a, 0.1f, 1e-6f, o),
            (p, g, a, _, m) =>
            {
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] += g[i] * g[i];
                    p[i] += m * 0.1f * g[i] / (Math.Sqrt(a[i]) + 1e-6f);
                }
            }, 6),
        new("rmsprop", 1,
            (p, g, a, _, o) => OptimizerKernels.RmsProp(p, g, a, 0.01f, 0.95f, 1e-6f, o),
            (p, g, a, _, m) =>
            {
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] = 0.95f * a[i] + (1 - 0.95f) * g[i] * g[i];
                    p[i] += m * 0.01f * g[i] / (Math.Sqrt(a[i]) + 1e-6f);
                }
            }, 8),
        new("adadelta", 2,
            (p, g, a, b, o) => OptimizerKernels.AdaDelta(p, g, a, b, 0.95f, 1e-6f, o),
            (p, g, a, b, m) =>
            {
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] = 0.95f * a[i] + (1 - 0.95f) * g[i] * g[i];
                    double d = m * Math.Sqrt(b[i] + 1e-6f) / Math.Sqrt(a[i] + 1e-6f) * g[i];
                    b[i] = 0.95f * b[i] + (1 - 0.95f) * d * d;
                    p[i] += d;
                }
            }, 10),
        new("adam", 2,
            (p, g, a, b, o) => OptimizerKernels.Adam(p, g, a, b, 0.001f, 0.9f, 0.999f, 1e-8f, 3, o),
            (p, g, a, b, m) =>
            {
                double c1 = 1 - Math.Pow(0.9f, 3), c2 = 1 - Math.Pow(0.999f, 3);
                for (int i = 0; i < p.Length; i++)
                {
                    a[i] = 0.9f * a[i] + (1 - 0.9f) * g[i];
                    b[i] = 0.999f * b[i] + (1 - 0.999f) * g[i] * g[i];
                    p[i] += m * 0.001f * (a[i] / c1) / (Math.Sqrt(b[i] / c2) + 1e-8f);
                }
            }, 10),
    };

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Updates_match_the_twin_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        var random = new System.Random(17);
        foreach (Case c in Cases)
        {
            for (int n = 0; n <= 256; n++)
            {
                float[] theta = RandomArray(random, n, -1f, 1f);
                float[] g = RandomArray(random, n, -2f, 2f);
                float[] s1 = RandomArray(random, n, c.Name == "momentum" || c.Name == "nesterov" || c.Name == "adam" ? -0.5f : 0f, 0.5f);
                float[] s2 = RandomArray(random, n, 0f, 0.5f);

                double[] ep = theta.Select(v => (double)v).ToArray();
                double[] e1 = s1.Select(v => (double)v).ToArray();
                double[] e2 = s2.Select(v => (double)v).ToArray();
                c.Twin(ep, g.Select(v => (double)v).ToArray(), e1, e2, -1);
                double[] mp = theta.Select(v => (double)Math.Abs(v)).ToArray();
                double[] m1 = s1.Select(v => (double)Math.Abs(v)).ToArray();
                double[] m2 = s2.Select(v => (double)Math.Abs(v)).ToArray();
                c.Twin(mp, g.Select(v => (double)Math.Abs(v)).ToArray(), m1, m2, +1);

                var p = Guarded(theta);
                var a = Guarded(s1);
                var b = Guarded(s2);
                var kernelP = Window(p).ToArray();
                var kernelA = Window(a).ToArray();
                var kernelB = Window(b).ToArray();
                c.Kernel(kernelP, g, kernelA, kernelB, options);
                // Also run on the guarded windows to check the kernel stays inside its spans.
                RunOnWindows(c, p, g, a, b, options);

                for (int i = 0; i < n; i++)
                {
                    string what = $"{c.Name} path {path} n={n} i={i}";
                    AssertClose(ep[i], kernelP[i], c.Ulps * Eps * mp[i], what + " theta");
                    AssertClose(e1[i], kernelA[i], c.Ulps * Eps * m1[i] + 1e-30, what + " state 1");
                    if (c.States > 1)
                        AssertClose(e2[i], kernelB[i], c.Ulps * Eps * m2[i] + 1e-30, what + " state 2");
                }
                AssertBitIdentical(kernelP, Window(p), c.Name + " guarded run");
            }
        }
    }

    private static void RunOnWindows(Case c, float[] p, float[] g, float[] a, float[] b, CpuKernelOptions options)
    {
        // The case delegates take arrays, so copy through the windows.
        var wp = Window(p).ToArray();
        var wa = Window(a).ToArray();
        var wb = Window(b).ToArray();
        c.Kernel(wp, g, wa, wb, options);
        wp.CopyTo(Window(p));
        wa.CopyTo(Window(a));
        wb.CopyTo(Window(b));
        AssertGuards(p, c.Name);
    }

    [Fact]
    public void Paths_and_threads_are_bit_identical()
    {
        const int n = 100_001;
        var random = new System.Random(5);
        float[] theta0 = RandomArray(random, n, -1f, 1f);
        float[] g = RandomArray(random, n, -1f, 1f);
        float[] s0 = RandomArray(random, n, 0f, 1f);
        foreach (Case c in Cases)
        {
            float[]? reference = null;
            foreach (SimdPath path in ExplicitPaths())
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    float[] theta = (float[])theta0.Clone(), a = (float[])s0.Clone(), b = (float[])s0.Clone();
                    c.Kernel(theta, g, a, b, new CpuKernelOptions(path, threads));
                    if (reference is null)
                        reference = theta;
                    else
                        AssertBitIdentical(reference, theta, $"{c.Name} {path} {threads} threads");
                }
            }
        }
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var e = Assert.Throws<ArgumentException>(() => OptimizerKernels.Momentum(new float[4], new float[4], new float[3], 0.1f, 0.9f));
        Assert.Contains("parameters has 4 elements but velocity has 3", e.Message);
        Assert.Equal("velocity", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => OptimizerKernels.Adam(new float[4], new float[5], new float[4], new float[4], 0.1f, 0.9f, 0.99f, 1e-8f, 1));
        Assert.Equal("gradient", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerKernels.Adam(new float[4], new float[4], new float[4], new float[4], 0.1f, 0.9f, 0.99f, 1e-8f, 0));
        var shared = new float[8];
        Assert.Throws<ArgumentException>(() => OptimizerKernels.AdaGrad(shared.AsSpan(0, 4), new float[4], shared.AsSpan(2, 4), 0.1f, 1e-6f));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.AdaGrad(shared.AsSpan(0, 4), shared.AsSpan(2, 4), new float[4], 0.1f, 1e-6f));
    }
}
