using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Tests.Boltzmann;

public class RbmTests
{
    private static readonly CpuBackend Cpu = new(new CpuKernelOptions(SimdPath.Auto, 1));

    private static float[] RandomBinary(int n, ulong seed, double p = 0.5)
    {
        var u = new float[n];
        RandomKernels.Uniform(new RandomStream(seed, 9), 0, u);
        return u.Select(x => x < p ? 1f : 0f).ToArray();
    }

    private static Dataset AsDataset(float[] features, int nv) => new(features, new int[features.Length / nv], 1, nv);

    // ---- kernels against naive twins ---------------------------------------------------------

    public static TheoryData<SimdPath> SoftplusPaths => Requirements.SupportedPaths(SimdPath.Avx512, SimdPath.Scalar);

    [Theory]
    [MemberData(nameof(SoftplusPaths))]
    public void Softplus_row_sums_match_a_naive_double_twin(SimdPath path)
    {
        PropertyCheck.ForAll(FsCheck.Fluent.Gen.Choose(1, 70), columns =>
        {
            int rows = 3;
            var x = new float[rows * columns];
            RandomKernels.Gaussian(new RandomStream((ulong)columns, 1), 0, 0f, 8f, x);
            var result = new float[rows];
            BoltzmannKernels.SoftplusSumRows(x, rows, columns, 0.7f, result, new CpuKernelOptions(path, 1));
            for (int i = 0; i < rows; i++)
            {
                double expected = 0;
                for (int j = 0; j < columns; j++) expected += Naive.Softplus(0.7 * x[i * columns + j]);
                Assert.Equal(expected, result[i], Math.Max(1e-4, Math.Abs(expected) * 2e-6));
            }
        }, maxTests: 40);
    }

    [Fact]
    public void Scaled_sigmoid_scale_columns_and_sigma_statistics_match_naive_twins()
    {
        int rows = 5, cols = 37;
        var x = new float[rows * cols];
        var d = new float[rows * cols];
        RandomKernels.Gaussian(new RandomStream(3, 1), 0, 0f, 3f, x);
        RandomKernels.Gaussian(new RandomStream(3, 2), 0, 0f, 1f, d);
        var scale = Enumerable.Range(0, cols).Select(j => 0.5f + j * 0.1f).ToArray();
        var bias = Enumerable.Range(0, cols).Select(j => -1f + j * 0.05f).ToArray();

        var y = new float[x.Length];
        BoltzmannKernels.ScaledSigmoid(x, -1f, y);
        for (int i = 0; i < x.Length; i++) Assert.Equal(-Naive.Sigmoid(x[i]), y[i], 1e-6);

        BoltzmannKernels.ScaleColumns(x, rows, cols, scale, y);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * scale[i % cols], y[i]);

