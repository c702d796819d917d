using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Cli.ModelKinds;
using Shinso.Models.Boltzmann;
using Shinso.Models.DeepBoltzmann;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Salakhutdinov &amp; Hinton's deep Boltzmann machine: the <c>dbm-2layer</c> preset (784-500-1000) pretrained greedily and
/// trained jointly, its variational lower bound on the test log-probability (log Z by AIS on the model with the odd layers
/// summed out) beside the AIS test log-probability of a 784-500 RBM trained on the same images, and the unrolled net's
/// accuracy after discriminative fine-tuning.
/// </summary>
internal sealed class DbmExperiment : Experiment
{
    public override string Name => "dbm";

    public override string Paper => "Salakhutdinov, R. & Hinton, G. (2009), Deep Boltzmann machines, AISTATS 2009, JMLR W&CP 5:448-455 " +
                                    "(the RBM figure: Salakhutdinov & Murray 2008)";

    public override string Dataset => "Fashion-MNIST binarised at 0.5 (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "a two-layer deep Boltzmann machine is a better density model than an RBM (its lower bound on the test log-probability lies above the RBM's estimate), " +
                                    "and its weights initialise a classifier well";

    public override string ExpectedTime => "9 min (quick: 40 s)";

    public override string QuickVersion => "the embedded subset, 1 pretraining epoch a stage, 2 joint epochs, 2 fine-tuning epochs, 1 RBM epoch and 10 AIS runs " +
                                           "instead of 10, 10, 20, 20 and 100";

    /// <summary>Fine-tuning epochs in the full run: a third of the preset's 60, so the run stays within a quarter of an hour.</summary>
    private const int FineTuningEpochs = 20;

    private static void Progress(string line) => CommonOptions.Err.MarkupLine(Markup.Escape(line));

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var preset = DbmPresets.Find("dbm-2layer")!;
        if (data.Train.FeatureCount != preset.LayerSizes[0])
            throw new UsageException($"--data: {data.Train.FeatureCount} features per image; the 784-500-1000 DBM takes {preset.LayerSizes[0]} (28x28 images).");
        bool quick = context.Quick;
        preset = preset with
        {
            Pretraining = preset.Pretraining with { Epochs = quick ? 1 : preset.Pretraining.Epochs, Rbm = preset.Pretraining.Rbm with { Seed = context.Seed } },
            Joint = preset.Joint with { Seed = context.Seed },
            Epochs = quick ? 2 : preset.Epochs,
            AisRuns = quick ? 10 : preset.AisRuns,
            FineTuning = preset.FineTuning! with { Training = preset.FineTuning!.Training with { Epochs = quick ? 2 : FineTuningEpochs, Seed = context.Seed } },
        };
        var train = data.Train.Binarize(preset.BinarizeThreshold);
        var test = data.Test.Binarize(preset.BinarizeThreshold);
        string folder = Path.Combine(context.OutDirectory, "dbm");
        var (dbm, run) = DbmRun.Train(Name, preset, context.Backend, train, folder, progress: Progress);
        var likelihood = DbmKind.Likelihood(dbm, train, test, run.AisRuns, context.Seed);
        // The classifier reads the grey pixels, as the dbm-2layer preset's does (binarising drops Fashion-MNIST's textures).
        var tuned = DbmRun.FineTune(run, dbm, data.Train, data.Test, folder, Progress)!;

        var rbmPreset = BoltzmannPresets.FindRbm("rbm")!;
        rbmPreset = rbmPreset with
        {
            Epochs = quick ? 1 : rbmPreset.Epochs,
            AisRuns = run.AisRuns,
            BinarizeThreshold = run.BinarizeThreshold,
            Options = rbmPreset.Options with { Seed = context.Seed },
        };
        var rbm = BoltzmannRuns.TrainRbm("dbm-rbm-baseline", rbmPreset, context.Backend, data, Path.Combine(context.OutDirectory, "rbm"));

        static double Value(JsonObject o, string key) => o[key]?.GetValue<double>() ?? double.NaN;
        static string F(double x, string infinite) => double.IsFinite(x) ? x.ToString("F2", CultureInfo.InvariantCulture) : infinite;
        string Interval(double value, double low, double high) => $"{F(value, "nan")} nats ({F(low, "-inf")} .. {F(high, "+inf")})";
        double bound = Value(likelihood, "test_log_probability_bound");
        double trainBound = Value(likelihood, "train_log_probability_bound");
        double rbmLogProbability = Value(rbm, "test_log_probability");
        var j = run.Joint;
        string dbmSetting = $"784-500-1000, {run.Pretraining.Epochs} pretraining epoch(s) a stage, {run.Epochs} joint epoch(s) " +
                            $"(lr {j.LearningRate.ToString(CultureInfo.InvariantCulture)}, {j.MeanFieldUpdates} mean-field sweeps, {j.PersistentChains} persistent chains x {j.GibbsSweeps} sweeps), " +
                            $"AIS {run.AisRuns} runs, seed {context.Seed}; {data.Description}, binarised";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("the DBM's variational lower bound on the average test log-probability",
            "-84.62 nats", "MNIST, 784-500-1000 DBM, Table 1 (the 3-layer 784-500-500-1000: -85.10)",
            Interval(bound, Value(likelihood, "test_log_probability_bound_low"), Value(likelihood, "test_log_probability_bound_high")), dbmSetting));
        report.Rows.Add(new ReportRow("the same bound on training images (the gap to test measures overfitting)",
            "-83.61 nats", "MNIST, the 2-layer DBM, Table 1",
            $"{F(trainBound, "nan")} nats on the first {Math.Min(train.Count, test.Count):N0} training images", dbmSetting));
        report.Rows.Add(new ReportRow("a 784-500 RBM's average test log-probability (AIS), below the DBM's bound",
            "-86.34 nats", "MNIST, RBM with 500 hidden units trained by CD-25 (Salakhutdinov & Murray 2008)",
            $"{Interval(rbmLogProbability, Value(rbm, "test_log_probability_low"), Value(rbm, "test_log_probability_high"))}; " +
            (bound > rbmLogProbability ? $"the DBM's bound lies {bound - rbmLogProbability:F2} nats above it" : $"the DBM's bound lies {rbmLogProbability - bound:F2} nats below it"),
            $"the rbm preset (CD-1, lr {rbmPreset.Options.LearningRate.ToString(CultureInfo.InvariantCulture)}), {rbmPreset.Epochs} epoch(s), AIS {rbmPreset.AisRuns} runs, the same images"));
        report.Rows.Add(new ReportRow("the unrolled DBM fine-tuned by backprop as a classifier",
            "0.95 % test error", "MNIST, the 2-layer DBM's weights initialising a 784-500-1000-10 net that also reads q(h2)",
            $"{tuned.Accuracy.ToString("P2", CultureInfo.InvariantCulture)} test accuracy ({(1 - tuned.Accuracy).ToString("P2", CultureInfo.InvariantCulture)} error)",
            $"{run.FineTuning!.Optimizer.Name} lr {run.FineTuning.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, dropout {run.FineTuningDropout.ToString(CultureInfo.InvariantCulture)}, " +
            $"{run.FineTuning.Training.Epochs} epoch(s) on grey pixels"));
        report.Figures["dbm_log_z"] = Value(likelihood, "log_z");
        report.Figures["dbm_test_log_probability_bound"] = bound;
        report.Figures["dbm_train_log_probability_bound"] = trainBound;
        report.Figures["rbm_test_log_probability"] = rbmLogProbability;
        report.Figures["dbm_bound_above_rbm"] = bound > rbmLogProbability;
        report.Figures["fine_tuned_test_accuracy"] = tuned.Accuracy;
        report.Figures["pretrain_epochs"] = run.Pretraining.Epochs;
        report.Figures["joint_epochs"] = run.Epochs;
        report.Figures["fine_tuning_epochs"] = run.FineTuning.Training.Epochs;
        report.Figures["ais_runs"] = run.AisRuns;
        report.Notes.Add($"Data: {data.Description}, binarised at {preset.BinarizeThreshold.ToString(CultureInfo.InvariantCulture)} for both generative models." +
                         (quick ? " Quick: the embedded subset and a few epochs, so the figures say little about the claim." : ""));
        report.Notes.Add("The paper's figures are MNIST log-probabilities; binarised Fashion-MNIST turns on far more pixels than MNIST's digits, so its nats are not comparable " +
                         "with them, only the order of DBM and RBM is. The paper trained 300-500 joint epochs, ours are the dbm-2layer preset's; the bound is a lower bound " +
                         "on the DBM's log-probability, the RBM's figure an estimate of its own.");
        report.Notes.Add($"No recipe was tuned for this experiment: the DBM is the dbm-2layer preset (its momentum kept at 0.5 and its classifier reading grey pixels, " +
                         $"both chosen on a validation split when the preset was made), fine-tuned for {run.FineTuning.Training.Epochs} epochs instead of its 60; the RBM is the rbm preset.");
        return report;
    }
}
