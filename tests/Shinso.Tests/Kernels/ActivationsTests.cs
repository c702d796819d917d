using Shinso.Backends;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;
using Shinso.Operations;
using Shinso.Numerics;

namespace Shinso.Tests.Kernels;

public class ActivationsTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private static readonly Activation[] Functions = Enum.GetValues<Activation>();

    // Special values spliced into the random inputs: zeros, the tanh branch point, exp overflow and underflow.
    private static readonly float[] Specials =
        { 0f, -0f, 1e-30f, -1e-30f, 0.625f, -0.625f, 0.6249999f, 20f, -20f, 87f, -87f, 88.8f, -88.8f, 100f, -100f, 105f, -110f, 1e4f, -1e4f, float.MaxValue, float.MinValue };

    private static float[] Inputs(int n, int seed)
    {
        var random = new System.Random(seed);
        float[] x = RandomArray(random, n, -12f, 12f);
        for (int i = 0; i < n; i++)
        {
            if (random.Next(4) == 0)
                x[i] = Specials[random.Next(Specials.Length)];
        }
        return x;
    }

    /// <summary>About 4 ulp relative, with an absolute floor at the float subnormals.</summary>
    private static double Tolerance(Activation f, double expected) =>
        f is Activation.Identity or Activation.Relu or Activation.AbsoluteValue or Activation.Step ? 0 : 4.8e-7 * Math.Abs(expected) + 1e-37;

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Activate_matches_the_twin_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        foreach (Activation f in Functions)
        {
            for (int n = 0; n <= 256; n++)
            {
                float[] x = Inputs(n, n);
                var y = Guarded(new float[n]);
                Activations.Activate(f, x, Window(y), options);
                AssertGuards(y, $"{f} n={n}");
                for (int i = 0; i < n; i++)
                {
                    double expected = NaiveKernels.Activate(f, x[i]);
                    AssertClose(expected, Window(y)[i], Tolerance(f, expected), $"{f}({x[i]:R}) path {path} n={n} i={i}");
                }

                // In place gives the same values.
                var inPlace = (float[])x.Clone();
                Activations.Activate(f, inPlace, inPlace, options);
                AssertBitIdentical(Window(y), inPlace, $"{f} in place n={n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Backward_matches_the_twin_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        foreach (Activation f in Functions)
        {
            for (int n = 0; n <= 256; n++)
            {
                float[] x = Inputs(n, 1000 + n);
                for (int i = 0; i < n; i += 5)
                    x[i] = 0f; // derivative 0 at 0 for ReLU and |x|
                var y = new float[n];
                Activations.Activate(f, x, y, new CpuKernelOptions(SimdPath.Scalar));
                float[] dy = RandomArray(new System.Random(n), n, -3f, 3f);
                var dx = Guarded(new float[n]);
                Activations.ActivationBackward(f, x, y, dy, Window(dx), options);
                AssertGuards(dx, $"{f}' n={n}");
                for (int i = 0; i < n; i++)
                {
                    double expected = NaiveKernels.Derivative(f, x[i], y[i], dy[i]);
                    double tolerance = f is Activation.Sigmoid or Activation.Tanh ? 2.4e-7 * Math.Abs(expected) + 1e-37 : 0;
                    AssertClose(expected, Window(dx)[i], tolerance, $"{f}'({x[i]:R}) path {path} n={n} i={i}");
                }
                var inPlace = (float[])dy.Clone();
                Activations.ActivationBackward(f, x, y, inPlace, inPlace, options);
                AssertBitIdentical(Window(dx), inPlace, $"{f}' in place n={n}");
            }
        }
    }

    [Fact]
    public void Every_path_gives_bit_identical_values()
    {
        float[] x = Inputs(4099, 77);
        foreach (Activation f in Functions)
        {
            var reference = new float[x.Length];
            Activations.Activate(f, x, reference, new CpuKernelOptions(SimdPath.Scalar, 1));
            foreach (SimdPath path in ExplicitPaths())
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = new float[x.Length];
                    Activations.Activate(f, x, y, new CpuKernelOptions(path, threads));
                    AssertBitIdentical(reference, y, $"{f} on {path}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sigmoid_is_finite_and_saturates_for_huge_inputs(SimdPath path)
    {
        float[] x = { -1e4f, -1000f, -200f, -104f, -89f, 89f, 104f, 200f, 1000f, 1e4f, float.MinValue, float.MaxValue, float.NegativeInfinity, float.PositiveInfinity, -0f };
        var y = new float[x.Length];
        Activations.Activate(Activation.Sigmoid, x, y, new CpuKernelOptions(path));
        Assert.All(y, v => Assert.True(float.IsFinite(v) && v >= 0f && v <= 1f, $"sigmoid gave {v}"));
        Assert.Equal(0f, y[0]);
        Assert.Equal(1f, y[9]);
        Assert.Equal(0.5f, y[^1]);
        var t = new float[x.Length];
        Activations.Activate(Activation.Tanh, x, t, new CpuKernelOptions(path));
        Assert.Equal(-1f, t[0]);
        Assert.Equal(1f, t[9]);
        Assert.Equal(-1f, t[12]);
        Assert.Equal(1f, t[13]);
        Assert.True(float.IsNaN(SimdMath.Sigmoid(float.NaN)) && float.IsNaN(SimdMath.Tanh(float.NaN)));
    }

    [Fact]
    public void Exp_is_accurate_over_the_whole_float_range()
    {
        // Geometrically spaced points from -110 to 100, through the subnormal results and up to overflow.
        int worst = 0;
        for (float x = -110f; x < 100f; x = MathF.BitIncrement(x) + MathF.Abs(x) * 1e-3f + 1e-4f)
        {
            double expected = Math.Exp(x);
            float actual = SimdMath.Exp(x);
            if (expected > float.MaxValue)
            {
                Assert.True(float.IsPositiveInfinity(actual) || actual >= 3.4e38f, $"exp({x}) = {actual}");
                continue;
            }
            double ulp = Math.Max(Math.Abs(MathF.BitIncrement((float)expected) - (float)expected), float.Epsilon);
            int ulps = (int)Math.Round(Math.Abs(actual - expected) / ulp);
            worst = Math.Max(worst, ulps);
        }
        Assert.True(worst <= 2, $"exp is off by up to {worst} ulp");
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var e = Assert.Throws<ArgumentException>(() => Activations.Activate(Activation.Tanh, new float[3], new float[4]));
        Assert.Contains("x has 3 elements but y has 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => Activations.ActivationBackward(Activation.Relu, new float[3], new float[3], new float[3], new float[2]));
        Assert.Equal("dx", e.ParamName);
        var shared = new float[20];
        Assert.Throws<ArgumentException>(() => Activations.Activate(Activation.Relu, shared.AsSpan(0, 16), shared.AsSpan(2, 16)));
    }
}
