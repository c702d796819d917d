using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Robustness;

/// <summary>The law of the noise added to every input value, independently, with standard deviation sigma.</summary>
public enum NoiseDistribution
{
    /// <summary>Normal, N(0, sigma²).</summary>
    Gaussian,

    /// <summary>Uniform on [-√3 sigma, √3 sigma] (the same variance).</summary>
    Uniform,
}

/// <summary>Draws noise on a backend: the same values for a stream on every backend and thread count.</summary>
public static class NoiseSampling
{
    private static readonly float Sqrt3 = MathF.Sqrt(3f);

    /// <summary>Fills <paramref name="destination"/> with noise of <paramref name="distribution"/> and standard deviation <paramref name="sigma"/> from position 0 of <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sigma"/> is negative or not finite.</exception>
    public static void Sample(IBackend backend, NoiseDistribution distribution, float sigma, RandomStream stream, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (!(sigma >= 0) || !float.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "A noise level is a finite standard deviation >= 0.");
        switch (distribution)
        {
            case NoiseDistribution.Gaussian:
                backend.SampleGaussian(stream, 0, 0f, sigma, destination);
                break;
            case NoiseDistribution.Uniform:
                backend.SampleUniform(stream, 0, destination);
                float half = Sqrt3 * sigma;
                backend.ScaleShift(destination, 2 * half, -half, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "Gaussian or uniform noise.");
        }
    }

    /// <summary>The distribution named <paramref name="name"/> (<c>gaussian</c> or <c>uniform</c>).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static NoiseDistribution Parse(string name) => name switch
    {
        "gaussian" => NoiseDistribution.Gaussian,
        "uniform" => NoiseDistribution.Uniform,
        _ => throw new ArgumentException($"Expected gaussian or uniform noise, got '{name}'.", nameof(name)),
    };
}
