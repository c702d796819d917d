using System.Numerics.Tensors;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;

namespace Shinso.Robustness;

/// <summary>
/// The conventional noise-robustness test the one-pass test replaces: classify K noisy copies of every input and count
/// the errors. Copy j of input n takes its noise from stream <c>stream.Derive("input", n).Derive("copies", j / CopiesPerPass)</c>,
/// so the copies are the same on every backend and thread count.
/// </summary>
public static class MonteCarloRobustness
{
    /// <summary>Noisy copies classified per pass (and per derived stream).</summary>
    public const int CopiesPerPass = 500;

    /// <summary>Classifies <paramref name="copies"/> noisy copies of every input of <paramref name="data"/>.</summary>
    /// <param name="net">A classifier: the largest of its raw scores is its answer (ties go to the lowest class).</param>
    /// <param name="data">The inputs and their labels.</param>
    /// <param name="noise">The law of the noise.</param>
    /// <param name="sigma">Its standard deviation per input value.</param>
    /// <param name="copies">K, the noisy copies per input.</param>
    /// <param name="stream">The stream the noise is derived from.</param>
    /// <exception cref="ArgumentException">The data does not fit the net, or the net has fewer than two outputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="copies"/> is not positive, or sigma is negative or not finite.</exception>
    public static MonteCarloEstimate Run(FeedForwardNet net, Dataset data, NoiseDistribution noise, float sigma, int copies, RandomStream stream)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        OnePassRobustness.CheckClassifier(net, data);
        int classes = net.Spec.OutputLength, width = net.Spec.InputLength;
        var backend = net.Backend;
        int rows = Math.Min(copies, CopiesPerPass);
        var noisy = backend.Allocate(rows, width);
        var clean = backend.Allocate(1, width);
        var scores = new float[rows * classes];
        var errors = new int[data.Count];
        for (int n = 0; n < data.Count; n++)
        {
            backend.Upload(data.Features.AsSpan(n * width, width), clean);
            var inputStream = stream.Derive("input", n);
            int label = data.Labels[n];
            for (int start = 0, pass = 0; start < copies; start += rows, pass++)
            {
                int batch = Math.Min(rows, copies - start);
                var view = noisy.SliceRows(0, batch);
                NoiseSampling.Sample(backend, noise, sigma, inputStream.Derive("copies", pass), view);
                backend.AddRowVector(view, clean);
                backend.Download(net.Forward(view, ForwardContext.Inference), scores.AsSpan(0, batch * classes));
                for (int j = 0; j < batch; j++)
                    if (TensorPrimitives.IndexOfMax(scores.AsSpan(j * classes, classes)) != label) errors[n]++;
            }
        }
        return new MonteCarloEstimate(copies, errors);
    }
}

/// <summary>The errors a Monte Carlo robustness test counted: per input, out of <see cref="Copies"/> noisy copies.</summary>
public sealed class MonteCarloEstimate
{
    /// <summary>The normal quantile of a two-sided 95 % interval.</summary>
    private const double Z95 = 1.959963984540054;

    private readonly int[] _errors;

    /// <summary>An estimate from <paramref name="errors"/> misclassified copies of each input, out of <paramref name="copies"/>.</summary>
    /// <exception cref="ArgumentException">A count is negative or above <paramref name="copies"/>.</exception>
    public MonteCarloEstimate(int copies, int[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        foreach (int e in errors)
            if ((uint)e > (uint)copies) throw new ArgumentException($"An input cannot have {e} errors among {copies} copies.", nameof(errors));
        Copies = copies;
        _errors = errors;
    }

    /// <summary>K, the copies per input.</summary>
    public int Copies { get; }

    /// <summary>The inputs.</summary>
    public int Count => _errors.Length;

    /// <summary>Misclassified copies of each input.</summary>
    public IReadOnlyList<int> Errors => _errors;

    /// <summary>The share of input <paramref name="input"/>'s copies that were misclassified.</summary>
    public double Rate(int input) => (double)_errors[input] / Copies;

    /// <summary>The misclassification rate over every copy of every input.</summary>
    public double Rate()
    {
        long total = 0;
        foreach (int e in _errors) total += e;
        return Count == 0 ? 0 : (double)total / ((long)Count * Copies);
    }

    /// <summary>
    /// A 95 % interval for the rate's expectation over the noise (the inputs fixed): the rate plus or minus 1.96 standard
    /// errors, its variance <c>Σ_n p_n(1 - p_n) / (K - 1) / N²</c> from the per-input rates. Where every input's copies
    /// agree (no spread to measure), Wilson's score interval for the pooled count.
    /// </summary>
    public (double Lower, double Upper) ConfidenceInterval()
    {
        if (Count == 0) return (0, 1);
        double rate = Rate(), variance = 0;
        if (Copies > 1)
            foreach (int e in _errors)
            {
                double p = (double)e / Copies;
                variance += p * (1 - p) / (Copies - 1);
            }
        variance /= (double)Count * Count;
        if (variance == 0) return Wilson(rate, (double)Count * Copies);
        double half = Z95 * Math.Sqrt(variance);
        return (Math.Max(0, rate - half), Math.Min(1, rate + half));
    }

    /// <summary>Wilson's 95 % score interval for input <paramref name="input"/>'s misclassification probability.</summary>
    public (double Lower, double Upper) ConfidenceInterval(int input) => Wilson(Rate(input), Copies);

    /// <summary>
    /// How per-input estimates (such as the one-pass test's) agree with these counts: the share of inputs whose estimate
    /// lies inside their Wilson interval, the mean absolute difference from their rates, and the correlation with them.
    /// </summary>
    /// <exception cref="ArgumentException">The estimates are not one per input.</exception>
    public (double InsideInterval, double MeanAbsoluteDifference, double Correlation) Agreement(ReadOnlySpan<double> estimates)
    {
        if (estimates.Length != Count) throw new ArgumentException($"Expected {Count} estimates, one per input, got {estimates.Length}.", nameof(estimates));
        if (Count == 0) return (double.NaN, double.NaN, double.NaN);
        int inside = 0;
        double absolute = 0, meanEstimate = 0, meanRate = 0;
        for (int n = 0; n < Count; n++)
        {
            var (lower, upper) = ConfidenceInterval(n);
            if (estimates[n] >= lower && estimates[n] <= upper) inside++;
            absolute += Math.Abs(estimates[n] - Rate(n));
            meanEstimate += estimates[n];
            meanRate += Rate(n);
        }
        meanEstimate /= Count;
        meanRate /= Count;
        double covariance = 0, varianceEstimate = 0, varianceRate = 0;
        for (int n = 0; n < Count; n++)
        {
            double a = estimates[n] - meanEstimate, b = Rate(n) - meanRate;
            covariance += a * b;
            varianceEstimate += a * a;
            varianceRate += b * b;
        }
        double correlation = varianceEstimate > 0 && varianceRate > 0 ? covariance / Math.Sqrt(varianceEstimate * varianceRate) : double.NaN;
        return ((double)inside / Count, absolute / Count, correlation);
    }

    private static (double Lower, double Upper) Wilson(double rate, double trials)
    {
        double z2 = Z95 * Z95;
        double centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials);
        double half = Z95 * Math.Sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials);
        // At a rate of 0 or 1 the interval's end is that rate exactly (the formula rounds to a hair inside it).
        return (rate == 0 ? 0 : Math.Max(0, centre - half), rate == 1 ? 1 : Math.Min(1, centre + half));
    }
}
