using System.Text.Json.Nodes;
using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Operations;
using Shinso.Random;

namespace Shinso.Tests.Layers;

/// <summary>Residual blocks <c>y = f(x + F(x))</c>: the input-gradient pass, shortcut projections, and the errors of blocks that cannot be built (their gradients are checked in <c>Gradients/</c>).</summary>
public sealed class ResidualBlockTests
{
    /// <summary>The block of <paramref name="spec"/> on samples of <paramref name="input"/>, built as the first layer of a net.</summary>
    private static ILayer Build(IBackend backend, ResidualSpec spec, int[] input, ulong seed) =>
        spec.Build(new LayerBuildContext(backend, input, 0, seed, []));

    /// <summary>A generated block: images or vectors, its body's size and depth, the activations inside and after it.</summary>
    internal sealed record RandomBlock(bool Image, int Batch, int Channels, int Side, int Filters, int Stride, int Depth, Activation Inner, Activation Outer, int Seed)
    {
        /// <summary>The per-sample input shape: [C, side, side] images or C*side vectors.</summary>
        public int[] Input => Image ? [Channels, Side, Side] : [Channels * Side];

        /// <summary>The block as the first layer of a net, its biases drawn at random (blocks start with zero biases).</summary>
        public ILayer Build(IBackend backend)
        {
            var body = new List<LayerSpec>();
            if (Image)
            {
                body.Add(LayerSpec.Conv(Filters, 3, stride: Stride, pad: 1, init: WeightInit.GlorotNormal));
                if (Depth == 2) body.AddRange([new ActivationSpec(Inner), LayerSpec.Conv(Filters, 3, pad: 1, init: WeightInit.GlorotNormal)]);
            }
            else
            {
                body.Add(LayerSpec.Dense(Filters * Side, WeightInit.GlorotNormal));
                if (Depth == 2) body.AddRange([new ActivationSpec(Inner), LayerSpec.Dense(Channels * Side, WeightInit.GlorotNormal)]);
            }
            var block = ResidualBlockTests.Build(backend, new ResidualSpec(body, Outer), Input, (ulong)Seed);
            int k = 0;
            foreach (var p in block.Parameters.Where(p => p.Role == ParameterRole.Bias))
                backend.SampleGaussian(new RandomStream((ulong)Seed, 3).Derive("bias", k++), 0, 0f, 0.5f, p.Value);
            return block;
        }
    }

    /// <summary>Random blocks on images and vectors, with and without a projection, with the given activations inside and after the body.</summary>
    internal static FsCheck.Gen<RandomBlock> RandomBlocks(Activation[] inner, Activation[] outer) =>
        from image in Gen.Elements(true, false)
        from batch in Gen.Choose(1, 3)
        from c in Gen.Choose(1, 3)
        from hw in Gen.Choose(3, 5)
        from filters in Gen.Choose(1, 3)
        from stride in Gen.Choose(1, 2)
        from depth in Gen.Choose(1, 2)
        from i in Gen.Elements(inner)
        from o in Gen.Elements(outer)
        from seed in Gen.Choose(0, 100000)
        select new RandomBlock(image, batch, c, hw, filters, stride, depth, i, o, seed);

    /// <summary>
    /// The input-gradient pass (which does not end the step) gives Backward's dL/dx. Backward itself is checked against
    /// the double-precision reference in <see cref="Gradients.LayerGradientTests.Residual_gradients_match_the_double_precision_reference"/>.
    /// </summary>
    [Fact]
    public void The_input_gradient_pass_matches_backward() =>
        PropertyCheck.ForAll(RandomBlocks([Activation.Tanh, Activation.Sigmoid], [Activation.Tanh, Activation.Sigmoid, Activation.Identity]), s =>
        {
            using var backend = new CpuBackend();
            Check(backend, s.Build(backend), s.Batch, s.Input.Aggregate(1, (a, b) => a * b), (ulong)s.Seed);
        }, maxTests: 30);

