using FsCheck;
using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Onnx;

namespace Shinso.Tests.Onnx;

/// <summary>Random architectures, exported with random options, pass onnx.checker and agree with ONNX Runtime.</summary>
[Collection(OnnxCollection.Name)]
public sealed class OnnxPropertyTests : IDisposable
{
    private static readonly string[] Losses = ["softmax-cross-entropy", "binary-cross-entropy", "squared-error"];
    private static readonly string[] Activations = ["sigmoid", "tanh", "relu", "abs"];

    private readonly OnnxParity _parity;

    public OnnxPropertyTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    /// <summary>One generated case: an architecture, export options, a batch size and a seed for weights and inputs.</summary>
    public sealed record Case(FeedForwardSpec Spec, OnnxExportOptions Options, int Batch, int Seed)
    {
        public override string ToString() =>
            $"{OnnxExporter.Summary(Spec)} opset {Options.Opset} {Options.Dense} batch {Batch} seed {Seed}";
    }

    private static Gen<OnnxExportOptions> Options() =>
        from opset in Gen.Choose(OnnxExporter.MinOpset, OnnxExporter.MaxOpset)
        from dense in Gen.Elements(DenseOperator.Gemm, DenseOperator.MatMulAdd)
        select new OnnxExportOptions { Opset = opset, Dense = dense };

    /// <summary>An optional activation, dropout or softmax after a layer.</summary>
    private static Gen<LayerSpec[]> Decoration() =>
        Gen.OneOf(
            Gen.Constant(Array.Empty<LayerSpec>()),
            Gen.Elements(Activations).Select(a => new[] { LayerSpec.Of(a) }),
            Gen.Elements(Activations).Select(a => new[] { LayerSpec.Of(a), LayerSpec.Dropout(0.5f) }),
            Gen.Constant(new[] { LayerSpec.Of("softmax") }));

    private static Gen<LayerSpec[]> DenseBlock() =>
        from units in Gen.Choose(1, 12)
        from init in Gen.Elements(WeightInit.HeNormal, WeightInit.GlorotUniform)
        from after in Decoration()
        select (LayerSpec[])[LayerSpec.Dense(units, init), .. after];

