using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Models.DeepBoltzmann;
using Shinso.Random;
using Shinso.Tensors;
using Xunit.Abstractions;

namespace Shinso.Tests.DeepBoltzmann;

/// <summary>
/// DBMs with softmax label units on the top layer, checked against <see cref="NaiveLabelledDbm"/>'s enumeration of every binary state and
/// every label. Two shapes cover both places the label group takes in a sweep: beside an even top layer (with the odd layers) and beside
/// an odd one (with the even layers).
/// </summary>
public class LabelledDbmTests(ITestOutputHelper output)
{
    /// <summary>2 hidden layers (labels summed out with the odd layers) and 3 (labels enumerated with the even ones).</summary>
    public static TheoryData<int[]> Shapes => new() { new[] { 4, 3, 3 }, new[] { 3, 3, 2, 3 } };

    private const int Labels = 3;

    /// <summary>Labels sampled with the odd layers (their chain samples are the statistics) and with the even ones (their conditional probabilities).</summary>
    public static TheoryData<int[]> GradientShapes => new() { new[] { 5, 4, 3 }, new[] { 4, 3, 2, 3 } };

    private static float[] RandomBits(int rows, int columns, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() < 0.5 ? 1f : 0f).ToArray();
    }

    private static double[] Row(float[] data, int r, int n) => data.Skip(r * n).Take(n).Select(x => (double)x).ToArray();

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Exact_sums_equal_the_sum_over_every_state_and_label(int[] sizes)
    {
        var cpu = new CpuBackend();
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var dbm = NaiveLabelledDbm.Random(cpu, sizes, Labels, seed, 0.8f, 0.5f);
            var p = NaiveLabelledDbm.Read(dbm);
            double expected = NaiveLabelledDbm.LogPartition(p);
            Assert.Equal(expected, DbmEvaluation.ExactLogPartition(dbm), 9);
            var v = RandomBits(3, sizes[0], (int)seed);
            var logP = DbmEvaluation.ExactLogProbabilities(dbm, v, expected);
            for (int r = 0; r < 3; r++)
                Assert.Equal(NaiveLabelledDbm.LogSumExp(NaiveLabelledDbm.States(p, Row(v, r, sizes[0])).Select(s => s.NegativeEnergy)) - expected, logP[r], 9);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Ais_contains_the_exact_log_partition_of_a_machine_with_labels(int[] sizes)
    {
        var cpu = new CpuBackend();
        var dbm = NaiveLabelledDbm.Random(cpu, sizes, Labels, 23, 1.0f, 0.5f);
        double exact = DbmEvaluation.ExactLogPartition(dbm);
        var ais = DbmEvaluation.EstimateLogPartition(dbm, RandomBits(50, sizes[0], 4),
            new AisOptions { Runs = 100, Betas = AnnealedImportanceSampling.Schedule((0.5, 2e-3), (1.0, 5e-4)), Seed = 6 });
        output.WriteLine($"{string.Join("-", sizes)} + {Labels} labels: exact {exact:F5}, AIS {ais.LogZ:F5} [{ais.LogZLow:F5}, {ais.LogZHigh:F5}]");
        Assert.True(ais.Contains(exact), $"exact {exact} outside [{ais.LogZLow}, {ais.LogZHigh}]");
        Assert.True(Math.Abs(ais.LogZ - exact) < 0.02, $"AIS {ais.LogZ} vs exact {exact}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Mean_field_with_inferred_or_clamped_labels_reaches_its_fixed_point_and_bounds_the_exact_log_probability(int[] sizes)
    {
        var cpu = new CpuBackend();
        var dbm = NaiveLabelledDbm.Random(cpu, sizes, Labels, 31, 1.0f, 0.5f);
        var p = NaiveLabelledDbm.Read(dbm);
        double logZ = NaiveLabelledDbm.LogPartition(p);
        const int rows = 8;
        var data = RandomBits(rows, sizes[0], 9);
        var v = cpu.Allocate(rows, sizes[0]);
        cpu.Upload(data, v);
        var means = sizes.Skip(1).Select(n => cpu.Allocate(rows, n)).ToArray();
        var q = cpu.Allocate(rows, Labels);
        var run = dbm.MeanField(v, means, DbmMeanFieldOptions.TestTime, labelMeans: q);
        Assert.True(run.Converged, $"mean-field did not converge in {run.Iterations} sweeps");
        var freeEnergies = dbm.VariationalFreeEnergies(v, means, q);
        var hostMeans = means.Select(RestrictedBoltzmannMachine.Download).ToArray();
        var hostQ = RestrictedBoltzmannMachine.Download(q);
        for (int r = 0; r < rows; r++)
        {
            var mu = new double[sizes.Length][];
            mu[0] = Row(data, r, sizes[0]);
            for (int k = 1; k < sizes.Length; k++) mu[k] = Row(hostMeans[k - 1], r, sizes[k]);
            var y = Row(hostQ, r, Labels);
            // The fixed point: every layer's update and the softmax of the labels leave the means where they are.
            var (nextMu, nextY) = NaiveLabelledDbm.Sweep(p, mu, y, clamped: false);
            for (int k = 1; k < sizes.Length; k++)
                for (int j = 0; j < sizes[k]; j++) Assert.True(Math.Abs(nextMu[k][j] - mu[k][j]) < 1e-5, $"row {r} layer {k} unit {j}: {mu[k][j]} -> {nextMu[k][j]}");
            for (int c = 0; c < Labels; c++) Assert.True(Math.Abs(nextY[c] - y[c]) < 1e-5, $"row {r} label {c}: {y[c]} -> {nextY[c]}");
            Assert.Equal(NaiveLabelledDbm.FreeEnergy(p, mu, y), freeEnergies[r], 4);
            double exact = NaiveLabelledDbm.LogSumExp(NaiveLabelledDbm.States(p, mu[0]).Select(s => s.NegativeEnergy)) - logZ;
            Assert.True(-freeEnergies[r] - logZ <= exact + 1e-6, $"row {r}: bound {-freeEnergies[r] - logZ} above log p(v) {exact}");
        }

        // Clamped labels: a bound on log p(v, y), whose label entropy is 0.
        var labels = Enumerable.Range(0, rows).Select(r => r % Labels).ToArray();
        var oneHot = cpu.Allocate(rows, Labels);
        cpu.Upload(OneHot(labels, Labels), oneHot);
        dbm.MeanField(v, means, DbmMeanFieldOptions.TestTime, labels: oneHot);
        var clampedFree = dbm.VariationalFreeEnergies(v, means, oneHot);
        hostMeans = [.. means.Select(RestrictedBoltzmannMachine.Download)];
        for (int r = 0; r < rows; r++)
        {
            var mu = new double[sizes.Length][];
            mu[0] = Row(data, r, sizes[0]);
            for (int k = 1; k < sizes.Length; k++) mu[k] = Row(hostMeans[k - 1], r, sizes[k]);
            var y = new double[Labels];
            y[labels[r]] = 1;
            var (nextMu, _) = NaiveLabelledDbm.Sweep(p, mu, y, clamped: true);
            for (int k = 1; k < sizes.Length; k++)
                for (int j = 0; j < sizes[k]; j++) Assert.True(Math.Abs(nextMu[k][j] - mu[k][j]) < 1e-5, $"clamped row {r} layer {k} unit {j}: {mu[k][j]} -> {nextMu[k][j]}");
            Assert.Equal(NaiveLabelledDbm.FreeEnergy(p, mu, y), clampedFree[r], 4);
            double exact = NaiveLabelledDbm.LogSumExp(NaiveLabelledDbm.States(p, Row(data, r, sizes[0]), labels[r]).Select(s => s.NegativeEnergy)) - logZ;
            Assert.True(-clampedFree[r] - logZ <= exact + 1e-6, $"row {r}: clamped bound {-clampedFree[r] - logZ} above log p(v, y) {exact}");
        }
    }

    private static float[] OneHot(int[] labels, int classes)
    {
        var x = new float[labels.Length * classes];
        for (int i = 0; i < labels.Length; i++) x[i * classes + labels[i]] = 1f;
        return x;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gibbs_sweeps_sample_the_joint_distribution_and_with_a_clamped_label_the_conditional_one(int[] sizes)
    {
        var cpu = new CpuBackend();
        var dbm = NaiveLabelledDbm.Random(cpu, sizes, Labels, 53, 1.0f, 0.5f);
        var p = NaiveLabelledDbm.Read(dbm);
        const int chains = 4000;
        var stream = RandomStream.Root(5).Derive("test-chains");
        foreach (int? clamp in new int?[] { null, 1 })
        {
            var states = Enumerable.Range(0, dbm.GroupCount).Select(g => cpu.Allocate(chains, dbm.GroupSize(g))).ToArray();
            foreach (var s in states) cpu.Fill(s, 0f);
            cpu.Upload(OneHot([.. Enumerable.Repeat(clamp ?? 0, chains)], Labels), states[dbm.LabelGroup]);
            ulong counter = 0;
            for (int sweep = 0; sweep < 100; sweep++) counter = dbm.GibbsSweep(states, null, stream, counter, clampLabels: clamp is not null);
            var (singles, labelMarginal) = NaiveLabelledDbm.Marginals(p, clamp);
            for (int k = 0; k < sizes.Length; k++)
            {
                var host = RestrictedBoltzmannMachine.Download(states[k]);
                for (int i = 0; i < sizes[k]; i++)
                {
                    double empirical = Enumerable.Range(0, chains).Average(c => host[c * sizes[k] + i]);
                    Assert.True(Math.Abs(empirical - singles[k][i]) < 0.04, $"label {clamp?.ToString() ?? "free"}, layer {k} unit {i}: sampled {empirical:F4}, exact {singles[k][i]:F4}");
                }
            }
            var labelStates = RestrictedBoltzmannMachine.Download(states[dbm.LabelGroup]);
            for (int c = 0; c < Labels; c++)
            {
                double empirical = Enumerable.Range(0, chains).Average(i => labelStates[i * Labels + c]);
                Assert.True(Math.Abs(empirical - labelMarginal[c]) < 0.04, $"label {clamp?.ToString() ?? "free"}: label {c} sampled {empirical:F4}, exact {labelMarginal[c]:F4}");
            }
            // Every chain holds exactly one label.
            for (int i = 0; i < chains; i++) Assert.Equal(1f, labelStates.AsSpan(i * Labels, Labels).ToArray().Sum());
        }
    }

    /// <summary>
    /// With labels clamped in the positive phase, the trainer's step is the gradient of the clamped bound on log p(v, y): mean-field
    /// products (the label one-hot among them) minus the model's exact products. Checked against central differences of that bound in
    /// double for the label weights, and the trainer's step (many well-mixed chains) against the analytic gradient for every weight
    /// and the label biases. A second trainer with the sparsity penalty on, from the same machine and seed (so the same chains),
    /// moves the label weights by the penalty of the top layer weighted by the labels' batch mean, and no more.
    /// </summary>
    [Theory]
    [MemberData(nameof(GradientShapes))]
    public void Joint_training_with_clamped_labels_steps_along_the_gradient_of_the_bound_on_log_p_of_v_and_y(int[] sizes)
    {
        var cpu = new CpuBackend();
        const int batch = 6;
        var dbm = NaiveLabelledDbm.Random(cpu, sizes, Labels, 61, 0.7f, 0.4f);
        var p = NaiveLabelledDbm.Read(dbm);
        var data = RandomBits(batch, sizes[0], 12);
        var labels = Enumerable.Range(0, batch).Select(r => (r * 2) % Labels).ToArray();
        var rows = Enumerable.Range(0, batch).Select(r => Row(data, r, sizes[0])).ToArray();

        double Bound(NaiveLabelledDbm.Params q) => Enumerable.Range(0, batch).Average(r => NaiveLabelledDbm.ClampedBound(q, rows[r], labels[r])) - NaiveLabelledDbm.LogPartition(q);

        var model = NaiveLabelledDbm.Products(p);
        var analyticW = new double[sizes.Length - 1][];
        var analyticU = new double[Labels * sizes[^1]];
        for (int k = 0; k + 1 < sizes.Length; k++) analyticW[k] = new double[sizes[k] * sizes[k + 1]];
        for (int r = 0; r < batch; r++)
        {
            var mu = NaiveLabelledDbm.MeanField(p, rows[r], labels[r]);
            for (int k = 0; k + 1 < sizes.Length; k++)
                for (int i = 0; i < sizes[k]; i++)
                    for (int j = 0; j < sizes[k + 1]; j++) analyticW[k][i * sizes[k + 1] + j] += mu[k][i] * mu[k + 1][j] / batch;
            for (int j = 0; j < sizes[^1]; j++) analyticU[labels[r] * sizes[^1] + j] += mu[^1][j] / batch;
        }
        for (int k = 0; k + 1 < sizes.Length; k++)
            for (int e = 0; e < analyticW[k].Length; e++) analyticW[k][e] -= model.Pairs[k][e];
        for (int e = 0; e < analyticU.Length; e++) analyticU[e] -= model.LabelPairs[e];
        var analyticD = new double[Labels];
        foreach (int l in labels) analyticD[l] += 1.0 / batch;
        for (int c = 0; c < Labels; c++) analyticD[c] -= model.LabelMarginal[c];
        for (int e = 0; e < analyticU.Length; e++)
        {
            const double h = 1e-5;
            var plus = p with { U = [.. p.U] };
            var minus = p with { U = [.. p.U] };
            plus.U[e] += h;
            minus.U[e] -= h;
            double numeric = (Bound(plus) - Bound(minus)) / (2 * h);
            Assert.True(Math.Abs(numeric - analyticU[e]) < 1e-6 + 1e-4 * Math.Abs(numeric), $"U[{e}]: central difference {numeric}, analytic {analyticU[e]}");
        }

        const float rate = 0.01f;
        var options = new DbmTrainingOptions
        {
            LearningRate = rate, LearningRateDecay = 1, MinimumLearningRate = 0, WeightCost = 0, InitialMomentum = 0, FinalMomentum = 0,
            BatchSize = batch, MeanFieldUpdates = 50, PersistentChains = 40_000, GibbsSweeps = 60, SparsityCost = 0, Seed = 3,
        };
        var sparse = new DeepBoltzmannMachine(cpu, sizes, 61, 0f, Labels);
        sparse.CopyFrom(dbm);
        var trainer = new DbmTrainer(dbm, options);
        var beforeW = dbm.Weights.Select(RestrictedBoltzmannMachine.Download).ToArray();
        var beforeU = RestrictedBoltzmannMachine.Download(dbm.LabelWeights!);
        var beforeD = RestrictedBoltzmannMachine.Download(dbm.LabelBias!);
        var x = cpu.Allocate(batch, sizes[0]);
        cpu.Upload(data, x);
        var y = cpu.Allocate(batch, Labels);
        cpu.Upload(OneHot(labels, Labels), y);
        trainer.TrainBatch(x, y);
        double worst = 0;
        for (int k = 0; k + 1 < sizes.Length; k++)
        {
            var after = RestrictedBoltzmannMachine.Download(dbm.Weights[k]);
            for (int e = 0; e < after.Length; e++) worst = Math.Max(worst, Math.Abs((after[e] - beforeW[k][e]) / rate - analyticW[k][e]));
        }
        var afterU = RestrictedBoltzmannMachine.Download(dbm.LabelWeights!);
        for (int e = 0; e < afterU.Length; e++) worst = Math.Max(worst, Math.Abs((afterU[e] - beforeU[e]) / rate - analyticU[e]));
        var afterD = RestrictedBoltzmannMachine.Download(dbm.LabelBias!);
        for (int c = 0; c < Labels; c++) worst = Math.Max(worst, Math.Abs((afterD[c] - beforeD[c]) / rate - analyticD[c]));
        output.WriteLine($"largest difference between the trainer's step / rate and the gradient: {worst:F4}");
        Assert.True(worst < 0.02, $"the trainer's step differs from the bound's gradient by up to {worst}");
        Assert.Throws<ArgumentException>(() => trainer.TrainBatch(x));

        // The penalty of the top layer: s = cost (m - target), m the running mean after one update from the target.
        const float cost = 0.5f, target = 0.1f, damping = 0.9f;
        var sparseTrainer = new DbmTrainer(sparse, options with { SparsityCost = cost, SparsityTargets = [target], SparsityDamping = damping });
        sparseTrainer.TrainBatch(x, y);
        var sparseU = RestrictedBoltzmannMachine.Download(sparse.LabelWeights!);
        int top = sizes[^1];
        var topMean = new double[top];
        for (int r = 0; r < batch; r++)
        {
            var mu = NaiveLabelledDbm.MeanField(p, rows[r], labels[r]);
            for (int j = 0; j < top; j++) topMean[j] += mu[^1][j] / batch;
        }
        double worstPenalty = 0;
        for (int c = 0; c < Labels; c++)
            for (int j = 0; j < top; j++)
            {
                double labelMean = labels.Count(l => l == c) / (double)batch;
                double penalty = cost * (damping * target + (1 - damping) * topMean[j] - target);
                double moved = (sparseU[c * top + j] - afterU[c * top + j]) / rate;
                worstPenalty = Math.Max(worstPenalty, Math.Abs(moved + labelMean * penalty));
            }
        Assert.True(worstPenalty < 1e-3, $"the sparsity penalty moved the label weights by up to {worstPenalty} more than the top layer's penalty says");
    }

    /// <summary>Two noisy prototypes, each its own label: pretrained and jointly trained, the machine reads the label from the pixels
    /// and, with a label clamped, draws images of that label's prototype.</summary>
    [Fact]
    public void A_trained_machine_with_labels_classifies_and_draws_label_clamped_samples_of_its_class()
    {
        var cpu = new CpuBackend();
        var random = new System.Random(4);
        const int n = 200, pixels = 8;
        var features = new float[n * pixels];
        var labels = new int[n];
        for (int s = 0; s < n; s++)
        {
            labels[s] = s % 2;
            for (int i = 0; i < pixels; i++)
            {
                bool on = labels[s] == 0 ? i < 4 : i >= 4;
                features[s * pixels + i] = (random.NextDouble() < 0.1 ? !on : on) ? 1f : 0f;
            }
        }
        var data = new Dataset(features, labels, 2, pixels);
        var dbm = new DeepBoltzmannMachine(cpu, [pixels, 6, 4], seed: 2, labelCount: 2);
        DbmPretraining.Train(dbm, data, new DbmPretrainingOptions { Epochs = 20, Rbm = new RbmTrainingOptions { LearningRate = 0.1f, BatchSize = 20, Seed = 3 } });
        var trainer = new DbmTrainer(dbm, new DbmTrainingOptions { LearningRate = 0.01f, LearningRateDecay = 1, BatchSize = 20, SparsityCost = 0, Seed = 5 });
        for (int epoch = 0; epoch < 30; epoch++) trainer.TrainEpoch(data, epoch);
        var predicted = DbmEvaluation.Classify(dbm, features);
        double accuracy = predicted.Zip(labels).Count(t => t.First == t.Second) / (double)n;
        var samples = DbmSampling.Sample(dbm, RandomBits(40, pixels, 8), 40, 200, RandomStream.Root(9).Derive("samples"), [.. Enumerable.Range(0, 40).Select(i => i % 2)]);
        int agree = 0;
        for (int i = 0; i < 40; i++)
        {
            double left = samples.Skip(i * pixels).Take(4).Average(), right = samples.Skip(i * pixels + 4).Take(4).Average();
            if ((i % 2 == 0) == (left > right)) agree++;
        }
        output.WriteLine($"q(y | v) accuracy {accuracy:P1}; {agree} of 40 label-clamped samples look like their label's prototype");
        Assert.True(accuracy > 0.95, $"accuracy {accuracy}");
        Assert.True(agree >= 36, $"only {agree} of 40 label-clamped samples look like their prototype");
    }

    /// <summary>The labelled top stage enters whole (its weights not halved, its label weights and biases the machine's), sharing
    /// the layer below it with the stage under it by averaged biases; its down pass to the codes is doubled, the labels' is not.</summary>
    [Fact]
    public void Composition_takes_the_labelled_top_stage_from_the_associative_memory()
    {
        var cpu = new CpuBackend();
        int[] sizes = [3, 2, 4];
        var bottom = new RestrictedBoltzmannMachine(cpu, 3, 2, seed: 1, initialWeightStd: 1f);
        cpu.Upload([0f, 1f, 2f], bottom.VisibleBias);
        cpu.Upload([10f, 11f], bottom.HiddenBias);
        var memory = new AssociativeMemory(cpu, 2, Labels, 4, seed: 2, initialWeightStd: 1f) { PenultimateDownwardScale = 2f };
        cpu.Upload([20f, 21f], memory.PenultimateBias);
        cpu.Upload([30f, 31f, 32f, 33f], memory.TopBias);
        cpu.Upload([40f, 41f, 42f], memory.LabelBias);
        var dbm = new DeepBoltzmannMachine(cpu, sizes, labelCount: Labels);
        DbmPretraining.Compose(dbm, [bottom], memory);
        Assert.Equal(RestrictedBoltzmannMachine.Download(bottom.Weights), RestrictedBoltzmannMachine.Download(dbm.Weights[0]));
        Assert.Equal(RestrictedBoltzmannMachine.Download(memory.PenultimateWeights), RestrictedBoltzmannMachine.Download(dbm.Weights[1]));
        Assert.Equal(RestrictedBoltzmannMachine.Download(memory.LabelWeights), RestrictedBoltzmannMachine.Download(dbm.LabelWeights!));
        Assert.Equal([40f, 41f, 42f], RestrictedBoltzmannMachine.Download(dbm.LabelBias!));
        Assert.Equal([0f, 1f, 2f], RestrictedBoltzmannMachine.Download(dbm.Biases[0]));
        Assert.Equal([(10f + 20f) / 2, (11f + 21f) / 2], RestrictedBoltzmannMachine.Download(dbm.Biases[1]));
        Assert.Equal([30f, 31f, 32f, 33f], RestrictedBoltzmannMachine.Download(dbm.Biases[2]));

        // The doubled down pass: a + 2 t P^T.
        var t = cpu.Allocate(1, 4);
        cpu.Upload([1f, 0f, 1f, 1f], t);
        var input = cpu.Allocate(1, 2);
        memory.PenultimateInput(t, input);
        var pw = RestrictedBoltzmannMachine.Download(memory.PenultimateWeights);
        for (int i = 0; i < 2; i++)
        {
            double expected = 20 + i + 2 * (pw[i * 4] + pw[i * 4 + 2] + pw[i * 4 + 3]);
            Assert.Equal(expected, RestrictedBoltzmannMachine.Download(input)[i], 4);
        }
    }

    [Fact]
    public void Model_files_keep_the_label_units_and_refuse_a_bad_label_count()
    {
        var cpu = new CpuBackend();
        var dbm = NaiveLabelledDbm.Random(cpu, [4, 3, 3], Labels, 3, 0.5f, 0.5f);
        string path = Path.Combine(Path.GetTempPath(), $"shinso-labelled-dbm-{Guid.NewGuid():N}.shinso");
        try
        {
            DbmModelFile.Save(dbm, path);
            var loaded = DbmModelFile.Load(path, cpu);
            Assert.Equal(Labels, loaded.LabelCount);
            Assert.Equal(RestrictedBoltzmannMachine.Download(dbm.LabelWeights!), RestrictedBoltzmannMachine.Download(loaded.LabelWeights!));
            Assert.Equal(RestrictedBoltzmannMachine.Download(dbm.LabelBias!), RestrictedBoltzmannMachine.Download(loaded.LabelBias!));
            Assert.Equal(DbmEvaluation.ExactLogPartition(dbm), DbmEvaluation.ExactLogPartition(loaded), 12);
            var doc = ModelFile.Read(path);
            doc.Architecture["labels"] = 1;
            var e = Assert.Throws<ModelFileException>(() => DbmModelFile.FromDocument(doc, path, cpu));
            Assert.Contains("architecture.labels", e.Message);
            Assert.Contains("at least 2", e.Message);
        }
        finally { File.Delete(path); }
        Assert.Throws<ArgumentException>(() => new DeepBoltzmannMachine(cpu, [4, 3, 3], labelCount: 1));
        var plain = new DeepBoltzmannMachine(cpu, [4, 3, 3]);
        var v = cpu.Allocate(2, 4);
        Assert.Throws<ArgumentException>(() => plain.MeanField(v, [cpu.Allocate(2, 3), cpu.Allocate(2, 3)], DbmMeanFieldOptions.Training, labels: cpu.Allocate(2, 3)));
        Assert.Throws<ArgumentException>(() => DbmEvaluation.Classify(plain, new float[8]));
    }
}

/// <summary>Naive double-precision twins of a labelled DBM's sums: every binary state of every layer, and every label.</summary>
internal static class NaiveLabelledDbm
{
    public static DeepBoltzmannMachine Random(IBackend backend, int[] sizes, int labels, ulong seed, float weightStd, float biasStd)
    {
        var dbm = new DeepBoltzmannMachine(backend, sizes, seed, weightStd, labels);
        var biases = RandomStream.Root(seed).Derive("test-biases");
        for (int k = 0; k < sizes.Length; k++) backend.SampleGaussian(biases.Derive("layer", k), 0, 0f, biasStd, dbm.Biases[k]);
        backend.SampleGaussian(biases.Derive("labels"), 0, 0f, biasStd, dbm.LabelBias!);
        return dbm;
    }

    /// <summary>The parameters; U is [labels, n_L] row-major.</summary>
    public sealed record Params(int[] Sizes, double[][] W, double[][] B, int Labels, double[] U, double[] D);

    private static double[] Double(Tensor t) => RestrictedBoltzmannMachine.Download(t).Select(x => (double)x).ToArray();

    public static Params Read(DeepBoltzmannMachine dbm) =>
        new([.. dbm.LayerSizes], [.. dbm.Weights.Select(Double)], [.. dbm.Biases.Select(Double)], dbm.LabelCount, Double(dbm.LabelWeights!), Double(dbm.LabelBias!));

    /// <summary>-E of one state, the labels as a vector (one-hot or means).</summary>
    public static double NegativeEnergy(Params p, double[][] x, double[] y)
    {
        // The binary layers' part is the unlabelled twin's; the labels add d . y + y U x_L.
        double e = NaiveDbm.NegativeEnergy(new NaiveDbm.Params(p.Sizes, p.W, p.B), x);
        int top = p.Sizes[^1];
        for (int c = 0; c < p.Labels; c++)
        {
            double a = p.D[c];
            for (int j = 0; j < top; j++) a += p.U[c * top + j] * x[^1][j];
            e += y[c] * a;
        }
        return e;
    }

    /// <summary>Every state with its -E: the visible layer fixed when given, the label fixed when given.</summary>
    public static IEnumerable<(double[][] X, int Label, double NegativeEnergy)> States(Params p, double[]? visible = null, int? label = null)
    {
        // The binary layers' states come from the unlabelled twin; each is paired with every label.
        var layers = new NaiveDbm.Params(p.Sizes, p.W, p.B);
        for (int c = 0; c < p.Labels; c++)
        {
            if (label is { } l && l != c) continue;
            var y = new double[p.Labels];
            y[c] = 1;
            foreach (var (x, _) in NaiveDbm.States(layers, visible)) yield return (x, c, NegativeEnergy(p, x, y));
        }
    }

    public static double LogSumExp(IEnumerable<double> values) => NaiveDbm.LogSumExp(values);

    public static double LogPartition(Params p) => LogSumExp(States(p).Select(s => s.NegativeEnergy));

    /// <summary>Each unit's marginal and the label marginal, under the model or, given <paramref name="label"/>, under p(x | y).</summary>
    public static (double[][] Singles, double[] Labels) Marginals(Params p, int? label)
    {
        var all = States(p, null, label).ToArray();
        double logZ = LogSumExp(all.Select(s => s.NegativeEnergy));
        var singles = p.Sizes.Select(n => new double[n]).ToArray();
        var labels = new double[p.Labels];
        foreach (var (x, c, ne) in all)
        {
            double prob = Math.Exp(ne - logZ);
            labels[c] += prob;
            for (int k = 0; k < p.Sizes.Length; k++)
                for (int i = 0; i < p.Sizes[k]; i++) singles[k][i] += prob * x[k][i];
        }
        return (singles, labels);
    }

    /// <summary>The model's products E[x_k x_(k+1)^T] per weight matrix, E[y x_L^T] ([labels, n_L]) and E[y].</summary>
    public static (double[][] Pairs, double[] LabelPairs, double[] LabelMarginal) Products(Params p)
    {
        double logZ = LogPartition(p);
        var pairs = Enumerable.Range(0, p.Sizes.Length - 1).Select(k => new double[p.Sizes[k] * p.Sizes[k + 1]]).ToArray();
        var labelPairs = new double[p.Labels * p.Sizes[^1]];
        var labelMarginal = new double[p.Labels];
        foreach (var (x, c, ne) in States(p))
        {
            double prob = Math.Exp(ne - logZ);
            labelMarginal[c] += prob;
            for (int k = 0; k + 1 < p.Sizes.Length; k++)
                for (int i = 0; i < p.Sizes[k]; i++)
                    for (int j = 0; j < p.Sizes[k + 1]; j++) pairs[k][i * p.Sizes[k + 1] + j] += prob * x[k][i] * x[k + 1][j];
            for (int j = 0; j < p.Sizes[^1]; j++) labelPairs[c * p.Sizes[^1] + j] += prob * x[^1][j];
        }
        return (pairs, labelPairs, labelMarginal);
    }

    /// <summary>One sequential mean-field sweep: the hidden layers bottom up, then (unless clamped) the labels' softmax.</summary>
    public static (double[][] Mu, double[] Y) Sweep(Params p, double[][] mu, double[] y, bool clamped)
    {
        var s = p.Sizes;
        var m = mu.Select(a => (double[])a.Clone()).ToArray();
        var q = (double[])y.Clone();
        int top = s.Length - 1;
        for (int k = 1; k < s.Length; k++)
            for (int j = 0; j < s[k]; j++)
            {
                double a = p.B[k][j];
                for (int i = 0; i < s[k - 1]; i++) a += m[k - 1][i] * p.W[k - 1][i * s[k] + j];
                if (k < top)
                    for (int i = 0; i < s[k + 1]; i++) a += m[k + 1][i] * p.W[k][j * s[k + 1] + i];
                else
                    for (int c = 0; c < p.Labels; c++) a += q[c] * p.U[c * s[top] + j];
                m[k][j] = 1 / (1 + Math.Exp(-a));
            }
        if (!clamped)
        {
            var a = new double[p.Labels];
            for (int c = 0; c < p.Labels; c++)
            {
                a[c] = p.D[c];
                for (int j = 0; j < s[top]; j++) a[c] += p.U[c * s[top] + j] * m[top][j];
            }
            double max = a.Max(), sum = a.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < p.Labels; c++) q[c] = Math.Exp(a[c] - max) / sum;
        }
        return (m, q);
    }

    /// <summary>Mean-field with the label clamped, to a tight fixed point; entry 0 is the data.</summary>
    public static double[][] MeanField(Params p, double[] v, int label)
    {
        var mu = p.Sizes.Select(n => Enumerable.Repeat(0.5, n).ToArray()).ToArray();
        mu[0] = v;
        var y = new double[p.Labels];
        y[label] = 1;
        for (int sweep = 0; sweep < 2000; sweep++) (mu, _) = Sweep(p, mu, y, clamped: true);
        return mu;
    }

    /// <summary>F_q of the means (labels as given: inferred means or one-hot).</summary>
    public static double FreeEnergy(Params p, double[][] mu, double[] y)
    {
        double f = -NegativeEnergy(p, mu, y);
        for (int k = 1; k < mu.Length; k++) f -= mu[k].Sum(m => DeepBoltzmannMachine.BinaryEntropy(m));
        foreach (double q in y) if (q > 0) f += q * Math.Log(q);
        return f;
    }

    /// <summary>-F_q(v, y) with the label clamped: the bound on log p(v, y) + log Z.</summary>
    public static double ClampedBound(Params p, double[] v, int label)
    {
        var y = new double[p.Labels];
        y[label] = 1;
        return -FreeEnergy(p, MeanField(p, v, label), y);
    }
}
