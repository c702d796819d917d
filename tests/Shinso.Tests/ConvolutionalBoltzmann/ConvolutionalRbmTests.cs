using Shinso.Backends;
using Shinso.Data;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Models.ConvolutionalBoltzmann;
using Shinso.Random;

namespace Shinso.Tests.ConvolutionalBoltzmann;

/// <summary>
/// The convolutional RBM: probabilistic max-pooling against exact enumeration and a chi-square test of its sampler, the
/// passes and statistics against the equivalent dense RBM with tied weights, training, refusals.
/// </summary>
public sealed class ConvolutionalRbmTests
{
    private static float[] Uniform(int n, int seed, float scale)
    {
        var random = new System.Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return x;
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(60f)]
    public void Block_probabilities_equal_exact_enumeration_of_the_constrained_states(float scale)
    {
        using var cpu = new CpuBackend();
        var rbm = new ConvolutionalRbm(cpu, 1, 5, 5, groups: 2, filter: 2, block: 2, seed: 3, initialSigma: 0.7f);
        cpu.Upload(Uniform(2, 4, 0.5f), rbm.HiddenBias);
        cpu.Upload(Uniform(rbm.Weights.Length, 5, scale / 4), rbm.Weights);
        const int n = 3;
        var v = cpu.Allocate(n, 25);
        cpu.Upload(Uniform(n * 25, 6, 1f).Select(Math.Abs).ToArray(), v);
        var input = cpu.Allocate(n, rbm.DetectionLength);
        var hidden = cpu.Allocate(n, rbm.DetectionLength);
        var pool = cpu.Allocate(n, rbm.PoolLength);
        rbm.DetectionInput(v, input);
        rbm.HiddenProbabilities(v, hidden, pool);
        var x = input.Span.ToArray();
        var h = hidden.Span.ToArray();
        var p = pool.Span.ToArray();
        // Each block: all 2^4 binary states of its units, weight exp(sum h_i I_i) when at most one is on, 0 otherwise.
        for (int b = 0; b < n * 2 * 4; b++)
        {
            int plane = b / 4, by = b / 2 % 2, bx = b % 2;
            int[] units = [.. Enumerable.Range(0, 4).Select(u => plane * 16 + (by * 2 + u / 2) * 4 + bx * 2 + u % 2)];
            double largest = units.Max(u => (double)x[u]);
            var marginal = new double[4];
            double total = 0, on = 0;
            for (int state = 0; state < 16; state++)
            {
                if (System.Numerics.BitOperations.PopCount((uint)state) > 1) continue;
                double energy = 0;
                for (int u = 0; u < 4; u++) if ((state >> u & 1) == 1) energy += x[units[u]];
                double weight = Math.Exp(energy - Math.Max(largest, 0));
                total += weight;
                if (state != 0) on += weight;
                for (int u = 0; u < 4; u++) if ((state >> u & 1) == 1) marginal[u] += weight;
            }
            for (int u = 0; u < 4; u++) Assert.True(Math.Abs(h[units[u]] - marginal[u] / total) < 1e-6, $"block {b} unit {u}: {h[units[u]]} against {marginal[u] / total}");
            Assert.True(Math.Abs(p[b] - on / total) < 1e-6, $"block {b} pool: {p[b]} against {on / total}");
        }
    }

