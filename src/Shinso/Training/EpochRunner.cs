using Shinso.Layers;

namespace Shinso.Training;

/// <summary>
/// The epochs of a run, for every family: the budget, validation after each epoch, early stopping with the best
/// parameters restored, the per-epoch callback that writes a checkpoint, and cancellation. Each epoch itself is the
/// family's, run on <see cref="EpochLoop"/>; the run's position is a <see cref="TrainingState"/>, so a run resumes by
/// handing back the state its checkpoint holds. A model with values derived from its parameters (an RBM's sigma from its
/// log sigma) refreshes them after a run that stopped early, since the best parameters are restored as stored.
/// A validation loss that is NaN never counts as an improvement. A parameter that is not finite after an epoch stops the
/// run (<see cref="TrainingDivergedException"/>) before that epoch's callback, so its checkpoint is never written.
/// </summary>
public static class EpochRunner
{
    /// <summary>Trains epochs until <paramref name="epochs"/> are done or early stopping fires.</summary>
    /// <param name="state">The run's position (epochs done, early-stopping record, history); updated in place.</param>
    /// <param name="parameters">The parameters early stopping snapshots (host copies) and restores.</param>
    /// <param name="epochs">The budget: epochs in all, counting those already done.</param>
    /// <param name="patience">Epochs without a lower validation loss before stopping; 0 turns early stopping off.</param>
    /// <param name="trainEpoch">Trains 0-based epoch e and returns its training figures (validation fields null).</param>
    /// <param name="validate">The validation loss and accuracy after an epoch; null when the run has no validation set.</param>
    /// <param name="epochCompleted">Called after every epoch with its figures, validation included (checkpoints are written here).</param>
    /// <param name="cancellation">Checked before every epoch; <paramref name="trainEpoch"/> passes it on to <see cref="EpochLoop"/> to
    /// check it before every update.</param>
    /// <param name="optimizer">The optimizer moving <paramref name="parameters"/>: its state (velocities, moments, curvature
    /// factors) is checked with them, since a checkpoint holding a non-finite moment would diverge again when resumed.</param>
    /// <returns><paramref name="state"/>.</returns>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    /// <exception cref="TrainingDivergedException">A loss or, after an epoch, a parameter or an optimizer state tensor is not finite; the epoch is not counted
    /// and <paramref name="epochCompleted"/> is not called for it.</exception>
    public static TrainingState Run(TrainingState state, IReadOnlyList<Parameter> parameters, int epochs, int patience,
        Func<int, EpochMetrics> trainEpoch, Func<Evaluation>? validate, Action<EpochMetrics>? epochCompleted, CancellationToken cancellation = default,
        Optimizers.Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(trainEpoch);
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        while (state.EpochsDone < epochs && !state.Stopped)
        {
            cancellation.ThrowIfCancellationRequested();
            int epoch = state.EpochsDone;
            var metrics = trainEpoch(epoch);
            // Before the epoch counts (and its checkpoint is written): a loss can stay finite while a weight overflows.
            CheckFinite(parameters.Select(p => (p.Name, p.Value)), epoch);
            if (optimizer is not null) CheckFinite(optimizer.State(parameters).Select(s => ("optimizer/" + s.Name, s.Value)), epoch);
            Evaluation? validation = validate?.Invoke();
            if (validation is { } v) metrics = metrics with { ValidationLoss = v.Loss, ValidationAccuracy = v.Accuracy };
            state.EpochsDone++;
            state.History.Add(metrics);
            if (validation is { } val && patience > 0) TrackEarlyStopping(state, parameters, val.Loss, patience);
            epochCompleted?.Invoke(metrics);
        }
        if (state.Stopped) RestoreBest(state, parameters);
        return state;
    }

    /// <summary>Fails with the first tensor that holds NaN or an infinity (a host copy per device tensor, once an epoch).</summary>
    private static void CheckFinite(IEnumerable<(string Name, Tensors.Tensor Value)> tensors, int epoch)
    {
        float[]? host = null;
        foreach (var (name, tensor) in tensors)
        {
            // Host tensors are read in place; device tensors come back through one reused buffer.
            ReadOnlySpan<float> values;
            if (tensor.IsHost) values = tensor.Span;
            else
            {
                if (host is null || host.Length < tensor.Length) host = new float[tensor.Length];
                tensor.Backend.Download(tensor, host.AsSpan(0, tensor.Length));
                values = host.AsSpan(0, tensor.Length);
            }
            foreach (float v in values)
                if (!float.IsFinite(v)) throw new TrainingDivergedException(epoch + 1, null, name, v);
        }
    }

    private static void TrackEarlyStopping(TrainingState state, IReadOnlyList<Parameter> parameters, double validationLoss, int patience)
    {
        if (validationLoss < state.BestValidationLoss)
        {
            state.BestValidationLoss = validationLoss;
            state.BestEpoch = state.EpochsDone;
            foreach (var p in parameters)
            {
                var copy = new float[p.Value.Length];
                p.Value.Backend.Download(p.Value, copy);
                state.BestParameters[p.Name] = copy;
            }
        }
        else if (state.EpochsDone - state.BestEpoch >= patience)
        {
            state.Stopped = true;
        }
    }

    private static void RestoreBest(TrainingState state, IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (state.BestParameters.TryGetValue(p.Name, out var best)) p.Value.Backend.Upload(best, p.Value);
    }
}
