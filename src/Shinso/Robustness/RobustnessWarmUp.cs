using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Random;

namespace Shinso.Robustness;

/// <summary>
/// Runs the one-pass and the Monte Carlo test on a few inputs before they are timed against each other, so that neither
/// timing includes the JIT compiling, and tiering up, code the other one ran first.
/// </summary>
public static class RobustnessWarmUp
{
    /// <summary>Inputs each warm-up round tests.</summary>
    public const int Inputs = OnePassRobustness.DefaultBatch;

    /// <summary>Noisy copies per input in a warm-up round of the Monte Carlo test.</summary>
    public const int Copies = 16;

    /// <summary>Rounds of both tests: the runtime recompiles a method with full optimisation after it has run a few times.</summary>
    public const int Rounds = 3;

    /// <summary>Warms both tests up on the first <see cref="Inputs"/> inputs of <paramref name="data"/>; the results are discarded.</summary>
    /// <param name="net">The classifier to be tested.</param>
    /// <param name="data">The inputs to be tested.</param>
    /// <param name="competitors">The one-pass test's competitors per input.</param>
    /// <param name="noise">The Monte Carlo test's noise law.</param>
    /// <param name="stream">The warm-up's own stream, apart from the timed test's.</param>
    /// <param name="threads">The integrals' threads, as the timed test will use them (0: one per core).</param>
    public static void Run(FeedForwardNet net, Dataset data, int competitors, NoiseDistribution noise, RandomStream stream, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) return;
        var few = data.Take(Math.Min(data.Count, Inputs));
        for (int round = 0; round < Rounds; round++)
        {
            OnePassRobustness.Linearize(net, few, competitors).MisclassificationProbabilities(WarmUpSigma, threads);
            MonteCarloRobustness.Run(net, few, noise, (float)WarmUpSigma, Copies, stream.Derive("round", round));
        }
    }

    /// <summary>A noise level large enough that the orthant integrals run rather than their shortcuts.</summary>
    private const double WarmUpSigma = 0.3;
}