    /// <summary>InputGradient against Backward's dL/dx for the same output gradient.</summary>
    private static void Check(IBackend backend, ILayer layer, int batch, int inputs, ulong seed)
    {
        var x = backend.Allocate(batch, inputs);
        backend.SampleGaussian(new RandomStream(seed, 10), 0, 0f, 1f, x);
        var w = backend.Allocate(layer.Forward(x, ForwardContext.Inference).Shape.ToArray());
        backend.SampleGaussian(new RandomStream(seed, 11), 0, 0f, 1f, w);
        var dx = layer.Backward(w, needInputGradient: true)!.Span.ToArray();
        layer.Forward(x, ForwardContext.Inference);
        Assert.Equal(dx, layer.InputGradient(w).Span.ToArray());
    }

    [Fact]
    public void The_identity_shortcut_adds_the_input_and_a_strided_projection_maps_it_to_the_bodys_shape()
    {
        using var backend = new CpuBackend();
        var identity = (ResidualBlock)Build(backend, new ResidualSpec([LayerSpec.Conv(2, 3, pad: 1)], Activation.Identity), [2, 4, 4], 1);
        Assert.Null(identity.Projection);
        var x = backend.Allocate(2, 32);
        backend.SampleGaussian(new RandomStream(1, 1), 0, 0f, 1f, x);
        var host = x.Span.ToArray();
        var body = identity.Body[0].Forward(x.Reshape(2, 2, 4, 4), ForwardContext.Inference).Span.ToArray();
        var y = identity.Forward(x.Reshape(2, 2, 4, 4), ForwardContext.Inference).Span.ToArray();
        for (int i = 0; i < y.Length; i++) Assert.Equal(body[i] + host[i], y[i], 5);

        var strided = (ResidualBlock)Build(backend, new ResidualSpec([LayerSpec.Conv(4, 3, stride: 2, pad: 1)]), [2, 5, 5], 1);
        var projection = Assert.IsType<Conv2d>(strided.Projection);
        Assert.Equal([4, 3, 3], projection.OutputShape([2, 5, 5]));
        Assert.Equal(["layer0.body0.weight", "layer0.body0.bias", "layer0.projection.weight", "layer0.projection.bias"], strided.Parameters.Select(p => p.Name));

        var dense = (ResidualBlock)Build(backend, new ResidualSpec([LayerSpec.Dense(3)]), [5], 1);
        Assert.IsType<Dense>(dense.Projection);
    }

    [Fact]
    public void Blocks_that_cannot_be_built_are_errors_naming_the_key_or_both_shapes()
    {
        static FormatException Parse(string block) => Assert.Throws<FormatException>(() => FeedForwardSpec.FromJson(new StrictJson(
            JsonNode.Parse($$"""{"input":[2,6,6],"layers":[{{block}},{"type":"flatten"},{"type":"dense","units":2}]}"""), "arch.json")));
        Assert.Contains("layers[0].layers[1].type", Parse("""{"type":"residual","layers":[{"type":"conv","filters":2,"kernel":3,"pad":1},{"type":"dropout","rate":0.5}]}""").Message);
        Assert.Contains("layers[0].layers", Parse("""{"type":"residual","layers":[]}""").Message);
        Assert.Contains("layers[0].activation", Parse("""{"type":"residual","layers":[{"type":"relu"}],"activation":"softplus"}""").Message);
        var e = Assert.Throws<ArgumentException>(() => new FeedForwardSpec([2, 6, 6],
            [new ResidualSpec([LayerSpec.Conv(2, 3)]), LayerSpec.Of("flatten"), LayerSpec.Dense(2)], "softmax-cross-entropy").SampleShapes());
        Assert.Contains("[2, 6, 6] to [2, 4, 4]", e.Message);
        Assert.Throws<ArgumentException>(() => new ResidualSpec([LayerSpec.Dropout(0.5f)]));
        var valid = new ResidualSpec([LayerSpec.Dense(3)]);
        Assert.Throws<ArgumentException>(() => valid with { Body = [LayerSpec.Dropout(0.5f)] });
        // A body layer that does not fit its input is named by its place in the block.
        e = Assert.Throws<ArgumentException>(() => new FeedForwardSpec([2, 6, 6],
            [LayerSpec.Conv(2, 3, pad: 1), new ResidualSpec([LayerSpec.Conv(2, 3, pad: 1), LayerSpec.Conv(2, 9)]), LayerSpec.Of("flatten"), LayerSpec.Dense(2)], "softmax-cross-entropy").SampleShapes());
        Assert.Contains("Layer 1 (residual), body layer 1:", e.Message);
    }
}
