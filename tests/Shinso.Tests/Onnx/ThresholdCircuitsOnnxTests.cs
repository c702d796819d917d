using Shinso.Models.ThresholdLogic;
using Shinso.Onnx;
using Shinso.Tests.Models;

namespace Shinso.Tests.Onnx;

/// <summary>McCulloch-Pitts threshold circuits in ONNX Runtime: every input of NAND and of XOR from NAND gates; the step at its boundary.</summary>
[Collection(OnnxCollection.Name)]
public sealed class ThresholdCircuitsOnnxTests : IDisposable
{
    private readonly OnnxParity _parity;

    public ThresholdCircuitsOnnxTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    [Theory]
    [MemberData(nameof(ThresholdCircuitsTests.Circuits), MemberType = typeof(ThresholdCircuitsTests))]
    public void A_circuit_computes_its_truth_table_in_onnx_runtime(string circuit, float[] truthTable)
    {
        var net = circuit == "nand" ? ThresholdCircuits.Nand(_parity.Backend) : ThresholdCircuits.Xor(_parity.Backend);
        string path = _parity.NewPath(circuit);
        OnnxExporter.Export(net, path, OnnxExportOptions.Default);
        _parity.Tools.Check(path);
        Assert.Equal(truthTable, _parity.Tools.Run(path, ThresholdCircuitsTests.AllInputs, [4, 2]).Output);
    }

    [Fact]
    public void The_exported_step_fires_at_zero_and_not_for_nan_as_shinso_does()
    {
        // A one-unit net whose score is its first input: step(x0).
        var net = ThresholdCircuits.Nand(_parity.Backend);
        var dense = (Shinso.Layers.Dense)net.Layers[0];
        _parity.Backend.Upload([1f, 0f], dense.Weight.Value);
        _parity.Backend.Upload([0f], dense.Bias.Value);
        float[] inputs = [0f, 0f, -0f, 0f, float.NaN, 0f, float.PositiveInfinity, 0f, float.NegativeInfinity, 0f, 1e-45f, 0f, -1e-45f, 0f];
        string path = _parity.NewPath("step-boundary");
        OnnxExporter.Export(net, path, OnnxExportOptions.Default);
        var ort = _parity.Tools.Run(path, inputs, [7, 2]).Output;
        var shinso = OnnxParity.Download(net.Forward(OnnxParity.Upload(_parity.Backend, inputs, [7, 2]), Shinso.Layers.ForwardContext.Inference));
        Assert.Equal(new float[] { 1, 1, 0, 1, 0, 1, 0 }, shinso);
        Assert.Equal(shinso, ort);
    }
}
