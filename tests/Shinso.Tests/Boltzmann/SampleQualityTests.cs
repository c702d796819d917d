using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;

namespace Shinso.Tests.Boltzmann;

public class SampleQualityTests
{
    [Fact]
    public void Blank_images_and_label_agreement_are_counted_exactly()
    {
        using var backend = new CpuBackend();
        // A classifier that picks class 0 when the left half is brighter, class 1 otherwise.
        var net = new FeedForwardNet(backend, new FeedForwardSpec([4], [LayerSpec.Dense(2)], "softmax-cross-entropy"), 1);
        var dense = (Dense)net.Layers[0];
        backend.Upload([1f, 0f, 1f, 0f, 0f, 1f, 0f, 1f], dense.Weight.Value);
        backend.Fill(dense.Bias.Value, 0f);
        float[] images =
        [
            0.9f, 0.8f, 0.1f, 0.0f, // left: class 0
            0.0f, 0.1f, 0.7f, 0.9f, // right: class 1
            0.0f, 0.0f, 0.1f, 0.0f, // mean 0.025: blank, reads as class 1
            0.5f, 0.5f, 0.0f, 0.0f, // left
            0.0f, 0.0f, 0.0f, 0.0f, // blank; a tie reads as class 0
            0.2f, 0.0f, 0.3f, 0.0f, // right
        ];
        int[] labels = [0, 0, 1, 1, 1, 1];
        var report = SampleQuality.Measure(images, labels, net);
        Assert.Equal(6, report.Count);
        Assert.Equal(2 / 6.0, report.BlankFraction, 12);
        // Agreeing: image 0 (0), image 2 (1), image 5 (1).
        Assert.Equal(3 / 6.0, report.LabelAgreement!.Value, 12);
        Assert.Null(SampleQuality.Measure(images, labels, null).LabelAgreement);
        Assert.Throws<ArgumentException>(() => SampleQuality.Measure(images.AsSpan(0, 7), labels, null));
    }
}
