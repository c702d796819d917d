using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>A named DBM run: greedy pretraining, then joint training, on binarised images.</summary>
/// <param name="LayerSizes">n_0 (the data) through n_L.</param>
/// <param name="Pretraining">Greedy pretraining (0 epochs skips it).</param>
/// <param name="Joint">Joint training.</param>
/// <param name="Epochs">Joint-training epochs.</param>
/// <param name="BinarizeThreshold">Pixels above this grey value become 1 (train and test alike).</param>
/// <param name="AisRuns">AIS runs for log Z after training.</param>
/// <param name="FineTuning">Backprop of the unrolled net (<see cref="DbmFineTuning"/>); its architecture is ignored, 0 epochs skips it.</param>
/// <param name="FineTuningDropout">Dropout after each hidden layer of the unrolled net during fine-tuning.</param>
/// <param name="LabelUnits">Whether the machine has softmax label units on its top layer, one per class of the training data.</param>
public sealed record DbmPreset(int[] LayerSizes, DbmPretrainingOptions Pretraining, DbmTrainingOptions Joint, int Epochs, float BinarizeThreshold = 0.5f,
    int AisRuns = 100, TrainingConfig? FineTuning = null, float FineTuningDropout = 0f, bool LabelUnits = false);

/// <summary>The DBM presets <c>shinso train</c> accepts.</summary>
public static class DbmPresets
{
    /// <summary>Preset names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["dbm-2layer", "dbm-3layer"];

    /// <summary>The preset called <paramref name="name"/>, or null.</summary>
    /// <remarks>
    /// Salakhutdinov &amp; Hinton's MNIST machines (784-500-1000; the 2012 paper's 784-500-500-1000) with their joint-training
    /// defaults (<see cref="DbmTrainingOptions"/>; the third layer's sparsity target repeats the second's 0.1). The authors train 100
    /// epochs per RBM and 300-500 joint epochs; the presets' budgets are what a 2-core machine runs in minutes, so
    /// <c>--epochs</c> and <c>--pretrain-epochs</c> lengthen them.
    /// <para>One change from the authors' schedule, chosen on a 50,000 / 10,000 split of the training images: the momentum stays
    /// at 0.5. Their switch to 0.9 after five epochs multiplies the step by ten on binarised Fashion-MNIST, whose images turn on
    /// far more pixels than MNIST's digits: the mean-field reconstruction error jumped from 19.1 to 32.7 at the switch and the
    /// validation bound ended at -245.2 nats, against -117.4 with 0.5 throughout (10 + 10 epochs each).</para>
    /// </remarks>
    public static DbmPreset? Find(string name) => name switch
    {
        "dbm-2layer" => new DbmPreset([784, 500, 1000], new DbmPretrainingOptions { Epochs = 10 }, new DbmTrainingOptions { FinalMomentum = 0.5f }, Epochs: 10,
            FineTuning: FineTuningConfig, FineTuningDropout: 0.3f),
        "dbm-3layer" => new DbmPreset([784, 500, 500, 1000], new DbmPretrainingOptions { Epochs = 10 }, new DbmTrainingOptions { FinalMomentum = 0.5f, SparsityTargets = [0.2f, 0.1f, 0.1f] },
            Epochs: 10, FineTuning: FineTuningConfig, FineTuningDropout: 0.3f),
        _ => null,
    };

    /// <summary>
    /// Fine-tuning by momentum SGD with dropout 0.3 on the hidden units, the recipe of the <c>dbn-mnist</c> preset's backprop phase
    /// for its pretrained sigmoid net, for 60 epochs. On the 50,000 / 10,000 split (after 10 + 10 generative epochs) the net on
    /// binarised pixels reached 85.49 % (30 epochs) and 86.42 % (60), on grey pixels 88.87 % and 90.07 %: the classifier reads
    /// the grey pixels and 60 epochs (four recipes tried).
    /// </summary>
    private static TrainingConfig FineTuningConfig => new()
    {
        Architecture = new FeedForwardSpec([1], [LayerSpec.Dense(1)], "softmax-cross-entropy"),
        Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.1f, MomentumStart = 0.9f, MomentumEnd = 0.9f },
        Training = new TrainingOptions { Epochs = 60, BatchSize = 100, Seed = 1 },
    };
}

