using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Training;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// An RBM preset's training as a resumable run on the shared <see cref="EpochRunner"/>: the epochs of CD-k or PCD, an
/// optional validation set with early stopping, and a checkpoint after each epoch holding the machine, the optimizer's
/// velocities, the run's state, the sampler's position and (PCD) the persistent chains, so a resumed run ends with exactly
/// the parameters of an uninterrupted one.
/// </summary>
public static class RbmRun
{
    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.shinso";

    private const string CheckpointKind = RbmModelFile.Kind + "-checkpoint";

    /// <summary>Trains <paramref name="preset"/> on <paramref name="train"/> (binary or [0, 1] features), checkpointing into <paramref name="outDirectory"/>.</summary>
    /// <param name="name">The preset's name, for the progress line.</param>
    /// <param name="preset">The run; on resume its hidden size and every hyper-parameter but the batch size, learning rate and
    /// epochs must be the saved run's (a different one is refused).</param>
    /// <param name="backend">Where the machine lives.</param>
    /// <param name="train">The training data.</param>
    /// <param name="outDirectory">The run folder (created; <see cref="CheckpointFileName"/> is rewritten after every epoch).</param>
    /// <param name="resume">Null for a new run; otherwise the changes asked of the saved run: the epoch budget (at least the
    /// epochs done), the batch (not for PCD with one chain per batch sample) and the learning rate apply from the next epoch;
    /// a different seed or update rule, another algorithm or other hyper-parameters are refused.</param>
    /// <param name="progress">Receives the model line, one line per epoch, and one on resume.</param>
    /// <param name="optionName">How errors spell an option (<c>seed</c>, <c>batch</c>, <c>epochs</c>, <c>optimizer</c>, <c>resume</c>, <c>data</c>).</param>
    /// <param name="cancellation">Checked before every update; a cancelled run resumes from its last checkpoint.</param>
    /// <param name="validation">Held-out data whose mean-field reconstruction error is measured after every epoch, or null.</param>
    /// <param name="patience">With <paramref name="validation"/>: epochs without a lower validation error before the run stops
    /// and keeps its best epoch's parameters (0: never stop early).</param>
    /// <param name="validationFraction">The share of the training rows <paramref name="validation"/> was split off with, recorded in the
    /// checkpoint so that a resumed run can hold out the same rows (<see cref="SavedValidation"/>).</param>
    /// <returns>The trained machine and the preset as run (saved values and overrides applied).</returns>
    /// <exception cref="ResumeRefusedException">A change cannot be made, or the folder holds no RBM run's checkpoint.</exception>
    /// <exception cref="DataMismatchException">The data's samples do not fit the saved machine.</exception>
    /// <exception cref="ModelFileException">The checkpoint is damaged.</exception>
    public static (RestrictedBoltzmannMachine Rbm, RbmPreset Preset) Train(string name, RbmPreset preset, IBackend backend, Dataset train, string outDirectory,
        ResumeOverrides? resume = null, Action<string>? progress = null, Func<string, string>? optionName = null, CancellationToken cancellation = default,
        Dataset? validation = null, int patience = 0, double validationFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(train);
        string Option(string option) => optionName?.Invoke(option) ?? option;
        string path = Path.Combine(outDirectory, CheckpointFileName);
        RestrictedBoltzmannMachine rbm;
        RbmTrainer trainer;
        TrainingState state;
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        if (resume is null)
        {
            rbm = new RestrictedBoltzmannMachine(backend, train.FeatureCount, preset.Hidden, preset.Units, seed: preset.Options.Seed);
            trainer = CreateTrainer(preset, rbm);
            state = new TrainingState();
        }
        else
        {
            if (!File.Exists(path))
                throw new ResumeRefusedException($"{Option("resume")}: {outDirectory} holds no {CheckpointFileName} (an RBM run writes one after every epoch).");
            var doc = ModelFile.Read(path);
            if (doc.Kind != CheckpointKind)
                throw new ResumeRefusedException($"{Option("resume")}: {path} is a '{doc.Kind}' checkpoint, not an RBM run's ('{CheckpointKind}'); resume it with its own preset.");
            var meta = new StrictJson(doc.Metadata, path, "metadata");
            int done = meta.Int("epochsDone");
            if (done < 0) throw new ModelFileException(path, "metadata.epochsDone", $"must be >= 0, found {done}.");
            preset = Resumed(preset, doc, meta, done, resume, Option, path, progress);
            bool savedValidation = meta.Bool("validation", false);
            int savedPatience = meta.Int("patience", 0);
            if (savedValidation != (validation is not null) || savedPatience != (validation is null ? 0 : patience))
                throw new ResumeRefusedException($"{Option("resume")}: the run in {outDirectory} was trained " +
                                                 (savedValidation ? $"with a validation set and patience {savedPatience}" : "without a validation set") +
                                                 "; resume it the same way, or its early stopping would change.");
            if (meta.Bool("stopped", false))
                progress?.Invoke($"the run stopped early after epoch {done}; it keeps its best epoch's parameters and trains no more");
            doc.Kind = RbmModelFile.Kind;
            rbm = RbmModelFile.FromDocument(doc, path, backend);
            if (rbm.Units != preset.Units)
                throw new ResumeRefusedException($"{Option("resume")}: the run in {outDirectory} has {rbm.Units} visible units, not the preset's {preset.Units}; resume it with its own preset.");
            if (rbm.HiddenCount != preset.Hidden)
                throw new ResumeRefusedException($"{Option("resume")}: the run in {outDirectory} has {rbm.HiddenCount} hidden units, not the preset's {preset.Hidden}; resume it with its own preset.");
            if (rbm.VisibleCount != train.FeatureCount)
                throw new DataMismatchException($"{Option("data")}: samples have {train.FeatureCount} features but the run in {outDirectory} has {rbm.VisibleCount} visible units.");
            trainer = CreateTrainer(preset, rbm);
            state = Checkpoint.ReadRunState(doc, path, trainer.Parameters, trainer.Optimizer);
            trainer.Counter = meta.ULong("sampler_counter", 0);
            if (trainer is PersistentContrastiveDivergence pcd) doc.CopyTensorTo("chains/hidden", pcd.ChainHidden, path, "the run's state");
        }
        var o = preset.Options;
        progress?.Invoke($"model: {name} — RBM {rbm.VisibleCount}-{rbm.HiddenCount}, " +
                         (preset.Persistent ? $"PCD-{o.GibbsSteps} with {(o.PersistentChains == 0 ? o.BatchSize : o.PersistentChains)} chains" : $"CD-{o.GibbsSteps}") +
                         string.Create(CultureInfo.InvariantCulture, $", lr {o.LearningRate}, batch {o.BatchSize}, weight decay {o.WeightDecay}, {preset.Epochs} epochs, seed {o.Seed}, backend {backend.Name}"));
        if (validation is not null && validation.FeatureCount != rbm.VisibleCount)
            throw new DataMismatchException($"{Option("data")}: validation samples have {validation.FeatureCount} features but the machine has {rbm.VisibleCount} visible units.");
        Directory.CreateDirectory(outDirectory);
        EpochMetrics TrainEpoch(int epoch)
        {
            var report = trainer.TrainEpoch(train, epoch, cancellation);
            return EpochMetrics.Unsupervised(epoch, report.ReconstructionError, report.Updates * preset.Options.BatchSize, report.Seconds, preset.Options.LearningRate);
        }
        Func<Evaluation>? validate = validation is null ? null : () => new Evaluation(RbmEvaluation.ReconstructionError(rbm, validation.Features), null);
        void EpochCompleted(EpochMetrics m)
        {
            string held = m.ValidationLoss is { } v ? string.Create(CultureInfo.InvariantCulture, $", validation {v:F3}") : "";
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{preset.Epochs}: reconstruction error {m.TrainLoss:F3}{held}, {m.Seconds:F1} s"));
            SaveCheckpoint(path, preset, rbm, trainer, state, validation is not null, validation is null ? 0 : patience, validation is null ? 0 : validationFraction);
        }
        EpochRunner.Run(state, trainer.Parameters, preset.Epochs, validation is null ? 0 : patience, TrainEpoch, validate, EpochCompleted, cancellation, trainer.Optimizer);
        if (state.Stopped)
        {
            rbm.RefreshSigma();
            progress?.Invoke(state.BestEpoch > 0
                ? $"early stopping after epoch {state.EpochsDone}: keeping epoch {state.BestEpoch}'s parameters, the lowest validation error"
                : $"early stopping after epoch {state.EpochsDone}: no epoch gave a finite validation error");
        }
        return (rbm, preset);
    }

