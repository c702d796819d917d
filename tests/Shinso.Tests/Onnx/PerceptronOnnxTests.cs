using Shinso.Models.Perceptrons;
using Shinso.Onnx;
using Shinso.Tests.Models;

namespace Shinso.Tests.Onnx;

/// <summary>A trained perceptron exports as Gemm + GreaterOrEqual + Cast, and ONNX Runtime makes its decisions.</summary>
[Collection(OnnxCollection.Name)]
public sealed class PerceptronOnnxTests : IDisposable
{
    private readonly OnnxParity _parity;

    public PerceptronOnnxTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    [Fact]
    public void A_trained_perceptron_decides_the_same_in_onnx_runtime()
    {
        var (data, _, _) = PerceptronTests.SeparableData(200, 4, 0.1, seed: 5);
        var perceptron = new Perceptron(_parity.Backend, 4, 1);
        Assert.True(new PerceptronTrainer(perceptron, new PerceptronOptions { MaxEpochs = 1000 }).Fit(data).Converged);
        string path = _parity.NewPath("perceptron");
        OnnxExporter.Export(perceptron.Net, path, OnnxExportOptions.Default);
        _parity.Tools.Check(path);
        var ort = _parity.Tools.Run(path, data.Inputs, [data.Count, 4]).Output;
        var x = OnnxParity.Upload(_parity.Backend, data.Inputs, [data.Count, 4]);
        var scores = OnnxParity.Download(perceptron.Scores.Forward(x, Shinso.Layers.ForwardContext.Inference));
        // Converged on the training data: every decision is its target, and ONNX Runtime's decisions agree wherever the score
        // is not within rounding of the threshold.
        int compared = 0;
        for (int i = 0; i < data.Count; i++)
        {
            if (Math.Abs(scores[i]) < 1e-4f) continue;
            Assert.Equal(data.Targets[i], ort[i]);
            compared++;
        }
        Assert.True(compared >= data.Count * 95 / 100, $"only {compared} of {data.Count} scores are clear of the threshold");
    }
}