/// <summary>
/// A DBM preset as a resumable run on the shared <see cref="EpochRunner"/>: greedy pretraining, then joint training with a
/// checkpoint when it starts, after pretraining and after every joint epoch (the machine, the optimizer's velocities and step
/// count, the persistent chains, the sparsity penalty's running means and the sampler's position), and each pretraining stage's
/// file after every epoch of the stage, so a resumed run ends with exactly the parameters of an uninterrupted one.
/// </summary>
public static class DbmRun
{
    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.shinso";

    private const string CheckpointKind = DbmModelFile.Kind + "-checkpoint";

    /// <summary>Trains <paramref name="preset"/> on <paramref name="train"/> (values in [0, 1]), checkpointing into <paramref name="outDirectory"/>.</summary>
    /// <param name="name">The preset's name, for the progress line.</param>
    /// <param name="preset">The run; a resumed run must have been started with the same layer sizes and hyper-parameters.</param>
    /// <param name="backend">Where the machine lives.</param>
    /// <param name="train">The training data.</param>
    /// <param name="outDirectory">The run folder.</param>
    /// <param name="resumeEpochs">With <paramref name="resume"/>: the joint-epoch budget from now on (null: the saved one).</param>
    /// <param name="resume">Continue the run whose checkpoint is in <paramref name="outDirectory"/> instead of starting one.</param>
    /// <param name="progress">Receives the model line, one line per epoch, and one on resume.</param>
    /// <param name="optionName">How errors spell an option (<c>resume</c>, <c>epochs</c>, <c>data</c>).</param>
    /// <param name="cancellation">Checked before every update.</param>
    /// <returns>The trained machine and the preset as run.</returns>
    /// <exception cref="ResumeRefusedException">The folder holds no DBM checkpoint, or another run's.</exception>
    /// <exception cref="DataMismatchException">The data's samples do not fit the machine.</exception>
    public static (DeepBoltzmannMachine Dbm, DbmPreset Preset) Train(string name, DbmPreset preset, IBackend backend, Dataset train, string outDirectory,
        int? resumeEpochs = null, bool resume = false, Action<string>? progress = null, Func<string, string>? optionName = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(train);
        string Option(string option) => optionName?.Invoke(option) ?? option;
        if (train.FeatureCount != preset.LayerSizes[0])
            throw new DataMismatchException($"{Option("data")}: samples have {train.FeatureCount} features but the DBM has {preset.LayerSizes[0]} visible units.");
        if (preset.LabelUnits && train.ClassCount < 2)
            throw new DataMismatchException($"{Option("data")}: label units need at least 2 classes; the training data has {train.ClassCount}.");
        string path = Path.Combine(outDirectory, CheckpointFileName);
        DeepBoltzmannMachine dbm;
        DbmTrainer trainer;
        TrainingState state;
        // Each pretraining stage's epochs, kept in every checkpoint after pretraining (the stage files that held them go).
        JsonObject? pretrainingHistory = null;
        var j = preset.Joint;
        if (!resume)
        {
            dbm = new DeepBoltzmannMachine(backend, preset.LayerSizes, preset.Joint.Seed, labelCount: preset.LabelUnits ? train.ClassCount : 0);
            progress?.Invoke($"model: {name} — DBM {dbm.Describe()}; pretraining {preset.Pretraining.Epochs} epochs a stage, " +
                             string.Create(CultureInfo.InvariantCulture, $"then {preset.Epochs} joint epochs (lr {j.LearningRate} / {j.LearningRateDecay} per update, ") +
                             $"{j.MeanFieldUpdates} mean-field sweeps, {j.PersistentChains} chains x {j.GibbsSweeps} sweeps), seed {j.Seed}, backend {backend.Name}");
            Directory.CreateDirectory(outDirectory);
            // A new run owns the folder: an earlier run's checkpoint, pretraining stages or classifier would otherwise be resumed as this one's.
            File.Delete(path);
            PretrainingStageFiles.Delete(outDirectory, dbm.HiddenLayerCount);
            DiscardFineTuning(outDirectory);
            // The checkpoint before pretraining holds the run's identity, so a run cut off while pretraining resumes too.
            SavePretrainingStart(path, preset, dbm);
            (trainer, state) = Pretrain(dbm, preset);
        }
        else
        {
            if (!File.Exists(path))
                throw new ResumeRefusedException($"{Option("resume")}: {outDirectory} holds no {CheckpointFileName} (a DBM run writes one when it starts, after pretraining and after every joint epoch).");
            var doc = ModelFile.Read(path);
            if (doc.Kind != CheckpointKind)
                throw new ResumeRefusedException($"{Option("resume")}: {path} is a '{doc.Kind}' checkpoint, not a DBM run's ('{CheckpointKind}'); resume it with its own preset.");
            // The seed, the label units and the finished pretraining are the run's own: take them from the checkpoint.
            var h = new StrictJson(doc.HyperParameters, path, "hyper-parameters");
            preset = preset with
            {
                LabelUnits = h.Bool("labels", false),
                Joint = preset.Joint with { Seed = h.ULong("seed", preset.Joint.Seed) },
                Pretraining = new DbmPretrainingOptions
                {
                    Epochs = h.Int("pretrain_epochs", preset.Pretraining.Epochs),
                    Rbm = preset.Pretraining.Rbm with
                    {
                        LearningRate = h.Float("pretrain_learning_rate", preset.Pretraining.Rbm.LearningRate),
                        WeightDecay = h.Float("pretrain_weight_decay", preset.Pretraining.Rbm.WeightDecay),
                        GibbsSteps = h.Int("pretrain_gibbs_steps", preset.Pretraining.Rbm.GibbsSteps),
                        BatchSize = h.Int("pretrain_batch", preset.Pretraining.Rbm.BatchSize),
                        Seed = h.ULong("pretrain_seed", preset.Pretraining.Rbm.Seed),
                    },
                },
            };
            j = preset.Joint;
            foreach (var (key, value) in HyperParameters(preset with { Epochs = 0 }))
            {
                var recorded = doc.HyperParameters[key];
                if (recorded is null || !JsonNode.DeepEquals(recorded, value))
                    throw new ResumeRefusedException($"{Option("resume")}: the run in {outDirectory} was trained with {key} {recorded?.ToJsonString() ?? "(not recorded)"}, " +
                                                     $"the preset asks for {value?.ToJsonString()}; resume it with the preset it was started with.");
            }
            var meta = new StrictJson(doc.Metadata, path, "metadata");
            dbm = DbmModelFile.FromDocument(doc, path, backend, CheckpointKind);
            if (dbm.HasLabels != preset.LabelUnits)
                throw new ResumeRefusedException($"{Option("resume")}: {path} records labels {preset.LabelUnits} but its machine {(dbm.HasLabels ? "has" : "has no")} label units; the checkpoint is damaged.");
            if (dbm.HasLabels && train.ClassCount != dbm.LabelCount)
                throw new DataMismatchException($"{Option("data")}: the run's DBM has {dbm.LabelCount} label units but the training data has {train.ClassCount} classes.");
            if (!meta.Bool("pretrained", true))
            {
                progress?.Invoke($"resuming {name}'s pretraining");
                (trainer, state) = Pretrain(dbm, preset);
            }
            else
            {
                trainer = new DbmTrainer(dbm, j);
                state = Checkpoint.ReadRunState(doc, path, trainer.Parameters, trainer.Optimizer);
                pretrainingHistory = doc.Metadata["pretraining_history"]?.DeepClone() as JsonObject;
                trainer.Counter = meta.ULong("sampler_counter", 0);
                for (int g = 0; g < trainer.Chains.Count; g++) doc.CopyTensorTo($"chains/{g}", trainer.Chains[g], path, "the run's state");
                for (int k = 0; k < trainer.RunningMeans.Count; k++) doc.CopyTensorTo($"running_means/{k}", trainer.RunningMeans[k], path, "the run's state");
            }
            int planned = meta.Int("planned_epochs");
            int epochs = resumeEpochs ?? planned;
            if (epochs < state.EpochsDone)
                throw new ResumeRefusedException($"{Option("epochs")}: the run has already trained {state.EpochsDone} joint epochs, more than the {epochs} asked for; give at least {state.EpochsDone}.");
            preset = preset with { Epochs = epochs };
            progress?.Invoke($"resuming {name} after joint epoch {state.EpochsDone}" + (epochs != planned ? $"; epochs {planned} -> {epochs}" : ""));
        }
        EpochMetrics TrainEpoch(int epoch)
        {
            var report = trainer.TrainEpoch(train, epoch, cancellation);
            return EpochMetrics.Unsupervised(epoch, report.ReconstructionError, report.Updates * j.BatchSize, report.Seconds,
                trainer.Optimizer.LearningRate.At(epoch, trainer.Optimizer.StepCount - 1));
        }
        void EpochCompleted(EpochMetrics m)
        {
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"joint epoch {m.Epoch,3}/{preset.Epochs}: mean-field reconstruction error {m.TrainLoss:F3}, learning rate {m.LearningRate:G4}, {m.Seconds:F1} s"));
            SaveCheckpoint(path, preset, dbm, trainer, state, pretrainingHistory);
        }
        int epochsBefore = state.EpochsDone;
        try
        {
            EpochRunner.Run(state, trainer.Parameters, preset.Epochs, 0, TrainEpoch, null, EpochCompleted, cancellation, trainer.Optimizer);
        }
        catch (TrainingDivergedException e) { throw e.InStage("DBM joint training"); }
        finally
        {
            // A classifier fine-tuned on the machine before these epochs no longer belongs to it.
            if (state.EpochsDone != epochsBefore) DiscardFineTuning(outDirectory);
        }
        return (dbm, preset);

        // Each stage continues from its file in the run folder (a finished one is restored whole); the checkpoint after
        // pretraining, with a fresh joint trainer, then replaces the stage files.
        (DbmTrainer Trainer, TrainingState State) Pretrain(DeepBoltzmannMachine machine, DbmPreset run)
        {
            if (run.Pretraining.Epochs > 0)
                DbmPretraining.Train(machine, train, run.Pretraining, (stage, r) => progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"pretraining stage {stage} epoch {r.Epoch + 1,3}/{run.Pretraining.Epochs}: reconstruction error {r.ReconstructionError:F3}, {r.Seconds:F1} s")),
                    new PretrainingStageFiles(outDirectory));
            var started = new DbmTrainer(machine, run.Joint);
            var fresh = new TrainingState();
            pretrainingHistory = PretrainingStageFiles.Histories(outDirectory, machine.HiddenLayerCount);
            SaveCheckpoint(path, run, machine, started, fresh, pretrainingHistory);
            PretrainingStageFiles.Delete(outDirectory, machine.HiddenLayerCount);
            return (started, fresh);
        }
    }

    /// <summary>The hyper-parameters a run's files record (a resumed run is checked against all but the epochs).</summary>
    public static JsonObject HyperParameters(DbmPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var j = preset.Joint;
        var r = preset.Pretraining.Rbm;
        var layers = new JsonArray();
        foreach (int n in preset.LayerSizes) layers.Add(n);
        var targets = new JsonArray();
        foreach (float t in j.SparsityTargets) targets.Add(t);
        var parameters = new JsonObject
        {
            ["layers"] = layers, ["binarize_threshold"] = preset.BinarizeThreshold,
            ["pretrain_epochs"] = preset.Pretraining.Epochs, ["pretrain_learning_rate"] = r.LearningRate, ["pretrain_weight_decay"] = r.WeightDecay,
            ["pretrain_gibbs_steps"] = r.GibbsSteps, ["pretrain_batch"] = r.BatchSize, ["pretrain_seed"] = r.Seed,
            ["learning_rate"] = j.LearningRate, ["learning_rate_decay"] = j.LearningRateDecay, ["minimum_learning_rate"] = j.MinimumLearningRate,
            ["weight_cost"] = j.WeightCost, ["initial_momentum"] = j.InitialMomentum, ["final_momentum"] = j.FinalMomentum,
            ["momentum_switch_epoch"] = j.MomentumSwitchEpoch, ["batch"] = j.BatchSize, ["mean_field_updates"] = j.MeanFieldUpdates,
            ["persistent_chains"] = j.PersistentChains, ["gibbs_sweeps"] = j.GibbsSweeps, ["sparsity_targets"] = targets,
            ["sparsity_cost"] = j.SparsityCost, ["sparsity_damping"] = j.SparsityDamping, ["seed"] = j.Seed,
        };
        // Recorded only when on, so a run saved before label units existed still resumes.
        if (preset.LabelUnits) parameters["labels"] = true;
        return parameters;
    }

    /// <summary>The checkpoint a new run writes before pretraining: the initial machine and the run's hyper-parameters, marked not yet pretrained.</summary>
    private static void SavePretrainingStart(string path, DbmPreset preset, DeepBoltzmannMachine dbm)
    {
        var doc = DbmModelFile.ToDocument(dbm, HyperParameters(preset with { Epochs = 0 }), new JsonObject
        {
            ["planned_epochs"] = preset.Epochs, ["pretrained"] = false,
        });
        doc.Kind = CheckpointKind;
        ModelFile.Write(path, doc);
    }

    private static void SaveCheckpoint(string path, DbmPreset preset, DeepBoltzmannMachine dbm, DbmTrainer trainer, TrainingState state, JsonObject? pretrainingHistory)
    {
        var doc = DbmModelFile.ToDocument(dbm, HyperParameters(preset with { Epochs = 0 }), new JsonObject
        {
            ["planned_epochs"] = preset.Epochs, ["sampler_counter"] = trainer.Counter, ["pretrained"] = true,
        });
        if (pretrainingHistory is not null) doc.Metadata["pretraining_history"] = pretrainingHistory.DeepClone();
        doc.Kind = CheckpointKind;
        Checkpoint.AddRunState(doc, state, trainer.Parameters, trainer.Optimizer);
        for (int g = 0; g < trainer.Chains.Count; g++) doc.Add($"chains/{g}", trainer.Chains[g]);
        for (int k = 0; k < trainer.RunningMeans.Count; k++) doc.Add($"running_means/{k}", trainer.RunningMeans[k]);
        ModelFile.Write(path, doc);
    }

    /// <summary>
    /// Each pretraining stage's epochs (its RBM's reconstruction error) as the run's checkpoint at
    /// <paramref name="checkpointPath"/> keeps them, stage 0 (the bottom RBM) first; empty for a run that did not pretrain
    /// or has not finished pretraining.
    /// </summary>
    /// <exception cref="ModelFileException">An entry is malformed (the message names the file and the field).</exception>
    public static IReadOnlyList<(string Stage, IReadOnlyList<EpochMetrics> Epochs)> ReadPretrainingHistories(string checkpointPath)
    {
        var stages = new List<(string, IReadOnlyList<EpochMetrics>)>();
        if (ModelFile.ReadHeader(checkpointPath).Metadata["pretraining_history"] is not JsonObject history) return stages;
        foreach (var (stage, node) in history)
            stages.Add((stage, Checkpoint.MetricsFromJson(node, checkpointPath, $"metadata.pretraining_history.{stage}")));
        return stages;
    }

    /// <summary>The folder, inside a run folder, of the fine-tuning checkpoint.</summary>
    public const string FineTuningFolder = "fine-tuning";

    private static void DiscardFineTuning(string outDirectory)
    {
        string folder = Path.Combine(outDirectory, FineTuningFolder);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>What fine-tuning gave.</summary>
    /// <param name="Accuracy">Test accuracy of the fine-tuned net.</param>
    /// <param name="Loss">Its test cross-entropy.</param>
    /// <param name="Seconds">Seconds of backprop (the mean-field inputs not counted).</param>
    /// <param name="ClassifierPath">Where the net was saved (its inputs: the pixels, then the DBM's q(h2)).</param>
    /// <param name="Classifier">The fine-tuned net.</param>
    /// <param name="TestInputs">The test images as the net reads them (pixels, then q(h2)), with their labels: for figures
    /// beyond the accuracy, such as a confusion matrix, without a second mean-field pass.</param>
    public sealed record FineTuned(double Accuracy, double Loss, double Seconds, string ClassifierPath, FeedForwardNet Classifier, Dataset TestInputs);

    /// <summary>
    /// Fine-tunes the unrolled net of <paramref name="dbm"/> on <paramref name="train"/> by <see cref="DbmPreset.FineTuning"/> through the
    /// shared <see cref="Trainer"/>, checkpointing into <c>outDirectory/fine-tuning</c> (a run that holds one resumes it), and returns
    /// the test figures; null when the preset fine-tunes for 0 epochs.
    /// </summary>
    public static FineTuned? FineTune(DbmPreset preset, DeepBoltzmannMachine dbm, Dataset train, Dataset test, string outDirectory,
        Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(dbm);
        if (preset.FineTuning is not { } config || config.Training.Epochs == 0) return null;
        progress?.Invoke($"fine-tuning: mean-field q(h2) of {train.Count} training and {test.Count} test images as extra inputs ...");
        var trainInputs = DbmFineTuning.AugmentedInputs(dbm, train);
        var testInputs = DbmFineTuning.AugmentedInputs(dbm, test);
        string folder = Path.Combine(outDirectory, FineTuningFolder);
        FeedForwardNet net;
        Shinso.Optimizers.Optimizer optimizer;
        TrainingState? state = null;
        if (File.Exists(Path.Combine(folder, Checkpoint.FileName)))
        {
            int budget = config.Training.Epochs;
            var restored = Checkpoint.Load(folder, dbm.Backend, saved => saved with { Training = saved.Training with { Epochs = budget } });
            ResumeOverrides.CheckBudget(restored.Config, restored.State.EpochsDone, "--finetune-epochs");
            (config, net, optimizer, state) = (restored.Config, restored.Net, restored.Optimizer, restored.State);
            progress?.Invoke($"fine-tuning: resuming after epoch {state.EpochsDone}");
        }
        else
        {
            net = DbmFineTuning.ToFeedForwardNet(dbm, train.ClassCount, config.Training.Seed, preset.FineTuningDropout);
            config = config with { Architecture = net.Spec };
            optimizer = config.CreateOptimizer();
        }
        var trainer = new Trainer(net, optimizer, config.Training);
        if (state is not null) trainer.State = state;
        trainer.EpochCompleted = m =>
        {
            Checkpoint.Save(folder, config, net, optimizer, trainer.State);
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"fine-tuning: epoch {m.Epoch,3}/{config.Training.Epochs}, loss {m.TrainLoss:F4}, {m.Seconds:F1} s"));
        };
        try { trainer.Fit(SupervisedData.FromDataset(trainInputs)); }
        catch (TrainingDivergedException e) { throw e.InStage("DBM fine-tuning"); }
        var evaluation = Trainer.Evaluate(net, SupervisedData.FromDataset(testInputs));
        string path = Path.Combine(outDirectory, "classifier.shinso");
        FeedForwardModelFile.Save(net, path, config.ToJson(), new JsonObject
        {
            ["testAccuracy"] = evaluation.Accuracy, ["epochs"] = trainer.State.EpochsDone, ["pretrained"] = "dbm",
            ["inputs"] = $"{dbm.VisibleCount} pixels in [0, 1], then the DBM's mean-field q(h2) for them, {dbm.LayerSizes[2]} values",
        });
        return new FineTuned(evaluation.Accuracy ?? double.NaN, evaluation.Loss, trainer.State.History.Sum(h => h.Seconds), path, net, testInputs);
    }
}

