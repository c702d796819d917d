using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Robustness;

namespace Shinso.Tests.OpenCL;

/// <summary>The robustness tests on the OpenCL device: the same linearisation and the same noisy copies as on the CPU.</summary>
[Collection(OpenClCollection.Name)]
public class OpenClRobustnessTests(TwinBackends twins)
{
    /// <summary>A net with the same random weights on a backend, and 60 random images labelled by a third of them wrongly.</summary>
    private static (FeedForwardNet Net, Dataset Data) Setup(IBackend backend, bool convolutional)
    {
        var spec = convolutional
            ? new FeedForwardSpec([1, 12, 12], [LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2), LayerSpec.Of("flatten"), LayerSpec.Dense(5)], "softmax-cross-entropy")
            : new FeedForwardSpec([144], [LayerSpec.Dense(16), LayerSpec.Of("tanh"), LayerSpec.Dense(5)], "softmax-cross-entropy");
        var net = new FeedForwardNet(backend, spec, 21);
        var random = new System.Random(8);
        var x = new float[60 * 144];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        var labels = new int[60];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(5);
        return (net, new Dataset(x, labels, 5, 144));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_one_pass_test_gives_the_same_probabilities_on_both_backends(bool convolutional)
    {
        var (cpuNet, data) = Setup(twins.Cpu, convolutional);
        var (deviceNet, _) = Setup(twins.Device, convolutional);
        var cpu = OnePassRobustness.Linearize(cpuNet, data, batch: 16);
        var device = OnePassRobustness.Linearize(deviceNet, data, batch: 16);
        int uncertain = 0;
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal(cpu.CompetitorClasses(i).ToArray(), device.CompetitorClasses(i).ToArray());
            for (int k = 0; k < cpu.Competitors; k++) Assert.Equal(cpu.Margins(i)[k], device.Margins(i)[k], 1e-4);
            foreach (double sigma in new[] { 0.3, 1, 3 })
            {
                double p = cpu.MisclassificationProbability(i, sigma);
                if (p is > 0.05 and < 0.95) uncertain++;
                Assert.Equal(p, device.MisclassificationProbability(i, sigma), 1e-3);
            }
        }
        Assert.True(uncertain >= 5, $"only {uncertain} (input, sigma) pairs with an uncertain outcome: the comparison would be vacuous");
    }

    [Fact]
    public void Monte_Carlo_copies_are_the_same_noise_on_both_backends()
    {
        var (cpuNet, data) = Setup(twins.Cpu, convolutional: true);
        var (deviceNet, _) = Setup(twins.Device, convolutional: true);
        var stream = RandomStream.Root(5).Derive("twin-noise");
        var cpu = MonteCarloRobustness.Run(cpuNet, data, NoiseDistribution.Gaussian, 2f, 600, stream);
        var device = MonteCarloRobustness.Run(deviceNet, data, NoiseDistribution.Gaussian, 2f, 600, stream);
        // The same copies: counts differ only where rounding tips a copy sitting on a decision boundary.
        int differing = 0, mixed = 0;
        for (int i = 0; i < data.Count; i++)
        {
            differing += Math.Abs(cpu.Errors[i] - device.Errors[i]);
            if (cpu.Errors[i] is > 0 and < 600) mixed++;
        }
        Assert.True(mixed >= 5, $"only {mixed} inputs whose copies disagree: the comparison would be vacuous");
        Assert.True(differing <= 3, $"{differing} copies classified differently out of {data.Count * 600}");
    }
}
