using FsCheck.Fluent;
using Shinso.Kernels.Cpu;

namespace Shinso.Tests.Kernels;

public class LossKernelsTests
{
    [Fact]
    public void Softmax_cross_entropy_matches_a_double_precision_twin_and_stays_finite_at_large_logits()
    {
        var gen = from rows in Gen.Choose(1, 6)
                  from cols in Gen.Choose(2, 12)
                  from scale in Gen.Elements(1.0, 30.0, 1000.0)
                  from seed in Gen.Choose(0, 10000)
                  select (rows, cols, scale, seed);
        PropertyCheck.ForAll(gen, c =>
        {
            var rng = new System.Random(c.seed);
            int n = c.rows * c.cols;
            var z = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * c.scale)).ToArray();
            var t = new float[n];
            for (int r = 0; r < c.rows; r++) t[r * c.cols + rng.Next(c.cols)] = 1f;
            var p = new float[n];
            var g = new float[n];
            float loss = LossKernels.SoftmaxCrossEntropy(z, t, c.rows, c.cols, p, g);

            double expected = 0;
            for (int r = 0; r < c.rows; r++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < c.cols; j++) max = Math.Max(max, z[r * c.cols + j]);
                double sum = 0;
                for (int j = 0; j < c.cols; j++) sum += Math.Exp(z[r * c.cols + j] - max);
                for (int j = 0; j < c.cols; j++)
                {
                    double logP = z[r * c.cols + j] - max - Math.Log(sum);
                    expected -= t[r * c.cols + j] * logP;
                    Assert.Equal(Math.Exp(logP), p[r * c.cols + j], 1e-6);
                    Assert.Equal((Math.Exp(logP) - t[r * c.cols + j]) / c.rows, g[r * c.cols + j], 1e-6);
                }
            }
            expected /= c.rows;
            Assert.True(float.IsFinite(loss));
            Assert.Equal(expected, loss, Math.Max(1e-5, Math.Abs(expected) * 1e-5));
        });
    }

    public static TheoryData<SimdPath> Paths => Requirements.SupportedPaths(SimdPath.Avx512, SimdPath.Avx2, SimdPath.Scalar);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Binary_cross_entropy_matches_a_double_precision_twin_on_every_path(SimdPath path)
    {
        var gen = from rows in Gen.Choose(1, 5)
                  from cols in Gen.Choose(1, 700)
                  from scale in Gen.Elements(0.5, 8.0, 100.0)
                  from seed in Gen.Choose(0, 10000)
                  select (rows, cols, scale, seed);
        PropertyCheck.ForAll(gen, c =>
        {
            var rng = new System.Random(c.seed);
            int n = c.rows * c.cols;
            var z = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * c.scale)).ToArray();
            // Soft targets, and hard 0 / 1 ones, as classifiers and binary images give.
            var t = Enumerable.Range(0, n).Select(_ => rng.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)rng.NextDouble() }).ToArray();
            var p = new float[n];
            var g = new float[n];
            float loss = LossKernels.SigmoidCrossEntropy(z, t, c.rows, c.cols, p, g, new CpuKernelOptions(path, 1));
            double expected = 0;
            for (int k = 0; k < n; k++)
            {
                double x = z[k], sigmoid = 1 / (1 + Math.Exp(-x));
                expected += Math.Max(x, 0) - x * t[k] + Math.Log(1 + Math.Exp(-Math.Abs(x)));
                // Relative: for z << 0 the probability is tiny, and the e / (1 + e) form keeps its digits.
                Assert.True(Math.Abs(p[k] - sigmoid) <= 1e-6 * sigmoid + 1e-30, $"z {x}: p {p[k]:G9}, expected {sigmoid:G9}");
                Assert.Equal((sigmoid - t[k]) / c.rows, g[k], 1e-6);
            }
            expected /= c.rows;
            Assert.Equal(expected, loss, Math.Max(1e-5, Math.Abs(expected) * 1e-5));
        });
    }

    [Fact]
    public void Binary_cross_entropy_is_finite_for_saturated_logits()
    {
        float[] z = [-200f, -30f, 0f, 30f, 200f];
        float[] t = [0f, 1f, 0.5f, 0f, 1f];
        var p = new float[5];
        var g = new float[5];
        float loss = LossKernels.SigmoidCrossEntropy(z, t, 1, 5, p, g);
        // max(z,0) - z*t + log(1+e^-|z|): 0 + 30 + log 2 + 30 + 0.
        Assert.Equal(60.0 + Math.Log(2), loss, 1e-4);
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(-1f, g[1], 6);
    }

    [Fact]
    public void Squared_error_is_half_the_mean_row_sum()
    {
        float[] y = [1f, 2f, 3f, 4f];
        float[] t = [0f, 2f, 1f, 4f];
        var g = new float[4];
        float loss = LossKernels.SquaredError(y, t, 2, 2, g);
        Assert.Equal((1.0 + 4.0) / (2 * 2), loss, 6);
        Assert.Equal([0.5f, 0f, 1f, 0f], g);
    }

    [Fact]
    public void Mismatched_lengths_name_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => LossKernels.SquaredError(new float[4], new float[3], 2, 2, new float[4]));
        Assert.Equal("targets", e.ParamName);
    }
}
