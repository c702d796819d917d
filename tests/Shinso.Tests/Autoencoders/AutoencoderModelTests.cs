using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.Autoencoders;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Tests.Autoencoders;

/// <summary>Autoencoders as nets: encoder and decoder halves, files, training that lowers the error, layer-wise pretraining, and bad input.</summary>
public class AutoencoderModelTests
{
    /// <summary>Rows <c>sigmoid(2.5 M z)</c> of a fixed random M and z uniform in [-1, 1]³: values spread over (0, 1) on a 3-dimensional curved manifold, which a small code can capture.</summary>
    private static float[] Images(int count, int features, ulong seed)
    {
        using var backend = new CpuBackend();
        var m = backend.Allocate(features * 3);
        backend.SampleGaussian(new RandomStream(1, 1), 0, 0f, 1f, m);
        var z = backend.Allocate(count * 3);
        backend.SampleUniform(new RandomStream(seed, 2), 0, z);
        var x = new float[count * features];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < features; j++)
            {
                double a = 0;
                for (int k = 0; k < 3; k++) a += m.Span[j * 3 + k] * (2 * z.Span[r * 3 + k] - 1);
                x[r * features + j] = (float)(1 / (1 + Math.Exp(-2.5 * a)));
            }
        return x;
    }

    private static FeedForwardSpec TiedSpecOf(int inputs, int code) => new([inputs],
        [new NoiseSpec(NoiseKind.Gaussian, 0.05f), LayerSpec.Dense(code, WeightInit.GlorotUniform), LayerSpec.Of("sigmoid"), LayerSpec.Of("code"), new TiedSpec(1)],
        "binary-cross-entropy");

    [Fact]
    public void Decoder_of_encoder_is_the_reconstruction_and_tied_layers_become_transposed_dense_layers()
    {
        using var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, TiedSpecOf(12, 4), seed: 3);
        Onnx.OnnxParity.RandomizeBiases(net, 3);
        var x = Images(7, 12, 5);
        var encoder = Autoencoder.Encoder(net);
        var decoder = Autoencoder.Decoder(net);
        Assert.Equal(4, Autoencoder.CodeLength(net));
        Assert.Equal(4, encoder.Spec.OutputLength);
        Assert.IsType<Dense>(decoder.Layers[0]);
        var codes = Autoencoder.Predict(encoder, x);
        Assert.All(codes, c => Assert.InRange(c, 0f, 1f));
        var twoHalves = Autoencoder.Predict(decoder, codes);
        var whole = Autoencoder.Predict(net, x);
        Assert.Equal(whole.Length, twoHalves.Length);
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], twoHalves[i], 1e-6f);
        Assert.Throws<ArgumentException>(() => Autoencoder.Encoder(new FeedForwardNet(backend, new FeedForwardSpec([3], [LayerSpec.Dense(2)], "squared-error"), 1)));
    }

    [Fact]
    public void A_second_backward_pass_replaces_the_shared_gradient_instead_of_adding_to_it()
    {
        using var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, TiedSpecOf(9, 3), seed: 5);
        Onnx.OnnxParity.RandomizeBiases(net, 5);
        var values = Images(4, 9, 2);
        var x = backend.Allocate(4, 9);
        backend.Upload(values, x);
        net.Forward(x, ForwardContext.Inference);
        net.ComputeLoss(x, out _);
        net.Backward();
        var once = net.Parameters.Select(p => p.Gradient.Span.ToArray()).ToArray();
        Assert.Contains(once[0], g => g != 0f);
        net.Backward();
        for (int k = 0; k < once.Length; k++) Assert.Equal(once[k], net.Parameters[k].Gradient.Span.ToArray());
    }

    [Fact]
    public void Standardisation_is_not_folded_into_a_weight_a_tied_layer_shares()
    {
        using var backend = new CpuBackend();
        var spec = TiedSpecOf(6, 2);
        Assert.False(spec.CanAbsorbInputStandardization);
        var untied = new FeedForwardSpec([6], [new NoiseSpec(NoiseKind.Masking, 0.1f), LayerSpec.Dense(2), LayerSpec.Dense(6)], "squared-error");
        Assert.True(untied.CanAbsorbInputStandardization);
        var net = new FeedForwardNet(backend, spec, 1);
        var statistics = Shinso.Data.NormalizationStatistics.Compute(Images(5, 6, 1), 5, 6);
        Assert.Contains("tied", Assert.Throws<InvalidOperationException>(() => net.AbsorbInputStandardization(statistics)).Message);
    }

    [Fact]
    public void A_tied_autoencoder_file_stores_the_shared_weight_once_and_reads_back_the_same_net()
    {
        using var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, TiedSpecOf(10, 3), seed: 4);
        Onnx.OnnxParity.RandomizeBiases(net, 4);
        string path = Path.Combine(Path.GetTempPath(), $"shinso-ae-{Guid.NewGuid():N}.shinso");
        try
        {
            FeedForwardModelFile.Save(net, path, kind: Autoencoder.FileKind);
            var doc = ModelFile.Read(path);
            Assert.Equal("autoencoder", doc.Kind);
            Assert.Equal(["layer1.weight", "layer1.bias", "layer4.bias"], doc.Tensors.Select(t => t.Name).ToArray());
            var back = FeedForwardModelFile.Load(path, backend);
            var x = Images(5, 10, 6);
            Assert.Equal(Autoencoder.Predict(net, x), Autoencoder.Predict(back, x));
            Assert.Same(((Dense)back.Layers[1]).Weight, ((TiedDense)back.Layers[4]).Weight);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Training_lowers_the_reconstruction_error_below_the_mean_image_and_repeats_exactly()
    {
        double Train(out double before, out float[] weights)
        {
            using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
            var x = Images(400, 16, 7);
            var net = new FeedForwardNet(backend, TiedSpecOf(16, 4), seed: 8);
            before = Autoencoder.ReconstructionError(net, x);
            var trainer = new Trainer(net, OptimizerConfig.Defaults("adam").Create(), new TrainingOptions { Epochs = 30, BatchSize = 20, Seed = 9 });
            trainer.Fit(new SupervisedData(x, 16, x, 16));
            weights = net.Parameters[0].Value.Span.ToArray();
            return Autoencoder.ReconstructionError(net, x);
        }
        double after = Train(out double before, out var w1);
        var x = Images(400, 16, 7);
        double meanImage = 0;
        var mean = new double[16];
        for (int r = 0; r < 400; r++) for (int j = 0; j < 16; j++) mean[j] += x[r * 16 + j] / 400.0;
        for (int r = 0; r < 400; r++) for (int j = 0; j < 16; j++) meanImage += Math.Pow(x[r * 16 + j] - mean[j], 2) / 400;
        Assert.True(after < 0.5 * meanImage, $"after training {after:G4}; predicting the mean image gives {meanImage:G4} (untrained {before:G4})");
        Train(out _, out var w2);
        Assert.Equal(w1, w2);
    }

    [Fact]
    public void Pretraining_unrolls_the_decoder_from_the_shallow_models_and_beats_random_weights()
    {
        foreach (var method in new[] { Pretrainer.Rbm, Pretrainer.Autoencoder })
        {
            using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
            var x = Images(500, 16, 10);
            var spec = new FeedForwardSpec([16],
            [
                LayerSpec.Dense(12), LayerSpec.Of("sigmoid"), LayerSpec.Dense(3), LayerSpec.Of("code"),
                LayerSpec.Dense(12), LayerSpec.Of("sigmoid"), LayerSpec.Dense(16),
            ], "binary-cross-entropy");
            var net = new FeedForwardNet(backend, spec, seed: 2);
            double random = Autoencoder.ReconstructionError(net, x);
            var reports = LayerwisePretraining.Run(net, x, new PretrainingOptions { Method = method, Epochs = 15, BatchSize = 20, Seed = 3 });
            Assert.Equal([0, 2], reports.Select(r => r.Layer).ToArray());
            // The linear code layer has no binary hidden units: an RBM stack pretrains it as an autoencoder and says so.
            Assert.Equal([method, Pretrainer.Autoencoder], reports.Select(r => r.Method).ToArray());
            var (first, last) = ((Dense)net.Layers[0], (Dense)net.Layers[6]);
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 12; j++) Assert.Equal(first.Weight.Value.Span[i * 12 + j], last.Weight.Value.Span[j * 16 + i]);
            Assert.Contains(last.Bias.Value.Span.ToArray(), b => b != 0f);
            double pretrained = Autoencoder.ReconstructionError(net, x);
            Assert.True(pretrained < 0.7 * random, $"{method}: pretrained {pretrained:G4} vs random weights {random:G4}");
        }
    }

    [Fact]
    public void Presets_are_sized_by_the_data_and_bad_sizes_name_the_flag()
    {
        Assert.Equal(AutoencoderPresets.Names, AutoencoderPresets.Names.Where(n => AutoencoderPresets.Find(n, 784) is not null));
        var deep = AutoencoderPresets.Find("deep-autoencoder", 784, code: 2)!;
        Assert.Equal(2, new FeedForwardNet(new CpuBackend(), deep.Config.Architecture, 1) is var n ? Autoencoder.CodeLength(n) : 0);
        Assert.Equal(784, deep.Config.Architecture.OutputLength);
        Assert.Equal(3072, AutoencoderPresets.Find("autoencoder", 3072)!.Config.Architecture.OutputLength);
        Assert.True(AutoencoderPresets.Find("stacked-autoencoder", 784)!.Classifies);
        Assert.Contains("--code", Assert.Throws<ArgumentException>(() => AutoencoderPresets.Find("autoencoder", 20, code: 21)).Message);
        Assert.Contains("at most 20", Assert.Throws<ArgumentException>(() => AutoencoderPresets.Find("deep-autoencoder", 20, code: 21)).Message);
        Assert.Contains("--code", Assert.Throws<ArgumentException>(() => AutoencoderPresets.Find("autoencoder", 20, code: 0)).Message);
        Assert.Contains("--code", Assert.Throws<ArgumentException>(() => AutoencoderPresets.Find("stacked-autoencoder", 20, code: 5)).Message);
        Assert.Null(AutoencoderPresets.Find("mlp-dropout", 784));
    }

    [Theory]
    [InlineData("""{"type":"tied","to":1}""", "layers[2].to", "a 'sigmoid' layer")]
    [InlineData("""{"type":"tied","to":4}""", "layers[2].to", "not an earlier layer")]
    [InlineData("""{"type":"sparsity","target":1.5}""", "layers[2].target", "(0, 1)")]
    [InlineData("""{"type":"sparsity","target":0}""", "layers[2].target", "(0, 1)")]
    [InlineData("""{"type":"sparsity","weight":-1}""", "layers[2].weight", ">= 0")]
    [InlineData("""{"type":"masking-noise","fraction":1}""", "layers[2].fraction", "[0, 1)")]
    [InlineData("""{"type":"gaussian-noise","sigma":-0.1}""", "layers[2].sigma", ">= 0")]
    public void Bad_autoencoder_layers_are_errors_naming_the_field(string layer, string field, string expected)
    {
        var e = Assert.Throws<FormatException>(() => FeedForwardSpec.FromJson(new StrictJson(JsonNode.Parse(
            $$"""{"input":[6],"layers":[{"type":"dense","units":3},{"type":"sigmoid"},{{layer}},{"type":"dense","units":6}],"loss":"squared-error"}"""), "ae.json")));
        Assert.Contains(field, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("ae.json", e.Message);
    }

    [Fact]
    public void A_tied_pair_with_mismatched_shapes_a_misplaced_penalty_and_two_codes_are_errors_naming_the_layer()
    {
        static FormatException Parse(string layers) => Assert.Throws<FormatException>(() => FeedForwardSpec.FromJson(new StrictJson(JsonNode.Parse(
            $$"""{"input":[6],"layers":[{{layers}}],"loss":"squared-error"}"""), "ae.json")));
        // Layer 2 transposes layer 0's 6 x 3 weights, so it needs 3 inputs; layer 1 gives 4.
        var tied = Parse("""{"type":"dense","units":3},{"type":"dense","units":4},{"type":"tied","to":0}""");
        Assert.Contains("'layers[2].to'", tied.Message);
        Assert.Contains("needs 3 inputs", tied.Message);
        Assert.DoesNotContain("(Parameter", tied.Message);
        Assert.Contains("layers[2]", Parse("""{"type":"dense","units":3},{"type":"relu"},{"type":"sparsity"},{"type":"dense","units":6}""").Message);
        Assert.Contains("must follow a sigmoid", Parse("""{"type":"dense","units":3},{"type":"relu"},{"type":"sparsity"},{"type":"dense","units":6}""").Message);
        Assert.Contains("second code", Parse("""{"type":"dense","units":3},{"type":"code"},{"type":"code"},{"type":"dense","units":6}""").Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparsityPenalty(new CpuBackend(), 1f, 3f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InputNoise(new CpuBackend(), NoiseKind.Masking, 1f, 0));
    }
}
