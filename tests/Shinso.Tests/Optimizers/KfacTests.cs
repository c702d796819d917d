using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Tests.Optimizers;

public class KfacTests
{
    private static float[] Read(Tensor t)
    {
        var v = new float[t.Length];
        t.Backend.Download(t, v);
        return v;
    }

    private static Tensor Named(Kfac kfac, IReadOnlyList<Parameter> parameters, string name) => kfac.State(parameters).Single(s => s.Name == name).Value;

    /// <summary>A 4-3-3 tanh net on five inputs with one-hot targets.</summary>
    private static (FeedForwardNet Net, Tensor X, Tensor T, float[] HostX, int[] Labels) TinyNet(IBackend backend)
    {
        var net = new FeedForwardNet(backend, new FeedForwardSpec([4], [LayerSpec.Dense(3), LayerSpec.Of("tanh"), LayerSpec.Dense(3)], "softmax-cross-entropy"), 5);
        var random = new System.Random(4);
        var hostX = new float[5 * 4];
        for (int i = 0; i < hostX.Length; i++) hostX[i] = (float)(random.NextDouble() * 2 - 1);
        int[] labels = [0, 2, 1, 1, 0];
        var hostT = new float[5 * 3];
        for (int n = 0; n < 5; n++) hostT[n * 3 + labels[n]] = 1;
        var x = backend.Allocate(5, 4);
        var t = backend.Allocate(5, 3);
        backend.Upload(hostX, x);
        backend.Upload(hostT, t);
        return (net, x, t, hostX, labels);
    }

