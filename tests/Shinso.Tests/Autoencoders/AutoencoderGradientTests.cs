using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Tests.Gradients;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.Autoencoders;

/// <summary>
/// The autoencoder objectives' analytic gradients against the double-precision reference of the whole net's loss
/// (<see cref="ReferenceGradient.CheckNet"/>): tied weights (one parameter, two uses), the KL sparsity penalty
/// (whose value is also checked against a double-precision sum), and the denoising objective under fixed noise (the
/// noise is addressed by the step, so every evaluation sees the same).
/// </summary>
public class AutoencoderGradientTests
{
    private static readonly FsCheck.Gen<(int Batch, int Inputs, int Hidden, int Seed)> Shapes =
        from batch in Gen.Choose(1, 5)
        from inputs in Gen.Choose(2, 8)
        from hidden in Gen.Choose(1, 5)
        from seed in Gen.Choose(0, 100000)
        select (batch, inputs, hidden, seed);

    [Fact]
    public void Tied_weight_gradients_match_the_double_precision_reference_and_sum_both_uses()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            var tied = new FeedForwardNet(backend, new FeedForwardSpec([s.Inputs],
                [LayerSpec.Dense(s.Hidden, WeightInit.GlorotNormal), LayerSpec.Of("sigmoid"), LayerSpec.Of("code"), new TiedSpec(0)], "binary-cross-entropy"), (ulong)s.Seed);
            // One parameter for two layers: listed, saved and updated once.
            Assert.Equal(3, tied.Parameters.Count);
            RandomizeBiases(tied, s.Seed);
            var x = UnitInterval(backend, s.Batch, s.Inputs, s.Seed);
            ReferenceGradient.CheckNet(tied, x, x, new ForwardContext(true, new RandomStream((ulong)s.Seed, 7), 3));