    [Fact]
    public void The_block_sampler_passes_a_chi_square_test_and_never_turns_on_two_units()
    {
        using var cpu = new CpuBackend();
        const int images = 4000;
        // One 2x2 block per image with fixed probabilities 0.1, 0.2, 0.3, 0.15 (off 0.25).
        float[] block = [0.1f, 0.2f, 0.3f, 0.15f];
        var hidden = cpu.Allocate(images, 4);
        cpu.Upload(Enumerable.Range(0, images * 4).Select(i => block[i % 4]).ToArray(), hidden);
        var samples = cpu.Allocate(images, 4);
        var pool = cpu.Allocate(images, 1);
        cpu.SampleProbabilisticMaxPool(RandomStream.Root(11).Derive("chi-square"), 0, hidden, 1, 2, 2, 2, samples, pool);
        var s = samples.Span.ToArray();
        var q = pool.Span.ToArray();
        var counts = new int[5];
        for (int i = 0; i < images; i++)
        {
            int on = 0, which = 4;
            for (int u = 0; u < 4; u++) if (s[i * 4 + u] == 1f) { on++; which = u; }
            Assert.True(on <= 1, $"image {i}: {on} units on");
            Assert.Equal(on == 1 ? 1f : 0f, q[i]);
            counts[which]++;
        }
        double[] expected = [.. block.Select(pr => (double)pr * images), 0.25 * images];
        double chi = 0;
        for (int k = 0; k < 5; k++) chi += (counts[k] - expected[k]) * (counts[k] - expected[k]) / expected[k];
        // 4 degrees of freedom: 18.47 is the 0.1 % point.
        Assert.True(chi < 18.47, $"chi-square {chi:F2} for counts {string.Join(", ", counts)}");
        // The same draws on any thread count.
        using var one = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 1));
        var h1 = one.Allocate(images, 4);
        one.Upload(hidden.Span, h1);
        var s1 = one.Allocate(images, 4);
        var q1 = one.Allocate(images, 1);
        one.SampleProbabilisticMaxPool(RandomStream.Root(11).Derive("chi-square"), 0, h1, 1, 2, 2, 2, s1, q1);
        Assert.Equal(s, s1.Span.ToArray());
    }

    [Fact]
    public void With_one_unit_blocks_the_passes_and_statistics_are_those_of_the_dense_rbm_with_tied_weights()
    {
        using var cpu = new CpuBackend();
        const int c = 2, side = 5, k = 2, f = 3, n = 4, o = side - f + 1;
        var rbm = new ConvolutionalRbm(cpu, c, side, side, k, f, block: 1, seed: 7, initialSigma: 0.5f);
        cpu.Upload(Uniform(k, 8, 0.3f), rbm.HiddenBias);
        cpu.Upload(Uniform(c, 9, 0.3f), rbm.VisibleBias);
        var w = rbm.Weights.Span.ToArray();
        int nv = c * side * side, nh = k * o * o;
        // The dense weight of visible (ch, i+p, j+q) and hidden (g, i, j) is filter g's (ch, p, q) entry.
        var dense = new double[nv * nh];
        for (int g = 0; g < k; g++)
            for (int i = 0; i < o; i++)
                for (int j = 0; j < o; j++)
                    for (int ch = 0; ch < c; ch++)
                        for (int p = 0; p < f; p++)
                            for (int q = 0; q < f; q++)
                                dense[(ch * side * side + (i + p) * side + j + q) * nh + g * o * o + i * o + j] = w[g * c * f * f + (ch * f + p) * f + q];
        var vHost = Uniform(n * nv, 10, 1f).Select(Math.Abs).ToArray();
        var v = cpu.Allocate(n, nv);
        cpu.Upload(vHost, v);
        var hidden = cpu.Allocate(n, nh);
        var pool = cpu.Allocate(n, nh);
        rbm.HiddenProbabilities(v, hidden, pool);
        var hb = rbm.HiddenBias.Span.ToArray();
        var vb = rbm.VisibleBias.Span.ToArray();
        var h = hidden.Span.ToArray();
        for (int s = 0; s < n; s++)
            for (int j = 0; j < nh; j++)
            {
                double a = hb[j / (o * o)];
                for (int i = 0; i < nv; i++) a += vHost[s * nv + i] * dense[i * nh + j];
                Assert.True(Math.Abs(h[s * nh + j] - 1 / (1 + Math.Exp(-a))) < 1e-5, $"p(h[{s}, {j}])");
            }
        var mean = cpu.Allocate(n, nv);
        rbm.VisibleMean(hidden, mean);
        var m = mean.Span.ToArray();
        for (int s = 0; s < n; s++)
            for (int i = 0; i < nv; i++)
            {
                double a = vb[i / (side * side)];
                for (int j = 0; j < nh; j++) a += h[s * nh + j] * dense[i * nh + j];
                Assert.True(Math.Abs(m[s * nv + i] - 1 / (1 + Math.Exp(-a))) < 1e-5, $"E[v[{s}, {i}]]");
            }
        var dw = cpu.Allocate(k, c * f * f);
        var dh = cpu.Allocate(k);
        var dv = cpu.Allocate(c);
        rbm.Statistics(v, hidden, dw, dh, dv);
        var stats = dw.Span.ToArray();
        // Tied weights: a filter entry's statistic is the sum of the dense statistics v_i h_j over every pair it ties.
        var tied = new double[k * c * f * f];
        for (int g = 0; g < k; g++)
            for (int i = 0; i < o; i++)
                for (int j = 0; j < o; j++)
                    for (int ch = 0; ch < c; ch++)
                        for (int p = 0; p < f; p++)
                            for (int q = 0; q < f; q++)
                                for (int s = 0; s < n; s++)
                                    tied[g * c * f * f + (ch * f + p) * f + q] += vHost[s * nv + ch * side * side + (i + p) * side + j + q] * h[s * nh + g * o * o + i * o + j];
        for (int e = 0; e < tied.Length; e++) Assert.True(Math.Abs(stats[e] - tied[e]) < 1e-4, $"weight statistic {e}: {stats[e]} against {tied[e]}");
        for (int g = 0; g < k; g++) Assert.Equal(Enumerable.Range(0, n * o * o).Sum(e => (double)h[e / (o * o) * nh + g * o * o + e % (o * o)]), dh.Span[g], 3);
        for (int ch = 0; ch < c; ch++) Assert.Equal(Enumerable.Range(0, n * side * side).Sum(e => (double)vHost[e / (side * side) * nv + ch * side * side + e % (side * side)]), dv.Span[ch], 3);
    }

    [Fact]
    public void Cd_training_lowers_the_reconstruction_error_keeps_sparsity_and_repeats_exactly()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 1);
        RbmEpochReport[] Train(out float[] weights, out double meanActivation)
        {
            using var cpu = new CpuBackend();
            var rbm = new ConvolutionalRbm(cpu, 1, 28, 28, groups: 8, filter: 7, block: 2, seed: 5);
            var options = new RbmTrainingOptions { LearningRate = 1f, BatchSize = 50, SparsityTarget = 0.05f, SparsityCost = 5f, Seed = 5 };
            var trainer = new ConvolutionalRbmTrainer(rbm, options);
            var reports = Enumerable.Range(0, 4).Select(e => trainer.TrainEpoch(train, e)).ToArray();
            weights = rbm.Weights.Span.ToArray();
            var v = cpu.Allocate(100, 784);
            cpu.Upload(train.Features.AsSpan(0, 100 * 784), v);
            var hidden = cpu.Allocate(100, rbm.DetectionLength);
            var pool = cpu.Allocate(100, rbm.PoolLength);
            rbm.HiddenProbabilities(v, hidden, pool);
            meanActivation = hidden.Span.ToArray().Average();
            return reports;
        }
        var reports = Train(out var w1, out double activation);
        Assert.True(reports[^1].ReconstructionError < 0.6 * reports[0].ReconstructionError, $"{reports[0].ReconstructionError} -> {reports[^1].ReconstructionError}");
        Assert.InRange(activation, 0.01, 0.15);
        Train(out var w2, out _);
        Assert.Equal(w1, w2);
    }

    [Fact]
    public void A_block_that_does_not_divide_the_detection_maps_or_a_filter_larger_than_the_image_is_refused()
    {
        using var cpu = new CpuBackend();
        var e = Assert.Throws<ArgumentException>(() => new ConvolutionalRbm(cpu, 1, 28, 28, 4, 7, block: 3));
        Assert.Contains("pooling block 3 x 3 does not divide the 22 x 22 detection maps", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ConvolutionalRbm(cpu, 1, 6, 6, 4, 7, block: 1));
        Assert.Contains("7 x 7 filter is larger than the 6 x 6 image", e.Message);
        var pool = cpu.Allocate(1, 4);
        e = Assert.Throws<ArgumentException>(() => cpu.ProbabilisticMaxPool(cpu.Allocate(1, 25), 1, 5, 5, 2, cpu.Allocate(1, 25), pool));
        Assert.Contains("does not divide the 5 x 5 detection maps", e.Message);
    }
}
