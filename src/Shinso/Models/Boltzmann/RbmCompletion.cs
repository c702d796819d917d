using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.Boltzmann;

/// <summary>How <see cref="RbmCompletion"/> infers the unobserved visible units.</summary>
public enum CompletionMethod
{
    /// <summary>Block Gibbs sampling with the observed units clamped; the estimate averages <c>E[v | h]</c> over the chain's second half.</summary>
    Gibbs,

    /// <summary>Naive mean-field (<see cref="MeanFieldMethod.Naive"/>): the unobserved units' mean-field means.</summary>
    MeanField,

    /// <summary>Mean-field with the Gaussian visible layer integrated out (<see cref="MeanFieldMethod.Marginalized"/>); Gaussian units only.</summary>
    MarginalizedMeanField,
}

/// <summary>What <see cref="RbmCompletion.Complete"/> produced.</summary>
/// <param name="Values">[N, visible]: observed values kept bit for bit, the others estimated.</param>
/// <param name="Iterations">Mean-field: the most iterations any batch ran; Gibbs: the steps.</param>
/// <param name="Converged">Mean-field: whether every batch met the tolerance within the cap; Gibbs: always true.</param>
public sealed record CompletionResult(float[] Values, int Iterations, bool Converged);

/// <summary>Fills in the unobserved visible units of each sample from an RBM: image completion.</summary>
public static class RbmCompletion
{
    /// <summary>The command-line name of a method: <c>gibbs</c>, <c>mean-field</c>, <c>marginalized-mean-field</c>.</summary>
    public static string Name(CompletionMethod method) => method switch
    {
        CompletionMethod.Gibbs => "gibbs",
        CompletionMethod.MeanField => "mean-field",
        _ => "marginalized-mean-field",
    };

    /// <summary>The method named <paramref name="name"/>, or null.</summary>
    public static CompletionMethod? Parse(string name) =>
        Enum.GetValues<CompletionMethod>().Cast<CompletionMethod?>().FirstOrDefault(m => Name(m!.Value) == name);

