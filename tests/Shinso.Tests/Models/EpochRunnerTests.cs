using Shinso.Backends;
using Shinso.Layers;
using Shinso.Training;

namespace Shinso.Tests.Models;

/// <summary>The family-neutral epoch driver: budget, validation, early stopping with the best parameters restored.</summary>
public class EpochRunnerTests
{
    [Fact]
    public void Early_stopping_fires_after_the_patience_and_restores_the_best_epochs_parameters()
    {
        using var backend = new CpuBackend();
        var p = new Parameter("w", backend.Allocate(2), ParameterRole.Weight);
        double[] validationLosses = [3.0, 2.0, 2.5, 2.6, 1.0];
        var completed = new List<EpochMetrics>();
        EpochMetrics TrainEpoch(int epoch)
        {
            backend.Upload([epoch + 1f, -(epoch + 1f)], p.Value); // the "parameters after epoch e"
            return new EpochMetrics(epoch + 1, 10 - epoch, null, null, null, 0.1, 100, 0.01f);
        }
        int validations = 0;
        var state = EpochRunner.Run(new TrainingState(), [p], epochs: 5, patience: 2, TrainEpoch,
            () => new Evaluation(validationLosses[validations++], 0.5), completed.Add);
        Assert.True(state.Stopped);
        Assert.Equal(4, state.EpochsDone); // epochs 3 and 4 did not beat epoch 2
        Assert.Equal(2, state.BestEpoch);
        Assert.Equal(2.0, state.BestValidationLoss);
        Assert.Equal([2f, -2f], p.Value.Span.ToArray());
        Assert.Equal([3.0, 2.0, 2.5, 2.6], completed.Select(m => m.ValidationLoss!.Value));
        Assert.Equal(completed, state.History);

        // A stopped run handed back does nothing more; without patience every epoch of the budget runs.
        EpochRunner.Run(state, [p], epochs: 5, patience: 2, TrainEpoch, null, completed.Add);
        Assert.Equal(4, completed.Count);
        var unlimited = EpochRunner.Run(new TrainingState(), [p], epochs: 3, patience: 0, TrainEpoch, () => new Evaluation(9, null), null);
        Assert.Equal((3, false), (unlimited.EpochsDone, unlimited.Stopped));
        Assert.All(unlimited.History, m => Assert.Equal(9, m.ValidationLoss));
    }
}
