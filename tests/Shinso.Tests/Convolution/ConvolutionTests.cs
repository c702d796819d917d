using Shinso.Backends.KernelPairs;
using System.Text.Json.Nodes;
using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Tests.Data;
using Shinso.Tests.Kernels;
using Shinso.Training;
using Shinso.Operations;

namespace Shinso.Tests.Convolution;

/// <summary>Image layers against direct definitions, the architecture spec and presets, the CIFAR-10 reader, and a short CNN training run.</summary>
public class ConvolutionTests
{
    private static float[] Gaussian(int length, ulong seed)
    {
        var backend = new CpuBackend();
        var t = backend.Allocate(length);
        backend.SampleGaussian(new RandomStream(seed, 0), 0, 0f, 1f, t);
        return t.Span.ToArray();
    }

    private static void AssertAllClose(float[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Conv2d_equals_a_direct_convolution()
    {
        var shapes =
            from n in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 4)
            from h in Gen.Choose(1, 12)
            from w in Gen.Choose(1, 12)
            from f in Gen.Choose(1, 5)
            from k in Gen.Choose(1, 5)
            from stride in Gen.Choose(1, 3)
            from pad in Gen.Choose(0, 3)
            from seed in Gen.Choose(0, 100000)
            select (n, c, h, w, f, k, stride, pad, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            if (s.h + 2 * s.pad < s.k || s.w + 2 * s.pad < s.k) return;
            var backend = new CpuBackend();
            var layer = new Conv2d(backend, s.c, s.h, s.w, s.f, s.k, s.stride, s.pad);
            var wv = Gaussian(layer.Weight.Value.Length, (ulong)s.seed);
            var bv = Gaussian(s.f, (ulong)s.seed + 1);
            backend.Upload(wv, layer.Weight.Value);
            backend.Upload(bv, layer.Bias.Value);
            var xv = Gaussian(s.n * s.c * s.h * s.w, (ulong)s.seed + 2);
            var x = backend.FromArray(xv, s.n, s.c * s.h * s.w);
            var y = layer.Forward(x, ForwardContext.Inference);
            var expected = NaiveConvolution.Convolve(xv, s.n, layer.Geometry, wv, bv, s.f);
            Assert.Equal(new[] { s.n, s.f, layer.Geometry.OutputHeight, layer.Geometry.OutputWidth }, y.Shape.ToArray());
            AssertAllClose(expected, y.Span, 1e-4, "conv");
        }, maxTests: 60);
    }

