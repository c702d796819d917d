using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Tests.Layers;

namespace Shinso.Tests.OpenCL;

/// <summary>Every registered layer kind, forward and backward on the CPU and the OpenCL device from the same seed.</summary>
[Collection(OpenClCollection.Name)]
public class LayerKindOpenClTests(TwinBackends twins)
{
    public static TheoryData<string> Kinds() => LayerKindRegistryTests.Kinds();

    /// <summary>The device's float32 gradients of a net around the kind against the double-precision reference (the CPU's own check is in <see cref="Gradients.LayerGradientTests"/>).</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_on_the_device_matches_the_double_precision_reference(string name) =>
        Gradients.LayerGradientTests.CheckKindInsideANet(twins.Device, name);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_gives_the_cpu_outputs_and_gradients_on_the_device(string name)
    {
        var spec = LayerKindRegistryTests.NetAround(LayerKinds.Find(name)!.Example);
        var cpu = new FeedForwardNet(twins.Cpu, spec, seed: 5);
        var device = new FeedForwardNet(twins.Device, spec, seed: 5);
        const int batch = 4;
        var input = Onnx.OnnxParity.RandomValues(batch * spec.InputLength, 17, -1f, 1f);
        var targets = new float[batch * 3];
        for (int r = 0; r < batch; r++) targets[r * 3 + r % 3] = 1f;
        var context = new ForwardContext(true, new RandomStream(9, 1), 0);
        var (xc, xd) = twins.Pair(input, batch, spec.InputLength);
        var (tc, td) = twins.Pair(targets, batch, 3);

        var outCpu = TwinBackends.Read(cpu.Forward(xc, context));
        var outDevice = TwinBackends.Read(device.Forward(xd, context));
        TwinBackends.AssertClose(outCpu, outDevice, 1e-4, 1e-5, $"{name}: scores");
        float lossCpu = cpu.ComputeLoss(tc, out _), lossDevice = device.ComputeLoss(td, out _);
        Assert.Equal(lossCpu, lossDevice, 1e-4f);
        cpu.Backward();
        device.Backward();
        Assert.Equal(cpu.Parameters.Count, device.Parameters.Count);
        for (int i = 0; i < cpu.Parameters.Count; i++)
            TwinBackends.AssertClose(TwinBackends.Read(cpu.Parameters[i].Gradient), TwinBackends.Read(device.Parameters[i].Gradient), 1e-3, 1e-5,
                $"{name}: gradient of {cpu.Parameters[i].Name}");
    }
}
