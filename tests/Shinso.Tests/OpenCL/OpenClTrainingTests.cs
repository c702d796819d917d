using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Tests.OpenCL;

/// <summary>
/// Every model family trained a few steps from the same seed on the CPU and on the OpenCL device:
/// the parameters must agree to 1e-4 relative (the backends differ only in rounding).
/// </summary>
[Collection(OpenClCollection.Name)]
public class OpenClTrainingTests(TwinBackends twins)
{
    private static void AssertSameParameters(IReadOnlyList<Tensor> cpu, IReadOnlyList<Tensor> device, string what)
    {
        Assert.Equal(cpu.Count, device.Count);
        for (int i = 0; i < cpu.Count; i++)
        {
            float[] a = TwinBackends.Read(cpu[i]), b = TwinBackends.Read(device[i]);
            double scale = 0, error = 0, norm = 0, diff = 0;
            for (int j = 0; j < a.Length; j++)
            {
                scale = Math.Max(scale, Math.Abs(a[j]));
                error = Math.Max(error, Math.Abs(a[j] - b[j]));
                norm += (double)a[j] * a[j];
                diff += (double)(a[j] - b[j]) * (a[j] - b[j]);
            }
            Assert.True(error <= 1e-4 * scale, $"{what} parameter {i}: largest difference {error:E3} against largest magnitude {scale:E3}");
            Assert.True(Math.Sqrt(diff) <= 1e-4 * Math.Sqrt(norm), $"{what} parameter {i}: relative difference {Math.Sqrt(diff / norm):E3}");
        }
    }

    private static List<float[]> Snapshot(IEnumerable<Tensor> parameters) => parameters.Select(TwinBackends.Read).ToList();

    /// <summary>Fails unless training moved some parameter by more than 1e-3: two trainings that did nothing would agree.</summary>
    private static void AssertMoved(IReadOnlyList<float[]> initial, IReadOnlyList<Tensor> trained, string what)
    {
        Assert.Equal(initial.Count, trained.Count);
        double moved = 0;
        for (int i = 0; i < initial.Count; i++)
        {
            float[] now = TwinBackends.Read(trained[i]);
            for (int j = 0; j < now.Length; j++) moved = Math.Max(moved, Math.Abs(now[j] - initial[i][j]));
        }
        Assert.True(moved > 1e-3, $"{what}: training barely moved the parameters ({moved:E3}), so agreement would prove little");
    }

