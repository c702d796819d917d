using System.Diagnostics;
using Shinso.Data;
using Shinso.Profiling;
using Shinso.Random;

namespace Shinso.Training;

/// <summary>
/// One update of a model from the samples at <paramref name="indices"/> of its data set, in 0-based
/// <paramref name="epoch"/> (which selects the schedules): what a model family gives the shared epoch loop. Backprop,
/// CD-k, PCD and up-down are all such steps.
/// </summary>
/// <returns>The batch's loss (or reconstruction error) summed over its samples, NaN when not measured, and the samples it
/// classified correctly (0 when it does not classify).</returns>
public delegate BatchOutcome MinibatchStep(ReadOnlySpan<int> indices, int epoch);

/// <summary>What one minibatch update measured.</summary>
/// <param name="LossSum">The loss summed over the batch's samples (NaN when not measured).</param>
/// <param name="Correct">Samples classified correctly (0 when the model does not classify).</param>
public readonly record struct BatchOutcome(double LossSum, long Correct);

/// <summary>How the shared loop cuts an epoch into minibatches.</summary>
/// <param name="SampleCount">Samples in the data set.</param>
/// <param name="BatchSize">Samples per update: 0 for the whole set in one batch (full-batch learning), 1 for online learning.</param>
/// <param name="DropPartialBatch">Whether the last <c>SampleCount % BatchSize</c> samples of an epoch's order are skipped
/// (learners with fixed-size buffers: the Boltzmann trainers) or form a smaller last batch (backprop).</param>
/// <param name="Order">The stream of the epoch orders: epoch e visits <see cref="DeterministicShuffle.EpochPermutation(int, int, RandomStream)"/>(count, e,
/// Order). When the partial batch is kept and one batch holds every sample, the samples are visited in their stored order,
/// since that update does not depend on it.</param>
public sealed record MinibatchPlan(int SampleCount, int BatchSize, bool DropPartialBatch, RandomStream Order)
{
    /// <summary>
    /// Whether every step measures its loss, so that a NaN loss means divergence rather than "not measured" (an RBM that
    /// does not track its reconstruction error returns NaN by design). An infinite loss is divergence either way.
    /// </summary>
    public bool LossMeasured { get; init; } = true;

    /// <summary>Samples per update in this plan.</summary>
    public int EffectiveBatchSize => BatchSize == 0 ? SampleCount : DropPartialBatch ? BatchSize : Math.Min(BatchSize, SampleCount);

    /// <summary>Updates per epoch.</summary>
    public int BatchesPerEpoch
    {
        get
        {
            int b = EffectiveBatchSize;
            if (b <= 0) return 0;
            return DropPartialBatch ? SampleCount / b : (SampleCount + b - 1) / b;
        }
    }
}

/// <summary>What one epoch of the shared loop did.</summary>
/// <param name="Updates">Minibatch updates made.</param>
/// <param name="Samples">Samples visited.</param>
/// <param name="LossSum">The batches' losses summed over their samples.</param>
/// <param name="Correct">Samples classified correctly.</param>
/// <param name="Seconds">Wall-clock time of the epoch.</param>
public readonly record struct EpochOutcome(int Updates, int Samples, double LossSum, long Correct, double Seconds)
{
    /// <summary>The mean loss per visited sample (NaN when none was visited or the loss was not measured).</summary>
    public double MeanLoss => Samples == 0 ? double.NaN : LossSum / Samples;
}

/// <summary>
/// The epoch loop every family trains through: the epoch's seeded order, its minibatches (full, mini or online),
/// cancellation between updates, a progress callback after each (and a report to <see cref="WorkProgress.Listener"/>), a stop at the first non-finite loss, and the epoch's
/// summed metrics. The epochs around it,
/// validation, early stopping and checkpoints are <see cref="EpochRunner"/>'s.
/// </summary>
public static class EpochLoop
{
    /// <summary>Runs epoch <paramref name="epoch"/> of <paramref name="plan"/>, calling <paramref name="step"/> once per minibatch.</summary>
    /// <param name="step">The model's update.</param>
    /// <param name="plan">How the epoch is cut.</param>
    /// <param name="epoch">The 0-based epoch (selects the order and is passed to the step).</param>
    /// <param name="batchCompleted">Called after every update with (updates done, updates per epoch).</param>
    /// <param name="cancellation">Checked before every update.</param>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    /// <exception cref="TrainingDivergedException">A step's loss was infinite, or NaN where <see cref="MinibatchPlan.LossMeasured"/>.</exception>
    public static EpochOutcome Run(MinibatchStep step, MinibatchPlan plan, int epoch, Action<int, int>? batchCompleted = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(plan.SampleCount);
        ArgumentOutOfRangeException.ThrowIfNegative(plan.BatchSize);
        var clock = Stopwatch.StartNew();
        int batch = plan.EffectiveBatchSize, batches = plan.BatchesPerEpoch;
        int[] order = !plan.DropPartialBatch && batch >= plan.SampleCount
            ? Identity(plan.SampleCount)
            : DeterministicShuffle.EpochPermutation(plan.SampleCount, epoch, plan.Order);
        double lossSum = 0;
        long correct = 0;
        int samples = 0;
        string? task = null;
        for (int b = 0; b < batches; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            int start = b * batch;
            int rows = Math.Min(batch, plan.SampleCount - start);
            BatchOutcome outcome;
            using (Profiler.Step()) outcome = step(order.AsSpan(start, rows), epoch);
            if (double.IsInfinity(outcome.LossSum) || (plan.LossMeasured && double.IsNaN(outcome.LossSum)))
                throw new TrainingDivergedException(epoch + 1, b + 1, null, outcome.LossSum);
            lossSum += outcome.LossSum;
            correct += outcome.Correct;
            samples += rows;
            batchCompleted?.Invoke(b + 1, batches);
            if (WorkProgress.Listener is { } listener)
                listener(new WorkProgress(task ??= $"epoch {epoch + 1}", b + 1, batches, clock.Elapsed, samples, double.IsFinite(lossSum) ? lossSum / samples : null));
        }
        return new EpochOutcome(batches, samples, lossSum, correct, clock.Elapsed.TotalSeconds);
    }

    private static int[] Identity(int count)
    {
        var identity = new int[count];
        for (int i = 0; i < count; i++) identity[i] = i;
        return identity;
    }
}