            // The shared weight's gradient is the encoder's plus the transposed decoder's of the same net untied.
            var untied = new FeedForwardNet(backend, new FeedForwardSpec([s.Inputs],
                [LayerSpec.Dense(s.Hidden), LayerSpec.Of("sigmoid"), LayerSpec.Of("code"), LayerSpec.Dense(s.Inputs)], "binary-cross-entropy"), 1);
            var encoder = (Dense)tied.Layers[0];
            var decoder = (TiedDense)tied.Layers[3];
            var (e, d) = ((Dense)untied.Layers[0], (Dense)untied.Layers[3]);
            backend.Copy(encoder.Weight.Value, e.Weight.Value);
            backend.Copy(encoder.Bias.Value, e.Bias.Value);
            backend.Copy(decoder.Bias.Value, d.Bias.Value);
            var w = encoder.Weight.Value.Span;
            for (int i = 0; i < s.Inputs; i++)
                for (int j = 0; j < s.Hidden; j++) d.Weight.Value.Span[j * s.Inputs + i] = w[i * s.Hidden + j];
            Gradients(tied, x, x, ForwardContext.Inference);
            Gradients(untied, x, x, ForwardContext.Inference);
            for (int i = 0; i < s.Inputs; i++)
                for (int j = 0; j < s.Hidden; j++)
                {
                    double sum = (double)e.Weight.Gradient.Span[i * s.Hidden + j] + d.Weight.Gradient.Span[j * s.Inputs + i];
                    Assert.Equal(sum, encoder.Weight.Gradient.Span[i * s.Hidden + j], 1e-5);
                }
        }, maxTests: 25);
    }

    [Fact]
    public void Sparsity_penalty_gradients_match_the_double_precision_reference()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            const float rho = 0.1f, beta = 3f;
            var net = new FeedForwardNet(backend, new FeedForwardSpec([s.Inputs],
                [LayerSpec.Dense(s.Hidden, WeightInit.GlorotNormal), LayerSpec.Of("sigmoid"), new SparsitySpec(rho, beta), LayerSpec.Of("code"),
                 LayerSpec.Dense(s.Inputs, WeightInit.GlorotNormal), LayerSpec.Of("sigmoid")], "squared-error"), (ulong)s.Seed);
            RandomizeBiases(net, s.Seed);
            var x = UnitInterval(backend, s.Batch, s.Inputs, s.Seed);
            var training = new ForwardContext(true, new RandomStream((ulong)s.Seed, 7), 0);
            ReferenceGradient.CheckNet(net, x, x, training);

            // The penalty's value: beta * sum_j KL(rho || mean_j), the means of sigmoid(x W + b) summed here in double.
            net.Forward(x, training);
            double penalty = ((SparsityPenalty)net.Layers[2]).Penalty;
            var dense = (Dense)net.Layers[0];
            double expected = 0;
            for (int j = 0; j < s.Hidden; j++)
            {
                double mean = 0;
                for (int r = 0; r < s.Batch; r++)
                {
                    double a = dense.Bias.Value.Span[j];
                    for (int i = 0; i < s.Inputs; i++) a += (double)x.Span[r * s.Inputs + i] * dense.Weight.Value.Span[i * s.Hidden + j];
                    mean += 1 / (1 + Math.Exp(-a));
                }
                mean /= s.Batch;
                expected += rho * Math.Log(rho / mean) + (1 - rho) * Math.Log((1 - rho) / (1 - mean));
            }
            Assert.Equal(beta * expected, penalty, 1e-4 * Math.Max(1, beta * expected));
            // Inference adds nothing: validation and test losses are the reconstruction's alone.
            net.Forward(x, ForwardContext.Inference);
            Assert.Equal(0, ((SparsityPenalty)net.Layers[2]).Penalty);
        }, maxTests: 25);
    }

    [Theory]
    [InlineData(NoiseKind.Masking)]
    [InlineData(NoiseKind.Gaussian)]
    public void Denoising_objective_gradients_match_the_double_precision_reference_for_fixed_noise(NoiseKind noise)
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            var net = new FeedForwardNet(backend, new FeedForwardSpec([s.Inputs],
                [new NoiseSpec(noise, noise == NoiseKind.Masking ? 0.4f : 0.3f), LayerSpec.Dense(s.Hidden, WeightInit.GlorotNormal), LayerSpec.Of("sigmoid"),
                 LayerSpec.Of("code"), new TiedSpec(1)], "binary-cross-entropy"), (ulong)s.Seed);
            RandomizeBiases(net, s.Seed);
            var x = UnitInterval(backend, s.Batch, s.Inputs, s.Seed);
            var context = new ForwardContext(true, new RandomStream((ulong)s.Seed, 7), 5);
            ReferenceGradient.CheckNet(net, x, x, context);

            // The corruption is the layer's own Philox draw for the step (its named stream, the step's block range), the
            // same on every call within a step: masking keeps x where u < 1 - rate, Gaussian noise adds sigma times a normal deviate.
            var layer = (InputNoise)net.Layers[0];
            var stream = context.Random.Derive("input-noise", layer.StreamIndex);
            var clean = x.Span.ToArray();
            foreach (long step in new long[] { 5, 6 })
            {
                var corrupted = layer.Forward(x, context with { Step = step }).Span.ToArray();
                Assert.Equal(corrupted, layer.Forward(x, context with { Step = step }).Span.ToArray());
                ulong counter = (ulong)step << 30;
                for (int i = 0; i < corrupted.Length; i++)
                {
                    if (noise == NoiseKind.Masking)
                        Assert.Equal(NaiveKernels.Uniform(stream, counter, i) < 1f - layer.Amount ? clean[i] : 0f, corrupted[i]);
                    else
                        Assert.Equal(clean[i] + layer.Amount * NaiveKernels.Gaussian(stream, counter, i), corrupted[i], 1e-5);
                }
            }
            // At inference the layer is the identity.
            Assert.Equal(x.Span.ToArray(), net.Layers[0].Forward(x, ForwardContext.Inference).Span.ToArray());
        }, maxTests: 20);
    }

    [Fact]
    public void Code_layer_passes_values_and_gradients_through()
    {
        using var backend = new CpuBackend();
        var layer = new CodeLayer();
        var x = backend.Allocate(2, 3);
        backend.SampleGaussian(new RandomStream(1, 1), 0, 0f, 1f, x);
        Assert.Same(x, layer.Forward(x, ForwardContext.Inference));
        Assert.Same(x, layer.Backward(x, needInputGradient: true));
        Assert.Null(layer.Backward(x, needInputGradient: false));
    }

    private static void Gradients(FeedForwardNet net, Tensor x, Tensor t, ForwardContext context)
    {
        net.Forward(x, context);
        net.ComputeLoss(t, out _);
        net.Backward();
    }

    private static Tensor UnitInterval(IBackend backend, int rows, int columns, int seed)
    {
        var x = backend.Allocate(rows, columns);
        backend.SampleUniform(new RandomStream((ulong)seed, 3), 0, x);
        return x;
    }

    private static void RandomizeBiases(FeedForwardNet net, int seed)
    {
        int k = 0;
        foreach (var p in net.Parameters)
            if (p.Role == ParameterRole.Bias) net.Backend.SampleGaussian(new RandomStream((ulong)seed, 10 + (ulong)k++), 0, 0f, 0.5f, p.Value);
    }
}