    private static SupervisedData Images(int count, int[] shape, int classes, int seed)
    {
        int length = shape.Aggregate(1, (a, b) => a * b);
        var random = new System.Random(seed);
        var x = new float[count * length];
        var t = new float[count * classes];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
            t[i * classes + labels[i]] = 1f;
            // A class-dependent bump over noise, so training has a signal to follow.
            for (int j = 0; j < length; j++) x[i * length + j] = (float)(random.NextDouble() * 0.5 + (j % classes == labels[i] ? 0.5 : 0));
        }
        return new SupervisedData(x, length, t, classes, labels);
    }

    private void TrainBoth(FeedForwardSpec spec, Func<Optimizer> optimizer, SupervisedData data, int epochs, string what, Shinso.Data.ImageAugmentation? augmentation = null)
    {
        var cpu = new FeedForwardNet(twins.Cpu, spec, 5);
        var device = new FeedForwardNet(twins.Device, spec, 5);
        AssertSameParameters(cpu.Parameters.Select(p => p.Value).ToList(), device.Parameters.Select(p => p.Value).ToList(), what + " at init");
        var initial = cpu.Parameters.Select(p => TwinBackends.Read(p.Value)).ToList();
        var options = new TrainingOptions { Epochs = epochs, BatchSize = 16, Seed = 3, Augmentation = augmentation };
        new Trainer(cpu, optimizer(), options).Fit(data);
        AssertMoved(initial, cpu.Parameters.Select(p => p.Value).ToList(), what);
        new Trainer(device, optimizer(), options).Fit(data);
        AssertSameParameters(cpu.Parameters.Select(p => p.Value).ToList(), device.Parameters.Select(p => p.Value).ToList(), what);
    }

    [Fact]
    public void Mlp_with_dropout_adam_and_max_norm_trains_to_the_same_parameters()
    {
        var spec = new FeedForwardSpec([20],
        [
            LayerSpec.Dropout(0.2f), LayerSpec.Dense(32, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.5f),
            LayerSpec.Dense(24, WeightInit.GlorotUniform), LayerSpec.Of("tanh"),
            LayerSpec.Dense(16, WeightInit.GlorotNormal), LayerSpec.Of("sigmoid"),
            LayerSpec.Dense(4, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        TrainBoth(spec, () => new Adam(new ConstantSchedule(1e-3f)) { Hooks = { new MaxNorm(1.5f) } }, Images(64, [20], 4, 1), 3, "mlp");
    }

    [Theory]
    [InlineData(FisherTargets.Sampled)]
    [InlineData(FisherTargets.Empirical)]
    public void Kfac_trains_an_mlp_and_a_sigmoid_autoencoder_to_the_same_parameters(FisherTargets targets)
    {
        // The factors' inverses are refreshed on the host from each backend's own statistics, so both paths are covered.
        var mlp = new FeedForwardSpec([20],
            [LayerSpec.Dense(16, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.3f), LayerSpec.Dense(4, WeightInit.GlorotUniform)], "softmax-cross-entropy");
        TrainBoth(mlp, () => new Kfac(new ConstantSchedule(0.05f), inverseInterval: 3, targets: targets), Images(64, [20], 4, 1), 2, $"kfac mlp ({targets})");
        var autoencoder = new FeedForwardSpec([12], [LayerSpec.Dense(5), LayerSpec.Of("sigmoid"), LayerSpec.Dense(12)], "binary-cross-entropy");
        var random = new System.Random(9);
        var x = new float[48 * 12];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextDouble() < 0.3 ? 1f : 0f;
        TrainBoth(autoencoder, () => new Kfac(new ConstantSchedule(0.05f), inverseInterval: 2, targets: targets), new SupervisedData(x, 12, x, 12), 2,
            $"kfac autoencoder ({targets})");
        // KFC: the convolutions' patch statistics come from the device's own im2col.
        var conv = new FeedForwardSpec([1, 6, 6],
            [LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2), LayerSpec.Conv(4, 3), LayerSpec.Of("tanh"), LayerSpec.Of("flatten"),
             LayerSpec.Dense(4, WeightInit.GlorotUniform)], "softmax-cross-entropy");
        TrainBoth(conv, () => new Kfac(new ConstantSchedule(0.05f), inverseInterval: 3, targets: targets), Images(64, [1, 6, 6], 4, 2), 2, $"kfac conv net ({targets})");
    }

    [Fact]
    public void A_conv_net_on_augmented_minibatches_trains_to_the_same_parameters()
    {
        // The distortions are drawn on the host from the run's named stream, before the upload: both backends see the same images.
        var spec = new FeedForwardSpec([1, 8, 8], [LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Of("flatten"), LayerSpec.Dense(4, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        var augmentation = new Shinso.Data.ImageAugmentation { MaxShift = 2, FlipHorizontal = true, ElasticAlpha = 3f, ElasticSigma = 1.5f };
        TrainBoth(spec, () => new Momentum(new ConstantSchedule(0.05f), new ConstantSchedule(0.9f)), Images(48, [1, 8, 8], 4, 6), 2, "augmented conv net", augmentation);
    }

    [Fact]
    public void Linear_regression_and_binary_cross_entropy_nets_train_to_the_same_parameters()
    {
        var regression = new FeedForwardSpec([6], [LayerSpec.Dense(1, WeightInit.SmallGaussian, 0.1f)], "squared-error");
        var random = new System.Random(2);
        var x = Enumerable.Range(0, 48 * 6).Select(_ => (float)random.NextDouble()).ToArray();
        var y = Enumerable.Range(0, 48).Select(i => x[i * 6] * 2f - x[i * 6 + 3]).ToArray();
        TrainBoth(regression, () => new Momentum(new ConstantSchedule(0.1f), new ConstantSchedule(0.9f)), new SupervisedData(x, 6, y, 1), 4, "linear regression");

        var bce = new FeedForwardSpec([20], [LayerSpec.Dense(12, WeightInit.GlorotUniform), LayerSpec.Of("abs"), LayerSpec.Dense(4, WeightInit.GlorotUniform)],
            "binary-cross-entropy");
        TrainBoth(bce, () => new RmsProp(new ConstantSchedule(1e-3f)) { Hooks = { new WeightDecay(1e-3f) } }, Images(48, [20], 4, 2), 3, "sigmoid-BCE net");
    }

    [Theory]
    [InlineData("autoencoder")]
    [InlineData("sparse-autoencoder")]
    [InlineData("denoising-autoencoder")]
    [InlineData("deep-autoencoder")]
    public void Each_autoencoder_preset_trains_to_the_same_parameters(string name)
    {
        // The preset's own layers, objective and optimizer on 20 inputs; the deep one with a code of 4.
        var preset = Shinso.Models.Autoencoders.AutoencoderPresets.Find(name, 20, name == "deep-autoencoder" ? 4 : 8)!;
        var data = Images(48, [20], 4, 6);
        var reconstruction = new SupervisedData(data.Inputs.Select(v => v / 1.5f).ToArray(), 20, data.Inputs.Select(v => v / 1.5f).ToArray(), 20);
        var config = preset.Config;
        // Through eight layers, Adam's m / sqrt(v) turns the backends' rounding in a near-zero gradient into a difference
        // near the tolerance of a small bias; the deep net's layers are compared under momentum, Adam's agreement is the MLP test's.
        Func<Optimizer> optimizer = name == "deep-autoencoder" ? () => new Momentum(new ConstantSchedule(0.05f), new ConstantSchedule(0.9f)) : config.CreateOptimizer;
        TrainBoth(config.Architecture, optimizer, reconstruction, 3, name);
    }

    [Fact]
    public void Layerwise_pretraining_by_rbms_and_autoencoders_gives_the_same_parameters()
    {
        var spec = new FeedForwardSpec([20],
            [LayerSpec.Dense(12), LayerSpec.Of("sigmoid"), LayerSpec.Dense(4), LayerSpec.Of("code"), LayerSpec.Dense(12), LayerSpec.Of("sigmoid"), LayerSpec.Dense(20)],
            "binary-cross-entropy");
        var x = Images(48, [20], 4, 7).Inputs.Select(v => v / 1.5f).ToArray();
        foreach (var method in new[] { Shinso.Models.Autoencoders.Pretrainer.Rbm, Shinso.Models.Autoencoders.Pretrainer.Autoencoder })
        {
            var cpu = new FeedForwardNet(twins.Cpu, spec, 5);
            var device = new FeedForwardNet(twins.Device, spec, 5);
            var initial = Snapshot(cpu.Parameters.Select(p => p.Value));
            var options = new Shinso.Models.Autoencoders.PretrainingOptions { Method = method, Epochs = 2, BatchSize = 16, Seed = 4 };
            Shinso.Models.Autoencoders.LayerwisePretraining.Run(cpu, x, options);
            Shinso.Models.Autoencoders.LayerwisePretraining.Run(device, x, options);
            AssertMoved(initial, cpu.Parameters.Select(p => p.Value).ToList(), $"{method} pretraining");
            AssertSameParameters(cpu.Parameters.Select(p => p.Value).ToList(), device.Parameters.Select(p => p.Value).ToList(), $"{method} pretraining");
        }
    }

    [Fact]
    public void Convolutional_net_with_every_pooling_and_normalization_trains_to_the_same_parameters()
    {
        var spec = new FeedForwardSpec([2, 12, 12],
        [
            LayerSpec.Conv(4, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
            LayerSpec.Lrn(3, 1e-2f),
            LayerSpec.Conv(6, 3, pad: 1), LayerSpec.Of("tanh"), LayerSpec.Pool("avgpool", 3, 1, 1),
            LayerSpec.Lcn(3, 1f),
            LayerSpec.Pool("lppool", 2, 2, p: 2f),
            LayerSpec.Of("flatten"), LayerSpec.Dense(5, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        TrainBoth(spec, () => new Nesterov(new ConstantSchedule(0.02f), new ConstantSchedule(0.9f)), Images(32, [2, 12, 12], 5, 3), 2, "cnn");
    }

    [Fact]
    public void Rbms_trained_by_cd_and_pcd_end_with_the_same_parameters()
    {
        var random = new System.Random(4);
        const int n = 60, visible = 24;
        var binary = new float[n * visible];
        for (int i = 0; i < binary.Length; i++) binary[i] = random.NextDouble() < (i % visible) / (double)visible ? 1f : 0f;
        var labels = new int[n];
        var data = new Dataset(binary, labels, 1, visible);
        foreach (bool persistent in new[] { false, true })
        {
            var models = new List<RestrictedBoltzmannMachine>();
            foreach (IBackend backend in new IBackend[] { twins.Cpu, twins.Device })
            {
                var rbm = new RestrictedBoltzmannMachine(backend, visible, 12, seed: 7);
                var initial = Snapshot([rbm.Weights, rbm.VisibleBias, rbm.HiddenBias]);
                var options = new RbmTrainingOptions { BatchSize = 20, LearningRate = 0.05f, Seed = 9, PersistentChains = persistent ? 10 : 0, SparsityTarget = 0.1f, SparsityCost = 0.01f };
                RbmTrainer trainer = persistent ? new PersistentContrastiveDivergence(rbm, options) : new ContrastiveDivergence(rbm, options);
                for (int epoch = 0; epoch < 3; epoch++) trainer.TrainEpoch(data, epoch);
                AssertMoved(initial, [rbm.Weights, rbm.VisibleBias, rbm.HiddenBias], $"{(persistent ? "PCD" : "CD")} RBM on {backend.Name}");
                models.Add(rbm);
            }
            AssertSameParameters([models[0].Weights, models[0].VisibleBias, models[0].HiddenBias],
                [models[1].Weights, models[1].VisibleBias, models[1].HiddenBias], persistent ? "PCD RBM" : "CD RBM");
        }
    }

    [Fact]
    public void Gaussian_rbm_with_learned_sigma_ends_with_the_same_parameters()
    {
        var random = new System.Random(5);
        const int n = 40, visible = 10;
        var x = Enumerable.Range(0, n * visible).Select(i => (float)(random.NextDouble() * 2 - 1 + (i % visible) * 0.1)).ToArray();
        var data = new Dataset(x, new int[n], 1, visible);
        var models = new List<RestrictedBoltzmannMachine>();
        foreach (IBackend backend in new IBackend[] { twins.Cpu, twins.Device })
        {
            var rbm = new RestrictedBoltzmannMachine(backend, visible, 8, VisibleUnits.Gaussian, learnSigma: true, seed: 3);
            var initial = Snapshot([rbm.Weights, rbm.VisibleBias, rbm.HiddenBias, rbm.LogSigma]);
            var trainer = new ContrastiveDivergence(rbm, new RbmTrainingOptions { BatchSize = 10, LearningRate = 0.01f, Seed = 2 });
            for (int epoch = 0; epoch < 2; epoch++) trainer.TrainEpoch(data, epoch);
            AssertMoved(initial, [rbm.Weights, rbm.VisibleBias, rbm.HiddenBias, rbm.LogSigma], $"Gaussian RBM on {backend.Name}");
            models.Add(rbm);
        }
        AssertSameParameters([models[0].Weights, models[0].VisibleBias, models[0].HiddenBias, models[0].LogSigma],
            [models[1].Weights, models[1].VisibleBias, models[1].HiddenBias, models[1].LogSigma], "Gaussian RBM");
    }

    [Fact]
    public void Mean_field_inference_with_observed_units_gives_the_same_means_and_free_energies_on_both_backends()
    {
        const int n = 16, visible = 12, hidden = 9;
        var random = new System.Random(8);
        var values = Enumerable.Range(0, n * visible).Select(_ => (float)(random.NextDouble() * 3 - 1.5)).ToArray();
        var mask = Enumerable.Range(0, n * visible).Select(k => (k % visible) < visible / 2 || (k / visible) % 3 == 0 ? 1f : 0f).ToArray();
        foreach (var method in new[] { MeanFieldMethod.Naive, MeanFieldMethod.Marginalized })
        {
            var outputs = new List<(Tensor Hidden, Tensor Visible, MeanFieldResult Result)>();
            foreach (IBackend backend in new IBackend[] { twins.Cpu, twins.Device })
            {
                var rbm = Shinso.Tests.Boltzmann.Naive.Random(backend, visible, hidden, 12, 0.4f, 0.5f, VisibleUnits.Gaussian, learnSigma: true);
                var v = backend.Allocate(n, visible);
                var observed = backend.Allocate(n, visible);
                backend.Upload(values, v);
                backend.Upload(mask, observed);
                var h = backend.Allocate(n, hidden);
                var x = backend.Allocate(n, visible);
                var result = RbmMeanField.Infer(rbm, v, observed, method, new MeanFieldOptions(MaxIterations: 30, Tolerance: 0), h, x);
                outputs.Add((h, x, result));
            }
            AssertSameParameters([outputs[0].Hidden, outputs[0].Visible], [outputs[1].Hidden, outputs[1].Visible], $"{method} mean-field means");
            for (int r = 0; r < n; r++)
                Assert.Equal(outputs[0].Result.FreeEnergies[r], outputs[1].Result.FreeEnergies[r], 1e-3);
        }
    }

    /// <summary>Without labels (3 hidden layers), and with label units beside an even top layer (2) and an odd one (3).</summary>
    [Theory]
    [InlineData(3, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void Deep_boltzmann_machine_pretraining_joint_training_inference_and_ais_agree_on_both_backends(int hiddenLayers, bool labelled)
    {
        var random = new System.Random(9);
        const int n = 60, pixels = 16;
        var features = Enumerable.Range(0, n * pixels).Select(k => random.NextDouble() < ((k % pixels) % 3 == (k / pixels) % 3 ? 0.8 : 0.15) ? 1f : 0f).ToArray();
        var data = labelled ? new Dataset(features, [.. Enumerable.Range(0, n).Select(i => i % 3)], 3, pixels) : new Dataset(features, new int[n], 1, pixels);
        int[] sizes = hiddenLayers == 3 ? [pixels, 10, 6, 5] : [pixels, 10, 6];
        var machines = new List<Shinso.Models.DeepBoltzmann.DeepBoltzmannMachine>();
        var bounds = new List<double>();
        var logZ = new List<double>();
        var sampled = new List<float[]>();
        var classified = new List<int[]>();
        Tensor[] Parameters(Shinso.Models.DeepBoltzmann.DeepBoltzmannMachine m) => labelled ? [.. m.Weights, .. m.Biases, m.LabelWeights!, m.LabelBias!] : [.. m.Weights, .. m.Biases];
        foreach (IBackend backend in new IBackend[] { twins.Cpu, twins.Device })
        {
            var dbm = new Shinso.Models.DeepBoltzmann.DeepBoltzmannMachine(backend, sizes, seed: 4, labelCount: labelled ? 3 : 0);
            var initial = Snapshot(Parameters(dbm));
            Shinso.Models.DeepBoltzmann.DbmPretraining.Train(dbm, data, new Shinso.Models.DeepBoltzmann.DbmPretrainingOptions
            {
                Epochs = 2, Rbm = new RbmTrainingOptions { LearningRate = 0.05f, BatchSize = 10, Seed = 2 },
            });
            var trainer = new Shinso.Models.DeepBoltzmann.DbmTrainer(dbm, new Shinso.Models.DeepBoltzmann.DbmTrainingOptions
            {
                LearningRate = 0.01f, BatchSize = 10, PersistentChains = 20, SparsityTargets = [0.2f, 0.1f, 0.1f], Seed = 3,
            });
            for (int epoch = 0; epoch < 2; epoch++) trainer.TrainEpoch(data, epoch);
            AssertMoved(initial, Parameters(dbm), $"DBM on {backend.Name}");
            var ais = Shinso.Models.DeepBoltzmann.DbmEvaluation.EstimateLogPartition(dbm, features,
                new AisOptions { Runs = 20, Betas = AnnealedImportanceSampling.Schedule((1.0, 1e-2)), Seed = 5 });
            logZ.Add(ais.LogZ);
            bounds.Add(Shinso.Models.DeepBoltzmann.DbmEvaluation.LogProbabilityBound(dbm, features, ais).LogProbabilityBound);
            if (labelled)
            {
                // Label-clamped samples draw the same Philox uniforms on both backends.
                var samples = Shinso.Models.DeepBoltzmann.DbmSampling.Sample(dbm, features.AsSpan(0, 6 * pixels), 6, 5, RandomStream.Root(8).Derive("samples"), [0, 1, 2, 0, 1, 2]);
                sampled.Add(samples);
                classified.Add(Shinso.Models.DeepBoltzmann.DbmEvaluation.Classify(dbm, features));
            }
            machines.Add(dbm);
        }
        AssertSameParameters(Parameters(machines[0]), Parameters(machines[1]), "DBM");
        if (labelled)
        {
            Assert.Equal(classified[0], classified[1]);
            for (int i = 0; i < sampled[0].Length; i++) Assert.True(Math.Abs(sampled[0][i] - sampled[1][i]) < 1e-3, $"sample value {i}: {sampled[0][i]} vs {sampled[1][i]}");
        }
        Assert.Equal(logZ[0], logZ[1], 2);
        Assert.Equal(bounds[0], bounds[1], 2);
    }

    [Fact]
    public void Deep_belief_net_greedy_and_up_down_training_end_with_the_same_parameters()
    {
        var random = new System.Random(6);
        const int n = 60, pixels = 16, classes = 3;
        var features = new float[n * pixels];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % classes;
            for (int j = 0; j < pixels; j++) features[i * pixels + j] = random.NextDouble() < (j % classes == labels[i] ? 0.8 : 0.2) ? 1f : 0f;
        }
        var data = new Dataset(features, labels, classes, pixels);
        var models = new List<DeepBeliefNet>();
        foreach (IBackend backend in new IBackend[] { twins.Cpu, twins.Device })
        {
            var dbn = new DeepBeliefNet(backend, [pixels, 12, 20], classes, seed: 5);
            var initial = Snapshot(Parameters(dbn));
            GreedyLayerwiseTraining.Train(dbn, data, new GreedyLayerwiseOptions
            {
                Layer = new RbmTrainingOptions { LearningRate = 0.05f, BatchSize = 20, Seed = 3 },
                Top = new RbmTrainingOptions { LearningRate = 0.05f, BatchSize = 20, Seed = 4 },
                LayerEpochs = 2,
                TopEpochs = 2,
            });
            var upDown = new UpDownTrainer(dbn, new UpDownOptions { BatchSize = 20, LearningRate = 0.01f, Seed = 7 });
            upDown.TrainEpoch(data, 0);
            AssertMoved(initial, Parameters(dbn), $"DBN on {backend.Name}");
            models.Add(dbn);
        }
        static List<Tensor> Parameters(DeepBeliefNet d) =>
            [.. d.Layers.SelectMany(l => new[] { l.RecognitionWeights, l.RecognitionBias, l.GenerativeWeights, l.GenerativeBias }),
             d.Top.PenultimateWeights, d.Top.LabelWeights, d.Top.PenultimateBias, d.Top.LabelBias, d.Top.TopBias];
        AssertSameParameters(Parameters(models[0]), Parameters(models[1]), "DBN");
    }
}