/// <summary>A DBM run's pretraining stages, one <see cref="GreedyStageFile"/> each (<c>pretraining-stage-K.shinso</c>), until the checkpoint after pretraining replaces them.</summary>
internal sealed class PretrainingStageFiles(string outDirectory) : IGreedyStageStore
{
    private const string Kind = DbmModelFile.Kind + "-pretraining-stage";

    private static string PathOf(string outDirectory, int stage) => Path.Combine(outDirectory, $"pretraining-stage-{stage}.shinso");

    private GreedyStageFile File(int stage) => new(PathOf(outDirectory, stage), Kind);

    public void Save(int stage, TrainingState state, IReadOnlyList<Shinso.Layers.Parameter> parameters, Shinso.Optimizers.Optimizer optimizer, ulong counter) =>
        File(stage).Save(stage, state, parameters, optimizer, counter);

    public (TrainingState State, ulong Counter)? Restore(int stage, IReadOnlyList<Shinso.Layers.Parameter> parameters, Shinso.Optimizers.Optimizer optimizer) =>
        File(stage).Restore(stage, parameters, optimizer);

    /// <summary>The epochs each of <paramref name="stages"/> stage files holds, by stage (<c>stage 0</c> ...), as checkpoints keep them.</summary>
    public static JsonObject Histories(string outDirectory, int stages)
    {
        var histories = new JsonObject();
        for (int k = 0; k < stages; k++)
        {
            string path = PathOf(outDirectory, k);
            if (!System.IO.File.Exists(path)) continue;
            histories[$"stage {k}"] = Checkpoint.MetricsJson(Checkpoint.ReadHistory(path));
        }
        return histories;
    }

    /// <summary>Removes the stage files of a machine with <paramref name="stages"/> pretraining stages.</summary>
    public static void Delete(string outDirectory, int stages)
    {
        for (int k = 0; k < stages; k++) System.IO.File.Delete(PathOf(outDirectory, k));
    }
}