        var stats = Enumerable.Repeat(2f, cols).ToArray();
        BoltzmannKernels.GaussianScaleStatistics(x, d, rows, cols, bias, scale, stats, 0.5f);
        for (int j = 0; j < cols; j++)
        {
            double e = 1.0;
            for (int i = 0; i < rows; i++)
            {
                double v = x[i * cols + j];
                e += (v - bias[j]) * (v - bias[j]) / (scale[j] * scale[j]) - v * d[i * cols + j] / scale[j];
            }
            Assert.Equal(e, stats[j], Math.Abs(e) * 1e-5 + 1e-4);
        }
    }

    // ---- energies, free energies, log Z -------------------------------------------------------

    [Theory]
    [InlineData(VisibleUnits.Bernoulli, false)]
    [InlineData(VisibleUnits.Gaussian, false)]
    [InlineData(VisibleUnits.Gaussian, true)]
    public void Energy_and_free_energy_match_direct_computation(VisibleUnits units, bool learnSigma)
    {
        int nv = 6, nh = 5, n = 8;
        var rbm = Naive.Random(Cpu, nv, nh, 11, 0.8f, 0.5f, units, learnSigma);
        var p = Naive.Read(rbm);
        float[] v = units == VisibleUnits.Bernoulli ? RandomBinary(n * nv, 5) : Gaussian(n * nv, 5);
        float[] h = RandomBinary(n * nh, 6);
        var vt = Cpu.FromArray(v, n, nv);
        var ht = Cpu.FromArray(h, n, nh);
        var e = Cpu.Allocate(n);
        var f = Cpu.Allocate(n);
        rbm.Energy(vt, ht, e);
        rbm.FreeEnergy(vt, f);
        for (int s = 0; s < n; s++)
        {
            var vs = v.AsSpan(s * nv, nv);
            double expectedE = Naive.Energy(p, vs, h.AsSpan(s * nh, nh));
            double expectedF = Naive.FreeEnergyByEnumeration(p, vs);
            Assert.Equal(expectedE, e.Span[s], 1e-4 * (1 + Math.Abs(expectedE)));
            Assert.Equal(expectedF, f.Span[s], 1e-4 * (1 + Math.Abs(expectedF)));
        }
    }

    private static float[] Gaussian(int n, ulong seed)
    {
        var g = new float[n];
        RandomKernels.Gaussian(new RandomStream(seed, 4), 0, 0.3f, 1.2f, g);
        return g;
    }

    [Theory]
    [InlineData(6, 8)]
    [InlineData(7, 4)]
    public void Exact_log_z_matches_joint_enumeration(int nv, int nh)
    {
        var rbm = Naive.Random(Cpu, nv, nh, 21, 1.0f, 0.7f);
        double expected = Naive.LogZByJointEnumeration(Naive.Read(rbm));
        Assert.Equal(expected, RbmEvaluation.ExactLogPartition(rbm), 1e-9);
    }

    [Fact]
    public void Exact_log_z_of_a_gaussian_rbm_normalizes_the_free_energy()
    {
        // One visible Gaussian unit: integrate exp(-F(v)) numerically and compare with the enumeration + closed form.
        var rbm = Naive.Random(Cpu, 1, 3, 5, 0.7f, 0.4f, VisibleUnits.Gaussian, learnSigma: true);
        double logZ = RbmEvaluation.ExactLogPartition(rbm);
        var p = Naive.Read(rbm);
        double sum = 0, step = 1e-3;
        var v = new float[1];
        for (double x = -30; x <= 30; x += step)
        {
            v[0] = (float)x;
            sum += Math.Exp(-Naive.FreeEnergyByEnumeration(p, v)) * step;
        }
        Assert.Equal(Math.Log(sum), logZ, 1e-3);
    }

    [Fact]
    public void Average_log_probability_is_the_mean_log_of_the_enumerated_distribution_which_sums_to_one()
    {
        const int nv = 6, nh = 5;
        var rbm = Naive.Random(Cpu, nv, nh, 41, 0.9f, 0.6f);
        var p = Naive.Read(rbm);
        double logZ = Naive.LogZByJointEnumeration(p);
        var data = RandomBinary(9 * nv, 12, 0.4);
        double expected = 0;
        for (int s = 0; s < 9; s++) expected += -Naive.FreeEnergyByEnumeration(p, data.AsSpan(s * nv, nv)) - logZ;
        Assert.Equal(expected / 9, RbmEvaluation.AverageLogProbability(rbm, data, logZ), 1e-4);

        // Over all 64 visible states the probabilities it implies sum to one.
        var all = new float[64 * nv];
        for (int v = 0; v < 64; v++)
            for (int i = 0; i < nv; i++) all[v * nv + i] = (v >> i) & 1;
        double total = 0;
        for (int v = 0; v < 64; v++) total += Math.Exp(RbmEvaluation.AverageLogProbability(rbm, all.AsSpan(v * nv, nv), logZ));
        Assert.Equal(1.0, total, 1e-4);
    }

    [Fact]
    public void Base_rate_biases_are_the_smoothed_log_odds_and_ais_is_exact_on_the_base_rate_model_itself()
    {
        const int nv = 4, nh = 3, n = 20;
        var data = new float[n * nv];
        // Column means 0, 0.25, 0.5 and 1: the always-off and always-on units stay finite through the smoothing.
        for (int s = 0; s < n; s++)
        {
            data[s * nv + 1] = s % 4 == 0 ? 1 : 0;
            data[s * nv + 2] = s % 2;
            data[s * nv + 3] = 1;
        }
        var biases = AnnealedImportanceSampling.BaseRateBiases(data, nv, smoothing: 0.05);
        double[] means = [0, 0.25, 0.5, 1];
        for (int i = 0; i < nv; i++)
        {
            double q = Math.Clamp((means[i] * n + 0.05 * n) / (n + 0.05 * n), 1e-6, 1 - 1e-6);
            Assert.Equal(Math.Log(q / (1 - q)), biases[i], 1e-5);
        }
        Assert.True(biases[0] < 0 && biases[3] > 0 && float.IsFinite(biases[3]));

        // An RBM with no weights, the base biases and zero hidden biases is the base-rate model: every importance weight is 1.
        var rbm = new RestrictedBoltzmannMachine(Cpu, nv, nh, seed: 1, initialWeightStd: 0f);
        Cpu.Upload(biases, rbm.VisibleBias);
        var estimate = AnnealedImportanceSampling.EstimateFromBaseRates(rbm, biases, new AisOptions { Runs = 8 });
        double exact = biases.Sum(b => Math.Log(1 + Math.Exp(b))) + nh * Math.Log(2);
        Assert.Equal(exact, estimate.BaseLogZ, 1e-5);
        Assert.Equal(exact, estimate.LogZ, 1e-4);
        Assert.All(estimate.LogWeights, w => Assert.Equal(0, w, 1e-4));
    }

    [Fact]
    public void Exact_log_z_refuses_large_layers()
    {
        var rbm = new RestrictedBoltzmannMachine(Cpu, 30, 21);
        var e = Assert.Throws<ArgumentException>(() => RbmEvaluation.ExactLogPartition(rbm));
        Assert.Contains("21 units exceed the limit of 20", e.Message);
    }

    [Fact]
    public void Pseudo_likelihood_matches_the_scikit_learn_formula_computed_directly()
    {
        int nv = 12, nh = 7, n = 50;
        var rbm = Naive.Random(Cpu, nv, nh, 31, 0.6f, 0.5f);
        var p = Naive.Read(rbm);
        var data = RandomBinary(n * nv, 8, 0.3);
        for (int i = 0; i < 10; i++) data[i] = 0.25f * (i % 5); // sklearn also flips non-binary values: v -> 1 - v
        var stream = new RandomStream(99, 7);
        var scores = RbmEvaluation.PseudoLikelihood(rbm, data, stream, 3);
        var indices = new HashSet<int>();
        for (int s = 0; s < n; s++)
        {
            var v = data.AsSpan(s * nv, nv).ToArray();
            int k = RbmEvaluation.FlipIndex(stream, 3, s, nv);
            indices.Add(k);
            var flipped = (float[])v.Clone();
            flipped[k] = 1 - flipped[k];
            double expected = nv * Math.Log(Naive.Sigmoid(Naive.FreeEnergy(p, flipped) - Naive.FreeEnergy(p, v)));
            Assert.Equal(expected, scores[s], 1e-3 * (1 + Math.Abs(expected)));
        }
        Assert.True(indices.Count > 6, "the flipped unit is drawn at random");
    }

    // ---- Gibbs sampling and CD statistics ----------------------------------------------------------

    [Fact]
    public void Gibbs_chains_reach_the_exact_distribution_of_a_4x3_rbm()
    {
        var rbm = Naive.Random(Cpu, 4, 3, 41, 1.2f, 0.8f);
        double[] exact = Naive.VisibleDistribution(Naive.Read(rbm));
        const int chains = 20000;
        var v = Cpu.Allocate(chains, 4);
        Cpu.SampleBernoulli(new RandomStream(5, 5), 0, Cpu.FromArray(Enumerable.Repeat(0.5f, chains * 4).ToArray(), chains, 4), v);
        rbm.Gibbs(v, 50, new RandomStream(77, 1), 0);
        var counts = new double[16];
        var span = v.Span;
        for (int c = 0; c < chains; c++)
        {
            int state = 0;
            for (int i = 0; i < 4; i++) state |= (int)span[c * 4 + i] << i;
            counts[state]++;
        }
        double chi2 = 0, chi2Uniform = 0;
        for (int s = 0; s < 16; s++)
        {
            double e = exact[s] * chains;
            chi2 += (counts[s] - e) * (counts[s] - e) / e;
            chi2Uniform += (counts[s] - chains / 16.0) * (counts[s] - chains / 16.0) / (chains / 16.0);
        }
        Assert.True(chi2 < 37.70, $"chi-square {chi2:F1} with 15 degrees of freedom exceeds the 0.1% critical value 37.70");
        Assert.True(chi2Uniform > 200, $"the test has power: against the uniform distribution chi-square is {chi2Uniform:F1}");
    }

    private static (double[] W, double[] B, double[] C) Delta(RestrictedBoltzmannMachine rbm, Naive.Params before)
    {
        var after = Naive.Read(rbm);
        return (after.W.Zip(before.W, (a, b) => a - b).ToArray(), after.B.Zip(before.B, (a, b) => a - b).ToArray(),
            after.C.Zip(before.C, (a, b) => a - b).ToArray());
    }

    private static RbmTrainingOptions OneStep(int batch, int k, int chains = 0) => new()
    {
        LearningRate = 1f, BatchSize = batch, GibbsSteps = k, InitialMomentum = 0f, FinalMomentum = 0f,
        PersistentChains = chains, Seed = 3, TrackReconstructionError = false,
    };

    [Fact]
    public void Cd1_update_matches_its_exact_expectation_by_enumeration()
    {
        int nv = 4, nh = 3, batch = 8000;
        var rbm = Naive.Random(Cpu, nv, nh, 51, 1.0f, 0.5f);
        var p = Naive.Read(rbm);
        float[][] patterns = [[1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 1]];
        var data = new float[batch * nv];
        for (int r = 0; r < batch; r++) patterns[r % 4].CopyTo(data, r * nv);

        // Exact E[v0 ph0 - v1 ph1] with h0 ~ p(h|v0), v1 ~ p(v|h0).
        var gw = new double[nv * nh];
        var gb = new double[nv];
        var gc = new double[nh];
        foreach (var v0 in patterns)
        {
            var ph0 = Naive.HiddenProbabilities(p, v0);
            for (int i = 0; i < nv; i++)
            {
                gb[i] += v0[i] / 4.0;
                for (int j = 0; j < nh; j++) gw[i * nh + j] += v0[i] * ph0[j] / 4.0;
            }
            for (int j = 0; j < nh; j++) gc[j] += ph0[j] / 4.0;
            for (int hs = 0; hs < 1 << nh; hs++)
            {
                double ph = 1;
                for (int j = 0; j < nh; j++) ph *= ((hs >> j) & 1) == 1 ? ph0[j] : 1 - ph0[j];
                var pv = new double[nv];
                for (int i = 0; i < nv; i++)
                {
                    double a = p.B[i];
                    for (int j = 0; j < nh; j++) a += p.W[i * nh + j] * ((hs >> j) & 1);
                    pv[i] = Naive.Sigmoid(a);
                }
                for (int vs = 0; vs < 1 << nv; vs++)
                {
                    double pr = ph / 4.0;
                    var v1 = new float[nv];
                    for (int i = 0; i < nv; i++)
                    {
                        v1[i] = (vs >> i) & 1;
                        pr *= v1[i] == 1 ? pv[i] : 1 - pv[i];
                    }
                    var ph1 = Naive.HiddenProbabilities(p, v1);
                    for (int i = 0; i < nv; i++)
                    {
                        gb[i] -= pr * v1[i];
                        for (int j = 0; j < nh; j++) gw[i * nh + j] -= pr * v1[i] * ph1[j];
                    }
                    for (int j = 0; j < nh; j++) gc[j] -= pr * ph1[j];
                }
            }
        }
        var trainer = new ContrastiveDivergence(rbm, OneStep(batch, 1));
        trainer.TrainBatch(Cpu.FromArray(data, batch, nv));
        var (dw, db, dc) = Delta(rbm, p);
        for (int i = 0; i < gw.Length; i++) Assert.Equal(gw[i], dw[i], 0.03);
        for (int i = 0; i < gb.Length; i++) Assert.Equal(gb[i], db[i], 0.03);
        for (int i = 0; i < gc.Length; i++) Assert.Equal(gc[i], dc[i], 0.03);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Long_chains_give_the_exact_log_likelihood_gradient(bool persistent)
    {
        // CD-k with large k (and PCD after many steps) estimates <v h>_data - <v h>_model, the exact gradient.
        int nv = 5, nh = 4, batch = 8000;
        var rbm = Naive.Random(Cpu, nv, nh, 61, 0.9f, 0.5f);
        var p = Naive.Read(rbm);
        var data = RandomBinary(batch * nv, 12, 0.4);
        var gw = new double[nv * nh];
        var gb = new double[nv];
        var gc = new double[nh];
        for (int r = 0; r < batch; r++)
        {
            var v = data.AsSpan(r * nv, nv);
            var ph = Naive.HiddenProbabilities(p, v);
            for (int i = 0; i < nv; i++)
            {
                gb[i] += v[i] / (double)batch;
                for (int j = 0; j < nh; j++) gw[i * nh + j] += v[i] * ph[j] / batch;
            }
            for (int j = 0; j < nh; j++) gc[j] += ph[j] / batch;
        }
        double[] pv = Naive.VisibleDistribution(p);
        for (int s = 0; s < pv.Length; s++)
        {
            var v = new float[nv];
            for (int i = 0; i < nv; i++) v[i] = (s >> i) & 1;
            var ph = Naive.HiddenProbabilities(p, v);
            for (int i = 0; i < nv; i++)
            {
                gb[i] -= pv[s] * v[i];
                for (int j = 0; j < nh; j++) gw[i * nh + j] -= pv[s] * v[i] * ph[j];
            }
            for (int j = 0; j < nh; j++) gc[j] -= pv[s] * ph[j];
        }
        RbmTrainer trainer = persistent
            ? new PersistentContrastiveDivergence(rbm, OneStep(batch, 60, chains: 6000))
            : new ContrastiveDivergence(rbm, OneStep(batch, 60));
        trainer.TrainBatch(Cpu.FromArray(data, batch, nv));
        var (dw, db, dc) = Delta(rbm, p);
        for (int i = 0; i < gw.Length; i++) Assert.Equal(gw[i], dw[i], 0.035);
        for (int i = 0; i < gb.Length; i++) Assert.Equal(gb[i], db[i], 0.035);
        for (int i = 0; i < gc.Length; i++) Assert.Equal(gc[i], dc[i], 0.035);
    }

    // ---- AIS ----------------------------------------------------------------------------------

    private static float[] SampleData(RestrictedBoltzmannMachine rbm, int n, ulong seed)
    {
        var v = Cpu.Allocate(n, rbm.VisibleCount);
        Cpu.SampleBernoulli(new RandomStream(seed, 1), 0, Cpu.FromArray(Enumerable.Repeat(0.5f, v.Length).ToArray(), n, rbm.VisibleCount), v);
        rbm.Gibbs(v, 30, new RandomStream(seed, 2), 0);
        return v.Span.ToArray();
    }

    [Theory]
    [InlineData(784, 15, 0.05f, 0.5f)]
    [InlineData(20, 20, 0.5f, 0.5f)]
    public void Ais_contains_the_exact_log_z_and_tightens_with_more_temperatures(int nv, int nh, float weightStd, float biasStd)
    {
        var rbm = Naive.Random(Cpu, nv, nh, 71, weightStd, biasStd);
        double exact = RbmEvaluation.ExactLogPartition(rbm);
        var data = SampleData(rbm, 500, 3);
        var coarse = AnnealedImportanceSampling.Estimate(rbm, data,
            new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((1.0, 1e-2)), Seed = 5 });
        var fine = AnnealedImportanceSampling.Estimate(rbm, data,
            new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((0.5, 2e-3), (1.0, 5e-4)), Seed = 6 });
        Assert.True(fine.Contains(exact), $"exact log Z {exact:F4} outside the AIS interval [{fine.LogZLow:F4}, {fine.LogZHigh:F4}] (estimate {fine.LogZ:F4})");
        Assert.True(coarse.Contains(exact), $"exact log Z {exact:F4} outside the coarse AIS interval [{coarse.LogZLow:F4}, {coarse.LogZHigh:F4}]");
        Assert.True(fine.LogZHigh - fine.LogZ < coarse.LogZHigh - coarse.LogZ,
            $"1,251 temperatures give +{fine.LogZHigh - fine.LogZ:F4}, no tighter than 101 (+{coarse.LogZHigh - coarse.LogZ:F4})");
    }

    [Theory]
    [InlineData(784, 12, 0.02f, false)]
    [InlineData(20, 14, 0.3f, true)]
    public void Gaussian_ais_contains_the_exact_log_z_and_tightens_with_more_temperatures(int nv, int nh, float weightStd, bool learnSigma)
    {
        var rbm = Naive.Random(Cpu, nv, nh, 72, weightStd, 0.5f, VisibleUnits.Gaussian, learnSigma);
        double exact = RbmEvaluation.ExactLogPartition(rbm);
        var coarse = AnnealedImportanceSampling.Estimate(rbm, [], new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((1.0, 1e-2)), Seed = 5 });
        var fine = AnnealedImportanceSampling.Estimate(rbm, [], new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((0.5, 2e-3), (1.0, 5e-4)), Seed = 6 });
        Assert.True(fine.Contains(exact), $"exact log Z {exact:F4} outside the AIS interval [{fine.LogZLow:F4}, {fine.LogZHigh:F4}] (estimate {fine.LogZ:F4})");
        Assert.True(coarse.Contains(exact), $"exact log Z {exact:F4} outside the coarse AIS interval [{coarse.LogZLow:F4}, {coarse.LogZHigh:F4}]");
        Assert.True(fine.LogZHigh - fine.LogZ < coarse.LogZHigh - coarse.LogZ,
            $"1,251 temperatures give +{fine.LogZHigh - fine.LogZ:F4}, no tighter than 101 (+{coarse.LogZHigh - coarse.LogZ:F4})");
        Assert.True(Math.Abs(fine.LogZ - fine.BaseLogZ) > 1e-3, "the model is so close to the base that the check proves little");
    }

    [Fact]
    public void Default_schedule_is_the_papers()
    {
        var betas = AnnealedImportanceSampling.DefaultBetas();
        Assert.Equal(500 + 4000 + 10000 + 1, betas.Length);
        Assert.Equal(0.0, betas[0]);
        Assert.Equal(0.5, betas[500], 12);
        Assert.Equal(0.9, betas[4500], 12);
        Assert.Equal(1.0, betas[^1]);
    }

    // ---- training behaviour --------------------------------------------------------------------

    [Fact]
    public void Cd1_lowers_the_reconstruction_error_and_sparsity_lowers_hidden_activity()
    {
        int nv = 36, nh = 20;
        var data = new float[600 * nv];
        for (int s = 0; s < 600; s++)
            for (int i = 0; i < nv; i++) data[s * nv + i] = (i / 6 == s % 6 || i % 6 == s % 5) ? 1f : 0f; // bars
        var set = AsDataset(data, nv);
        double MeanHidden(RestrictedBoltzmannMachine r)
        {
            var h = Cpu.Allocate(600, nh);
            r.HiddenProbabilities(Cpu.FromArray(data, 600, nv), h);
            return h.Span.ToArray().Average();
        }
        var plain = new RestrictedBoltzmannMachine(Cpu, nv, nh, seed: 2);
        var trainer = new ContrastiveDivergence(plain, new RbmTrainingOptions { BatchSize = 20, Seed = 4 });
        double first = trainer.TrainEpoch(set, 0).ReconstructionError;
        for (int e = 1; e < 8; e++) trainer.TrainEpoch(set, e);
        double last = trainer.TrainEpoch(set, 8).ReconstructionError;
        Assert.True(last < 0.5 * first, $"reconstruction error {first:F2} -> {last:F2}");
        Assert.True(RbmEvaluation.ReconstructionError(plain, data) < first);

        var sparse = new RestrictedBoltzmannMachine(Cpu, nv, nh, seed: 2);
        var sparseTrainer = new PersistentContrastiveDivergence(sparse,
            new RbmTrainingOptions { BatchSize = 20, Seed = 4, SparsityTarget = 0.05f, SparsityCost = 3f, WeightDecay = 1e-4f, PersistentChains = 30 });
        var dense = new RestrictedBoltzmannMachine(Cpu, nv, nh, seed: 2);
        var denseTrainer = new PersistentContrastiveDivergence(dense, new RbmTrainingOptions { BatchSize = 20, Seed = 4, PersistentChains = 30 });
        for (int e = 0; e < 8; e++)
        {
            sparseTrainer.TrainEpoch(set, e);
            denseTrainer.TrainEpoch(set, e);
        }
        double ms = MeanHidden(sparse), md = MeanHidden(dense);
        Assert.True(ms < 0.15 && ms < md, $"mean hidden activation with sparsity target 0.05: {ms:F3} (without: {md:F3})");
    }

    [Fact]
    public void Training_is_reproducible_from_the_seed()
    {
        var data = RandomBinary(200 * 10, 3);
        float[] Run()
        {
            var rbm = new RestrictedBoltzmannMachine(Cpu, 10, 6, seed: 8);
            var t = new ContrastiveDivergence(rbm, new RbmTrainingOptions { BatchSize = 10, GibbsSteps = 2, Seed = 9 });
            t.TrainEpoch(AsDataset(data, 10), 0);
            t.TrainEpoch(AsDataset(data, 10), 1);
            return RestrictedBoltzmannMachine.Download(rbm.Weights);
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Gaussian_rbm_learns_a_wider_sigma_for_wide_data()
    {
        int nv = 8, nh = 6, n = 400;
        var data = new float[n * nv];
        RandomKernels.Gaussian(new RandomStream(4, 4), 0, 1f, 2.5f, data);
        var rbm = new RestrictedBoltzmannMachine(Cpu, nv, nh, VisibleUnits.Gaussian, learnSigma: true, seed: 1);
        var t = new ContrastiveDivergence(rbm, new RbmTrainingOptions { LearningRate = 0.01f, BatchSize = 20, SigmaLearningRateFactor = 1f, Seed = 2 });
        for (int e = 0; e < 30; e++) t.TrainEpoch(AsDataset(data, nv), e);
        var sigma = RestrictedBoltzmannMachine.Download(rbm.Sigma);
        Assert.All(sigma, s => Assert.True(s > 1.5f, $"sigma {s:F2} should grow toward the data's 2.5"));
    }

    // ---- files and errors ----------------------------------------------------------------------

    [Theory]
    [InlineData(VisibleUnits.Bernoulli, false)]
    [InlineData(VisibleUnits.Gaussian, true)]
    public void Save_and_load_round_trip_bit_exactly(VisibleUnits units, bool learnSigma)
    {
        var rbm = Naive.Random(Cpu, 13, 7, 81, 0.3f, 0.2f, units, learnSigma);
        string path = Path.Combine(Path.GetTempPath(), $"shinso-rbm-{Guid.NewGuid():N}.shinso");
        try
        {
            RbmModelFile.Save(rbm, path);
            Assert.Equal("rbm", ModelFile.ReadHeader(path).Kind);
            var loaded = RbmModelFile.Load(path, Cpu);
            Assert.Equal(rbm.Units, loaded.Units);
            Assert.Equal(rbm.LearnSigma, loaded.LearnSigma);
            Assert.Equal(rbm.Seed, loaded.Seed);
            foreach (var (a, b) in new[] { (rbm.Weights, loaded.Weights), (rbm.VisibleBias, loaded.VisibleBias), (rbm.HiddenBias, loaded.HiddenBias),
                         (rbm.LogSigma, loaded.LogSigma), (rbm.Sigma, loaded.Sigma) })
                Assert.Equal(a.Span.ToArray().Select(BitConverter.SingleToInt32Bits), b.Span.ToArray().Select(BitConverter.SingleToInt32Bits));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loading_another_kind_is_a_clear_error()
    {
        var doc = new ModelDocument("mlp");
        var e = Assert.Throws<ModelFileException>(() => RbmModelFile.FromDocument(doc, "x.shinso", Cpu));
        Assert.Contains("not an RBM", e.Message);
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-0.01f)]
    [InlineData(float.NaN)]
    public void Bernoulli_data_outside_unit_interval_is_rejected_with_its_index(float bad)
    {
        var data = RandomBinary(20 * 4, 1);
        data[2 * 4 + 3] = bad;
        var rbm = new RestrictedBoltzmannMachine(Cpu, 4, 3);
        var trainer = new ContrastiveDivergence(rbm, new RbmTrainingOptions { BatchSize = 5 });
        var e = Assert.Throws<ArgumentException>(() => trainer.TrainEpoch(AsDataset(data, 4), 0));
        Assert.Contains("index 11", e.Message);
        Assert.Contains("sample 2, feature 3", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        Assert.Throws<ArgumentException>(() => RbmEvaluation.PseudoLikelihood(rbm, data, new RandomStream(1, 1)));
    }

    [Fact]
    public void Gaussian_units_accept_any_finite_value_but_not_infinity()
    {
        var rbm = new RestrictedBoltzmannMachine(Cpu, 2, 2, VisibleUnits.Gaussian);
        rbm.ValidateData([3.5f, -7f]);
        var e = Assert.Throws<ArgumentException>(() => rbm.ValidateData([3.5f, float.PositiveInfinity]));
        Assert.Contains("index 1", e.Message);
    }
}
