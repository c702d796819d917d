using Shinso.Models.Autoencoders;
using Shinso.Models.FeedForward;
using Shinso.Onnx;

namespace Shinso.Tests.Onnx;

/// <summary>An autoencoder file's encoder and decoder, exported as <c>shinso export --part</c> writes them, in ONNX Runtime.</summary>
[Collection(OnnxCollection.Name)]
public sealed class AutoencoderOnnxTests(OnnxToolchain tools) : IDisposable
{
    private readonly OnnxParity _parity = new(tools);

    public void Dispose() => _parity.Dispose();

    [Theory]
    [InlineData(RbmPart.Encoder)]
    [InlineData(RbmPart.Decoder)]
    public void Both_halves_of_a_tied_sparse_autoencoder_match_onnx_runtime(RbmPart part)
    {
        var spec = new FeedForwardSpec([20],
        [
            new NoiseSpec(Shinso.Layers.NoiseKind.Masking, 0.2f), LayerSpec.Dense(6, Shinso.Layers.WeightInit.GlorotUniform), LayerSpec.Of("sigmoid"), new SparsitySpec(),
            LayerSpec.Of("code"), LayerSpec.Dense(9, Shinso.Layers.WeightInit.GlorotUniform), LayerSpec.Of("tanh"), new TiedSpec(5), new TiedSpec(1),
        ], "binary-cross-entropy");
        var net = new FeedForwardNet(_parity.Backend, spec, seed: 12);
        OnnxParity.RandomizeBiases(net, 12);
        string model = Path.Combine(_parity.Folder, $"ae-{part}.shinso");
        Directory.CreateDirectory(_parity.Folder);
        FeedForwardModelFile.Save(net, model, kind: Autoencoder.FileKind);
        string onnx = _parity.NewPath("ae-" + part);
        OnnxExporter.ExportModelFile(model, onnx, OnnxExportOptions.Default with { RbmPart = part });
        tools.Check(onnx);
        var half = part == RbmPart.Encoder ? Autoencoder.Encoder(net) : Autoencoder.Decoder(net);
        const int batch = 4;
        var input = OnnxParity.RandomValues(batch * half.Spec.InputLength, 13, 0f, 1f);
        var expected = Autoencoder.Predict(half, input);
        var ort = tools.Run(onnx, input, [batch, half.Spec.InputLength]);
        Assert.Equal(batch * (part == RbmPart.Encoder ? 6 : 20), ort.Output.Length);
        OnnxParity.AssertClose(expected, ort.Output, $"autoencoder {part}");
        // The halves compose to the whole net.
        if (part == RbmPart.Decoder)
        {
            var x = OnnxParity.RandomValues(batch * 20, 14, 0f, 1f);
            var whole = Autoencoder.Predict(net, x);
            var composed = Autoencoder.Predict(half, Autoencoder.Predict(Autoencoder.Encoder(net), x));
            for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], composed[i], 1e-6f);
        }
    }
}