    private static Gen<Case> Mlps() =>
        from input in Gen.Choose(1, 3).SelectMany(rank => Gen.ArrayOf(Gen.Choose(1, 5), rank))
        from blocks in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(DenseBlock(), n))
        from loss in Gen.Elements(Losses)
        from options in Options()
        from batch in Gen.Choose(1, 4)
        from seed in Gen.Choose(0, 100_000)
        select new Case(new FeedForwardSpec(input, [.. blocks.SelectMany(b => b)], loss), options, batch, seed);

    /// <summary>A layer that keeps an image an image: activation, pooling or normalization.</summary>
    private static Gen<LayerSpec> ImageLayer() =>
        Gen.OneOf(
            Gen.Elements(Activations).Select(LayerSpec.Of),
            from type in Gen.Elements("maxpool", "avgpool", "lppool")
            from size in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 3)
            from pad in Gen.Choose(0, size / 2)
            from ceil in Gen.Elements(true, false)
            from p in Gen.Elements(1f, 2f, 3f, 1.5f)
            select LayerSpec.Pool(type, size, stride, pad, ceil, p),
            from size in Gen.Choose(1, 4)
            select LayerSpec.Lrn(size, 0.1f, 0.75f, 1f),
            from size in Gen.Elements(1, 3, 5)
            from sigma in Gen.Elements(0.5f, 1f, 2f)
            select LayerSpec.Lcn(size, sigma));

    private static Gen<LayerSpec[]> ConvBlock() =>
        from filters in Gen.Choose(1, 4)
        from kernel in Gen.Choose(1, 3)
        from stride in Gen.Choose(1, 2)
        from pad in Gen.Choose(0, kernel / 2)
        from after in Gen.Choose(0, 2).SelectMany(n => Gen.ArrayOf(ImageLayer(), n))
        select (LayerSpec[])[LayerSpec.Conv(filters, kernel, stride, pad), .. after];

    private static Gen<Case> Cnns() =>
        (from channels in Gen.Choose(1, 3)
         from height in Gen.Choose(3, 9)
         from width in Gen.Choose(3, 9)
         from blocks in Gen.Choose(1, 2).SelectMany(n => Gen.ArrayOf(ConvBlock(), n))
         from flatten in Gen.Elements(true, false)
         from head in DenseBlock()
         from loss in Gen.Elements(Losses)
         from options in Options()
         from batch in Gen.Choose(1, 3)
         from seed in Gen.Choose(0, 100_000)
         let layers = (LayerSpec[])[.. blocks.SelectMany(b => b), .. flatten ? [LayerSpec.Of("flatten")] : Array.Empty<LayerSpec>(), .. head]
         select new Case(new FeedForwardSpec([channels, height, width], layers, loss), options, batch, seed))
        .Where(Fits);

    /// <summary>
    /// Whether every layer's shape works out (a window can outgrow a shrunken image), and no local contrast normalization
    /// sees one value per window (one channel, and a 1x1 window or a 1x1 map): its output is then 0 by definition and
    /// rounding noise over the 1e-4 floor in any float evaluation, which no two runtimes can agree on.
    /// </summary>
    private static bool Fits(Case c)
    {
        try
        {
            var shapes = c.Spec.SampleShapes();
            for (int i = 0; i < c.Spec.Layers.Count; i++)
            {
                var input = i == 0 ? c.Spec.InputShape : shapes[i - 1];
                if (c.Spec.Layers[i] is LcnSpec lcn && input[0] == 1 && (lcn.Size == 1 || input[1] * input[2] == 1)) return false;
            }
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void Agrees(Case c)
    {
        var net = new FeedForwardNet(_parity.Backend, c.Spec, (ulong)c.Seed);
        OnnxParity.RandomizeBiases(net, c.Seed);
        // Random stacks can feed a constant image (e.g. ReLU of all-negative values) to local contrast normalization,
        // whose 0/0 is NaN in Shinso and must be NaN in the export too.
        // Others are finite but ill-conditioned (LCN of a near-constant map divides rounding by its floor): their bound is
        // the measured sensitivity to a few ulp of input, and few cases may need it.
        _parity.ExportAndCompare(net, c.Options, c.Batch, c.Seed, "property", allowNaN: true, measureConditioning: true);
        if (!Array.TrueForAll(_parity.LastOutputs, float.IsFinite)) _degenerateCases++;
        if (_parity.LastIllConditioned) _illConditionedCases++;
        if (_parity.LastImportWidened) _importWidenedCases++;
    }

    private int _degenerateCases, _illConditionedCases, _importWidenedCases;

    /// <summary>Runs <paramref name="cases"/> and bounds how many had non-finite outputs or needed a conditioning bound:
    /// NaN agrees with NaN, and a widened bound compares less, so a run of mostly such cases would test next to nothing.</summary>
    private void AgreesOnMostlyFiniteCases(FsCheck.Gen<Case> cases, int count)
    {
        _degenerateCases = _illConditionedCases = _importWidenedCases = 0;
        PropertyCheck.ForAll(cases, Agrees, maxTests: count);
        Assert.True(_degenerateCases <= count / 10, $"{_degenerateCases} of {count} cases had non-finite outputs");
        Assert.True(_illConditionedCases <= count / 10, $"{_illConditionedCases} of {count} cases were too ill-conditioned for the fixed bounds");
        // The import check's 1e-6 is about 8 ulp: a third of random nets move more than a quarter of that under a 4-ulp input
        // change (5-15 of 50 over seven seeds), so this bound is looser; most cases still meet the fixed one.
        Assert.True(_importWidenedCases <= 2 * count / 5, $"{_importWidenedCases} of {count} cases needed a wider bound against their own import");
    }

    [Fact]
    public void Random_dense_and_activation_stacks_agree_with_onnx_runtime() => AgreesOnMostlyFiniteCases(Mlps(), 50);

    [Fact]
    public void Random_small_conv_stacks_agree_with_onnx_runtime() => AgreesOnMostlyFiniteCases(Cnns(), 50);
}