    /// <summary>
    /// The validation split a saved run trained with: the fraction of its training rows held out (0: none) and the seed that
    /// chose them, so that a resumed run holds out the same rows. A folder without a checkpoint gives (0, 0).
    /// </summary>
    /// <exception cref="ModelFileException">The checkpoint's fields are damaged.</exception>
    public static (double Fraction, ulong Seed) SavedValidation(string outDirectory)
    {
        string path = Path.Combine(outDirectory, CheckpointFileName);
        if (!File.Exists(path)) return (0, 0);
        var header = ModelFile.ReadHeader(path);
        double fraction = new StrictJson(header.Metadata, path, "metadata").Float("validation_fraction", 0f);
        if (fraction is < 0 or >= 1) throw new ModelFileException(path, "metadata.validation_fraction", $"must be in [0, 1), found {fraction}.");
        ulong seed = new StrictJson(header.HyperParameters, path, "hyperParameters").ULong("seed", 0);
        return (fraction, seed);
    }

    /// <summary>The hyper-parameters a run's files record (all of them: a resumed run is checked against them).</summary>
    public static JsonObject HyperParameters(RbmPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var o = preset.Options;
        return new JsonObject
        {
            ["algorithm"] = preset.Persistent ? "pcd" : "cd", ["gibbs_steps"] = o.GibbsSteps, ["learning_rate"] = o.LearningRate,
            ["batch"] = o.BatchSize, ["weight_decay"] = o.WeightDecay, ["persistent_chains"] = o.PersistentChains, ["seed"] = o.Seed,
            ["initial_momentum"] = o.InitialMomentum, ["final_momentum"] = o.FinalMomentum, ["momentum_switch_epoch"] = o.MomentumSwitchEpoch,
            ["sparsity_target"] = o.SparsityTarget, ["sparsity_cost"] = o.SparsityCost, ["sample_visible"] = o.SampleVisible,
            ["sigma_learning_rate_factor"] = o.SigmaLearningRateFactor,
        };
    }