    [Fact]
    public void The_factors_are_their_definitions_the_sampled_G_the_expectation_over_the_models_own_labels()
    {
        using var backend = new CpuBackend();
        var (net, x, t, hostX, _) = TinyNet(backend);
        var kfac = new Kfac(new ConstantSchedule(0.1f), statisticsDecay: 0.99999f);
        kfac.Attach(net.Layers, net.Parameters);
        Assert.Equal(2, kfac.PreconditionedLayers);
        var scores = net.Forward(x, ForwardContext.Inference);
        net.ComputeLoss(t, out var predictions);
        var sampler = new FisherTargetSampler(net, 5, RandomStream.Root(3).Derive("fisher-targets"));
        const int draws = 6000;
        for (int k = 0; k < draws; k++)
        {
            net.Backpropagate(sampler.Gradient(scores, predictions, k), 0);
            kfac.Observe();
            kfac.StepCount++;
        }

        // Explicit Jacobians: h = tanh(x W1 + b1), s = h W2 + b2; dL/ds = p - e_y; dL/da1 = ((p - e_y) W2ᵀ) ⊙ (1 - h²).
        var dense = net.Layers.OfType<Dense>().ToArray();
        float[] w1 = Read(dense[0].Weight.Value), b1 = Read(dense[0].Bias.Value), w2 = Read(dense[1].Weight.Value), b2 = Read(dense[1].Bias.Value);
        var a1 = new double[9]; var a2 = new double[9]; var g1 = new double[9]; var g2 = new double[9];
        for (int n = 0; n < 5; n++)
        {
            var h = new double[3];
            for (int j = 0; j < 3; j++)
            {
                double a = b1[j];
                for (int i = 0; i < 4; i++) a += hostX[n * 4 + i] * w1[i * 3 + j];
                h[j] = Math.Tanh(a);
            }
            var s = new double[3];
            for (int c = 0; c < 3; c++)
            {
                s[c] = b2[c];
                for (int j = 0; j < 3; j++) s[c] += h[j] * w2[j * 3 + c];
            }
            double max = s.Max(), z = s.Sum(v => Math.Exp(v - max));
            var p = s.Select(v => Math.Exp(v - max) / z).ToArray();
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) a2[i * 3 + j] += h[i] * h[j] / 5;
            // E over y ~ p of the outer products, by enumerating y.
            for (int y = 0; y < 3; y++)
            {
                var ds = new double[3];
                for (int c = 0; c < 3; c++) ds[c] = p[c] - (c == y ? 1 : 0);
                var da = new double[3];
                for (int j = 0; j < 3; j++)
                {
                    for (int c = 0; c < 3; c++) da[j] += ds[c] * w2[j * 3 + c];
                    da[j] *= 1 - h[j] * h[j];
                }
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                    {
                        g2[i * 3 + j] += p[y] * ds[i] * ds[j] / 5;
                        g1[i * 3 + j] += p[y] * da[i] * da[j] / 5;
                    }
            }
        }
        var a1Expected = new double[16];
        for (int n = 0; n < 5; n++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) a1Expected[i * 4 + j] += (double)hostX[n * 4 + i] * hostX[n * 4 + j] / 5;
        AssertClose(a1Expected, Read(Named(kfac, net.Parameters, "kfac/0/A")), 1e-5, "A of layer 0");
        AssertClose(a2, Read(Named(kfac, net.Parameters, "kfac/1/A")), 1e-5, "A of layer 1");
        // Sampled: a Monte Carlo mean of 6000 draws per input, so a few per cent of the largest entry.
        AssertClose(g2, Read(Named(kfac, net.Parameters, "kfac/1/G")), 0.03 * g2.Max(Math.Abs), "G of layer 1");
        AssertClose(g1, Read(Named(kfac, net.Parameters, "kfac/0/G")), 0.03 * g1.Max(Math.Abs), "G of layer 0");
    }

    [Fact]
    public void The_empirical_G_is_the_mean_outer_product_of_the_training_gradients()
    {
        using var backend = new CpuBackend();
        var (net, x, t, _, labels) = TinyNet(backend);
        var kfac = new Kfac(new ConstantSchedule(0.1f), targets: FisherTargets.Empirical);
        kfac.Attach(net.Layers, net.Parameters);
        net.Forward(x, ForwardContext.Inference);
        net.ComputeLoss(t, out var predictions);
        net.Backward();
        kfac.Observe();
        var p = Read(predictions);
        var expected = new double[9];
        for (int n = 0; n < 5; n++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    expected[i * 3 + j] += (p[n * 3 + i] - (i == labels[n] ? 1 : 0)) * (double)(p[n * 3 + j] - (j == labels[n] ? 1 : 0)) / 5;
        AssertClose(expected, Read(Named(kfac, net.Parameters, "kfac/1/G")), 1e-6, "empirical G of layer 1");
    }

    /// <summary>An empirical-Fisher K-FAC at lr 1 without momentum or clipping, attached to <paramref name="net"/>, its factors observed from one pass.</summary>
    private static Kfac ObservedOnce(FeedForwardNet net, Tensor x, Tensor t, float damping)
    {
        var kfac = new Kfac(new ConstantSchedule(1f), momentum: 0f, damping: damping, klClip: 0f, targets: FisherTargets.Empirical);
        kfac.Attach(net.Layers, net.Parameters);
        net.Forward(x, ForwardContext.Inference);
        net.ComputeLoss(t, out _);
        net.Backward();
        kfac.Observe();
        return kfac;
    }

    /// <summary>
    /// Factored Tikhonov damping computed on the host: (A + π√λ I)⁻¹ and (G + √λ/π I)⁻¹, π² the ratio of the factors' mean
    /// eigenvalues, from layer <paramref name="index"/>'s factors.
    /// </summary>
    private static (double[] InverseA, double[] InverseG, double Pi) DampedInverses(Kfac kfac, FeedForwardNet net, int index, int na, int ng, float damping)
    {
        double[] a = [.. Read(Named(kfac, net.Parameters, $"kfac/{index}/A")).Select(v => (double)v)];
        double[] g = [.. Read(Named(kfac, net.Parameters, $"kfac/{index}/G")).Select(v => (double)v)];
        double pi = Math.Sqrt(Enumerable.Range(0, na).Sum(i => a[i * (na + 1)]) / na / (Enumerable.Range(0, ng).Sum(i => g[i * (ng + 1)]) / ng));
        for (int i = 0; i < na; i++) a[i * (na + 1)] += pi * Math.Sqrt(damping);
        for (int i = 0; i < ng; i++) g[i * (ng + 1)] += Math.Sqrt(damping) / pi;
        return (Inverse(a, na), Inverse(g, ng), pi);
    }

    [Fact]
    public void The_update_is_the_inverse_Kronecker_product_applied_to_the_gradient()
    {
        using var backend = new CpuBackend();
        var (net, x, t, _, _) = TinyNet(backend);
        const float damping = 0.05f;
        var kfac = ObservedOnce(net, x, t, damping);
        var weight = net.Layers.OfType<Dense>().First().Weight;
        var bias = net.Layers.OfType<Dense>().First().Bias;
        var before = Read(weight.Value);
        var biasBefore = Read(bias.Value);
        kfac.Step(net.Parameters, epoch: 0);
        var after = Read(weight.Value);
        var gradient = Read(weight.Gradient);
        var biasStep = Read(bias.Value).Select((v, j) => biasBefore[j] - v).ToArray();
        var biasGradient = Read(bias.Gradient);
        var (inverseA, inverseG, pi) = DampedInverses(kfac, net, 0, 4, 3, damping);
        // vec(Δ) = (A⁻¹ ⊗ G⁻¹) vec(∇W) with W row-major (inputs x units): the explicit 12 x 12 Kronecker product.
        var kron = new double[12, 12];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    for (int l = 0; l < 3; l++) kron[i * 3 + j, k * 3 + l] = inverseA[i * 4 + k] * inverseG[j * 3 + l];
        for (int r = 0; r < 12; r++)
        {
            double delta = 0;
            for (int c = 0; c < 12; c++) delta += kron[r, c] * gradient[c];
            Assert.True(Math.Abs(before[r] - after[r] - delta) <= 1e-4 * Math.Max(1, Math.Abs(delta)), $"entry {r}: step {before[r] - after[r]:R}, expected {delta:R}");
        }
        // The bias is its own block with A = 1, damped alike: Δb = (1 + π√λ)⁻¹ G⁻¹ ∇b.
        for (int j = 0; j < 3; j++)
        {
            double delta = 0;
            for (int l = 0; l < 3; l++) delta += inverseG[j * 3 + l] * biasGradient[l];
            delta /= 1 + pi * Math.Sqrt(damping);
            Assert.True(Math.Abs(biasStep[j] - delta) <= 1e-4 * Math.Max(1, Math.Abs(delta)), $"bias {j}: step {biasStep[j]:R}, expected {delta:R}");
        }
    }

    [Fact]
    public void With_damping_far_above_the_curvature_kfac_is_momentum_sgd_at_the_rate_over_the_damping()
    {
        // (A + π√λ)⁻¹ ∇ (G + √λ/π)⁻¹ → ∇ / λ for the weights and (1 + π√λ)⁻¹ ∇ (√λ/π)⁻¹ → ∇ / λ for the biases as λ grows.
        using var backend = new CpuBackend();
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, trainLimit: 300, testLimit: 10);
        var spec = new FeedForwardSpec([784], [LayerSpec.Dense(12), LayerSpec.Of("sigmoid"), LayerSpec.Dense(784)], "binary-cross-entropy");
        var data = new SupervisedData(train.Features, 784, train.Features, 784);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 50, Seed = 1 };
        var sgd = new FeedForwardNet(backend, spec, 3);
        new Trainer(sgd, new Momentum(new ConstantSchedule(0.03f), new ConstantSchedule(0.9f)), options).Fit(data);
        var kfac = new FeedForwardNet(backend, spec, 3);
        new Trainer(kfac, new Kfac(new ConstantSchedule(0.03f * 1e8f), momentum: 0.9f, damping: 1e8f, klClip: 0f), options).Fit(data);
        var init = new FeedForwardNet(backend, spec, 3);
        for (int i = 0; i < sgd.Parameters.Count; i++)
        {
            float[] a = Read(sgd.Parameters[i].Value), b = Read(kfac.Parameters[i].Value), start = Read(init.Parameters[i].Value);
            double moved = 0, differ = 0;
            for (int j = 0; j < a.Length; j++)
            {
                moved = Math.Max(moved, Math.Abs(a[j] - start[j]));
                differ = Math.Max(differ, Math.Abs(a[j] - b[j]));
            }
            Assert.True(moved > 1e-3, $"{sgd.Parameters[i].Name} barely moved ({moved:E2})");
            Assert.True(differ <= 0.01 * moved, $"{sgd.Parameters[i].Name}: K-FAC and momentum differ by {differ:E2}, against a movement of {moved:E2}");
        }
    }

    [Fact]
    public void On_an_ill_conditioned_least_squares_problem_kfac_converges_in_fewer_steps_than_sgd()
    {
        // y = X w with X's columns on scales 1 to 30 and correlated: SGD's stable step is set by the largest curvature.
        const int n = 200, d = 4;
        var random = new System.Random(12);
        var x = new float[n * d];
        var y = new float[n];
        double[] scales = [1, 3, 10, 30];
        for (int i = 0; i < n; i++)
        {
            double common = random.NextDouble() - 0.5;
            double target = 0.5;
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] = (float)(scales[j] * (random.NextDouble() - 0.5 + 0.8 * common));
                target += x[i * d + j] * (j % 2 == 0 ? 1.0 : -0.5) / scales[j];
            }
            y[i] = (float)target;
        }
        var data = new SupervisedData(x, d, y, 1);
        int StepsToConverge(Func<Optimizer> optimizer)
        {
            using var backend = new CpuBackend();
            var net = new FeedForwardNet(backend, new FeedForwardSpec([d], [LayerSpec.Dense(1, WeightInit.SmallGaussian, 0f)], "squared-error"), 1);
            var trainer = new Trainer(net, optimizer(), new TrainingOptions { Epochs = 1, BatchSize = 0, Seed = 2 });
            for (int step = 1; step <= 2000; step++)
            {
                trainer.State.EpochsDone = 0;
                trainer.Fit(data);
                if (Trainer.Evaluate(net, data).Loss < 1e-4) return step;
            }
            return int.MaxValue;
        }
        // For squared error the sampled Fisher's G is E[ε²] = 1 and A = XᵀX/n: K-FAC is Gauss-Newton, here Newton's method.
        int kfac = StepsToConverge(() => new Kfac(new ConstantSchedule(1f), momentum: 0f, damping: 1e-6f, klClip: 0f));
        // SGD at its best of a sweep of rates (the larger ones diverge).
        int sgd = new[] { 1e-4f, 3e-4f, 1e-3f, 2e-3f }.Min(rate => StepsToConverge(() => new Sgd(new ConstantSchedule(rate))));
        Assert.True(kfac <= 20, $"K-FAC took {kfac} steps");
        Assert.True(sgd > 10 * kfac, $"SGD took {sgd} steps against K-FAC's {kfac}");
    }

    [Fact]
    public void A_kfac_run_resumed_from_its_checkpoint_ends_with_the_uninterrupted_runs_parameters()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, trainLimit: 400, testLimit: 10);
        var data = SupervisedData.FromDataset(train);
        var config = new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784], [LayerSpec.Dense(24, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10)], "softmax-cross-entropy"),
            Optimizer = OptimizerConfig.Defaults("kfac") with { InverseInterval = 3 },
            Training = new TrainingOptions { Epochs = 3, BatchSize = 50, Seed = 6 },
        };
        var backend = new CpuBackend();
        var straight = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
        new Trainer(straight, config.CreateOptimizer(), config.Training).Fit(data);
        string dir = Path.Combine(Path.GetTempPath(), $"shinso-kfac-resume-{Guid.NewGuid():N}");
        try
        {
            var first = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
            var optimizer = config.CreateOptimizer();
            var interrupted = new Trainer(first, optimizer, config.Training with { Epochs = 1 });
            interrupted.EpochCompleted = _ => Checkpoint.Save(dir, config, first, optimizer, interrupted.State);
            interrupted.Fit(data);
            var restored = Checkpoint.Load(dir, backend);
            new Trainer(restored.Net, restored.Optimizer, config.Training) { State = restored.State }.Fit(data);
            for (int i = 0; i < straight.Parameters.Count; i++)
                Assert.True(straight.Parameters[i].Value.Span.SequenceEqual(restored.Net.Parameters[i].Value.Span), $"{straight.Parameters[i].Name} differs after resuming");
            // And it trained: K-FAC moved the weights.
            var init = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
            Assert.False(init.Parameters[0].Value.Span.SequenceEqual(straight.Parameters[0].Value.Span));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Kfac_trains_a_small_mlp_on_fashion_mnist_and_its_config_round_trips()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, trainLimit: 3000, testLimit: 1000);
        var config = new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784], [LayerSpec.Dense(64, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10)], "softmax-cross-entropy"),
            Optimizer = OptimizerConfig.Defaults("kfac"),
            Training = new TrainingOptions { Epochs = 3, BatchSize = 100, Seed = 1 },
        };
        using var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, config.Architecture, 1);
        new Trainer(net, config.CreateOptimizer(), config.Training).Fit(SupervisedData.FromDataset(train));
        Assert.True(Trainer.Evaluate(net, SupervisedData.FromDataset(test)).Accuracy > 0.75);
        var json = System.Text.Json.Nodes.JsonNode.Parse(config.ToJson().ToJsonString())!;
        var back = TrainingConfig.FromJson(json, "config");
        Assert.Equal(config.Optimizer, back.Optimizer);
        json["optimizer"]!["fisher"] = "exact";
        Assert.Contains("fisher", Assert.ThrowsAny<Exception>(() => TrainingConfig.FromJson(json, "config")).Message);
    }

    /// <summary>[2, 4, 4] images through a 3-filter 3x3 convolution (pad 1), tanh and a 3-way classifier; five images, one-hot targets.</summary>
    private static (FeedForwardNet Net, Tensor X, Tensor T, float[] HostX, float[] HostT) TinyConvNet(IBackend backend)
    {
        var spec = new FeedForwardSpec([2, 4, 4], [LayerSpec.Conv(3, 3, pad: 1, init: WeightInit.GlorotNormal), LayerSpec.Of("tanh"), LayerSpec.Of("flatten"), LayerSpec.Dense(3)],
            "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 5);
        var random = new System.Random(8);
        var hostX = new float[5 * 32];
        for (int i = 0; i < hostX.Length; i++) hostX[i] = (float)(random.NextDouble() * 2 - 1);
        int[] labels = [0, 2, 1, 1, 0];
        var hostT = new float[5 * 3];
        for (int n = 0; n < 5; n++) hostT[n * 3 + labels[n]] = 1;
        var x = backend.Allocate(5, 2, 4, 4);
        var t = backend.Allocate(5, 3);
        backend.Upload(hostX, x);
        backend.Upload(hostT, t);
        return (net, x, t, hostX, hostT);
    }

    /// <summary>Image n's patch at output position (oy, ox), in the weight rows' (c, ky, kx) order, zero outside the image.</summary>
    private static double[] Patch(float[] x, int n, int oy, int ox)
    {
        var a = new double[18];
        for (int c = 0; c < 2; c++)
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                {
                    int y = oy + ky - 1, xx = ox + kx - 1;
                    a[c * 9 + ky * 3 + kx] = y is >= 0 and < 4 && xx is >= 0 and < 4 ? x[n * 32 + c * 16 + y * 4 + xx] : 0;
                }
        return a;
    }

    [Fact]
    public void The_convolution_factors_are_kfcs_patch_and_per_position_gradient_moments()
    {
        using var backend = new CpuBackend();
        var (net, x, t, hostX, hostT) = TinyConvNet(backend);
        var kfac = new Kfac(new ConstantSchedule(0.1f), targets: FisherTargets.Empirical);
        kfac.Attach(net.Layers, net.Parameters);
        Assert.Equal(2, kfac.PreconditionedLayers);
        net.Forward(x, ForwardContext.Inference);
        net.ComputeLoss(t, out _);
        net.Backward();
        kfac.Observe();

        // Ω = E_n[Σ_t a_nt a_ntᵀ]: the patches summed over the 16 positions, averaged over the images.
        var expectedA = new double[18 * 18];
        for (int n = 0; n < 5; n++)
            for (int oy = 0; oy < 4; oy++)
                for (int ox = 0; ox < 4; ox++)
                {
                    var a = Patch(hostX, n, oy, ox);
                    for (int i = 0; i < 18; i++)
                        for (int j = 0; j < 18; j++) expectedA[i * 18 + j] += a[i] * a[j] / 5;
                }
        AssertClose(expectedA, Read(Named(kfac, net.Parameters, "kfac/0/A")), 1e-4, "KFC A");

        // Γ = (1/T) E_n[Σ_t g_nt g_ntᵀ], g the gradient of image n's own loss: each image run alone, as its own batch.
        var expectedG = new double[9];
        var conv = (Conv2d)net.Layers[0];
        for (int n = 0; n < 5; n++)
        {
            var xn = backend.Allocate(1, 2, 4, 4);
            var tn = backend.Allocate(1, 3);
            backend.Upload(hostX.AsSpan(n * 32, 32), xn);
            backend.Upload(hostT.AsSpan(n * 3, 3), tn);
            net.Forward(xn, ForwardContext.Inference);
            net.ComputeLoss(tn, out _);
            net.Backward();
            var g = Read(conv.LastOutputGradient!);
            for (int p = 0; p < 16; p++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) expectedG[i * 3 + j] += (double)g[i * 16 + p] * g[j * 16 + p] / 16 / 5;
        }
        AssertClose(expectedG, Read(Named(kfac, net.Parameters, "kfac/0/G")), 1e-7, "KFC G");
    }

    [Fact]
    public void The_convolution_update_is_the_inverse_output_factor_times_the_gradient_times_the_inverse_patch_factor()
    {
        using var backend = new CpuBackend();
        var (net, x, t, _, _) = TinyConvNet(backend);
        const float damping = 0.05f;
        var kfac = ObservedOnce(net, x, t, damping);
        var conv = (Conv2d)net.Layers[0];
        var before = Read(conv.Weight.Value);
        var biasBefore = Read(conv.Bias.Value);
        kfac.Step(net.Parameters, epoch: 0);
        var step = Read(conv.Weight.Value).Select((v, i) => before[i] - v).ToArray();
        var biasStep = Read(conv.Bias.Value).Select((v, j) => biasBefore[j] - v).ToArray();
        var gradient = Read(conv.Weight.Gradient);
        var biasGradient = Read(conv.Bias.Gradient);
        var (inverseA, inverseG, pi) = DampedInverses(kfac, net, 0, 18, 3, damping);
        // W is [filters, patch] = [3, 18]: vec(Δ) = (G⁻¹ ⊗ A⁻¹) vec(∇W) row-major, i.e. Δ = G⁻¹ ∇W A⁻¹.
        for (int f = 0; f < 3; f++)
            for (int j = 0; j < 18; j++)
            {
                double delta = 0;
                for (int k = 0; k < 3; k++)
                    for (int l = 0; l < 18; l++) delta += inverseG[f * 3 + k] * gradient[k * 18 + l] * inverseA[l * 18 + j];
                Assert.True(Math.Abs(step[f * 18 + j] - delta) <= 1e-4 * Math.Max(1, Math.Abs(delta)), $"W[{f}, {j}]: step {step[f * 18 + j]:R}, expected {delta:R}");
            }
        // The bias's A factor is the 16 positions' sum of 1·1: Δb = (16 + π√λ)⁻¹ G⁻¹ ∇b.
        for (int f = 0; f < 3; f++)
        {
            double delta = 0;
            for (int k = 0; k < 3; k++) delta += inverseG[f * 3 + k] * biasGradient[k];
            delta /= 16 + pi * Math.Sqrt(damping);
            Assert.True(Math.Abs(biasStep[f] - delta) <= 1e-4 * Math.Max(1, Math.Abs(delta)), $"bias {f}: step {biasStep[f]:R}, expected {delta:R}");
        }
    }

    [Fact]
    public void Kfac_with_sampled_targets_trains_a_conv_net_and_preconditions_the_layers_inside_residual_blocks()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, trainLimit: 2000, testLimit: 500);
        using var backend = new CpuBackend();
        var spec = new FeedForwardSpec([1, 28, 28],
            [LayerSpec.Conv(6, 5, stride: 2), LayerSpec.Of("relu"), LayerSpec.Conv(8, 3, stride: 2), LayerSpec.Of("relu"), LayerSpec.Of("flatten"), LayerSpec.Dense(10, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 1);
        var kfac = new Kfac(new ConstantSchedule(0.1f), inverseInterval: 5);
        var state = new Trainer(net, kfac, new TrainingOptions { Epochs = 2, BatchSize = 50, Seed = 2 }).Fit(SupervisedData.FromDataset(train));
        Assert.Equal(3, kfac.PreconditionedLayers);
        var accuracy = Trainer.Evaluate(net, SupervisedData.FromDataset(test)).Accuracy!.Value;
        // Ten classes: chance is 10 %; two epochs of 2,000 images take this net well past 60 %.
        Assert.True(accuracy > 0.6, $"test accuracy {accuracy:P1} after {state.EpochsDone} epochs");

        var residual = new FeedForwardNet(backend, Presets.Find("mlp-residual")!.Architecture, 1);
        var attached = new Kfac(new ConstantSchedule(0.01f));
        attached.Attach(residual.Layers, residual.Parameters);
        Assert.Equal(2 + 2 * Presets.DeepMlpBlocks, attached.PreconditionedLayers);
        Assert.Equal(0, attached.LowestObservedLayer);
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R} (tolerance {tolerance:G3})");
    }

    private static double[] Inverse(double[] matrix, int n)
    {
        var copy = (double[])matrix.Clone();
        Shinso.Numerics.SymmetricPositiveDefinite.Invert(copy, n);
        return copy;
    }
}
