using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.ThresholdLogic;
using Shinso.Operations;
using Shinso.Optimizers;

namespace Shinso.Tests.Models;

/// <summary>McCulloch-Pitts threshold circuits and the step unit they are made of.</summary>
public class ThresholdCircuitsTests
{
    internal static readonly float[] AllInputs = [0, 0, 0, 1, 1, 0, 1, 1];

    public static TheoryData<string, float[]> Circuits => new()
    {
        { "nand", [1, 1, 1, 0] },
        { "xor", [0, 1, 1, 0] },
    };

    [Theory]
    [MemberData(nameof(Circuits))]
    public void A_circuit_computes_its_truth_table(string circuit, float[] truthTable)
    {
        using var backend = new CpuBackend();
        var net = circuit == "nand" ? ThresholdCircuits.Nand(backend) : ThresholdCircuits.Xor(backend);
        var x = backend.Allocate(4, 2);
        backend.Upload(AllInputs, x);
        var y = new float[4];
        backend.Download(net.Forward(x, ForwardContext.Inference), y);
        Assert.Equal(truthTable, y);
    }

    [Fact]
    public void Backprop_moves_no_weight_below_a_step_unit()
    {
        // The step's derivative is 0: a squared-error gradient step leaves the first layer of XOR untouched.
        using var backend = new CpuBackend();
        var net = ThresholdCircuits.Xor(backend);
        var before = net.Parameters[0].Value.Span.ToArray();
        var x = backend.Allocate(4, 2);
        backend.Upload(AllInputs, x);
        var t = backend.Allocate(4, 1);
        backend.Upload([1f, 1f, 1f, 1f], t);
        net.Forward(x, new ForwardContext(true, default, 0));
        net.ComputeLoss(t, out _);
        net.Backward();
        Assert.All(net.Parameters[0].Gradient.Span.ToArray(), g => Assert.Equal(0f, g));
        new Sgd(new ConstantSchedule(1f)).Step(net.Parameters, 0);
        Assert.Equal(before, net.Parameters[0].Value.Span.ToArray());
    }

    public static TheoryData<SimdPath> Paths => Shinso.Tests.Kernels.KernelTestData.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void The_step_fires_from_zero_up_and_never_for_nan_on_every_path(SimdPath path)
    {
        float[] specials = [float.NaN, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, 1e-45f, -1e-45f, 1f, -1f];
        float[] expected = [0, 1, 1, 1, 0, 1, 0, 1, 0];
        // Repeated past every vector width, so the wide bodies and the tails both see each value.
        var x = Enumerable.Range(0, 67).Select(i => specials[i % specials.Length]).ToArray();
        var y = new float[x.Length];
        Activations.Activate(Activation.Step, x, y, new CpuKernelOptions(path, 1));
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i % specials.Length], y[i]);
    }
}
