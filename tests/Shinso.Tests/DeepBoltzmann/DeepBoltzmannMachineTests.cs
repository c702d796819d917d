using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.Boltzmann;
using Shinso.Models.DeepBoltzmann;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Xunit.Abstractions;

namespace Shinso.Tests.DeepBoltzmann;

public class DeepBoltzmannMachineTests(ITestOutputHelper output)
{
    private static readonly int[][] Shapes = [[4, 3, 3], [5, 4, 3], [3, 3, 2, 3], [4, 2, 3, 2]];

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static float[] RandomBits(int rows, int columns, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() < 0.5 ? 1f : 0f).ToArray();
    }

    [Fact]
    public void Exact_log_partition_with_the_odd_layers_summed_out_equals_the_sum_over_every_state()
    {
        var cpu = new CpuBackend();
        foreach (var sizes in Shapes)
            for (ulong seed = 1; seed <= 3; seed++)
            {
                var dbm = NaiveDbm.Random(cpu, sizes, seed, 0.8f, 0.5f);
                double expected = NaiveDbm.LogPartition(NaiveDbm.Read(dbm));
                Assert.Equal(expected, DbmEvaluation.ExactLogPartition(dbm), 9);
                var v = RandomBits(3, sizes[0], (int)seed);
                var logP = DbmEvaluation.ExactLogProbabilities(dbm, v, expected);
                var p = NaiveDbm.Read(dbm);
                for (int r = 0; r < 3; r++)
                {
                    var row = v.Skip(r * sizes[0]).Take(sizes[0]).Select(x => (double)x).ToArray();
                    Assert.Equal(NaiveDbm.LogSumExp(NaiveDbm.States(p, row).Select(s => s.NegativeEnergy)) - expected, logP[r], 9);
                }
            }
    }

    [Fact]
    public void Exact_probabilities_of_every_visible_state_sum_to_one()
    {
        var cpu = new CpuBackend();
        var dbm = NaiveDbm.Random(cpu, [4, 3, 2, 3], 7, 1.0f, 0.5f);
        double logZ = DbmEvaluation.ExactLogPartition(dbm);
        var all = Enumerable.Range(0, 16).SelectMany(s => Enumerable.Range(0, 4).Select(i => (float)((s >> i) & 1))).ToArray();
        Assert.Equal(1.0, DbmEvaluation.ExactLogProbabilities(dbm, all, logZ).Sum(Math.Exp), 9);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Ais_contains_the_exact_log_partition_and_tightens_with_more_temperatures(int shape)
    {
        var cpu = new CpuBackend();
        var sizes = Shapes[shape];
        var dbm = NaiveDbm.Random(cpu, sizes, (ulong)(20 + shape), 1.0f, 0.5f);
        double exact = DbmEvaluation.ExactLogPartition(dbm);
        var data = RandomBits(50, sizes[0], shape);
        var coarse = DbmEvaluation.EstimateLogPartition(dbm, data, new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((1.0, 2e-2)), Seed = 3 });
        var fine = DbmEvaluation.EstimateLogPartition(dbm, data, new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((0.5, 2e-3), (1.0, 5e-4)), Seed = 4 });
        output.WriteLine($"{string.Join("-", sizes)}: exact {exact:F5}, coarse {coarse.LogZ:F5} [{coarse.LogZLow:F5}, {coarse.LogZHigh:F5}], fine {fine.LogZ:F5} [{fine.LogZLow:F5}, {fine.LogZHigh:F5}]");
        Assert.True(fine.Contains(exact), $"exact {exact} outside [{fine.LogZLow}, {fine.LogZHigh}]");
        Assert.True(Math.Abs(fine.LogZ - exact) < 0.02, $"fine AIS {fine.LogZ} vs exact {exact}");
        Assert.True(fine.LogZHigh - fine.LogZLow < coarse.LogZHigh - coarse.LogZLow, "more temperatures should narrow the interval");
    }

    [Fact]
    public void Mean_field_reaches_a_fixed_point_whose_bound_lies_below_the_exact_log_probability()
    {
        var cpu = new CpuBackend();
        int checkedRows = 0;
        foreach (var sizes in Shapes)
        {
            var dbm = NaiveDbm.Random(cpu, sizes, 31, 1.2f, 0.5f);
            var p = NaiveDbm.Read(dbm);
            double logZ = DbmEvaluation.ExactLogPartition(dbm);
            const int n = 8;
            var data = RandomBits(n, sizes[0], 9);
            var v = cpu.Allocate(n, sizes[0]);
            cpu.Upload(data, v);
            var means = sizes.Skip(1).Select(s => cpu.Allocate(n, s)).ToArray();
            var result = dbm.MeanField(v, means, DbmMeanFieldOptions.TestTime);
            Assert.True(result.Converged, $"{string.Join("-", sizes)}: mean-field did not converge in {result.Iterations} sweeps");
            var mu = new double[sizes.Length][][];
            for (int r = 0; r < n; r++)
            {
                var x = new double[sizes.Length][];
                x[0] = data.Skip(r * sizes[0]).Take(sizes[0]).Select(f => (double)f).ToArray();
                for (int k = 1; k < sizes.Length; k++) x[k] = means[k - 1].Span.Slice(r * sizes[k], sizes[k]).ToArray().Select(f => (double)f).ToArray();
                // The fixed point: every mean is the sigmoid of its layer's input from its neighbours' means.
                for (int k = 1; k < sizes.Length; k++)
                    for (int j = 0; j < sizes[k]; j++)
                    {
                        double a = p.B[k][j];
                        for (int i = 0; i < sizes[k - 1]; i++) a += x[k - 1][i] * p.W[k - 1][i * sizes[k] + j];
                        if (k + 1 < sizes.Length)
                            for (int i = 0; i < sizes[k + 1]; i++) a += x[k + 1][i] * p.W[k][j * sizes[k + 1] + i];
                        Assert.Equal(Sigmoid(a), x[k][j], 5);
                    }
                // -F_q = E_q[-E] + H[q], whose expectation factorises over the layers.
                double negativeF = NaiveDbm.NegativeEnergy(p, x);
                for (int k = 1; k < sizes.Length; k++) negativeF += x[k].Sum(m => DeepBoltzmannMachine.BinaryEntropy(m));
                double[] library = dbm.VariationalFreeEnergies(v, means);
                Assert.Equal(negativeF, -library[r], 4);
                double exact = NaiveDbm.LogSumExp(NaiveDbm.States(p, x[0]).Select(s => s.NegativeEnergy)) - logZ;
                Assert.True(negativeF - logZ <= exact + 1e-6, $"bound {negativeF - logZ} above the exact {exact}");
                checkedRows++;
            }
        }
        Assert.Equal(Shapes.Length * 8, checkedRows);
    }

    [Fact]
    public void Log_probability_bound_averages_the_rows_and_carries_the_log_z_interval()
    {
        var cpu = new CpuBackend();
        var dbm = NaiveDbm.Random(cpu, [5, 4, 3], 41, 0.3f, 0.3f);
        double logZ = DbmEvaluation.ExactLogPartition(dbm);
        var data = RandomBits(30, 5, 2);
        var ais = new AisEstimate(logZ, logZ - 0.1, logZ + 0.2, 0, []);
        var bound = DbmEvaluation.LogProbabilityBound(dbm, data, ais, batchSize: 7);
        double exact = DbmEvaluation.ExactLogProbabilities(dbm, data, logZ).Average();
        output.WriteLine($"bound {bound.LogProbabilityBound:F5}, exact mean log p {exact:F5}");
        Assert.True(bound.LogProbabilityBound <= exact + 1e-6);
        // Weak couplings leave a posterior close to factorised: the bound is tight to a few hundredths of a nat.
        Assert.True(exact - bound.LogProbabilityBound < 0.05, $"gap {exact - bound.LogProbabilityBound}");
        Assert.Equal(bound.LogProbabilityBound - 0.2, bound.Low, 9);
        Assert.Equal(bound.LogProbabilityBound + 0.1, bound.High, 9);
        Assert.True(bound.Converged);
    }

    [Fact]
    public void Gibbs_sweeps_sample_the_model_distribution()
    {
        var cpu = new CpuBackend();
        int[] sizes = [4, 3, 2, 3];
        var dbm = NaiveDbm.Random(cpu, sizes, 51, 1.0f, 0.5f);
        var (_, singles) = NaiveDbm.ModelStatistics(NaiveDbm.Read(dbm));
        const int chains = 4000;
        var states = sizes.Select(s => cpu.Allocate(chains, s)).ToArray();
        foreach (var s in states) cpu.Fill(s, 0f);
        var stream = RandomStream.Root(5).Derive("test-chains");
        ulong counter = 0;
        for (int sweep = 0; sweep < 100; sweep++) counter = dbm.GibbsSweep(states, null, stream, counter);
        for (int k = 0; k < sizes.Length; k++)
        {
            var host = TwinRead(states[k]);
            for (int i = 0; i < sizes[k]; i++)
            {
                double empirical = Enumerable.Range(0, chains).Average(c => host[c * sizes[k] + i]);
                Assert.True(Math.Abs(empirical - singles[k][i]) < 0.04, $"layer {k} unit {i}: sampled {empirical:F4}, exact {singles[k][i]:F4}");
            }
        }
    }

    private static float[] TwinRead(Tensor t) => RestrictedBoltzmannMachine.Download(t);

    /// <summary>
    /// The trainer's update direction is the gradient of the mean-field bound: its data statistics are the mean-field products and its
    /// model statistics are the chains' estimates of the exact expectations. Checked against central differences of the bound, computed
    /// in double by naive mean-field and enumeration.
    /// </summary>
    [Fact]
    public void Joint_training_steps_along_the_gradient_of_the_variational_bound()
    {
        var cpu = new CpuBackend();
        int[] sizes = [5, 4, 3];
        const int batch = 6;
        var dbm = NaiveDbm.Random(cpu, sizes, 61, 0.7f, 0.4f);
        var p = NaiveDbm.Read(dbm);
        var data = RandomBits(batch, sizes[0], 12);
        var rows = Enumerable.Range(0, batch).Select(r => data.Skip(r * sizes[0]).Take(sizes[0]).Select(f => (double)f).ToArray()).ToArray();

        double Bound(NaiveDbm.Params q) => rows.Average(v => NaiveBound(q, v)) - NaiveDbm.LogPartition(q);

        // Central differences of the naive bound against the analytic gradient (mean-field products minus exact model products).
        var (pairs, singles) = NaiveDbm.ModelStatistics(p);
        var analytic = new double[sizes.Length - 1][];
        for (int k = 0; k + 1 < sizes.Length; k++)
        {
            analytic[k] = new double[sizes[k] * sizes[k + 1]];
            foreach (var v in rows)
            {
                var mu = NaiveMeanField(p, v);
                for (int i = 0; i < sizes[k]; i++)
                    for (int j = 0; j < sizes[k + 1]; j++) analytic[k][i * sizes[k + 1] + j] += mu[k][i] * mu[k + 1][j] / batch;
            }
            for (int e = 0; e < analytic[k].Length; e++) analytic[k][e] -= pairs[k][e];
            for (int e = 0; e < analytic[k].Length; e += 3)
            {
                const double h = 1e-5;
                var plus = Perturbed(p, k, e, h);
                var minus = Perturbed(p, k, e, -h);
                double numeric = (Bound(plus) - Bound(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[k][e]) < 1e-6 + 1e-4 * Math.Abs(numeric), $"W{k}[{e}]: central difference {numeric}, analytic {analytic[k][e]}");
            }
        }

        // One plain SGD step of the trainer with many well-mixed chains moves each weight by the rate times that gradient.
        const float rate = 0.01f;
        var options = new DbmTrainingOptions
        {
            LearningRate = rate, LearningRateDecay = 1, MinimumLearningRate = 0, WeightCost = 0, InitialMomentum = 0, FinalMomentum = 0,
            BatchSize = batch, MeanFieldUpdates = 50, PersistentChains = 40_000, GibbsSweeps = 60, SparsityCost = 0, Seed = 3,
        };
        var trainer = new DbmTrainer(dbm, options);
        var before = dbm.Weights.Select(TwinRead).ToArray();
        var x = cpu.Allocate(batch, sizes[0]);
        cpu.Upload(data, x);
        trainer.TrainBatch(x);
        double worst = 0;
        for (int k = 0; k + 1 < sizes.Length; k++)
        {
            var after = TwinRead(dbm.Weights[k]);
            for (int e = 0; e < after.Length; e++)
            {
                double step = (after[e] - before[k][e]) / rate;
                worst = Math.Max(worst, Math.Abs(step - analytic[k][e]));
            }
        }
        output.WriteLine($"largest difference between the trainer's step / rate and the gradient: {worst:F4}");
        Assert.True(worst < 0.02, $"the trainer's step differs from the bound's gradient by up to {worst}");
        Assert.Equal(1, trainer.Optimizer.StepCount);
    }

    private static NaiveDbm.Params Perturbed(NaiveDbm.Params p, int layer, int element, double h)
    {
        var w = p.W.Select(a => (double[])a.Clone()).ToArray();
        w[layer][element] += h;
        return p with { W = w };
    }

    /// <summary>Sequential mean-field in double to a tight fixed point; entry 0 is the data.</summary>
    private static double[][] NaiveMeanField(NaiveDbm.Params p, double[] v)
    {
        var s = p.Sizes;
        var mu = s.Select(n => Enumerable.Repeat(0.5, n).ToArray()).ToArray();
        mu[0] = v;
        for (int sweep = 0; sweep < 2000; sweep++)
            for (int k = 1; k < s.Length; k++)
                for (int j = 0; j < s[k]; j++)
                {
                    double a = p.B[k][j];
                    for (int i = 0; i < s[k - 1]; i++) a += mu[k - 1][i] * p.W[k - 1][i * s[k] + j];
                    if (k + 1 < s.Length)
                        for (int i = 0; i < s[k + 1]; i++) a += mu[k + 1][i] * p.W[k][j * s[k + 1] + i];
                    mu[k][j] = Sigmoid(a);
                }
        return mu;
    }

    private static double NaiveBound(NaiveDbm.Params p, double[] v)
    {
        var mu = NaiveMeanField(p, v);
        double f = NaiveDbm.NegativeEnergy(p, mu);
        for (int k = 1; k < mu.Length; k++) f += mu[k].Sum(m => DeepBoltzmannMachine.BinaryEntropy(m));
        return f;
    }

    [Fact]
    public void Joint_training_raises_the_exact_likelihood_of_the_data()
    {
        var cpu = new CpuBackend();
        int[] sizes = [8, 6, 4];
        // Two prototypes with 10 % of the pixels flipped.
        var random = new System.Random(4);
        const int n = 200;
        var features = new float[n * 8];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < 8; i++)
            {
                bool on = s % 2 == 0 ? i < 4 : i >= 4;
                features[s * 8 + i] = (random.NextDouble() < 0.1 ? !on : on) ? 1f : 0f;
            }
        var data = new Dataset(features, new int[n], 1, 8);
        var dbm = new DeepBoltzmannMachine(cpu, sizes, seed: 2);
        double Likelihood() => DbmEvaluation.ExactLogProbabilities(dbm, features, DbmEvaluation.ExactLogPartition(dbm)).Average();
        double start = Likelihood();
        var trainer = new DbmTrainer(dbm, new DbmTrainingOptions { LearningRate = 0.05f, LearningRateDecay = 1, BatchSize = 20, SparsityCost = 0, Seed = 5 });
        for (int epoch = 0; epoch < 60; epoch++) trainer.TrainEpoch(data, epoch);
        double end = Likelihood();
        // The data's entropy: two equally likely prototypes, each pixel flipped with probability 0.1.
        double floor = -(Math.Log(2) + 8 * (-(0.1 * Math.Log(0.1) + 0.9 * Math.Log(0.9))));
        output.WriteLine($"exact mean log-likelihood: {start:F3} before, {end:F3} after 60 epochs; the data's negative entropy {floor:F3}");
        Assert.True(end > start + 1.5, $"training moved the log-likelihood from {start} to {end}");
        Assert.True(end > floor - 0.6, $"{end} is far from the best possible {floor}");
    }

    [Fact]
    public void Greedy_pretraining_composes_doubled_rbms_into_a_machine_better_than_random()
    {
        var cpu = new CpuBackend();
        var random = new System.Random(6);
        const int n = 300;
        var features = new float[n * 8];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < 8; i++)
            {
                bool on = (s % 3) switch { 0 => i < 3, 1 => i >= 5, _ => i % 2 == 0 };
                features[s * 8 + i] = (random.NextDouble() < 0.05 ? !on : on) ? 1f : 0f;
            }
        var data = new Dataset(features, new int[n], 1, 8);
        double independent = 0;
        for (int i = 0; i < 8; i++)
        {
            double q = Enumerable.Range(0, n).Average(s => features[s * 8 + i]);
            independent += q * Math.Log(q) + (1 - q) * Math.Log(1 - q);
        }
        foreach (var sizes in new[] { new[] { 8, 6, 4 }, new[] { 8, 6, 4, 4 } })
        {
            var dbm = new DeepBoltzmannMachine(cpu, sizes, seed: 3);
            double before = DbmEvaluation.ExactLogProbabilities(dbm, features, DbmEvaluation.ExactLogPartition(dbm)).Average();
            DbmPretraining.Train(dbm, data, new DbmPretrainingOptions { Epochs = 30, Rbm = new RbmTrainingOptions { LearningRate = 0.05f, BatchSize = 10, Seed = 2 } });
            double after = DbmEvaluation.ExactLogProbabilities(dbm, features, DbmEvaluation.ExactLogPartition(dbm)).Average();
            output.WriteLine($"{string.Join("-", sizes)}: exact mean log-likelihood {before:F3} at random weights, {after:F3} pretrained, {independent:F3} for independent pixels");
            // Beating the best model of independent pixels needs the hidden layers to have learnt the three prototypes.
            Assert.True(after > independent + 1.0, $"{string.Join("-", sizes)}: pretrained {after}, independent pixels {independent}");
        }
    }

    [Fact]
    public void Composition_halves_middle_weights_and_averages_the_biases_of_shared_layers()
    {
        var cpu = new CpuBackend();
        int[] sizes = [3, 2, 2, 2];
        var rbms = Enumerable.Range(0, 3).Select(k =>
        {
            var rbm = new RestrictedBoltzmannMachine(cpu, sizes[k], sizes[k + 1], seed: (ulong)k + 1, initialWeightStd: 1f);
            cpu.Upload(Enumerable.Range(0, sizes[k]).Select(i => 10f * k + i).ToArray(), rbm.VisibleBias);
            cpu.Upload(Enumerable.Range(0, sizes[k + 1]).Select(i => 100f * k + i).ToArray(), rbm.HiddenBias);
            return rbm;
        }).ToArray();
        var dbm = new DeepBoltzmannMachine(cpu, sizes);
        DbmPretraining.Compose(dbm, rbms, top: null);
        Assert.Equal(TwinRead(rbms[0].Weights), TwinRead(dbm.Weights[0]));
        Assert.Equal(TwinRead(rbms[1].Weights).Select(w => w / 2), TwinRead(dbm.Weights[1]));
        Assert.Equal(TwinRead(rbms[2].Weights), TwinRead(dbm.Weights[2]));
        Assert.Equal([0f, 1f, 2f], TwinRead(dbm.Biases[0]));
        Assert.Equal([(0f + 10f) / 2, (1f + 11f) / 2], TwinRead(dbm.Biases[1]));
        Assert.Equal([(100f + 20f) / 2, (101f + 21f) / 2], TwinRead(dbm.Biases[2]));
        Assert.Equal([200f, 201f], TwinRead(dbm.Biases[3]));
    }

    [Fact]
    public void The_learning_rate_decays_before_every_update_down_to_its_floor()
    {
        var schedule = new UpdateDecaySchedule(0.001f, 1.000015, 1e-4f);
        Assert.Equal(0.001 / 1.000015, schedule.At(0, 0), 9);
        Assert.Equal(0.001 / Math.Pow(1.000015, 600), schedule.At(0, 599), 9);
        Assert.Equal(1e-4f, schedule.At(300, 10_000_000));
        Assert.Equal(0.001f, schedule.At(3));
    }

    [Fact]
    public void Bad_shapes_and_values_are_refused_with_what_was_expected()
    {
        var cpu = new CpuBackend();
        Assert.Contains("at least two hidden layers", Assert.Throws<ArgumentException>(() => new DeepBoltzmannMachine(cpu, [784, 500])).Message);
        Assert.Contains("Layer 1 has 0 units", Assert.Throws<ArgumentException>(() => new DeepBoltzmannMachine(cpu, [4, 0, 3])).Message);
        var dbm = new DeepBoltzmannMachine(cpu, [4, 3, 2]);
        var e = Assert.Throws<ArgumentException>(() => dbm.ValidateData([0f, 1f, 0.5f, 2f]));
        Assert.Contains("sample 0, feature 3", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DbmTrainer(dbm, new DbmTrainingOptions { SparsityTargets = [1.5f] }));
        var data = new Dataset(new float[10 * 5], new int[10], 1, 5);
        var trainer = new DbmTrainer(dbm, new DbmTrainingOptions { BatchSize = 5 });
        Assert.Contains("5 features but the DBM has 4", Assert.Throws<ArgumentException>(() => trainer.TrainEpoch(data, 0)).Message);
        var few = new Dataset(new float[3 * 4], new int[3], 1, 4);
        Assert.Contains("3 samples, fewer than one batch of 5", Assert.Throws<ArgumentException>(() => trainer.TrainEpoch(few, 0)).Message);
    }

    [Fact]
    public void The_unrolled_net_starts_at_the_machines_mean_field_fixed_point()
    {
        var cpu = new CpuBackend();
        int[] sizes = [6, 5, 4];
        var dbm = NaiveDbm.Random(cpu, sizes, 71, 0.8f, 0.3f);
        var p = NaiveDbm.Read(dbm);
        const int n = 5;
        var pixels = RandomBits(n, sizes[0], 3);
        var data = new Dataset(pixels, new int[n], 2, sizes[0]);
        var augmented = DbmFineTuning.AugmentedInputs(dbm, data);
        Assert.Equal(sizes[0] + sizes[2], augmented.FeatureCount);
        var net = DbmFineTuning.ToFeedForwardNet(dbm, classes: 3, seed: 1);
        var dense = net.Layers.OfType<Shinso.Layers.Dense>().ToArray();
        Assert.Equal(3, dense.Length);
        float[] w0 = TwinRead(dense[0].Weight.Value), b0 = TwinRead(dense[0].Bias.Value), w1 = TwinRead(dense[1].Weight.Value), b1 = TwinRead(dense[1].Bias.Value);
        for (int r = 0; r < n; r++)
        {
            var input = augmented.Sample(r).ToArray();
            Assert.Equal(pixels.AsSpan(r * sizes[0], sizes[0]).ToArray(), input[..sizes[0]]);
            var mu = NaiveMeanField(p, input[..sizes[0]].Select(x => (double)x).ToArray());
            for (int j = 0; j < sizes[2]; j++) Assert.Equal(mu[2][j], input[sizes[0] + j], 4);
            // The first layer on [v, q(h2)] gives q(h1) and the second on that gives q(h2): the fixed point of mean-field.
            var h1 = new double[sizes[1]];
            for (int j = 0; j < sizes[1]; j++)
            {
                double a = b0[j];
                for (int i = 0; i < input.Length; i++) a += input[i] * w0[i * sizes[1] + j];
                h1[j] = Sigmoid(a);
                Assert.Equal(mu[1][j], h1[j], 4);
            }
            for (int j = 0; j < sizes[2]; j++)
            {
                double a = b1[j];
                for (int i = 0; i < sizes[1]; i++) a += h1[i] * w1[i * sizes[2] + j];
                Assert.Equal(mu[2][j], Sigmoid(a), 4);
            }
        }
    }

    /// <summary>With the sparsity penalty on, one SGD step moves every weight and bias by the rate times the bound's gradient plus the
    /// authors' penalty terms (running means started at the targets, damped once).</summary>
    [Fact]
    public void A_training_step_with_the_sparsity_penalty_moves_weights_and_biases_as_the_authors_update_does()
    {
        var cpu = new CpuBackend();
        int[] sizes = [5, 4, 3];
        const int batch = 6;
        const float rate = 0.01f, cost = 2f, damping = 0.5f;
        float[] targets = [0.2f, 0.1f];
        var dbm = NaiveDbm.Random(cpu, sizes, 81, 0.7f, 0.4f);
        var p = NaiveDbm.Read(dbm);
        var data = RandomBits(batch, sizes[0], 13);
        var rows = Enumerable.Range(0, batch).Select(r => data.Skip(r * sizes[0]).Take(sizes[0]).Select(f => (double)f).ToArray()).ToArray();
        var (pairs, singles) = NaiveDbm.ModelStatistics(p);
        var mus = rows.Select(v => NaiveMeanField(p, v)).ToArray();
        var mean = Enumerable.Range(0, sizes.Length).Select(k => Enumerable.Range(0, sizes[k]).Select(i => mus.Average(m => m[k][i])).ToArray()).ToArray();
        var penalty = new double[sizes.Length][];
        penalty[0] = new double[sizes[0]];
        for (int k = 1; k < sizes.Length; k++)
            penalty[k] = mean[k].Select(m => cost * (damping * targets[k - 1] + (1 - damping) * m - targets[k - 1])).ToArray();

        var options = new DbmTrainingOptions
        {
            LearningRate = rate, LearningRateDecay = 1, MinimumLearningRate = 0, WeightCost = 0, InitialMomentum = 0, FinalMomentum = 0,
            BatchSize = batch, MeanFieldUpdates = 50, PersistentChains = 40_000, GibbsSweeps = 60, SparsityTargets = targets,
            SparsityCost = cost, SparsityDamping = damping, Seed = 4,
        };
        var trainer = new DbmTrainer(dbm, options);
        var weightsBefore = dbm.Weights.Select(TwinRead).ToArray();
        var biasesBefore = dbm.Biases.Select(TwinRead).ToArray();
        var x = cpu.Allocate(batch, sizes[0]);
        cpu.Upload(data, x);
        trainer.TrainBatch(x);
        double worst = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            var after = TwinRead(dbm.Biases[k]);
            for (int i = 0; i < sizes[k]; i++)
            {
                double gradient = singles[k][i] - mean[k][i] + penalty[k][i];
                worst = Math.Max(worst, Math.Abs((after[i] - biasesBefore[k][i]) / rate + gradient));
            }
        }
        for (int k = 0; k + 1 < sizes.Length; k++)
        {
            var after = TwinRead(dbm.Weights[k]);
            for (int i = 0; i < sizes[k]; i++)
                for (int j = 0; j < sizes[k + 1]; j++)
                {
                    double data2 = mus.Average(m => m[k][i] * m[k + 1][j]);
                    double gradient = pairs[k][i * sizes[k + 1] + j] - data2 + mean[k][i] * penalty[k + 1][j] + (k > 0 ? penalty[k][i] * mean[k + 1][j] : 0);
                    worst = Math.Max(worst, Math.Abs((after[i * sizes[k + 1] + j] - weightsBefore[k][i * sizes[k + 1] + j]) / rate + gradient));
                }
        }
        output.WriteLine($"largest difference between step / rate and minus the penalised gradient: {worst:F4}");
        Assert.True(worst < 0.02, $"the step differs from the penalised gradient by up to {worst}");
        // The penalty terms are large enough here that dropping one would fail the check.
        Assert.True(penalty.Skip(1).SelectMany(t => t).Max(Math.Abs) > 0.1);
    }

    [Fact]
    public void Completion_keeps_observed_pixels_and_fills_the_rest_with_probabilities()
    {
        var cpu = new CpuBackend();
        var dbm = NaiveDbm.Random(cpu, [6, 4, 3], 91, 1.0f, 0.3f);
        const int n = 7;
        var data = RandomBits(n, 6, 21);
        var mask = Enumerable.Range(0, n * 6).Select(k => k % 6 < 3 ? 1f : 0f).ToArray();
        foreach (var method in DbmCompletion.Applicable)
        {
            var result = DbmCompletion.Complete(dbm, data, mask, method, 40, RandomStream.Root(2), batchSize: 3);
            for (int k = 0; k < data.Length; k++)
            {
                if (mask[k] == 1f) Assert.Equal(data[k], result.Values[k]);
                else Assert.InRange(result.Values[k], 0f, 1f);
            }
        }
        Assert.Throws<ArgumentException>(() => DbmCompletion.Complete(dbm, data, mask, Shinso.Models.Boltzmann.CompletionMethod.MarginalizedMeanField, 5, RandomStream.Root(2)));
    }
}