    /// <summary>The hyper-parameters a resume may change (from the next epoch) or takes from the checkpoint.</summary>
    private static readonly string[] Changeable = ["learning_rate", "batch", "seed"];

    private static RbmTrainer CreateTrainer(RbmPreset preset, RestrictedBoltzmannMachine rbm) =>
        preset.Persistent ? new PersistentContrastiveDivergence(rbm, preset.Options) : new ContrastiveDivergence(rbm, preset.Options);

    private static void SaveCheckpoint(string path, RbmPreset preset, RestrictedBoltzmannMachine rbm, RbmTrainer trainer, TrainingState state,
        bool validated, int patience, double validationFraction)
    {
        var doc = RbmModelFile.ToDocument(rbm, HyperParameters(preset), new JsonObject
        {
            ["planned_epochs"] = preset.Epochs, ["sampler_counter"] = trainer.Counter, ["validation"] = validated, ["patience"] = patience,
            ["validation_fraction"] = validationFraction,
        });
        doc.Kind = CheckpointKind;
        Checkpoint.AddRunState(doc, state, trainer.Parameters, trainer.Optimizer);
        if (trainer is PersistentContrastiveDivergence pcd) doc.Add("chains/hidden", pcd.ChainHidden);
        ModelFile.Write(path, doc);
    }

    /// <summary>The preset the resumed run continues with: the saved seed, batch, rate and budget, then the overrides.</summary>
    private static RbmPreset Resumed(RbmPreset preset, ModelDocument doc, StrictJson saved, int done, ResumeOverrides resume, Func<string, string> option,
        string path, Action<string>? progress)
    {
        string folder = Path.GetDirectoryName(path) ?? path;
        ulong seed = saved.ULong("seed", preset.Options.Seed);
        var h = new StrictJson(doc.HyperParameters, path, "hyper-parameters");
        string algorithm = h.String("algorithm");
        string asked = preset.Persistent ? "pcd" : "cd";
        if (algorithm != asked)
            throw new ResumeRefusedException($"{option("resume")}: the run in {folder} trains by {algorithm}, not {asked}; resume it with its own preset.");
        if (resume.Seed is { } s && s != seed)
            throw new ResumeRefusedException($"{option("seed")}: the run was started with seed {seed}, which fixes its initial weights, shuffles and Gibbs samples; " +
                                             "a resumed run keeps it (start a new run for another seed).");
        if (resume.Optimizer is not null)
            throw new ResumeRefusedException($"{option("optimizer")}: an RBM run trains with its momentum schedule and its checkpoint holds that state; start a new run.");
        // Every other hyper-parameter shapes the saved state or the run's definition: it must be the saved run's.
        foreach (var (key, value) in HyperParameters(preset))
        {
            if (Array.IndexOf(Changeable, key) >= 0 || key == "algorithm") continue;
            var recorded = doc.HyperParameters[key];
            if (recorded is null || !JsonNode.DeepEquals(recorded, value))
                throw new ResumeRefusedException($"{option("resume")}: the run in {folder} was trained with {key} {recorded?.ToJsonString() ?? "(not recorded)"}, " +
                                                 $"the preset asks for {value?.ToJsonString()}; resume it with the preset it was started with.");
        }
        int savedBatch = h.Int("batch");
        float savedRate = h.Float("learning_rate");
        int savedEpochs = saved.Int("planned_epochs");
        int batch = resume.BatchSize ?? savedBatch;
        if (batch != savedBatch && preset.Persistent && preset.Options.PersistentChains == 0)
            throw new ResumeRefusedException($"{option("batch")}: the run in {folder} keeps one persistent chain per batch sample ({savedBatch} chains); " +
                                             "it cannot continue with another batch (start a new run).");
        float rate = resume.LearningRate ?? savedRate;
        int epochs = resume.Epochs ?? savedEpochs;
        if (epochs < done)
            throw new ResumeRefusedException($"{option("epochs")}: the run has already trained {done} epochs, more than the {epochs} asked for; give at least {done}.");
        var changes = new List<string>();
        if (epochs != savedEpochs) changes.Add($"epochs {savedEpochs} -> {epochs}");
        if (batch != savedBatch) changes.Add($"batch {savedBatch} -> {batch}");
        if (rate != savedRate) changes.Add(string.Create(CultureInfo.InvariantCulture, $"learning rate {savedRate} -> {rate}"));
        progress?.Invoke($"resuming after epoch {done}" + (changes.Count > 0 ? $"; from epoch {done + 1}: {string.Join(", ", changes)}" : ""));
        return preset with { Epochs = epochs, Options = preset.Options with { Seed = seed, BatchSize = batch, LearningRate = rate } };
    }
}
