using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Numerics;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Robustness;
using Shinso.Training;

namespace Shinso.Tests.Robustness;

public class OnePassRobustnessTests
{
    /// <summary>A one-layer (linear) classifier with the given weights [inputs, classes] and biases.</summary>
    private static FeedForwardNet Linear(IBackend backend, float[] weights, float[] bias)
    {
        int classes = bias.Length, inputs = weights.Length / classes;
        var net = new FeedForwardNet(backend, new FeedForwardSpec([inputs], [LayerSpec.Dense(classes)], "softmax-cross-entropy"), 1);
        var dense = (Dense)net.Layers[0];
        backend.Upload(weights, dense.Weight.Value);
        backend.Upload(bias, dense.Bias.Value);
        return net;
    }

    private static float[] Uniform(System.Random random, int count, double low, double high)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    [Fact]
    public void On_a_binary_linear_classifier_the_estimate_is_the_probability_that_a_Gaussian_crosses_the_margin()
    {
        const int d = 12, n = 40;
        var random = new System.Random(3);
        using var backend = new CpuBackend();
        var weights = Uniform(random, d * 2, -1, 1);
        var bias = Uniform(random, 2, -0.2, 0.2);
        var net = Linear(backend, weights, bias);
        var x = Uniform(random, n * d, 0, 1);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = random.Next(2);
        var margins = OnePassRobustness.Linearize(net, new Dataset(x, labels, 2, d), batch: 7);
        Assert.Equal(1, margins.Competitors);
        foreach (double sigma in new[] { 0.05, 0.2, 0.6 })
            for (int i = 0; i < n; i++)
            {
                int t = labels[i], k = 1 - t;
                // The margin s_t - s_k = (w_t - w_k)·x + b_t - b_k; noise of deviation sigma moves it by N(0, sigma² |w_t - w_k|²).
                double margin = bias[t] - bias[k], norm = 0;
                for (int j = 0; j < d; j++)
                {
                    double w = (double)weights[j * 2 + t] - weights[j * 2 + k];
                    margin += w * x[i * d + j];
                    norm += w * w;
                }
                double exact = NormalDistribution.Cdf(-margin / (sigma * Math.Sqrt(norm)));
                double estimate = margins.MisclassificationProbability(i, sigma);
                Assert.True(Math.Abs(estimate - exact) <= 1e-5 * Math.Max(exact, 1e-3), $"input {i}, sigma {sigma}: {estimate:R} vs the closed form {exact:R}");
            }
    }

    [Fact]
    public void On_a_three_class_linear_classifier_the_estimate_is_the_bivariate_orthant_integral()
    {
        const int d = 8, n = 30;
        var random = new System.Random(5);
        using var backend = new CpuBackend();
        var weights = Uniform(random, d * 3, -1, 1);
        var bias = Uniform(random, 3, -0.3, 0.3);
        var net = Linear(backend, weights, bias);
        var x = Uniform(random, n * d, 0, 1);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = random.Next(3);
        var margins = OnePassRobustness.Linearize(net, new Dataset(x, labels, 3, d));
        const double sigma = 0.3;
        int nontrivial = 0;
        for (int i = 0; i < n; i++)
        {
            int t = labels[i];
            int[] others = [.. Enumerable.Range(0, 3).Where(c => c != t)];
            // d_k = (w_t - w_k)·(x + e) + b_t - b_k: a bivariate normal; P(correct) = ∫ φ(z1) Φ(conditional) over d_1 > 0, by Simpson's rule.
            var mu = new double[2];
            var rows = new double[2, d];
            for (int a = 0; a < 2; a++)
            {
                mu[a] = bias[t] - bias[others[a]];
                for (int j = 0; j < d; j++)
                {
                    rows[a, j] = (double)weights[j * 3 + t] - weights[j * 3 + others[a]];
                    mu[a] += rows[a, j] * x[i * d + j];
                }
            }
            double s11 = 0, s22 = 0, s12 = 0;
            for (int j = 0; j < d; j++) { s11 += rows[0, j] * rows[0, j]; s22 += rows[1, j] * rows[1, j]; s12 += rows[0, j] * rows[1, j]; }
            double sd1 = sigma * Math.Sqrt(s11), sd2 = sigma * Math.Sqrt(s22), rho = s12 / Math.Sqrt(s11 * s22);
            double low = -mu[0] / sd1, high = Math.Max(low, 0) + 12;
            const int intervals = 20_000;
            double h = (high - low) / intervals, sum = 0;
            for (int s = 0; s <= intervals; s++)
            {
                double z = low + s * h;
                double f = NormalDistribution.Density(z) * NormalDistribution.Cdf((mu[1] + rho * sd2 * z) / (sd2 * Math.Sqrt(1 - rho * rho)));
                sum += f * (s == 0 || s == intervals ? 1 : s % 2 == 1 ? 4 : 2);
            }
            double exact = 1 - sum * h / 3;
            if (exact is > 0.01 and < 0.99) nontrivial++;
            Assert.True(Math.Abs(margins.MisclassificationProbability(i, sigma) - exact) <= 2e-4, $"input {i}: {margins.MisclassificationProbability(i, sigma):R} vs {exact:R}");
        }
        Assert.True(nontrivial >= 5, $"only {nontrivial} inputs have a probability strictly between 0.01 and 0.99");
    }

