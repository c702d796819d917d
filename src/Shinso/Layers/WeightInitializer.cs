using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>How initial weights are drawn.</summary>
public enum WeightInit
{
    /// <summary>N(0, sigma^2) with a small fixed sigma (0.01 by default), as in the 2006-2012 papers.</summary>
    SmallGaussian,
    /// <summary>Glorot &amp; Bengio 2010, uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)).</summary>
    GlorotUniform,
    /// <summary>Glorot &amp; Bengio 2010, normal: sigma = sqrt(2 / (fanIn + fanOut)).</summary>
    GlorotNormal,
    /// <summary>He et al. 2015, for ReLU nets: sigma = sqrt(2 / fanIn).</summary>
    HeNormal,
}

/// <summary>Draws initial weights through the backend's Philox sampling, so a seed gives the same weights on every backend.</summary>
public static class WeightInitializer
{
    /// <summary>
    /// Fills <paramref name="weights"/> (fanIn x fanOut) by <paramref name="scheme"/> from stream
    /// <paramref name="stream"/>; <paramref name="sigma"/> applies to <see cref="WeightInit.SmallGaussian"/>.
    /// </summary>
    public static void Initialize(Tensor weights, WeightInit scheme, RandomStream stream, int fanIn, int fanOut, float sigma = 0.01f)
    {
        var backend = weights.Backend;
        switch (scheme)
        {
            case WeightInit.SmallGaussian:
                backend.SampleGaussian(stream, 0, 0f, sigma, weights);
                break;
            case WeightInit.GlorotNormal:
                backend.SampleGaussian(stream, 0, 0f, MathF.Sqrt(2f / (fanIn + fanOut)), weights);
                break;
            case WeightInit.HeNormal:
                backend.SampleGaussian(stream, 0, 0f, MathF.Sqrt(2f / fanIn), weights);
                break;
            case WeightInit.GlorotUniform:
            {
                float a = MathF.Sqrt(6f / (fanIn + fanOut));
                backend.SampleUniform(stream, 0, weights);
                backend.ScaleShift(weights, 2f * a, -a, weights);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown weight initialisation scheme.");
        }
    }

    /// <summary>Parses a scheme name: small-gaussian, glorot-uniform, glorot-normal or he-normal.</summary>
    public static WeightInit Parse(string name) => name switch
    {
        "small-gaussian" => WeightInit.SmallGaussian,
        "glorot-uniform" => WeightInit.GlorotUniform,
        "glorot-normal" => WeightInit.GlorotNormal,
        "he-normal" => WeightInit.HeNormal,
        _ => throw new ArgumentException(
            $"Unknown weight initialisation '{name}'; expected small-gaussian, glorot-uniform, glorot-normal or he-normal.", nameof(name)),
    };

    /// <summary>The name <see cref="Parse"/> accepts for <paramref name="scheme"/>.</summary>
    public static string Name(WeightInit scheme) => scheme switch
    {
        WeightInit.SmallGaussian => "small-gaussian",
        WeightInit.GlorotUniform => "glorot-uniform",
        WeightInit.GlorotNormal => "glorot-normal",
        _ => "he-normal",
    };
}
