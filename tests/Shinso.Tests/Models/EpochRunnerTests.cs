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

    [Fact]
    public void A_parameter_that_turns_non_finite_stops_the_run_before_that_epochs_callback()
    {
        using var backend = new CpuBackend();
        var w = new Parameter("layer.weight", backend.Allocate(3), ParameterRole.Weight);
        var b = new Parameter("layer.bias", backend.Allocate(1), ParameterRole.Bias);
        var completed = new List<int>();
        EpochMetrics TrainEpoch(int epoch)
        {
            // Epoch 3 (0-based 2) overflows the bias while its reported loss stays finite.
            backend.Upload(epoch == 2 ? [float.PositiveInfinity] : [1f], b.Value);
            return new EpochMetrics(epoch + 1, 1.0, null, null, null, 0.1, 100, 0.01f);
        }
        var state = new TrainingState();
        var e = Assert.Throws<TrainingDivergedException>(() => EpochRunner.Run(state, [w, b], epochs: 5, patience: 0, TrainEpoch, null, m => completed.Add(m.Epoch)));
        Assert.Equal((3, "layer.bias", (int?)null), (e.Epoch, e.Parameter, e.Step));
        Assert.Equal(double.PositiveInfinity, e.Value);
        Assert.Equal("training diverged: parameter 'layer.bias' holds Infinity after epoch 3.", e.Message);
        Assert.Equal([1, 2], completed); // the diverged epoch neither counts nor reaches the checkpoint callback
        Assert.Equal(2, state.EpochsDone);
    }

    [Fact]
    public void An_optimizer_moment_that_turns_non_finite_stops_the_run_though_every_parameter_is_finite()
    {
        using var backend = new CpuBackend();
        var w = new Parameter("layer.weight", backend.Allocate(3), ParameterRole.Weight);
        var optimizer = new Shinso.Optimizers.Adam(new Shinso.Optimizers.ConstantSchedule(1e-3f));
        var completed = new List<int>();
        EpochMetrics TrainEpoch(int epoch)
        {
            backend.Upload([0.5f, -0.5f, 0.25f], w.Gradient);
            optimizer.Step([w], epoch);
            // Epoch 2 (0-based 1) leaves a second moment that overflowed: the weights stay finite this epoch, the next step would not.
            if (epoch == 1)
            {
                var (name, moment) = optimizer.State([w]).Last();
                backend.Upload([1f, float.PositiveInfinity, 1f], moment);
            }
            return new EpochMetrics(epoch + 1, 1.0, null, null, null, 0.1, 100, 0.01f);
        }
        var state = new TrainingState();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            EpochRunner.Run(state, [w], epochs: 4, patience: 0, TrainEpoch, null, m => completed.Add(m.Epoch), optimizer: optimizer));
        Assert.Equal(2, e.Epoch);
        Assert.StartsWith("optimizer/layer.weight/", e.Parameter);
        Assert.Equal([1], completed); // the epoch that left the bad moment never reaches its checkpoint
        var host = new float[3];
        backend.Download(w.Value, host);
        Assert.All(host, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void A_non_finite_loss_stops_the_epoch_at_that_update_unless_the_loss_is_not_measured()
    {
        var order = global::Shinso.Random.RandomStream.Root(1).Derive("epoch-order");
        int calls = 0;
        BatchOutcome Step(ReadOnlySpan<int> indices, int epoch) => new(++calls == 3 ? double.NaN : 1.0, 0);
        var e = Assert.Throws<TrainingDivergedException>(() => EpochLoop.Run(Step, new MinibatchPlan(10, 2, false, order), epoch: 4));
        Assert.Equal((5, (int?)3, (string?)null), (e.Epoch, e.Step, e.Parameter));
        Assert.Equal(3, calls);
        Assert.StartsWith("training diverged: the loss is NaN at update 3 of epoch 5.", e.Message);

        // NaN is "not measured" where the plan says so (an RBM not tracking its reconstruction error); infinity never is.
        calls = 0;
        var outcome = EpochLoop.Run(Step, new MinibatchPlan(10, 2, false, order) { LossMeasured = false }, epoch: 0);
        Assert.Equal(5, outcome.Updates);
        calls = 0;
        BatchOutcome Infinite(ReadOnlySpan<int> indices, int epoch) => new(++calls == 2 ? double.NegativeInfinity : double.NaN, 0);
        Assert.Equal(2, Assert.Throws<TrainingDivergedException>(() => EpochLoop.Run(Infinite, new MinibatchPlan(10, 2, false, order) { LossMeasured = false }, 0)).Step);
    }

    [Fact]
    public void An_rbm_whose_parameters_turn_nan_stops_with_the_parameter_named()
    {
        // A NaN that enters one unit's bias spreads through the Gibbs chain into the weights within an epoch; the run
        // must stop at that epoch whatever the RBM reports as its (untracked) reconstruction error.
        using var backend = new CpuBackend();
        var rbm = new global::Shinso.Models.Boltzmann.RestrictedBoltzmannMachine(backend, 6, 4, seed: 1);
        backend.Upload([float.NaN, 0, 0, 0], rbm.HiddenBias);
        var random = new System.Random(2);
        var data = new global::Shinso.Data.Dataset([.. Enumerable.Range(0, 60).Select(_ => random.NextDouble() < 0.5 ? 1f : 0f)], new int[10], 1, 6);
        var trainer = new global::Shinso.Models.Boltzmann.ContrastiveDivergence(rbm, new global::Shinso.Models.Boltzmann.RbmTrainingOptions
        {
            BatchSize = 5, LearningRate = 0.1f, Seed = 3, TrackReconstructionError = false,
        });
        var e = Assert.Throws<TrainingDivergedException>(() =>
            EpochRunner.Run(new TrainingState(), trainer.Parameters, 20, 0, epoch => EpochMetrics.Unsupervised(epoch, trainer.TrainEpoch(data, epoch).ReconstructionError, 10, 0, 1f), null, null));
        Assert.Equal(1, e.Epoch);
        Assert.NotNull(e.Parameter);
        Assert.Contains(e.Parameter, trainer.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void A_divergence_placed_in_a_stage_says_so_once_and_keeps_its_figures()
    {
        var inner = new TrainingDivergedException(2, 7, null, double.NaN);
        var staged = inner.InStage("greedy layer 1").WithDetail("Lower --lr.");
        Assert.Equal(("greedy layer 1", 2, (int?)7), (staged.Stage, staged.Epoch, staged.Step));
        Assert.Equal("training diverged in greedy layer 1: the loss is NaN at update 7 of epoch 2. Lower --lr.", staged.Message);
        Assert.Same(staged, staged.InStage("up-down")); // the innermost phase names it
    }
}

