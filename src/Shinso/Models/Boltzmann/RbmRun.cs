using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Training;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// An RBM preset's training as a resumable run: the epochs of CD-k or PCD, with a checkpoint after each holding the
/// machine, the optimizer's velocities, the sampler's position and (PCD) the persistent chains, so a resumed run ends
/// with exactly the parameters of an uninterrupted one.
/// </summary>
public static class RbmRun
{
    /// <summary>The checkpoint's file name inside a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.shinso";

    private const string CheckpointKind = RbmModelFile.Kind + "-checkpoint";

    /// <summary>Trains <paramref name="preset"/> on <paramref name="train"/> (binary or [0, 1] features), checkpointing into <paramref name="outDirectory"/>.</summary>
    /// <param name="preset">The run; on resume its options other than the batch size and learning rate must be the saved run's.</param>
    /// <param name="backend">Where the machine lives.</param>
    /// <param name="train">The training data.</param>
    /// <param name="outDirectory">The run folder (created; <see cref="CheckpointFileName"/> is rewritten after every epoch).</param>
    /// <param name="resume">Null for a new run; otherwise the changes asked of the saved run: epochs, batch (CD only) and learning
    /// rate apply from the next epoch, a different seed is refused.</param>
    /// <param name="progress">Receives one line per epoch (and one on resume).</param>
    /// <param name="optionName">How errors spell an option (<c>seed</c>, <c>batch</c>, <c>resume</c>).</param>
    /// <returns>The trained machine and the preset as run (saved values and overrides applied).</returns>
    /// <exception cref="ResumeRefusedException">A change cannot be made, or the folder holds no RBM run's checkpoint.</exception>
    /// <exception cref="ModelFileException">The checkpoint is damaged.</exception>
    public static (RestrictedBoltzmannMachine Rbm, RbmPreset Preset) Train(RbmPreset preset, IBackend backend, Dataset train, string outDirectory,
        ResumeOverrides? resume = null, Action<string>? progress = null, Func<string, string>? optionName = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(train);
        string Option(string name) => optionName?.Invoke(name) ?? name;
        string path = Path.Combine(outDirectory, CheckpointFileName);
        RestrictedBoltzmannMachine rbm;
        RbmTrainer trainer;
        int start = 0;
        if (resume is null)
        {
            rbm = new RestrictedBoltzmannMachine(backend, train.FeatureCount, preset.Hidden, seed: preset.Options.Seed);
            trainer = CreateTrainer(preset, rbm);
        }
        else
        {
            if (!File.Exists(path))
                throw new ResumeRefusedException($"{Option("resume")}: {outDirectory} holds no {CheckpointFileName} (an RBM run writes one after every epoch).");
            var doc = ModelFile.Read(path);
            if (doc.Kind != CheckpointKind)
                throw new ResumeRefusedException($"{Option("resume")}: {path} is a '{doc.Kind}' checkpoint, not an RBM run's ('{CheckpointKind}'); resume it with its own preset.");
            var meta = new StrictJson(doc.Metadata, path, "metadata");
            preset = Resumed(preset, doc, meta, resume, Option, path, progress);
            doc.Kind = RbmModelFile.Kind;
            rbm = RbmModelFile.FromDocument(doc, path, backend);
            if (rbm.VisibleCount != train.FeatureCount)
                throw new DataMismatchException($"{Option("data")}: samples have {train.FeatureCount} features but the run in {outDirectory} has {rbm.VisibleCount} visible units.");
            trainer = CreateTrainer(preset, rbm);
            start = meta.Int("epochs_done");
            trainer.Counter = meta.ULong("sampler_counter", 0);
            trainer.Optimizer.StepCount = (long)meta.ULong("optimizer_steps", 0);
            foreach (var (name, tensor) in trainer.Optimizer.State(trainer.Parameters)) Restore(doc, path, "optimizer/" + name, tensor);
            if (trainer is PersistentContrastiveDivergence pcd) Restore(doc, path, "chains/hidden", pcd.ChainHidden);
        }
        Directory.CreateDirectory(outDirectory);
        for (int e = start; e < preset.Epochs; e++)
        {
            var report = trainer.TrainEpoch(train, e);
            progress?.Invoke($"epoch {e + 1,3}/{preset.Epochs}: reconstruction error {report.ReconstructionError:F3}, {report.Seconds:F1} s");
            SaveCheckpoint(path, preset, rbm, trainer, e + 1);
        }
        return (rbm, preset);
    }

