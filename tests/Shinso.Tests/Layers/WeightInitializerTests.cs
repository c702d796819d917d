using Shinso.Backends;
using Shinso.Layers;
using Shinso.Random;

namespace Shinso.Tests.Layers;

/// <summary>Each initialisation scheme draws weights of the variance its paper gives, from the stream it is handed.</summary>
public class WeightInitializerTests
{
    [Theory]
    // scheme, fanIn, fanOut, the variance the scheme prescribes
    [InlineData(WeightInit.SmallGaussian, 300, 200, 1e-4)]           // sigma 0.01
    [InlineData(WeightInit.GlorotNormal, 300, 200, 2.0 / 500)]       // 2 / (fanIn + fanOut)
    [InlineData(WeightInit.GlorotUniform, 300, 200, 2.0 / 500)]      // a^2 / 3 with a = sqrt(6 / (fanIn + fanOut))
    [InlineData(WeightInit.HeNormal, 300, 200, 2.0 / 300)]           // 2 / fanIn
    [InlineData(WeightInit.HeNormal, 50, 800, 2.0 / 50)]
    public void Each_scheme_draws_zero_mean_weights_of_its_variance(WeightInit scheme, int fanIn, int fanOut, double variance)
    {
        using var backend = new CpuBackend();
        var weights = backend.Allocate(fanIn, fanOut);
        WeightInitializer.Initialize(weights, scheme, RandomStream.Root(11).Derive("layer-weights", 0), fanIn, fanOut);
        var w = weights.Span.ToArray();
        int n = w.Length;
        double mean = w.Average(v => (double)v);
        double sampleVariance = w.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        // Standard errors for n = 60,000 (40,000) draws: the mean's is sqrt(var / n), the variance's about var * sqrt(2 / n)
        // (Gaussian; smaller for the uniform). Five of them keep the test from flaking and still catch a wrong factor of 2
        // or a fanIn/fanOut mix-up, which move the variance by 40 % or more.
        Assert.True(Math.Abs(mean) < 5 * Math.Sqrt(variance / n), $"mean {mean:E3}");
        Assert.True(Math.Abs(sampleVariance / variance - 1) < 5 * Math.Sqrt(2.0 / n), $"variance {sampleVariance:E4}, expected {variance:E4}");
        if (scheme == WeightInit.GlorotUniform)
        {
            double a = Math.Sqrt(6.0 / (fanIn + fanOut));
            Assert.All(w, v => Assert.InRange(v, -a, a));
            Assert.True(w.Max() > 0.99 * a && w.Min() < -0.99 * a, "the draws should reach both ends of (-a, a)");
        }
    }

    [Fact]
    public void The_same_stream_gives_the_same_weights_and_another_stream_other_ones()
    {
        using var backend = new CpuBackend();
        float[] Draw(RandomStream stream)
        {
            var weights = backend.Allocate(20, 10);
            WeightInitializer.Initialize(weights, WeightInit.HeNormal, stream, 20, 10);
            return weights.Span.ToArray();
        }
        var root = RandomStream.Root(3);
        Assert.Equal(Draw(root.Derive("layer-weights", 0)), Draw(root.Derive("layer-weights", 0)));
        Assert.NotEqual(Draw(root.Derive("layer-weights", 0)), Draw(root.Derive("layer-weights", 1)));
    }
}
