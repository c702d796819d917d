using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Cli.ModelKinds;
using Shinso.Cli.Reports;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>The CLI's energy-based runs: an RBM preset (train, then AIS) and a DBN preset (greedy, up-down, backprop).</summary>
internal static class BoltzmannRuns
{
    /// <summary>Progress on stderr: a live line for a person, one line per epoch in logs.</summary>
    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    /// <summary>Trains an RBM preset, estimates its test log-likelihood by AIS, saves <c>model.shinso</c> and <c>summary.json</c>.</summary>
    /// <param name="validationFraction">A fresh run's share of the training rows held out to measure the reconstruction error on
    /// every epoch (0: none); a resumed run holds out the rows its checkpoint records.</param>
    public static JsonObject TrainRbm(string name, RbmPreset preset, IBackend backend, LoadedData data, string outDirectory, ResumeOverrides? resume = null,
        double validationFraction = 0)
    {
        var wall = Stopwatch.StartNew();
        string dataDescription = data.Description;
        var (train, test) = (data.Train, data.Test);
        VisibleCentering? centering = null;
        if (preset.Units == VisibleUnits.Gaussian)
        {
            // A resumed run keeps the centring its checkpoint was trained on; both are fitted to the same training set.
            centering = VisibleCentering.Fit(train);
            Progress(string.Create(CultureInfo.InvariantCulture, $"data: {dataDescription} (centred per pixel, scaled by 1/{centering.Scale:G4})"));
            train = centering.Apply(train);
            test = centering.Apply(test);
        }
        else
        {
            Progress($"data: {dataDescription} (binarised at {preset.BinarizeThreshold})");
            train = train.Binarize(preset.BinarizeThreshold);
            test = test.Binarize(preset.BinarizeThreshold);
        }
        // The held-out rows follow the run's seed, so a resumed run holds out the ones it held out before.
        ulong splitSeed = preset.Options.Seed;
        if (resume is not null)
        {
            try { (validationFraction, splitSeed) = RbmRun.SavedValidation(outDirectory); }
            catch (ModelFileException e) { throw new UsageException("--resume: " + e.Message); }
        }
        Dataset? validation = null;
        if (validationFraction > 0)
        {
            (train, validation) = train.Split(validationFraction, splitSeed);
            Progress(string.Create(CultureInfo.InvariantCulture, $"validation: {validation.Count:N0} of the training images held out ({validationFraction:P0}); their reconstruction error after every epoch"));
        }
        var clock = Stopwatch.StartNew();
        RestrictedBoltzmannMachine rbm;
        try
        {
            (rbm, preset) = RbmRun.Train(name, preset, backend, train, outDirectory, resume, Progress, option => "--" + option,
                validation: validation, validationFraction: validationFraction);
        }
        catch (Exception e) when (e is ResumeRefusedException or DataMismatchException)
        {
            throw new UsageException(e.Message);
        }
        var o = preset.Options;
        double trainSeconds = clock.Elapsed.TotalSeconds;
        string modelPath = Path.Combine(outDirectory, "model.shinso");
        var metadata = new JsonObject { ["data"] = dataDescription, ["epochs"] = preset.Epochs };
        if (centering is null) metadata["binarize_threshold"] = preset.BinarizeThreshold;
        else metadata[VisibleCentering.MetadataKey] = centering.ToJson();
        RbmModelFile.Save(rbm, modelPath, RbmRun.HyperParameters(preset), metadata);
        RbmKind.WriteFilters(rbm, Path.Combine(outDirectory, "filters.png"), 100);
        var summary = RbmLikelihood(rbm, train, test, preset.AisRuns, o.Seed);
        summary["model"] = name;
        summary["epochs"] = preset.Epochs;
        summary["train_seconds"] = Math.Round(trainSeconds, 1);
        summary["model_path"] = modelPath;
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "summary.json"), summary.ToJsonString() + "\n");
        var hyper = RbmRun.HyperParameters(preset);
        hyper["visible"] = rbm.VisibleCount;
        hyper["hidden"] = rbm.HiddenCount;
        hyper["units"] = rbm.Units.ToString().ToLowerInvariant();
        hyper["epochs"] = preset.Epochs;
        hyper["ais_runs"] = preset.AisRuns;
        foreach (var (key, value) in metadata) if (key != "data") hyper[key] = value?.DeepClone();
        // The checkpoint's history: a resumed run's record holds its earlier epochs too. A fresh run of no epochs wrote no
        // checkpoint, and one left in the folder by an earlier run is not this run's.
        string checkpoint = Path.Combine(outDirectory, RbmRun.CheckpointFileName);
        RunRecord.SaveAndReport(outDirectory, () => new RunRecord(name, RbmModelFile.Kind, "restricted Boltzmann machine", dataDescription)
            {
                HyperParameters = hyper, Seconds = wall.Elapsed.TotalSeconds,
                Phases = [new RunPhase(preset.Persistent ? "PCD" : "CD", "reconstruction error",
                    resume is null && preset.Epochs == 0 || !File.Exists(checkpoint) ? [] : Checkpoint.ReadHistory(checkpoint))],
            });
        return summary;
    }

    /// <summary>
    /// AIS (paper's schedule, base rates from the training data) and the average test log-probability, with the
    /// reconstruction error and pseudo-likelihood of the test set.
    /// </summary>
    public static JsonObject RbmLikelihood(RestrictedBoltzmannMachine rbm, Dataset train, Dataset test, int aisRuns, ulong seed)
    {
        var clock = Stopwatch.StartNew();
        Progress($"AIS: {aisRuns} runs over {AnnealedImportanceSampling.DefaultBetas().Length} temperatures ...");
        var ais = AnnealedImportanceSampling.Estimate(rbm, train.Features, new AisOptions { Runs = aisRuns, Seed = seed });
        double testLogP = RbmEvaluation.AverageLogProbability(rbm, test.Features, ais.LogZ);
        double trainLogP = RbmEvaluation.AverageLogProbability(rbm, train.Features.AsSpan(0, Math.Min(train.Count, 10_000) * train.FeatureCount), ais.LogZ);
        double recon = RbmEvaluation.ReconstructionError(rbm, test.Features);
        // The pseudo-likelihood flips binary units; a Gaussian RBM's density has no such form here, so its entry is null.
        double? pl = rbm.Units == VisibleUnits.Bernoulli
            ? RbmEvaluation.PseudoLikelihood(rbm, test.Features, Shinso.Random.RandomStream.Root(seed).Derive("pseudo-likelihood")).Average()
            : null;
        // Over the centred values divided by the shared scale s: in pixel units the log-density is this minus D log s.
        string units = rbm.Units == VisibleUnits.Gaussian ? " (a density over the centred, scaled pixels)" : "";
        string pseudo = pl is { } p ? string.Create(CultureInfo.InvariantCulture, $"pseudo-likelihood {p:F2}") : "pseudo-likelihood not defined for Gaussian visible units";
        Progress(string.Create(CultureInfo.InvariantCulture,
            $"AIS log Z {ais.LogZ:F2} (3 sigma: {ais.LogZLow:F2} .. {ais.LogZHigh:F2}), {clock.Elapsed.TotalSeconds:F0} s; " +
            $"average log-probability{units}: test {testLogP:F2} nats, train {trainLogP:F2}; test reconstruction error {recon:F2}, {pseudo}"));
        return new JsonObject
        {
            ["log_z"] = ais.LogZ, ["log_z_low"] = Finite(ais.LogZLow), ["log_z_high"] = Finite(ais.LogZHigh), ["ais_runs"] = aisRuns,
            ["test_log_probability"] = testLogP, ["test_log_probability_low"] = Finite(RbmEvaluation.AverageLogProbability(rbm, test.Features, ais.LogZHigh)),
            ["test_log_probability_high"] = Finite(RbmEvaluation.AverageLogProbability(rbm, test.Features, ais.LogZLow)),
            ["train_log_probability"] = trainLogP, ["test_reconstruction_error"] = recon, ["test_pseudo_likelihood"] = pl,
            ["test_samples"] = test.Count,
        };
    }

    /// <summary>JSON has no infinities: with few AIS runs the lower 3-sigma bound of Z can be 0 (log -inf); written as null.</summary>
    private static JsonNode? Finite(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;

    /// <summary>
    /// Trains a DBN preset through <see cref="DbnRun"/> with progress on stderr (a live batch counter when a person watches);
    /// a refused resume is a usage error.
    /// </summary>
    /// <param name="validationFraction">A new run's share of the training rows held out and measured after every epoch of every
    /// phase (null: none, or a resumed run's own).</param>
    public static JsonObject TrainDbn(string name, DbnPreset preset, IBackend backend, LoadedData data, string outDirectory,
        DbnResume? resume = null, double? validationFraction = null)
    {
        Progress($"data: {data.Description}");
        var options = new DbnRunOptions
        {
            Resume = resume, DataDescription = data.Description, OptionName = option => "--" + option, ValidationFraction = validationFraction,
            Progress = Progress,
        };
        JsonObject summary;
        try
        {
            summary = DbnRun.Run(name, preset, backend, data.Train, data.Test, outDirectory, options);
        }
        catch (ResumeRefusedException e)
        {
            throw new UsageException(e.Message);
        }
        catch (DataMismatchException e)
        {
            throw new UsageException(e.Message);
        }
        RunRecord.SaveAndReport(outDirectory, () => DbnRecord(name, preset, backend, data, outDirectory, summary));
        return summary;
    }

    /// <summary>
    /// A DBN run's record: each greedy stage and the up-down phase epoch by epoch (from <c>dbn.shinso</c>), with their end
    /// figures, and the backprop phase epoch by epoch from the checkpoint, with the fine-tuned classifier's confusion matrix.
    /// </summary>
    private static RunRecord DbnRecord(string name, DbnPreset preset, IBackend backend, LoadedData data, string outDirectory, JsonObject summary)
    {
        JsonObject Figures(string phase, string epochs) => new()
        {
            ["epochs"] = summary[epochs]?.DeepClone(), ["seconds"] = summary[$"{phase}_seconds"]?.DeepClone(),
            ["test_accuracy"] = summary[phase == "backprop" ? "accuracy" : $"{phase}_accuracy"]?.DeepClone(),
        };
        string checkpoint = Path.Combine(outDirectory, Checkpoint.FileName), modelPath = Path.Combine(outDirectory, "model.shinso");
        var (greedy, upDown) = DbnRun.ReadHistories((string)summary["dbn_path"]!);
        bool fineTuned = summary["model_path"] is not null && File.Exists(modelPath);
        var g = preset.Greedy;
        var hyper = new JsonObject
        {
            ["layers"] = new JsonArray([.. preset.LayerSizes.Select(n => (JsonNode)n)]),
            ["greedy"] = new JsonObject
            {
                ["layer_epochs"] = summary["layer_epochs"]?.DeepClone(), ["top_epochs"] = summary["top_epochs"]?.DeepClone(), ["learning_rate"] = g.Layer.LearningRate,
                ["batch"] = g.Layer.BatchSize, ["seed"] = g.Layer.Seed,
            },
            ["up_down"] = new JsonObject
            {
                ["epochs"] = summary["updown_epochs"]?.DeepClone(), ["learning_rate"] = preset.UpDown.LearningRate, ["batch"] = preset.UpDown.BatchSize,
                ["top_gibbs_steps"] = preset.UpDown.TopGibbsSteps,
            },
            // The classifier's file holds the config backprop ran with (a resumed run's overrides included).
            ["backprop"] = fineTuned ? ModelFile.ReadHeader(modelPath).HyperParameters.DeepClone() : preset.Backprop.ToJson(),
            ["backprop_dropout"] = preset.BackpropDropout,
        };
        ConfusionMatrix? confusion = null;
        if (fineTuned)
        {
            var net = FeedForwardModelFile.Load(modelPath, backend);
            confusion = ConfusionMatrix.Of(net, SupervisedData.FromDataset(data.Test), ConfusionMatrix.ClassNames(data, net.Spec.OutputLength));
        }
        return new RunRecord(name, DbnModelFile.Kind, "deep belief net", data.Description)
        {
            HyperParameters = hyper,
            Phases =
            [
                .. greedy.Select((stage, i) => new RunPhase($"greedy {stage.Stage}", "reconstruction error", stage.Epochs)
                {
                    // The phase's end figures go with its last stage.
                    Figures = i == greedy.Count - 1 ? Figures("greedy", "layer_epochs") : new JsonObject(),
                }),
                .. greedy.Count == 0 ? [new RunPhase("greedy", "reconstruction error", []) { Figures = Figures("greedy", "layer_epochs") }] : Array.Empty<RunPhase>(),
                new RunPhase("up-down", "generative reconstruction error", upDown) { Figures = Figures("updown", "updown_epochs") },
                new RunPhase("backprop", preset.Backprop.Architecture.Loss, fineTuned && File.Exists(checkpoint) ? Checkpoint.ReadHistory(checkpoint) : [])
                {
                    Figures = Figures("backprop", "backprop_epochs"),
                },
            ],
            Seconds = (double?)summary["seconds"] ?? 0, Confusion = confusion,
        };
    }

}

