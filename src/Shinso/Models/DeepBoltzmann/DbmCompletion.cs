using Shinso.Models.Boltzmann;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>
/// Fills in the unobserved pixels of each sample from a deep Boltzmann machine: clamped Gibbs sweeps (the estimate averages
/// <c>p(v | h1)</c> over the chain's second half), or mean-field with the unobserved pixels as variational units beside the
/// hidden layers (<c>q(v_i) = sigmoid(b_0 + mu_1 W_0^T)_i</c> in turn with one sweep over the hidden layers).
/// </summary>
public static class DbmCompletion
{
    /// <summary>The methods that apply to a DBM.</summary>
    public static IReadOnlyList<CompletionMethod> Applicable { get; } = [CompletionMethod.Gibbs, CompletionMethod.MeanField];

    /// <summary>Completes row-major <paramref name="data"/> ([N, n_0], values in [0, 1]); observed entries (mask 1) are kept bit for bit.</summary>
    /// <param name="dbm">The machine.</param>
    /// <param name="data">The images.</param>
    /// <param name="observedMask">1 where a pixel is observed, 0 where it is to be filled in.</param>
    /// <param name="method">Gibbs or mean-field.</param>
    /// <param name="steps">Gibbs sweeps, or the mean-field iteration cap (converged when no pixel estimate moves by more than 1e-6).</param>
    /// <param name="stream">The sampler's stream (Gibbs).</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <exception cref="ArgumentException">A size or mask value is wrong, a value lies outside [0, 1], or the method does not apply.</exception>
    public static CompletionResult Complete(DeepBoltzmannMachine dbm, ReadOnlySpan<float> data, ReadOnlySpan<float> observedMask, CompletionMethod method,
        int steps, RandomStream stream, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (!Applicable.Contains(method))
            throw new ArgumentException($"{RbmCompletion.Name(method)} does not apply to a DBM; methods that apply: {string.Join(", ", Applicable.Select(RbmCompletion.Name))}.", nameof(method));
        dbm.ValidateData(data, nameof(data));
        int nv = dbm.VisibleCount;
        RbmCompletion.CheckMask(observedMask, data.Length, nv);
        var be = dbm.Backend;
        var ws = dbm.Workspace;
        int n = data.Length / nv, layers = dbm.LayerSizes.Count;
        var result = new float[data.Length];
        ulong counter = 0;
        int most = 0;
        bool allConverged = true;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var observed = ws.Get("completion-observed", rows, nv);
            var unobserved = ws.Get("completion-unobserved", rows, nv);
            var given = ws.Get("completion-given", rows, nv);
            var x = ws.Get("completion-image", rows, nv);
            var estimate = ws.Get("completion-estimate", rows, nv);
            be.Upload(data.Slice(start * nv, rows * nv), x);
            be.Upload(observedMask.Slice(start * nv, rows * nv), observed);
            be.ScaleShift(observed, -1f, 1f, unobserved);
            be.Multiply(x, observed, given);
            // The hidden pixels start at 0.5.
            be.ScaleShift(unobserved, 0.5f, 0f, x);
            be.Axpy(1f, given, x);
            var means = new Tensor[layers - 1];
            for (int k = 1; k < layers; k++) means[k - 1] = ws.Get("completion-means", k, rows, dbm.LayerSizes[k]);
            // The labels, where the machine has them, are unknown too: inferred beside the hidden layers.
            var labelMeans = dbm.HasLabels ? ws.Get("completion-label-means", rows, dbm.LabelCount) : null;
            dbm.MeanField(x, means, new DbmMeanFieldOptions(1, 0), labelMeans: labelMeans);
            if (method == CompletionMethod.MeanField)
            {
                var previous = new float[rows * nv];
                var current = new float[rows * nv];
                be.Download(x, previous);
                int iterations = 0;
                bool converged = false;
                while (iterations < steps && !converged)
                {
                    iterations++;
                    dbm.LayerInput(0, null, means[0], estimate);
                    be.Activate(Activation.Sigmoid, estimate, estimate);
                    be.Multiply(estimate, unobserved, x);
                    be.Axpy(1f, given, x);
                    dbm.MeanField(x, means, new DbmMeanFieldOptions(1, 0), startFromMeans: true, labelMeans: labelMeans);
                    be.Download(x, current);
                    double largest = 0;
                    for (int i = 0; i < current.Length; i++) largest = Math.Max(largest, Math.Abs(current[i] - previous[i]));
                    (previous, current) = (current, previous);
                    converged = largest <= 1e-6;
                }
                most = Math.Max(most, iterations);
                allConverged &= converged;
                be.Copy(x, estimate);
            }
            else
            {
                var states = new Tensor[dbm.GroupCount];
                var probabilities = new Tensor[dbm.GroupCount];
                for (int g = 0; g < states.Length; g++)
                {
                    states[g] = ws.Get("completion-states", g, rows, dbm.GroupSize(g));
                    probabilities[g] = ws.Get("completion-probabilities", g, rows, dbm.GroupSize(g));
                }
                // The chain starts from a sample of the mean-field start: the pixels as given, the hidden layers' bottom-up means.
                be.SampleBernoulli(stream, counter, x, states[0]);
                counter += DeepBoltzmannMachine.BlocksFor(states[0].Length);
                be.Multiply(states[0], unobserved, states[0]);
                be.Axpy(1f, given, states[0]);
                counter = dbm.SampleHiddenFromMeans(means, labelMeans, states, stream, counter);
                int burnIn = steps / 2, kept = steps - burnIn;
                be.Fill(estimate, 0f);
                for (int s = 0; s < steps; s++)
                {
                    counter = dbm.GibbsSweep(states, probabilities, stream, counter);
                    be.Multiply(states[0], unobserved, states[0]);
                    be.Axpy(1f, given, states[0]);
                    if (s >= burnIn) be.Axpy(1f / kept, probabilities[0], estimate);
                }
                most = steps;
                be.Multiply(estimate, unobserved, estimate);
                be.Axpy(1f, given, estimate);
            }
            be.Download(estimate, result.AsSpan(start * nv, rows * nv));
        }
        return new CompletionResult(result, most, method == CompletionMethod.Gibbs || allConverged);
    }
}