    /// <summary>The methods that apply to <paramref name="rbm"/>: the marginalized form needs Gaussian visible units.</summary>
    public static IReadOnlyList<CompletionMethod> Applicable(RestrictedBoltzmannMachine rbm)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        return rbm.Units == VisibleUnits.Gaussian
            ? [CompletionMethod.Gibbs, CompletionMethod.MeanField, CompletionMethod.MarginalizedMeanField]
            : [CompletionMethod.Gibbs, CompletionMethod.MeanField];
    }

    /// <summary>
    /// Completes row-major <paramref name="data"/>: observed entries (mask 1) are kept bit for bit, the others replaced by the
    /// method's estimate of their mean given the observed ones.
    /// </summary>
    /// <param name="rbm">The machine.</param>
    /// <param name="data">[N, visible] samples in the model's units.</param>
    /// <param name="observedMask">[N, visible] of 1 (observed) and 0 (to fill in).</param>
    /// <param name="method">The inference method.</param>
    /// <param name="steps">Gibbs steps, or the mean-field iteration cap.</param>
    /// <param name="stream">The Gibbs chains' random stream (unused by mean-field).</param>
    /// <param name="batchSize">Rows per backend batch.</param>
    /// <exception cref="ArgumentException">The method does not apply to the machine, or a size or mask value is wrong.</exception>
    public static CompletionResult Complete(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> data, ReadOnlySpan<float> observedMask, CompletionMethod method,
        int steps, RandomStream stream, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (!Applicable(rbm).Contains(method))
            throw new ArgumentException($"Method '{Name(method)}' does not apply to an RBM with {rbm.Units} visible units; methods that apply: " +
                                        $"{string.Join(", ", Applicable(rbm).Select(Name))}.", nameof(method));
        int nv = rbm.VisibleCount;
        for (int k = 0; k < data.Length; k++)
            if (!float.IsFinite(data[k]))
                throw new ArgumentException($"Value {data[k]} at index {k} (sample {k / nv}, unit {k % nv}) is not finite; unobserved entries too must be finite.", nameof(data));
        if (data.Length % nv != 0) throw new ArgumentException($"{data.Length} values are not a whole number of samples of {nv} visible units.", nameof(data));
        CheckMask(observedMask, data.Length, nv);
        int n = data.Length / nv, nh = rbm.HiddenCount;
        var be = rbm.Backend;
        var ws = rbm.Workspace;
        var result = new float[data.Length];
        ulong counter = 0;
        int iterations = method == CompletionMethod.Gibbs ? steps : 0;
        bool converged = true;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = ws.Get("completion-data", rows, nv);
            var observed = ws.Get("completion-observed", rows, nv);
            var x = ws.Get("completion-estimate", rows, nv);
            be.Upload(data.Slice(start * nv, rows * nv), v);
            be.Upload(observedMask.Slice(start * nv, rows * nv), observed);
            if (method == CompletionMethod.Gibbs)
                counter = Gibbs(rbm, v, observed, x, steps, stream, counter);
            else
            {
                var h = ws.Get("completion-hidden-means", rows, nh);
                var family = method == CompletionMethod.MeanField ? MeanFieldMethod.Naive : MeanFieldMethod.Marginalized;
                var fit = RbmMeanField.Infer(rbm, v, observed, family, new MeanFieldOptions(MaxIterations: steps), h, x);
                iterations = Math.Max(iterations, fit.Iterations);
                converged &= fit.Converged;
            }
            be.Download(x, result.AsSpan(start * nv, rows * nv));
        }
        return new CompletionResult(result, iterations, converged);
    }

    /// <summary>Throws unless <paramref name="observedMask"/> holds one 0 or 1 per data value.</summary>
    internal static void CheckMask(ReadOnlySpan<float> observedMask, int dataLength, int visibleCount)
    {
        if (observedMask.Length != dataLength) throw new ArgumentException($"The mask has {observedMask.Length} values for {dataLength} data values.", nameof(observedMask));
        for (int k = 0; k < observedMask.Length; k++)
            if (observedMask[k] is not (0f or 1f))
                throw new ArgumentException($"Mask value {observedMask[k]} at index {k} (sample {k / visibleCount}, unit {k % visibleCount}) is neither 0 nor 1.", nameof(observedMask));
    }

    /// <summary>
    /// Clamped block Gibbs sampling: <c>h ~ p(h | x)</c>, <c>v ~ p(v | h)</c>, observed units reset to their values; the estimate is
    /// the average of <c>E[v | h]</c> over the last <c>ceil(steps / 2)</c> steps (Rao-Blackwellised: less noisy than averaging samples).
    /// </summary>
    private static ulong Gibbs(RestrictedBoltzmannMachine rbm, Tensor v, Tensor observed, Tensor estimate, int steps, RandomStream stream, ulong counter)
    {
        var be = rbm.Backend;
        var ws = rbm.Workspace;
        int rows = v.Rows, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var chain = ws.Get("completion-chain", rows, nv);
        var mean = ws.Get("completion-conditional-mean", rows, nv);
        var hp = ws.Get("completion-hidden-probabilities", rows, nh);
        var hs = ws.Get("completion-hidden-samples", rows, nh);
        RbmMeanField.PrepareUnobserved(rbm, observed);
        RbmMeanField.InitialVisible(rbm, v, observed, chain);
        be.Fill(estimate, 0f);
        int burnIn = steps / 2, kept = steps - burnIn;
        for (int s = 0; s < steps; s++)
        {
            counter += rbm.SampleHidden(chain, stream, counter, hp, hs);
            counter += rbm.SampleVisible(hs, stream, counter, mean, chain);
            RbmMeanField.Clamp(rbm, v, observed, chain);
            if (s >= burnIn) be.Axpy(1f / kept, mean, estimate);
        }
        RbmMeanField.Clamp(rbm, v, observed, estimate);
        return counter;
    }
}