    [Fact]
    public void Conv2d_gives_the_same_results_in_chunks_of_one_image_as_in_one_chunk()
    {
        const int n = 5;
        var whole = new CpuBackend(new CpuKernelOptions(Threads: 1));
        var chunked = new CpuBackend(new CpuKernelOptions(Threads: 1)) { ColumnChunkFloats = 1 };
        var results = new List<(float[] Y, float[] Dx, float[] Dw, float[] Db)>();
        foreach (var backend in new[] { whole, chunked })
        {
            var layer = new Conv2d(backend, 3, 9, 8, 4, 3, 1, 1);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream(5, 1), 27, 36);
            backend.SampleGaussian(new RandomStream(5, 2), 0, 0f, 0.5f, layer.Bias.Value);
            var x = backend.FromArray(Gaussian(n * 3 * 9 * 8, 6), n, 3, 9, 8);
            var y = layer.Forward(x, new ForwardContext(true, new RandomStream(1, 1), 0)).Span.ToArray();
            var dy = backend.FromArray(Gaussian(y.Length, 7), n, 4, 9, 8);
            var dx = layer.Backward(dy, true)!.Span.ToArray();
            results.Add((y, dx, layer.Weight.Gradient.Span.ToArray(), layer.Bias.Gradient.Span.ToArray()));
        }
        Assert.Equal(results[0].Y, results[1].Y);
        Assert.Equal(results[0].Dx, results[1].Dx);
        Assert.Equal(results[0].Db, results[1].Db);
        // The weight gradient sums over chunks in another order, so only its rounding may differ.
        AssertAllClose(results[0].Dw, results[1].Dw, 1e-5, "dW");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Pooling_equals_its_definition_including_ceil_mode_borders(int kind)
    {
        var shapes =
            from n in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(1, 13)
            from w in Gen.Choose(1, 13)
            from k in Gen.Choose(1, 4)
            from stride in Gen.Choose(1, 3)
            from pad in Gen.Choose(0, 2)
            from ceil in Gen.Elements(true, false)
            from seed in Gen.Choose(0, 100000)
            select (n, c, h, w, k, stride, pad: Math.Min(pad, k / 2), ceil, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var g = new PoolingGeometry(s.c, s.h, s.w, s.k, s.k, s.stride, s.stride, s.pad, s.pad, s.ceil);
            if (s.h + 2 * s.pad < s.k || s.w + 2 * s.pad < s.k) return;
            var backend = new CpuBackend();
            var xv = Gaussian(s.n * g.InputLength, (ulong)s.seed);
            var x = backend.FromArray(xv, s.n, g.InputLength);
            var y = backend.Allocate(s.n, g.OutputLength);
            var arg = backend.Allocate(s.n, g.OutputLength);
            if (kind == 0) backend.MaxPoolForward(x, g, y, arg);
            else if (kind == 1) backend.AvgPoolForward(x, g, true, y);
            else backend.LpPoolForward(x, g, 2f, y);
            AssertAllClose(NaiveConvolution.Pool(xv, s.n, g, kind), y.Span, 1e-5, $"pool{kind}");
            if (kind == 0)
            {
                var a = arg.Span;
                int plane = s.h * s.w;
                for (int i = 0; i < a.Length; i++)
                    Assert.Equal(y.Span[i], xv[i / (g.OutputHeight * g.OutputWidth) * plane + (int)a[i]]);
            }
        }, maxTests: 80);
    }

    [Fact]
    public void Ceil_mode_pooling_matches_cuda_convnet_sizes_and_border_windows()
    {
        // 32 -> 16 -> 8 -> 4 with 3/2 windows in ceil mode, as in cuda-convnet's layers-18pct.
        Assert.Equal(16, new PoolingGeometry(1, 32, 32, 3, 3, 2, 2, CeilMode: true).OutputHeight);
        Assert.Equal(8, new PoolingGeometry(1, 16, 16, 3, 3, 2, 2, CeilMode: true).OutputHeight);
        Assert.Equal(4, new PoolingGeometry(1, 8, 8, 3, 3, 2, 2, CeilMode: true).OutputHeight);
        Assert.Equal(15, new PoolingGeometry(1, 32, 32, 3, 3, 2, 2).OutputHeight);
        // PyTorch drops a last window that would start in the padding: 5 with k=2, s=2, pad=1, ceil -> 3.
        Assert.Equal(3, new PoolingGeometry(1, 5, 5, 2, 2, 2, 2, 1, 1, true).OutputHeight);
        // A 4-wide row with 3/2 ceil windows: [0..2] and the clipped border window [2..3].
        var backend = new CpuBackend();
        var g = new PoolingGeometry(1, 1, 4, 1, 3, 1, 2, CeilMode: true);
        var x = backend.FromArray([1f, 5f, 2f, 7f], 1, 4);
        var y = backend.Allocate(1, 2);
        backend.AvgPoolForward(x, g, true, y);
        Assert.Equal([8f / 3f, 4.5f], y.Span.ToArray());
        var arg = backend.Allocate(1, 2);
        backend.MaxPoolForward(x, g, y, arg);
        Assert.Equal([5f, 7f], y.Span.ToArray());
        Assert.Equal([1f, 3f], arg.Span.ToArray());
        // count_include_pad: a padded 2x2 window at the corner of a 2x2 image with pad 1 divides by 4.
        var gp = new PoolingGeometry(1, 2, 2, 2, 2, 2, 2, 1, 1);
        var xp = backend.FromArray([4f, 4f, 4f, 4f], 1, 4);
        var yp = backend.Allocate(1, gp.OutputLength);
        backend.AvgPoolForward(xp, gp, true, yp);
        Assert.Equal(1f, yp.Span[0]);
        backend.AvgPoolForward(xp, gp, false, yp);
        Assert.Equal(4f, yp.Span[0]);
    }

    [Fact]
    public void Lrn_equals_the_onnx_formula()
    {
        var shapes =
            from n in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 9)
            from spatial in Gen.Choose(1, 40)
            from size in Gen.Choose(1, 6)
            from beta in Gen.Elements(0.75f, 0.5f, 1.2f)
            from seed in Gen.Choose(0, 100000)
            select (n, c, spatial, size, beta, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var p = new LrnParameters(s.size, 0.3f, s.beta, 2f);
            var backend = new CpuBackend();
            var xv = Gaussian(s.n * s.c * s.spatial, (ulong)s.seed);
            var x = backend.FromArray(xv, s.n, s.c, s.spatial);
            var y = backend.Allocate(s.n, s.c, s.spatial);
            var scale = backend.Allocate(s.n, s.c, s.spatial);
            backend.Run(new LrnForward(x, s.c, p, y, scale));
            AssertAllClose(NaiveConvolution.Lrn(xv, s.n, s.c, s.spatial, p), y.Span, 1e-5, "lrn");
        }, maxTests: 60);
        // Even sizes follow ONNX: floor((size-1)/2) channels before, ceil((size-1)/2) after.
        Assert.Equal((1, 2), (new LrnParameters(4).Before, new LrnParameters(4).After));
    }

    [Fact]
    public void Lcn_equals_its_definition_and_normalizes_contrast()
    {
        var backend = new CpuBackend();
        var g = new LcnGeometry(3, 7, 9, 5, 1.2f);
        var xv = Gaussian(2 * g.ImageLength, 5);
        for (int i = 0; i < xv.Length; i++) xv[i] = 3f * xv[i] + 10f;
        var x = backend.FromArray(xv, 2, g.ImageLength);
        var y = backend.Allocate(2, g.ImageLength);
        var dev = backend.Allocate(2, g.PlaneLength);
        backend.LcnForward(x, g, y, dev);
        var (expected, deviation, _) = NaiveConvolution.Lcn(xv, 2, g);
        AssertAllClose(expected, y.Span, 1e-4, "lcn");
        AssertAllClose(Array.ConvertAll(deviation, d => (float)d), dev.Span, 1e-4, "lcn deviation");
        // The offset of 10 is gone and the scale of 3 is divided out.
        double mean = y.Span.ToArray().Average();
        Assert.True(Math.Abs(mean) < 0.2, $"mean {mean}");
    }

    [Fact]
    public void Channel_bias_ops_add_and_sum_per_channel()
    {
        var backend = new CpuBackend();
        var x = backend.Allocate(2, 3, 4);
        var bias = backend.FromArray([1f, 2f, 3f], 3);
        backend.AddChannelBias(x, 3, bias);
        var sums = backend.Allocate(3);
        backend.SumChannelBias(x, 3, sums);
        Assert.Equal([8f, 16f, 24f], sums.Span.ToArray());
        Assert.Equal(2f, x.Span[4]);
    }

    [Theory]
    [InlineData("lenet5", new[] { 1, 28, 28 })]
    [InlineData("cifar-18pct", new[] { 3, 32, 32 })]
    [InlineData("fashion-cnn", new[] { 1, 28, 28 })]
    public void Presets_build_and_produce_ten_scores(string name, int[] input)
    {
        var config = Presets.Find(name)!;
        Assert.Contains(name, Presets.Names);
        Assert.Equal(input, config.Architecture.InputShape);
        var shapes = config.Architecture.SampleShapes();
        Assert.Equal([10], shapes[^1]);
        if (name == "cifar-18pct")
        {
            Assert.Equal([32, 16, 16], shapes[1]); // conv then 3/2 ceil max-pool
            Assert.Equal([64, 4, 4], shapes[^3]);
            Assert.Equal(0.004f, config.WeightDecay);
        }
        if (name == "lenet5") Assert.Equal([400], shapes[6]);
        var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, config.Architecture, 1);
        var x = backend.FromArray(Gaussian(2 * config.Architecture.InputLength, 3), 2, config.Architecture.InputLength);
        var p = net.Predict(x);
        Assert.Equal([2, 10], p.Shape.ToArray());
        Assert.InRange(p.Span[0] + p.Span[1] + p.Span[2] + p.Span[3] + p.Span[4] + p.Span[5] + p.Span[6] + p.Span[7] + p.Span[8] + p.Span[9], 0.999f, 1.001f);
        // The architecture survives a JSON round trip.
        var again = FeedForwardSpec.FromJson(new StrictJson(JsonNode.Parse(config.Architecture.ToJson().ToJsonString()), "test"));
        Assert.Equal(config.Architecture.Layers, again.Layers);
    }

    [Fact]
    public void Spec_json_rejects_unknown_keys_and_shapes_that_do_not_fit()
    {
        static FeedForwardSpec Parse(string text) => FeedForwardSpec.FromJson(new StrictJson(JsonNode.Parse(text), "arch.json"));
        var e = Assert.Throws<FormatException>(() => Parse("""{"input":[1,8,8],"layers":[{"type":"conv","filters":2,"kernel":3,"dilation":2},{"type":"dense","units":2}]}"""));
        Assert.Contains("dilation", e.Message);
        e = Assert.Throws<FormatException>(() => Parse("""{"input":[64],"layers":[{"type":"maxpool","size":2},{"type":"dense","units":2}]}"""));
        Assert.Contains("channels, height, width", e.Message);
        e = Assert.Throws<FormatException>(() => Parse("""{"input":[1,4,4],"layers":[{"type":"conv","filters":2,"kernel":7},{"type":"dense","units":2}]}"""));
        Assert.Contains("Layer 0", e.Message);
        var spec = Parse("""{"input":[2,9,9],"layers":[{"type":"lcn","size":5},{"type":"lppool","size":3,"stride":2,"ceil":true,"p":3},{"type":"lrn","size":3},{"type":"flatten"},{"type":"dense","units":3}]}""");
        Assert.Equal([2, 4, 4], spec.SampleShapes()[1]);
        Assert.Equal(1.25f, ((LcnSpec)spec.Layers[0]).Sigma);
    }

    private static byte[] Record(int label, int seed)
    {
        var r = new byte[Cifar10.RecordLength];
        r[0] = (byte)label;
        for (int i = 1; i < r.Length; i++) r[i] = (byte)((i * 7 + seed * 13) % 256);
        return r;
    }

    [Fact]
    public void Cifar10_reader_round_trips_synthetic_batches()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("data_batch_1.bin"), [.. Record(3, 1), .. Record(9, 2)]);
        File.WriteAllBytes(dir.File("test_batch.bin"), Record(0, 3));
        for (int b = 2; b <= 5; b++) File.WriteAllBytes(dir.File($"data_batch_{b}.bin"), Record(b, b));
        var (train, test) = Cifar10.Load(dir.Path);
        Assert.Equal(6, train.Count);
        Assert.Equal([3, 9, 2, 3, 4, 5], train.Labels);
        Assert.Equal([3, 32, 32], train.SampleShape);
        Assert.Equal(1, test.Count);
        var r = Record(9, 2);
        Assert.Equal(r[1 + 1024 + 5] / 255f, train.Sample(1)[1024 + 5]); // green plane, CHW
        var (mean, std) = Cifar10.ChannelStatistics(train, 3);
        var normalized = Cifar10.NormalizeChannels(train, mean, std);
        var (m2, s2) = Cifar10.ChannelStatistics(normalized, 3);
        for (int c = 0; c < 3; c++)
        {
            Assert.InRange(m2[c], -1e-4f, 1e-4f);
            Assert.InRange(s2[c], 0.999f, 1.001f);
        }
    }

    [Fact]
    public void Cifar10_reader_names_file_record_and_field_of_malformed_data()
    {
        using var dir = new TempDirectory();
        string truncated = dir.File("short.bin");
        File.WriteAllBytes(truncated, [.. Record(1, 1), .. new byte[100]]);
        var e = Assert.Throws<FormatException>(() => Cifar10.ReadBatches(truncated));
        Assert.Contains("short.bin", e.Message);
        Assert.Contains("record 1", e.Message);
        Assert.Contains("3073", e.Message);
        string badLabel = dir.File("label.bin");
        File.WriteAllBytes(badLabel, [.. Record(1, 1), .. Record(1, 2), .. Record(12, 3)]);
        e = Assert.Throws<FormatException>(() => Cifar10.ReadBatches(badLabel));
        Assert.Contains("label.bin", e.Message);
        Assert.Contains("record 2", e.Message);
        Assert.Contains("'label'", e.Message);
        Assert.Throws<FileNotFoundException>(() => Cifar10.ReadBatches(dir.File("missing.bin")));
    }

    [Fact]
    public void A_tiny_cnn_learns_fashion_mnist_subset()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 1000, 10);
        var spec = new FeedForwardSpec([1, 28, 28],
        [
            LayerSpec.Conv(4, 5, pad: 2), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
            LayerSpec.Conv(8, 5), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
            LayerSpec.Of("flatten"), LayerSpec.Dense(10, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, spec, 7);
        var data = SupervisedData.FromDataset(train);
        double before = Trainer.Evaluate(net, data).Loss;
        var config = new TrainingConfig { Architecture = spec, Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.05f } };
        var state = new Trainer(net, config.CreateOptimizer(), new TrainingOptions { Epochs = 3, BatchSize = 50, Seed = 2 }).Fit(data);
        var after = Trainer.Evaluate(net, data);
        Assert.True(after.Loss < 0.6 * before, $"loss {before} -> {after.Loss}");
        Assert.True(after.Accuracy > 0.6, $"accuracy {after.Accuracy}");
        Assert.True(state.History[^1].TrainLoss < state.History[0].TrainLoss);
    }
}