    [Fact]
    public void The_input_gradient_of_a_conv_net_matches_the_double_precision_reference()
    {
        using var backend = new CpuBackend();
        var spec = new FeedForwardSpec([1, 8, 8],
        [
            LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of("tanh"), LayerSpec.Pool("avgpool", 2),
            LayerSpec.Of("flatten"), LayerSpec.Dense(5), LayerSpec.Of("tanh"), LayerSpec.Dense(4),
        ], "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 9);
        var random = new System.Random(2);
        const int rows = 3;
        var x = Uniform(random, rows * 64, 0, 1);
        var seed = Uniform(random, rows * 4, -1, 1);
        var input = backend.Allocate(rows, 64);
        var seedTensor = backend.Allocate(rows, 4);
        backend.Upload(x, input);
        backend.Upload(seed, seedTensor);
        net.Forward(input, ForwardContext.Inference);
        var analytic = new float[rows * 64];
        backend.Download(net.InputGradient(seedTensor), analytic);
        // The double-precision reference of the same net: d(seed · scores)/dx by Richardson-extrapolated central differences.
        var reference = new Gradients.DoubleReference(backend, ForwardContext.Inference);
        var x64 = Kernels.NaiveConvolution.Double(x);
        double Objective()
        {
            var scores = reference.Scores(net, x64, rows);
            double sum = 0;
            for (int i = 0; i < scores.Length; i++) sum += seed[i] * scores[i];
            return sum;
        }
        var counts = Gradients.ReferenceGradient.AssertMatches(analytic, x64, Objective, "d(seed·scores)/dx");
        Assert.Equal(x.Length, counts.Checked);
    }

    [Theory]
    [InlineData("relu", "maxpool", true)]
    [InlineData("tanh", "avgpool", true)]
    [InlineData("sigmoid", "lppool", false)]
    public void Several_seeds_per_forward_row_backpropagate_as_the_rows_repeated(string activation, string pool, bool dropout)
    {
        using var backend = new CpuBackend();
        var layers = new List<LayerSpec> { LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of(activation), LayerSpec.Pool(pool, 2), LayerSpec.Of("flatten") };
        if (dropout) layers.Add(LayerSpec.Dropout(0.5f));
        layers.AddRange([LayerSpec.Dense(6), LayerSpec.Of(activation), LayerSpec.Dense(4)]);
        var net = new FeedForwardNet(backend, new FeedForwardSpec([2, 6, 6], layers, "softmax-cross-entropy"), 3);
        Assert.True(net.CanRepeatInputGradient);
        var random = new System.Random(7);
        const int rows = 5, copies = 3;
        var x = Uniform(random, rows * 72, -1, 1);
        var seeds = Uniform(random, rows * copies * 4, -1, 1);
        // The reference: each row repeated in the forward pass, one seed per repeated row.
        var repeatedX = new float[rows * copies * 72];
        for (int r = 0; r < rows * copies; r++) x.AsSpan(r / copies * 72, 72).CopyTo(repeatedX.AsSpan(r * 72));
        var input = backend.Allocate(rows * copies, 72);
        var seedTensor = backend.Allocate(rows * copies, 4);
        backend.Upload(repeatedX, input);
        backend.Upload(seeds, seedTensor);
        net.Forward(input, ForwardContext.Inference);
        var expected = new float[rows * copies * 72];
        backend.Download(net.InputGradient(seedTensor), expected);

        var once = backend.Allocate(rows, 72);
        backend.Upload(x, once);
        net.Forward(once, ForwardContext.Inference);
        var actual = new float[rows * copies * 72];
        backend.Download(net.RepeatedInputGradient(seedTensor, copies), actual);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6f * (1 + Math.Abs(expected[i])), $"element {i}: {actual[i]:R} against {expected[i]:R}");
        // A second pass from the same forward pass reads the same cached values.
        var again = new float[actual.Length];
        backend.Download(net.RepeatedInputGradient(seedTensor, copies), again);
        Assert.Equal(actual, again);

        Assert.Throws<ArgumentException>(() => net.RepeatedInputGradient(backend.Allocate(rows * copies + 1, 4), copies));
        // A training pass gives every row its own dropout mask: its rows cannot be shared.
        if (dropout)
        {
            net.Forward(once, new ForwardContext(true, RandomStream.Root(1), 0));
            Assert.Throws<InvalidOperationException>(() => net.RepeatedInputGradient(seedTensor, copies));
        }
    }

