using Shinso.Models.ThresholdLogic;
using Shinso.Onnx;

namespace Shinso.Tests.Onnx;

/// <summary>McCulloch-Pitts threshold circuits: every input of NAND and of XOR from NAND gates, in Shinso and in ONNX Runtime.</summary>
[Collection(OnnxCollection.Name)]
public sealed class ThresholdLogicTests : IDisposable
{
    private static readonly float[] AllInputs = [0, 0, 0, 1, 1, 0, 1, 1];

    private readonly OnnxParity _parity;

    public ThresholdLogicTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    public static TheoryData<string, float[]> Circuits => new()
    {
        { "nand", [1, 1, 1, 0] },
        { "xor", [0, 1, 1, 0] },
    };

    [Theory]
    [MemberData(nameof(Circuits))]
    public void A_circuit_computes_its_truth_table_here_and_in_onnx_runtime(string circuit, float[] truthTable)
    {
        var net = circuit == "nand" ? ThresholdLogic.Nand(_parity.Backend) : ThresholdLogic.Xor(_parity.Backend);
        var x = OnnxParity.Upload(_parity.Backend, AllInputs, [4, 2]);
        var y = OnnxParity.Download(net.Forward(x, Shinso.Layers.ForwardContext.Inference));
        Assert.Equal(truthTable, y);
        string path = _parity.NewPath(circuit);
        OnnxExporter.Export(net, path, OnnxExportOptions.Default);
        _parity.Tools.Check(path);
        Assert.Equal(truthTable, _parity.Tools.Run(path, AllInputs, [4, 2]).Output);
    }

    [Fact]
    public void Backprop_moves_no_weight_below_a_step_unit()
    {
        // The step's derivative is 0: a squared-error gradient step leaves the first layer of XOR untouched.
        var net = ThresholdLogic.Xor(_parity.Backend);
        var before = OnnxParity.Download(net.Parameters[0].Value);
        var x = OnnxParity.Upload(_parity.Backend, AllInputs, [4, 2]);
        var t = OnnxParity.Upload(_parity.Backend, [1, 1, 1, 1], [4, 1]);
        net.Forward(x, new Shinso.Layers.ForwardContext(true, default, 0));
        net.ComputeLoss(t, out _);
        net.Backward();
        Assert.All(OnnxParity.Download(net.Parameters[0].Gradient), g => Assert.Equal(0f, g));
        new Shinso.Optimizers.Sgd(new Shinso.Optimizers.ConstantSchedule(1f)).Step(net.Parameters, 0);
        Assert.Equal(before, OnnxParity.Download(net.Parameters[0].Value));
    }
}
