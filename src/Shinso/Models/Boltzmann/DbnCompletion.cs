using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// Fills in the unobserved pixels of each sample from a deep belief net by clamped up-down sampling: the recognition weights
/// carry the current image up to the penultimate layer, one Gibbs step of the top RBM (labels free, as softmax
/// probabilities) moves it, the generative weights carry it back down, and the observed pixels are put back. The estimate
/// averages the bottom layer's conditional mean over the last <c>ceil(steps / 2)</c> steps.
/// </summary>
/// <remarks>
/// The up-pass is the DBN's approximate inference (its recognition weights), so this is Gibbs sampling of the DBN only
/// approximately; mean-field forms do not apply to the directed layers, and <see cref="Applicable"/> says so.
/// </remarks>
public static class DbnCompletion
{
    /// <summary>The methods that apply to a DBN: clamped up-down sampling, named <c>gibbs</c>.</summary>
    public static IReadOnlyList<CompletionMethod> Applicable { get; } = [CompletionMethod.Gibbs];

    /// <summary>Completes row-major <paramref name="data"/> ([N, visible], values in [0, 1]); observed entries (mask 1) are kept bit for bit.</summary>
    /// <exception cref="ArgumentException">A size or a mask value is wrong, or a value lies outside [0, 1].</exception>
    public static CompletionResult Complete(DeepBeliefNet dbn, ReadOnlySpan<float> data, ReadOnlySpan<float> observedMask, int steps, RandomStream stream,
        int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        dbn.ValidateData(data, nameof(data));
        int nv = dbn.VisibleCount;
        RbmCompletion.CheckMask(observedMask, data.Length, nv);
        var be = dbn.Backend;
        var ws = dbn.Workspace;
        var top = dbn.Top;
        int n = data.Length / nv, np = top.PenultimateCount, nt = top.TopCount, nl = top.LabelCount;
        var result = new float[data.Length];
        ulong counter = 0;
        int burnIn = steps / 2, kept = steps - burnIn;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = ws.Get("completion-data", rows, nv);
            var observed = ws.Get("completion-observed", rows, nv);
            var unobserved = ws.Get("completion-unobserved", rows, nv);
            var given = ws.Get("completion-given", rows, nv);
            var x = ws.Get("completion-image", rows, nv);
            var estimate = ws.Get("completion-estimate", rows, nv);
            var pen = ws.Get("completion-penultimate", rows, np);
            var topInput = ws.Get("completion-top-input", rows, nt);
            var topState = ws.Get("completion-top", rows, nt);
            var penInput = ws.Get("completion-penultimate-input", rows, np);
            var labels = ws.Get("completion-labels", rows, nl);
            be.Upload(data.Slice(start * nv, rows * nv), v);
            be.Upload(observedMask.Slice(start * nv, rows * nv), observed);
            be.ScaleShift(observed, -1f, 1f, unobserved);
            be.Multiply(v, observed, given);
            // Start from the observed pixels with the hidden ones at 0.5, and every label equally likely.
            be.ScaleShift(unobserved, 0.5f, 0f, x);
            be.Axpy(1f, given, x);
            be.Fill(labels, 1f / nl);
            be.Fill(estimate, 0f);
            for (int s = 0; s < steps; s++)
            {
                var up = dbn.Penultimate(x);
                be.SampleBernoulli(stream, counter, up, pen);
                counter += RestrictedBoltzmannMachine.BlocksFor(pen.Length);
                top.TopInput(pen, labels, topInput);
                be.SigmoidBernoulli(stream, counter, topInput, topInput, topState);
                counter += RestrictedBoltzmannMachine.BlocksFor(topState.Length);
                top.LabelProbabilities(topState, labels);
                top.PenultimateInput(topState, penInput);
                be.SigmoidBernoulli(stream, counter, penInput, penInput, pen);
                counter += RestrictedBoltzmannMachine.BlocksFor(pen.Length);
                var mean = dbn.Down(pen, stream, counter);
                for (int l = 1; l < dbn.Layers.Count; l++) counter += RestrictedBoltzmannMachine.BlocksFor(rows * dbn.Layers[l].BelowCount);
                be.Multiply(mean, unobserved, x);
                be.Axpy(1f, given, x);
                if (s >= burnIn) be.Axpy(1f / kept, mean, estimate);
            }
            be.Multiply(estimate, unobserved, estimate);
            be.Axpy(1f, given, estimate);
            be.Download(estimate, result.AsSpan(start * nv, rows * nv));
        }
        return new CompletionResult(result, steps, true);
    }
}
