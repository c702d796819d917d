using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Losses;
using Shinso.Models.FeedForward;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Tests.Kernels;
using Shinso.Tests.Layers;
using Xunit.Sdk;

namespace Shinso.Tests.Gradients;

/// <summary>
/// Every layer kind's and every loss's float32 analytic gradient against the double-precision reference
/// (<see cref="ReferenceGradient"/>), on random shapes drawn by FsCheck with a fixed replay seed: a gradient off by
/// 0.1 % fails (<see cref="A_gradient_off_by_a_tenth_of_a_percent_fails_the_check"/>).
/// </summary>
public sealed class LayerGradientTests
{
    private static readonly FsCheck.Gen<(int Batch, int Inputs, int Units, int Seed)> Shapes =
        from batch in Gen.Choose(1, 5)
        from inputs in Gen.Choose(1, 9)
        from units in Gen.Choose(1, 7)
        from seed in Gen.Choose(0, 100000)
        select (batch, inputs, units, seed);

    private static Dense RandomDense(IBackend backend, int inputs, int units, int seed)
    {
        var layer = new Dense(backend, inputs, units);
        WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)seed, 1), inputs, units);
        backend.SampleGaussian(new RandomStream((ulong)seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
        return layer;
    }

    [Fact]
    public void Dense_gradients_match_the_double_precision_reference() =>
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            ReferenceGradient.CheckLayer(backend, RandomDense(backend, s.Inputs, s.Units, s.Seed), s.Batch, [s.Inputs], (ulong)s.Seed);
        }, maxTests: 30);

    [Theory]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.AbsoluteValue)]
    [InlineData(Activation.Step)]
    [InlineData(Activation.Identity)]
    public void Activation_gradients_match_the_double_precision_reference(Activation function)
    {
        var counts = new ReferenceGradient.Counts();
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            counts += ReferenceGradient.CheckLayer(backend, new ActivationLayer(backend, function), s.Batch, [s.Inputs], (ulong)s.Seed);
        }, maxTests: 30);
        counts.AssertFewSkipped(function.ToString(), 0.01);
    }

    [Fact]
    public void Softmax_layer_gradients_match_the_double_precision_reference() =>
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            ReferenceGradient.CheckLayer(backend, new SoftmaxLayer(backend), s.Batch, [s.Units], (ulong)s.Seed);
        }, maxTests: 30);

    [Fact]
    public void Dropout_gradients_match_the_double_precision_reference_for_a_fixed_mask() =>
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            // Training mode with a fixed step: the same mask on every evaluation.
            var context = new ForwardContext(true, new RandomStream((ulong)s.Seed, 0), 5);
            ReferenceGradient.CheckLayer(backend, new Dropout(backend, 0.4f, maskIndex: 3), s.Batch, [s.Inputs], (ulong)s.Seed, context);
        }, maxTests: 20);

    [Fact]
    public void Conv2d_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(3, 7)
            from w in Gen.Choose(3, 7)
            from f in Gen.Choose(1, 3)
            from k in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 2)
            from pad in Gen.Choose(0, 2)
            from chunk in Gen.Elements(0, 1, 40)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, f, k, stride, pad, chunk, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            // Chunks of 1 and 40 floats split the im2col columns into one or a few images each (0: the default, one chunk).
            using var backend = s.chunk == 0 ? new CpuBackend() : new CpuBackend { ColumnChunkFloats = s.chunk };
            var layer = new Conv2d(backend, s.c, s.h, s.w, s.f, s.k, s.stride, s.pad);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)s.seed, 1), s.c * s.k * s.k, s.f * s.k * s.k);
            backend.SampleGaussian(new RandomStream((ulong)s.seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
            ReferenceGradient.CheckLayer(backend, layer, s.batch, [s.c, s.h, s.w], (ulong)s.seed);
        }, maxTests: 25);
    }

    [Fact]
    public void TiledConv2d_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 2)
            from h in Gen.Choose(3, 7)
            from w in Gen.Choose(3, 7)
            from f in Gen.Choose(1, 3)
            from k in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 2)
            from pad in Gen.Choose(0, 1)
            from tile in Gen.Choose(1, 4)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, f, k, stride, pad, tile, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var g = new TiledConvolutionGeometry(new ConvolutionGeometry(s.c, s.h, s.w, s.k, s.k, s.stride, s.stride, s.pad, s.pad), s.tile);
            if (s.tile > Math.Max(g.Convolution.OutputHeight, g.Convolution.OutputWidth)) return;
            using var backend = new CpuBackend();
            var layer = new TiledConv2d(backend, s.c, s.h, s.w, s.f, s.k, s.tile, s.stride, s.pad);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)s.seed, 1), s.c * s.k * s.k, s.f * s.k * s.k);
            backend.SampleGaussian(new RandomStream((ulong)s.seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
            ReferenceGradient.CheckLayer(backend, layer, s.batch, [s.c, s.h, s.w], (ulong)s.seed);
        }, maxTests: 25);
    }

    [Fact]
    public void Probabilistic_pooling_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from blocks in Gen.Choose(1, 3)
            from block in Gen.Choose(1, 3)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, side: blocks * block, block, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            using var backend = new CpuBackend();
            ReferenceGradient.CheckLayer(backend, new ProbabilisticMaxPool(backend, s.c, s.side, s.side, s.block), s.batch, [s.c, s.side, s.side], (ulong)s.seed);
        }, maxTests: 25);
    }

    [Theory]
    [InlineData(PoolingKind.Max)]
    [InlineData(PoolingKind.Average)]
    [InlineData(PoolingKind.Lp)]
    public void Pooling_gradients_match_the_double_precision_reference(PoolingKind kind)
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(3, 8)
            from w in Gen.Choose(3, 8)
            from k in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 3)
            from pad in Gen.Choose(0, 1)
            from ceil in Gen.Elements(true, false)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, k, stride, pad: Math.Min(pad, k / 2), ceil, seed);
        var counts = new ReferenceGradient.Counts();
        PropertyCheck.ForAll(shapes, s =>
        {
            var g = new PoolingGeometry(s.c, s.h, s.w, s.k, s.k, s.stride, s.stride, s.pad, s.pad, s.ceil);
            using var backend = new CpuBackend();
            counts += ReferenceGradient.CheckLayer(backend, new Pool2d(backend, kind, g, kind == PoolingKind.Lp ? 3f : 2f), s.batch, [s.c, s.h, s.w], (ulong)s.seed);
        }, maxTests: 30);
        counts.AssertFewSkipped(kind.ToString(), 0.02);
    }

    [Fact]
    public void Lrn_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 7)
            from hw in Gen.Choose(1, 6)
            from size in Gen.Choose(1, 5)
            from alpha in Gen.Choose(1, 20)
            from beta in Gen.Elements(0.75f, 0.5f, 1.3f)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, hw, size, alpha: alpha / 10f, beta, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            using var backend = new CpuBackend();
            var layer = new LocalResponseNormalization(backend, s.c, s.hw, 1, new LrnParameters(s.size, s.alpha, s.beta, 1.5f));
            ReferenceGradient.CheckLayer(backend, layer, s.batch, [s.c, s.hw, 1], (ulong)s.seed);
        }, maxTests: 30);
    }

    [Fact]
    public void Maxout_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 3)
            from pieces in Gen.Choose(1, 4)
            from units in Gen.Choose(1, 20)
            from image in Gen.Elements(false, true)
            from seed in Gen.Choose(0, 100000)
            select (batch, pieces, units, image, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            using var backend = new CpuBackend();
            int[] sample = s.image ? [s.pieces * s.units, 2, 3] : [s.pieces * s.units];
            ReferenceGradient.CheckLayer(backend, new MaxoutLayer(backend, s.pieces), s.batch, sample, (ulong)s.seed);
        }, maxTests: 30);
    }

    [Fact]
    public void Lcn_gradients_match_the_double_precision_reference()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(2, 6)
            from w in Gen.Choose(2, 6)
            from size in Gen.Elements(1, 3, 5)
            from sigma in Gen.Elements(0.8f, 1.5f)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, size, sigma, seed);
        var counts = new ReferenceGradient.Counts();
        PropertyCheck.ForAll(shapes, s =>
        {
            if (s.c == 1 && s.size == 1) return; // one value per window: the output is 0 everywhere
            using var backend = new CpuBackend();
            var layer = new LocalContrastNormalization(backend, new LcnGeometry(s.c, s.h, s.w, s.size, s.sigma));
            counts += ReferenceGradient.CheckLayer(backend, layer, s.batch, [s.c, s.h, s.w], (ulong)s.seed);
        }, maxTests: 40);
        // The divisor max(floor, deviation) is a kink wherever a deviation meets its image's mean.
        counts.AssertFewSkipped("lcn", 0.05);
    }

    [Fact]
    public void Flatten_passes_values_and_gradients_through()
    {
        using var backend = new CpuBackend();
        var x = backend.Allocate(2, 3, 2, 2);
        backend.SampleGaussian(new RandomStream(1, 1), 0, 0f, 1f, x);
        var layer = new Flatten();
        Assert.Equal([12], layer.OutputShape([3, 2, 2]));
        var y = layer.Forward(x, ForwardContext.Inference);
        Assert.Equal([2, 12], y.Shape.ToArray());
        Assert.Equal(x.Span.ToArray(), y.Span.ToArray());
        var dx = layer.Backward(y, true)!;
        Assert.Equal([2, 3, 2, 2], dx.Shape.ToArray());
        ReferenceGradient.CheckLayer(backend, new Flatten(), 2, [3, 2, 2], 3);
    }

    /// <summary>Random blocks on images and vectors, with and without a projection, with every activation the block allows inside and after it.</summary>
    [Fact]
    public void Residual_gradients_match_the_double_precision_reference()
    {
        var counts = new ReferenceGradient.Counts();
        PropertyCheck.ForAll(ResidualBlockTests.RandomBlocks([Activation.Tanh, Activation.Sigmoid, Activation.Relu],
            [Activation.Tanh, Activation.Sigmoid, Activation.Relu, Activation.Identity]), s =>
        {
            using var backend = new CpuBackend();
            counts += ReferenceGradient.CheckLayer(backend, s.Build(backend), s.Batch, s.Input, (ulong)s.Seed);
        }, maxTests: 30);
        counts.AssertFewSkipped("residual", 0.02);
    }

    [Theory]
    [InlineData("softmax-cross-entropy")]
    [InlineData("binary-cross-entropy")]
    [InlineData("squared-error")]
    public void Loss_gradients_match_the_double_precision_reference(string kind) =>
        PropertyCheck.ForAll(Shapes, s =>
        {
            using var backend = new CpuBackend();
            var loss = LossFactory.Create(kind);
            int rows = s.Batch, columns = Math.Max(2, s.Units);
            var scores = backend.Allocate(rows, columns);
            backend.SampleGaussian(new RandomStream((ulong)s.Seed, 1), 0, 0f, 2f, scores);
            var targets = backend.Allocate(rows, columns);
            var t = targets.Span;
            var random = new System.Random(s.Seed);
            for (int r = 0; r < rows; r++)
            {
                // Soft targets for the softmax (one-hot is a special case), values in [0, 1] for the BCE, in [-2, 2] for squared error.
                double sum = 0;
                for (int j = 0; j < columns; j++) sum += t[r * columns + j] = kind == "squared-error" ? (float)(random.NextDouble() * 4 - 2) : (float)random.NextDouble();
                if (kind == "softmax-cross-entropy")
                    for (int j = 0; j < columns; j++) t[r * columns + j] /= (float)sum;
            }
            var predictions = backend.Allocate(rows, columns);
            var gradient = backend.Allocate(rows, columns);
            float value = loss.Compute(backend, scores, targets, predictions, gradient);
            var z = NaiveConvolution.Double(scores.Span.ToArray());
            var t64 = NaiveConvolution.Double(targets.Span.ToArray());
            double expected = DoubleReference.Loss(kind, z, t64, rows);
            Assert.True(Math.Abs(value - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"{kind}: loss {value:G9} vs {expected:G9}");
            ReferenceGradient.AssertMatches(gradient.Span.ToArray(), z, () => DoubleReference.Loss(kind, z, t64, rows), $"{kind} d/dscore");
        }, maxTests: 30);

    /// <summary>Each registered kind inside a small net (<see cref="LayerKindRegistryTests.NetAround"/>), trained mode with a fixed step: every parameter's loss gradient.</summary>
    [Theory]
    [MemberData(nameof(LayerKindRegistryTests.Kinds), MemberType = typeof(LayerKindRegistryTests))]
    public void Every_registered_kind_inside_a_net_matches_the_double_precision_reference(string kind)
    {
        using var backend = new CpuBackend();
        CheckKindInsideANet(backend, kind);
    }

    /// <summary>The check of one kind inside a net on any backend (the OpenCL tests run it on the device).</summary>
    internal static void CheckKindInsideANet(IBackend backend, string kind)
    {
        var net = new FeedForwardNet(backend, LayerKindRegistryTests.NetAround(LayerKinds.Find(kind)!.Example), seed: 5);
        int k = 0;
        foreach (var p in net.Parameters.Where(p => p.Role == ParameterRole.Bias))
            backend.SampleGaussian(new RandomStream(5, 9).Derive("bias", k++), 0, 0f, 0.3f, p.Value);
        var x = backend.Allocate(3, net.Spec.InputLength);
        backend.SampleGaussian(new RandomStream(5, 10), 0, 0f, 1f, x);
        var targets = backend.Allocate(3, 3);
        backend.Upload([1, 0, 0, 0, 1, 0, 0, 0, 1], targets);
        var counts = ReferenceGradient.CheckNet(net, x, targets, new ForwardContext(true, new RandomStream(5, 11), 2));
        counts.AssertFewSkipped(kind, 0.05);
    }

    /// <summary>A dense layer with one of its gradients 0.1 % too large: the mutations the check exists to catch.</summary>
    private sealed class OffByATenthOfAPercent(Dense inner, string which) : ILayer
    {
        public string Kind => inner.Kind;
        public IReadOnlyList<Parameter> Parameters => inner.Parameters;
        public int[] OutputShape(ReadOnlySpan<int> inputShape) => inner.OutputShape(inputShape);
        public Tensor Forward(Tensor input, in ForwardContext context) => inner.Forward(input, context);
        public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
        {
            var dx = inner.Backward(outputGradient, needInputGradient);
            var g = which switch { "dx" => dx!.Span, "weight" => inner.Weight.Gradient.Span, _ => inner.Bias.Gradient.Span };
            for (int i = 0; i < g.Length; i++) g[i] *= 1.001f;
            return dx;
        }
        public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData("dx", "dense d/dx")]
    [InlineData("weight", "dense.weight")]
    [InlineData("bias", "dense.bias")]
    public void A_gradient_off_by_a_tenth_of_a_percent_fails_the_check(string which, string named)
    {
        using var backend = new CpuBackend();
        var dense = RandomDense(backend, 6, 4, 11);
        ReferenceGradient.CheckLayer(backend, dense, 3, [6], 11);
        var e = Assert.ThrowsAny<XunitException>(() => ReferenceGradient.CheckLayer(backend, new OffByATenthOfAPercent(dense, which), 3, [6], 11, definedBy: dense));
        Assert.Contains(named, e.Message);
    }
}