    /// <summary>The hyper-parameters a run's files record.</summary>
    public static JsonObject HyperParameters(RbmPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var o = preset.Options;
        return new JsonObject
        {
            ["algorithm"] = preset.Persistent ? "pcd" : "cd", ["gibbs_steps"] = o.GibbsSteps, ["learning_rate"] = o.LearningRate,
            ["batch"] = o.BatchSize, ["weight_decay"] = o.WeightDecay, ["persistent_chains"] = o.PersistentChains, ["seed"] = o.Seed,
        };
    }

    private static RbmTrainer CreateTrainer(RbmPreset preset, RestrictedBoltzmannMachine rbm) =>
        preset.Persistent ? new PersistentContrastiveDivergence(rbm, preset.Options) : new ContrastiveDivergence(rbm, preset.Options);

    private static void SaveCheckpoint(string path, RbmPreset preset, RestrictedBoltzmannMachine rbm, RbmTrainer trainer, int epochsDone)
    {
        var doc = RbmModelFile.ToDocument(rbm, HyperParameters(preset), new JsonObject
        {
            ["epochs_done"] = epochsDone, ["planned_epochs"] = preset.Epochs, ["sampler_counter"] = trainer.Counter,
            ["optimizer_steps"] = trainer.Optimizer.StepCount,
        });
        doc.Kind = CheckpointKind;
        foreach (var (name, tensor) in trainer.Optimizer.State(trainer.Parameters)) doc.Add("optimizer/" + name, tensor);
        if (trainer is PersistentContrastiveDivergence pcd) doc.Add("chains/hidden", pcd.ChainHidden);
        ModelFile.Write(path, doc);
    }

    /// <summary>The preset the resumed run continues with: the saved seed, batch, rate and epoch budget, then the overrides.</summary>
    private static RbmPreset Resumed(RbmPreset preset, ModelDocument doc, StrictJson saved, ResumeOverrides resume, Func<string, string> option, string path,
        Action<string>? progress)
    {
        ulong seed = saved.ULong("seed", preset.Options.Seed);
        var h = new StrictJson(doc.HyperParameters, path, "hyper-parameters");
        string algorithm = h.String("algorithm");
        string asked = preset.Persistent ? "pcd" : "cd";
        if (algorithm != asked)
            throw new ResumeRefusedException($"{option("resume")}: the run in {Path.GetDirectoryName(path)} trains by {algorithm}, not {asked}; resume it with its own preset.");
        if (resume.Seed is { } s && s != seed)
            throw new ResumeRefusedException($"{option("seed")}: the run was started with seed {seed}, which fixes its initial weights, shuffles and Gibbs samples; " +
                                             "a resumed run keeps it (start a new run for another seed).");
        int savedBatch = h.Int("batch");
        float savedRate = h.Float("learning_rate");
        int savedEpochs = saved.Int("planned_epochs");
        int batch = resume.BatchSize ?? savedBatch;
        if (batch != savedBatch && preset.Persistent)
            throw new ResumeRefusedException($"{option("batch")}: the persistent chains of the run in {Path.GetDirectoryName(path)} were sized for batch {savedBatch}; " +
                                             "a PCD run keeps its batch (start a new run for another).");
        float rate = resume.LearningRate ?? savedRate;
        int epochs = resume.Epochs ?? savedEpochs;
        int done = saved.Int("epochs_done");
        var changes = new List<string>();
        if (epochs != savedEpochs) changes.Add($"epochs {savedEpochs} -> {epochs}");
        if (batch != savedBatch) changes.Add($"batch {savedBatch} -> {batch}");
        if (rate != savedRate) changes.Add($"learning rate {savedRate} -> {rate}");
        progress?.Invoke($"resuming after epoch {done}" + (changes.Count > 0 ? $"; from epoch {done + 1}: {string.Join(", ", changes)}" : ""));
        return preset with { Epochs = epochs, Options = preset.Options with { Seed = seed, BatchSize = batch, LearningRate = rate } };
    }

    private static void Restore(ModelDocument doc, string path, string name, Tensors.Tensor destination)
    {
        if (!doc.TryGetTensor(name, out var saved)) throw new ModelFileException(path, $"tensor '{name}'", "is missing; the run's state needs it.");
        try
        {
            saved.CopyTo(destination);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, $"tensor '{name}'", e.Message);
        }
    }
}
