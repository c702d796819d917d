using Shinso.Layers;
using Shinso.Optimizers;
using Shinso.Training;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// Where greedy layer-wise training keeps the stage it is in the middle of, so that a run cut off part-way through a stage
/// resumes it from its last finished epoch instead of its start (<see cref="GreedyLayerwiseTraining.Train"/>).
/// </summary>
public interface IGreedyStageStore
{
    /// <summary>
    /// Called after every epoch of stage <paramref name="stage"/> (0..L-1 the directed layers, L the top RBM) with everything the
    /// rest of the stage depends on: the trainer's parameters, its optimizer's state, the epochs done and the sampler's counter.
    /// </summary>
    void Save(int stage, TrainingState state, IReadOnlyList<Parameter> parameters, Optimizer optimizer, ulong counter);

    /// <summary>
    /// Restores what <see cref="Save"/> last wrote for <paramref name="stage"/> into <paramref name="parameters"/> and
    /// <paramref name="optimizer"/> and returns the loop's state and the sampler's counter; null when nothing of that stage is saved.
    /// </summary>
    (TrainingState State, ulong Counter)? Restore(int stage, IReadOnlyList<Parameter> parameters, Optimizer optimizer);
}
