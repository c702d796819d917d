using Shinso.Data;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>Hyper-parameters of a DBM's greedy pretraining.</summary>
public sealed record DbmPretrainingOptions
{
    /// <summary>CD options of every stage (the authors' code: rate 0.05, weight cost 0.001, momentum 0.5 then 0.9, CD-1);
    /// stage k samples and shuffles from <c>Root(Rbm.Seed).Derive("dbm-pretraining", k)</c>.</summary>
    public RbmTrainingOptions Rbm { get; init; } = new() { LearningRate = 0.05f, WeightDecay = 1e-3f, BatchSize = 100, Seed = 1 };

    /// <summary>Epochs per stage.</summary>
    public int Epochs { get; init; } = 10;
}

/// <summary>
/// Greedy layer-wise pretraining of a <see cref="DeepBoltzmannMachine"/> (Salakhutdinov &amp; Hinton 2009, section 3.1; Neural
/// Computation 2012, section 4): a stack of RBMs, each trained by CD on the hidden probabilities of the one below, modified so
/// that composing them does not count the evidence for a layer twice.
/// </summary>
/// <remarks>
/// <para>In the DBM every hidden layer but the top one gets input from below and from above; each RBM of the stack sees only one
/// side. So the bottom RBM uses the visible layer twice on its way up (<c>p(h1 | v) = sigmoid(2 v W + c)</c>, as in the authors'
/// code), the top RBM doubles its hidden side on the way down (<c>p(h_(L-1) | h_L) = sigmoid(2 h_L W^T + b)</c>), and a middle RBM of a
/// deeper machine is trained as an ordinary RBM and its weights halved when composed (an RBM with its weights doubled both
/// ways is an ordinary RBM with twice the weights). The weights then enter the DBM as they are (halved for middle stages).</para>
/// <para>A hidden layer between two RBMs takes the mean of the lower RBM's hidden biases and the upper one's visible biases: each RBM
/// supplies half of the layer's input, its bias included. The authors' code sums them (<c>hidbiases = hidbiases + visbiases_l2</c>);
/// on enumerable test models the mean gave exact log-likelihoods of -2.68 / -3.12 (2 / 3 hidden layers) against -4.03 / -9.00 for
/// the sum. The visible biases are the bottom RBM's and the top layer's the top RBM's hidden ones.</para>
/// <para>A machine with label units pretrains its top stage as an <see cref="AssociativeMemory"/>: the layer below and the one-hot
/// labels on one side, the top layer on the other, trained by CD on (codes, label) pairs, with the down pass to the codes doubled
/// as above and the labels' undoubled (they hear only the top layer in the DBM too). Its label weights and biases become the
/// machine's.</para>
/// </remarks>
public static class DbmPretraining
{
    /// <summary>Pretrains every stage of <paramref name="dbm"/> on <paramref name="data"/> (values in [0, 1]) and composes them.</summary>
    /// <param name="dbm">The machine; every parameter is replaced.</param>
    /// <param name="data">Training data.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="progress">Called after each epoch with the stage (0-based, bottom first) and its report.</param>
    /// <param name="stageStore">
    /// Keeps every stage after each of its epochs; each stage continues from what it restores (a finished stage restores all its
    /// epochs and trains no more), so a run cut off part-way ends with the parameters of an uninterrupted one.
    /// </param>
    /// <exception cref="ArgumentException">The data's feature count differs from the visible count, its class count from the machine's
    /// label units, or a value lies outside [0, 1].</exception>
    public static void Train(DeepBoltzmannMachine dbm, Dataset data, DbmPretrainingOptions options, Action<int, RbmEpochReport>? progress = null,
        IGreedyStageStore? stageStore = null)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Epochs, nameof(options));
        if (data.FeatureCount != dbm.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the DBM has {dbm.VisibleCount} visible units.", nameof(data));
        dbm.ValidateData(data.Features, nameof(data));
        var be = dbm.Backend;
        var sizes = dbm.LayerSizes;
        int stages = sizes.Count - 1;
        if (dbm.HasLabels && data.ClassCount != dbm.LabelCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the DBM has {dbm.LabelCount} label units.", nameof(data));
        var current = data;
        var rbms = new RestrictedBoltzmannMachine[dbm.HasLabels ? stages - 1 : stages];
        for (int k = 0; k < stages; k++)
        {
            var stage = RandomStream.Root(options.Rbm.Seed).Derive("dbm-pretraining", k);
            if (k == stages - 1 && dbm.HasLabels)
            {
                var memory = new AssociativeMemory(be, sizes[k], dbm.LabelCount, sizes[k + 1], RandomStream.Root(dbm.Seed).Derive("dbm-pretraining-weights", k))
                {
                    PenultimateDownwardScale = 2f,
                };
                var memoryTrainer = new AssociativeMemoryTrainer(memory, options.Rbm, stage);
                var codes = current.Features;
                RunStage(k, memoryTrainer.Parameters, memoryTrainer.Optimizer, () => memoryTrainer.Counter, c => memoryTrainer.Counter = c,
                    e => memoryTrainer.TrainEpoch(codes, current, e));
                Compose(dbm, rbms, memory);
                return;
            }
            var rbm = new RestrictedBoltzmannMachine(be, sizes[k], sizes[k + 1], VisibleUnits.Bernoulli, learnSigma: false, dbm.Seed,
                RandomStream.Root(dbm.Seed).Derive("dbm-pretraining-weights", k))
            {
                UpwardScale = k == 0 ? 2f : 1f,
                DownwardScale = k == stages - 1 ? 2f : 1f,
            };
            var trainer = new ContrastiveDivergence(rbm, options.Rbm, stage);
            var stageData = current;
            RunStage(k, trainer.Parameters, trainer.Optimizer, () => trainer.Counter, c => trainer.Counter = c, e => trainer.TrainEpoch(stageData, e));
            rbms[k] = rbm;
            if (k < stages - 1) current = GreedyLayerwiseTraining.HiddenProbabilities(rbm, current);
        }
        Compose(dbm, rbms, top: null);

        // One stage on the shared epoch runner, restored from and saved to the stage store.
        void RunStage(int index, IReadOnlyList<Shinso.Layers.Parameter> parameters, Shinso.Optimizers.Optimizer optimizer, Func<ulong> counter, Action<ulong> setCounter,
            Func<int, RbmEpochReport> epoch)
        {
            var state = new TrainingState();
            if (stageStore?.Restore(index, parameters, optimizer) is { } saved)
            {
                state = saved.State;
                setCounter(saved.Counter);
            }
            try
            {
                EpochRunner.Run(state, parameters, options.Epochs, patience: 0, e =>
                {
                    var report = epoch(e);
                    progress?.Invoke(index, report);
                    return EpochMetrics.Unsupervised(e, report.ReconstructionError, report.Updates * options.Rbm.BatchSize, report.Seconds, options.Rbm.LearningRate);
                }, null, _ => stageStore?.Save(index, state, parameters, optimizer, counter()), optimizer: optimizer);
            }
            catch (TrainingDivergedException e) { throw e.InStage($"DBM pretraining stage {index}"); }
        }
    }

    /// <summary>
    /// Puts the stack's parameters into <paramref name="dbm"/>: middle weights halved, shared layers' biases averaged. With
    /// <paramref name="top"/>, the labelled top stage, <paramref name="rbms"/> holds the stages below it.
    /// </summary>
    internal static void Compose(DeepBoltzmannMachine dbm, IReadOnlyList<RestrictedBoltzmannMachine> rbms, AssociativeMemory? top)
    {
        var be = dbm.Backend;
        int stages = rbms.Count + (top is null ? 0 : 1);
        // Stage k's weights, visible-side biases and hidden-side biases.
        Tensor Weights(int k) => k < rbms.Count ? rbms[k].Weights : top!.PenultimateWeights;
        Tensor VisibleBias(int k) => k < rbms.Count ? rbms[k].VisibleBias : top!.PenultimateBias;
        Tensor HiddenBias(int k) => k < rbms.Count ? rbms[k].HiddenBias : top!.TopBias;
        for (int k = 0; k < stages; k++)
        {
            bool middle = k > 0 && k < stages - 1;
            be.Axpby(middle ? 0.5f : 1f, Weights(k), 0f, dbm.Weights[k]);
        }
        be.Copy(VisibleBias(0), dbm.Biases[0]);
        for (int k = 1; k < stages; k++)
        {
            be.Axpby(0.5f, HiddenBias(k - 1), 0f, dbm.Biases[k]);
            be.Axpy(0.5f, VisibleBias(k), dbm.Biases[k]);
        }
        be.Copy(HiddenBias(stages - 1), dbm.Biases[stages]);
        if (top is not null)
        {
            be.Copy(top.LabelWeights, dbm.LabelWeights!);
            be.Copy(top.LabelBias, dbm.LabelBias!);
        }
    }
}
