using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Random;
using static Shinso.Tests.Kernels.KernelTestData;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

public class RandomKernelsTests
{
    private static readonly RandomStream Stream = new(0x0123_4567_89AB_CDEFUL, 0xFEDC_BA98_7654_3210UL);

    public static TheoryData<SimdPath> AllPaths => Paths();

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Uniform_matches_the_scalar_generator_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        foreach (ulong counter in new ulong[] { 0, 12345, ulong.MaxValue - 5 })   // the last one wraps the block index
        {
            for (int n = 0; n <= 256; n++)
            {
                var buffer = Guarded(new float[n]);
                RandomKernels.Uniform(Stream, counter, Window(buffer), options);
                AssertGuards(buffer, $"n={n}");
                var y = Window(buffer);
                for (int i = 0; i < n; i++)
                {
                    if (y[i] != NaiveKernels.Uniform(Stream, counter, i))
                        Assert.Fail($"path {path}, counter {counter}, n={n}: element {i} is {y[i]}, expected {NaiveKernels.Uniform(Stream, counter, i)}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Gaussian_matches_the_double_box_muller_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        const float mean = 0.5f, std = 2f;
        for (int n = 0; n <= 256; n++)
        {
            var buffer = Guarded(new float[n]);
            RandomKernels.Gaussian(Stream, 99, mean, std, Window(buffer), options);
            AssertGuards(buffer, $"n={n}");
            var y = Window(buffer);
            for (int i = 0; i < n; i++)
            {
                double z = NaiveKernels.Gaussian(Stream, 99, i);
                AssertClose(mean + std * z, y[i], 1e-6 * std * Math.Max(1, Math.Abs(z)) + 1e-7, $"path {path}, n={n}, element {i}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Bernoulli_and_dropout_match_the_scalar_twin_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        var random = new System.Random(3);
        for (int n = 0; n <= 256; n++)
        {
            float[] p = RandomArray(random, n, -0.1f, 1.1f);
            var buffer = Guarded(new float[n]);
            RandomKernels.Bernoulli(Stream, 5, p, Window(buffer), options);
            AssertGuards(buffer, $"n={n}");
            var mask = Guarded(new float[n]);
            RandomKernels.DropoutMask(Stream, 5, 0.8f, Window(mask), options);
            AssertGuards(mask, $"dropout n={n}");
            for (int i = 0; i < n; i++)
            {
                float u = NaiveKernels.Uniform(Stream, 5, i);
                Assert.Equal(u < p[i] ? 1f : 0f, Window(buffer)[i]);
                Assert.Equal(u < 0.8f ? 1f / 0.8f : 0f, Window(mask)[i]);
            }
        }
    }

    [Fact]
    public void Uniform_gaussian_and_bernoulli_are_bit_identical_across_paths_and_thread_counts()
    {
        const int n = 200_003;
        var p = RandomArray(new System.Random(11), n, 0f, 1f);
        var x = RandomArray(new System.Random(12), n, -8f, 8f);
        float[]? uniform0 = null, gaussian0 = null, bernoulli0 = null, probabilities0 = null, samples0 = null;
        foreach (SimdPath path in ExplicitPaths())
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var options = new CpuKernelOptions(path, threads);
                var uniform = new float[n];
                var gaussian = new float[n];
                var bernoulli = new float[n];
                var probabilities = new float[n];
                var samples = new float[n];
                RandomKernels.Uniform(Stream, 1000, uniform, options);
                RandomKernels.Gaussian(Stream, 1000, 0f, 1f, gaussian, options);
                RandomKernels.Bernoulli(Stream, 1000, p, bernoulli, options);
                RandomKernels.SigmoidBernoulli(Stream, 1000, x, probabilities, samples, options);
                if (uniform0 is null)
                {
                    (uniform0, gaussian0, bernoulli0, probabilities0, samples0) = (uniform, gaussian, bernoulli, probabilities, samples);
                    continue;
                }
                string what = $"{path}, {threads} threads";
                AssertBitIdentical(uniform0, uniform, "uniform " + what);
                AssertBitIdentical(gaussian0!, gaussian, "gaussian " + what);
                AssertBitIdentical(bernoulli0!, bernoulli, "bernoulli " + what);
                AssertBitIdentical(probabilities0!, probabilities, "sigmoid-bernoulli probabilities " + what);
                AssertBitIdentical(samples0!, samples, "sigmoid-bernoulli samples " + what);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sigmoid_bernoulli_equals_activate_then_bernoulli(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        var random = new System.Random(5);
        for (int n = 0; n <= 256; n += n < 40 ? 1 : 17)
        {
            float[] x = RandomArray(random, n, -6f, 6f);
            var expectedP = new float[n];
            var expectedS = new float[n];
            Activations.Activate(Activation.Sigmoid, x, expectedP, new CpuKernelOptions(SimdPath.Scalar, 1));
            RandomKernels.Bernoulli(Stream, 77, expectedP, expectedS, new CpuKernelOptions(SimdPath.Scalar, 1));

            var p = Guarded(new float[n]);
            var s = Guarded(new float[n]);
            RandomKernels.SigmoidBernoulli(Stream, 77, x, Window(p), Window(s), options);
            AssertGuards(p, "probabilities");
            AssertGuards(s, "samples");
            for (int i = 0; i < n; i++)
            {
                AssertClose(expectedP[i], Window(p)[i], 1.2e-7 * expectedP[i], $"p[{i}] n={n}");
                float u = NaiveKernels.Uniform(Stream, 77, i);
                if (Math.Abs(u - expectedP[i]) > 1e-6)
                    Assert.Equal(expectedS[i], Window(s)[i]);
            }

            // In place: probabilities over the input, samples separate; and samples over the input.
            float[] inPlace = (float[])x.Clone();
            var samples = new float[n];
            RandomKernels.SigmoidBernoulli(Stream, 77, inPlace, inPlace, samples, options);
            AssertBitIdentical(Window(p), inPlace, "in-place probabilities");
            AssertBitIdentical(Window(s), samples, "samples beside in-place probabilities");
            inPlace = (float[])x.Clone();
            var probabilities = new float[n];
            RandomKernels.SigmoidBernoulli(Stream, 77, inPlace, probabilities, inPlace, options);
            AssertBitIdentical(Window(s), inPlace, "in-place samples");
        }
    }

    [Fact]
    public void Bernoulli_means_are_within_four_sigma_of_p()
    {
        const int n = 100_000;
        foreach (float prob in new[] { 0.01f, 0.3f, 0.5f, 0.9f })
        {
            var p = new float[n];
            p.AsSpan().Fill(prob);
            var s = new float[n];
            RandomKernels.Bernoulli(Stream, 31, p, s);
            double mean = s.Average(v => (double)v);
            double sigma = Math.Sqrt(prob * (1 - prob) / n);
            Assert.True(Math.Abs(mean - prob) < 4 * sigma, $"p={prob}: mean {mean}");
            Assert.All(s, v => Assert.True(v == 0f || v == 1f));
        }
        var edge = new float[] { 0f, 0f, 1f, 1f, -1f, 2f };
        var edgeSamples = new float[edge.Length];
        RandomKernels.Bernoulli(Stream, 0, edge, edgeSamples);
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 1 }, edgeSamples);
    }

    [Fact]
    public void Gaussian_and_uniform_moments_are_sane()
    {
        const int n = 100_000;
        var z = new float[n];
        RandomKernels.Gaussian(new RandomStream(2024, 1), 0, 3f, 0.5f, z);
        double mean = z.Average(v => (double)v);
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        Assert.True(Math.Abs(mean - 3) < 4 * 0.5 / Math.Sqrt(n), $"mean {mean}");
        Assert.True(Math.Abs(variance - 0.25) < 4 * 0.25 * Math.Sqrt(2.0 / n), $"variance {variance}");
        Assert.All(z, v => Assert.True(float.IsFinite(v)));

        var u = new float[n];
        RandomKernels.Uniform(new RandomStream(2024, 1), 0, u);
        Assert.All(u, v => Assert.True(v >= 0f && v < 1f));
        Assert.True(Math.Abs(u.Average(v => (double)v) - 0.5) < 4 * Math.Sqrt(1 / 12.0 / n));
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var e = Assert.Throws<ArgumentException>(() => RandomKernels.Bernoulli(Stream, 0, new float[10], new float[9]));
        Assert.Contains("probabilities has 10 elements but samples has 9", e.Message);
        Assert.Equal("samples", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => RandomKernels.SigmoidBernoulli(Stream, 0, new float[4], new float[4], new float[5]));
        Assert.Equal("samples", e.ParamName);
        var shared = new float[10];
        Assert.Throws<ArgumentException>(() => RandomKernels.Bernoulli(Stream, 0, shared.AsSpan(0, 8), shared.AsSpan(1, 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomKernels.DropoutMask(Stream, 0, 0f, new float[3]));
    }

    [Fact]
    public void One_hot_samples_match_the_reference_follow_the_probabilities_and_may_overwrite_them()
    {
        const int rows = 20_000, columns = 4;
        float[] distribution = [0.1f, 0.2f, 0.3f, 0.4f];
        var p = Enumerable.Range(0, rows).SelectMany(_ => distribution).ToArray();
        var samples = new float[p.Length];
        RandomKernels.OneHot(Stream, 42, p, samples, columns);
        Assert.Equal(NaiveKernels.SampleOneHot(Stream, 42, p, rows, columns), samples.Select(x => (double)x));
        for (int c = 0; c < columns; c++)
        {
            double frequency = Enumerable.Range(0, rows).Average(r => samples[r * columns + c]);
            Assert.True(Math.Abs(frequency - distribution[c]) < 0.015, $"category {c}: drawn {frequency:F4}, probability {distribution[c]}");
        }
        for (int r = 0; r < rows; r++) Assert.Equal(1f, samples[r * columns] + samples[r * columns + 1] + samples[r * columns + 2] + samples[r * columns + 3]);
        var inPlace = (float[])p.Clone();
        RandomKernels.OneHot(Stream, 42, inPlace, inPlace, columns);
        Assert.Equal(samples, inPlace);
        // A row whose sum rounding leaves below the uniform takes its last category.
        var zeros = new float[3 * columns];
        RandomKernels.OneHot(Stream, 7, zeros, zeros, columns);
        for (int r = 0; r < 3; r++) Assert.Equal(new[] { 0f, 0f, 0f, 1f }, zeros.AsSpan(r * columns, columns).ToArray());
        Assert.Throws<ArgumentException>(() => RandomKernels.OneHot(Stream, 0, new float[6], new float[6], columns));
        Assert.Throws<ArgumentException>(() => RandomKernels.OneHot(Stream, 0, new float[8], new float[4], columns));
    }
}