    [Fact]
    public void A_net_with_a_layer_that_cannot_share_its_forward_pass_is_linearised_with_the_rows_repeated()
    {
        using var backend = new CpuBackend();
        var (trained, test) = Trained(backend, convolutional: true);
        // A local response normalisation (which has no repeated-rows pass) after the convolution's tanh.
        var spec = new FeedForwardSpec([1, 28, 28],
            [LayerSpec.Conv(4, 5, pad: 2), LayerSpec.Of("tanh"), LayerSpec.Lrn(3, 1e-4f, 0.75f, 1f), LayerSpec.Pool("avgpool", 2), LayerSpec.Of("flatten"), LayerSpec.Dense(10)],
            "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 4);
        Assert.False(net.CanRepeatInputGradient);
        var few = test.Take(20);
        var margins = OnePassRobustness.Linearize(net, few);
        Assert.Equal(9, margins.Competitors);
        Assert.Throws<InvalidOperationException>(() => net.RepeatedInputGradient(backend.Allocate(9, 10), 9));
        // Each input's Gram matrix is that of its margins' gradients, taken one margin at a time.
        var one = backend.Allocate(1, 784);
        var seed = backend.Allocate(1, 10);
        var gradients = new float[9 * 784];
        foreach (int i in new[] { 0, 7, 19 })
        {
            for (int k = 0; k < 9; k++)
            {
                backend.Upload(few.Features.AsSpan(i * 784, 784), one);
                var seedRow = new float[10];
                seedRow[few.Labels[i]] = 1;
                seedRow[margins.CompetitorClasses(i)[k]] = -1;
                backend.Upload(seedRow, seed);
                net.Forward(one, ForwardContext.Inference);
                backend.Download(net.InputGradient(seed), gradients.AsSpan(k * 784, 784));
            }
            var gram = margins.Gram(i);
            for (int k = 0; k < 9; k++)
                for (int l = 0; l < 9; l++)
                {
                    double dot = 0;
                    for (int j = 0; j < 784; j++) dot += (double)gradients[k * 784 + j] * gradients[l * 784 + j];
                    Assert.True(Math.Abs(gram[k * 9 + l] - dot) <= 1e-4 * (1 + Math.Abs(dot)), $"input {i}: G[{k},{l}] = {gram[k * 9 + l]:R}, one margin at a time {dot:R}");
                }
        }
        // The repeated-rows path and the shared path agree where both apply.
        Assert.True(trained.CanRepeatInputGradient);
        var shared = OnePassRobustness.Linearize(trained, few);
        var repeated = OnePassRobustness.Linearize(trained, few, int.MaxValue, OnePassRobustness.DefaultBatch, forceRepeatedRows: true);
        for (int i = 0; i < few.Count; i++)
            Assert.Equal(repeated.MisclassificationProbability(i, 0.1), shared.MisclassificationProbability(i, 0.1), 6);
    }

    /// <summary>
    /// Small classifiers trained briefly on the embedded Fashion-MNIST subset: a ReLU MLP and a one-convolution CNN. The CNN
    /// is smooth (tanh, average pooling): on the images' flat backgrounds a max-pool window holds equal values, and noise then
    /// raises their maximum by a first-order amount the linearisation cannot see (lenet5's figures in the issue show it).
    /// </summary>
    private static (FeedForwardNet Net, Dataset Test) Trained(IBackend backend, bool convolutional)
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset);
        var spec = convolutional
            ? new FeedForwardSpec([1, 28, 28],
                [LayerSpec.Conv(4, 5, pad: 2), LayerSpec.Of("tanh"), LayerSpec.Pool("avgpool", 2), LayerSpec.Of("flatten"), LayerSpec.Dense(10)], "softmax-cross-entropy")
            : new FeedForwardSpec([784], [LayerSpec.Dense(32, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10)], "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 4);
        new Trainer(net, new Adam(new ConstantSchedule(2e-3f)), new TrainingOptions { Epochs = 2, BatchSize = 50, Seed = 4 })
            .Fit(SupervisedData.FromDataset(train.Take(3000)));
        return (net, test.Take(400));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void On_small_trained_nets_the_estimate_falls_inside_the_Monte_Carlo_interval_at_small_noise(bool convolutional)
    {
        using var backend = new CpuBackend();
        var (net, test) = Trained(backend, convolutional);
        var margins = OnePassRobustness.Linearize(net, test);
        Assert.Equal(9, margins.Competitors);
        double cleanErrors = Enumerable.Range(0, test.Count).Count(i => margins.Predictions[i] != test.Labels[i]) / (double)test.Count;
        foreach (float sigma in new[] { 0.02f, 0.05f })
        {
            var estimates = margins.MisclassificationProbabilities(sigma);
            var monteCarlo = MonteCarloRobustness.Run(net, test, NoiseDistribution.Gaussian, sigma, 1000, RandomStream.Root(7).Derive("test-noise"));
            var (lower, upper) = monteCarlo.ConfidenceInterval();
            double rate = estimates.Average();
            Assert.True(rate >= lower && rate <= upper, $"sigma {sigma}: one-pass {rate:F4} outside the Monte Carlo interval [{lower:F4}, {upper:F4}] (rate {monteCarlo.Rate():F4})");
            // Noise must matter: inputs whose fate is uncertain, not only clean errors at probability 1.
            int uncertain = estimates.Count(p => p is > 0.02 and < 0.98);
            Assert.True(uncertain >= 8, $"sigma {sigma}: only {uncertain} inputs have an uncertain outcome");
            var (inside, absolute, _) = monteCarlo.Agreement(estimates);
            Assert.True(inside >= 0.9, $"sigma {sigma}: {inside:P1} of the inputs inside their Wilson interval");
            Assert.True(absolute <= 0.02, $"sigma {sigma}: mean absolute per-input difference {absolute:F4}");
            Assert.True(rate >= cleanErrors - 0.02, $"sigma {sigma}: rate {rate:F4} below the clean error {cleanErrors:F4}");
        }
    }

    [Fact]
    public void Following_fewer_competitors_lies_between_the_nearest_crossing_and_the_full_estimate()
    {
        using var backend = new CpuBackend();
        var (net, test) = Trained(backend, convolutional: false);
        var all = OnePassRobustness.Linearize(net, test);
        var nearest = OnePassRobustness.Linearize(net, test, competitors: 1);
        var three = OnePassRobustness.Linearize(net, test, competitors: 3);
        Assert.Equal(3, three.Competitors);
        for (int i = 0; i < test.Count; i++)
        {
            // The nearest competitor is the highest-scoring other class, and the kept ones are a prefix of the full order.
            Assert.Equal(all.CompetitorClasses(i)[..3].ToArray(), three.CompetitorClasses(i).ToArray());
            Assert.Equal(all.CompetitorClasses(i)[0], nearest.CompetitorClasses(i)[0]);
            double p1 = nearest.MisclassificationProbability(i, 0.1), p3 = three.MisclassificationProbability(i, 0.1), p9 = all.MisclassificationProbability(i, 0.1);
            Assert.True(p1 <= p3 + 2e-4 && p3 <= p9 + 2e-4, $"input {i}: {p1:R} <= {p3:R} <= {p9:R} fails");
        }
    }

    [Fact]
    public void The_probabilities_are_the_same_on_any_number_of_threads()
    {
        using var backend = new CpuBackend();
        var (net, test) = Trained(backend, convolutional: false);
        var margins = OnePassRobustness.Linearize(net, test);
        foreach (double sigma in new[] { 0.05, 0.3 })
        {
            var one = margins.MisclassificationProbabilities(sigma, threads: 1);
            Assert.Equal(one, margins.MisclassificationProbabilities(sigma, threads: 2));
            Assert.Equal(one, margins.MisclassificationProbabilities(sigma));
            for (int i = 0; i < test.Count; i++) Assert.Equal(margins.MisclassificationProbability(i, sigma), one[i]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => margins.MisclassificationProbabilities(0.1, threads: -1));
    }

    [Fact]
    public void Monte_Carlo_counts_repeat_for_a_seed_and_noise_is_added_to_the_input()
    {
        using var backend = new CpuBackend();
        var (net, test) = Trained(backend, convolutional: false);
        test = test.Take(20);
        var stream = RandomStream.Root(3).Derive("repeat");
        var first = MonteCarloRobustness.Run(net, test, NoiseDistribution.Uniform, 0.3f, 700, stream);
        var second = MonteCarloRobustness.Run(net, test, NoiseDistribution.Uniform, 0.3f, 700, stream);
        Assert.Equal(first.Errors, second.Errors);
        // At zero noise every copy is the clean input: each input's count is 0 or K, by its clean prediction.
        var clean = MonteCarloRobustness.Run(net, test, NoiseDistribution.Gaussian, 0f, 10, stream);
        var margins = OnePassRobustness.Linearize(net, test);
        for (int i = 0; i < test.Count; i++)
            Assert.Equal(margins.Predictions[i] == test.Labels[i] ? 0 : 10, clean.Errors[i]);
        // And noise of deviation 0.3 leaves some input's fate to chance.
        Assert.Contains(first.Errors, e => e is > 0 and < 700);
    }

    [Fact]
    public void Noise_has_the_stated_standard_deviation_under_either_law()
    {
        using var backend = new CpuBackend();
        var noise = backend.Allocate(200_000);
        var values = new float[200_000];
        foreach (var law in new[] { NoiseDistribution.Gaussian, NoiseDistribution.Uniform })
        {
            NoiseSampling.Sample(backend, law, 0.25f, RandomStream.Root(1).Derive("law"), noise);
            backend.Download(noise, values);
            double mean = values.Average(v => (double)v), sd = Math.Sqrt(values.Average(v => (double)v * v) - mean * mean);
            Assert.Equal(0, mean, 0.003);
            Assert.Equal(0.25, sd, 0.003);
            if (law == NoiseDistribution.Uniform) Assert.True(values.Max() <= 0.25f * MathF.Sqrt(3) && values.Min() >= -0.25f * MathF.Sqrt(3));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSampling.Sample(backend, NoiseDistribution.Gaussian, -1f, default, noise));
        Assert.Throws<ArgumentException>(() => NoiseSampling.Parse("poisson"));
    }

    [Fact]
    public void The_Monte_Carlo_interval_is_the_standard_error_of_the_per_input_rates()
    {
        // Two inputs at p = 0.25 and 0.5 out of K = 100: variance (0.25·0.75 + 0.25) / 99 / 4.
        var estimate = new MonteCarloEstimate(100, [25, 50]);
        Assert.Equal(0.375, estimate.Rate(), 12);
        double half = 1.959963984540054 * Math.Sqrt((0.25 * 0.75 + 0.5 * 0.5) / 99 / 4);
        var (lower, upper) = estimate.ConfidenceInterval();
        Assert.Equal(0.375 - half, lower, 12);
        Assert.Equal(0.375 + half, upper, 12);
        // No spread (all copies agree): Wilson's interval on the pooled 0 of 200, which still allows a small rate.
        var (low0, high0) = new MonteCarloEstimate(100, [0, 0]).ConfidenceInterval();
        Assert.Equal(0, low0, 12);
        Assert.InRange(high0, 0.015, 0.025);
        Assert.Throws<ArgumentException>(() => new MonteCarloEstimate(10, [11]));
        var (inside, absolute, correlation) = estimate.Agreement([0.25, 0.9]);
        Assert.Equal(0.5, inside);
        Assert.Equal(0.2, absolute, 12);
        Assert.Equal(1, correlation, 12);
    }
}
