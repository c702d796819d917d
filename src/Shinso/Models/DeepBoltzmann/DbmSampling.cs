using Shinso.Models.Boltzmann;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>Samples from a <see cref="DeepBoltzmannMachine"/> by running Gibbs chains, free or with a label clamped on each.</summary>
public static class DbmSampling
{
    /// <summary>
    /// Runs <paramref name="steps"/> full Gibbs sweeps on <paramref name="chains"/> chains that start from <paramref name="starts"/>
    /// (row-major, [chains, n_0], values in [0, 1]; the hidden layers sampled from one mean-field sweep on them) and returns
    /// <c>p(v | h1)</c> of the final state, row-major.
    /// </summary>
    /// <param name="dbm">The machine.</param>
    /// <param name="starts">The chains' first visible states.</param>
    /// <param name="chains">Chains, run as the rows of one batch.</param>
    /// <param name="steps">Full sweeps (0 returns the reconstruction of the start).</param>
    /// <param name="stream">The sampler's stream.</param>
    /// <param name="clampedLabels">For a machine with labels: each chain's label, held fixed (label-clamped samples), or null to let the
    /// label group be sampled with the rest.</param>
    /// <param name="progress">Called after each sweep with the number done.</param>
    /// <exception cref="ArgumentException">A size is wrong, a value lies outside [0, 1], a label is out of range, or labels are given
    /// for a machine without label units.</exception>
    public static float[] Sample(DeepBoltzmannMachine dbm, ReadOnlySpan<float> starts, int chains, int steps, RandomStream stream,
        IReadOnlyList<int>? clampedLabels = null, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chains);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (starts.Length != chains * dbm.VisibleCount)
            throw new ArgumentException($"{starts.Length} start values for {chains} chains of {dbm.VisibleCount} visible units.", nameof(starts));
        dbm.ValidateData(starts, nameof(starts));
        if (clampedLabels is not null)
        {
            if (!dbm.HasLabels) throw new ArgumentException("The DBM has no label units to clamp.", nameof(clampedLabels));
            CheckLabels(dbm, clampedLabels, chains, nameof(clampedLabels));
        }
        var be = dbm.Backend;
        var (states, probabilities) = Allocate(dbm, chains);
        be.Upload(starts, states[0]);
        int layers = dbm.LayerSizes.Count;
        Tensor? clamped = clampedLabels is null ? null : UploadLabels(dbm, clampedLabels, states[dbm.LabelGroup]);
        var means = new Tensor[layers - 1];
        for (int k = 1; k < layers; k++) means[k - 1] = probabilities[k];
        var inferredLabels = dbm.HasLabels && clamped is null ? probabilities[dbm.LabelGroup] : null;
        dbm.MeanField(states[0], means, new DbmMeanFieldOptions(1, 0), labels: clamped, labelMeans: inferredLabels);
        ulong counter = dbm.SampleHiddenFromMeans(means, inferredLabels, states, stream, 0);
        return Run(dbm, states, probabilities, steps, stream, counter, clamped is not null, progress);
    }

    private static void CheckLabels(DeepBoltzmannMachine dbm, IReadOnlyList<int> labels, int chains, string name)
    {
        if (labels.Count != chains) throw new ArgumentException($"{labels.Count} labels for {chains} chains.", name);
        for (int i = 0; i < chains; i++)
            if ((uint)labels[i] >= (uint)dbm.LabelCount)
                throw new ArgumentException($"Label {labels[i]} of chain {i} is outside 0..{dbm.LabelCount - 1}.", name);
    }

    private static (Tensor[] States, Tensor[] Probabilities) Allocate(DeepBoltzmannMachine dbm, int chains)
    {
        var states = new Tensor[dbm.GroupCount];
        var probabilities = new Tensor[dbm.GroupCount];
        for (int g = 0; g < states.Length; g++)
        {
            states[g] = dbm.Backend.Allocate(chains, dbm.GroupSize(g));
            probabilities[g] = dbm.Backend.Allocate(chains, dbm.GroupSize(g));
        }
        return (states, probabilities);
    }

    private static Tensor UploadLabels(DeepBoltzmannMachine dbm, IReadOnlyList<int> labels, Tensor destination)
    {
        var oneHot = new float[labels.Count * dbm.LabelCount];
        for (int i = 0; i < labels.Count; i++) oneHot[i * dbm.LabelCount + labels[i]] = 1f;
        dbm.Backend.Upload(oneHot, destination);
        return destination;
    }

    private static float[] Run(DeepBoltzmannMachine dbm, Tensor[] states, Tensor[] probabilities, int steps, RandomStream stream, ulong counter, bool clampLabels,
        Action<int>? progress)
    {
        var be = dbm.Backend;
        for (int s = 0; s < steps; s++)
        {
            counter = dbm.GibbsSweep(states, probabilities, stream, counter, clampLabels: clampLabels);
            progress?.Invoke(s + 1);
        }
        // p(v | h1) of the final state (also when no sweep ran).
        dbm.LayerInput(0, null, states[1], probabilities[0]);
        be.Activate(Activation.Sigmoid, probabilities[0], probabilities[0]);
        return RestrictedBoltzmannMachine.Download(probabilities[0]);
    }
}
