using System.Diagnostics;
using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Robustness;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Yasuda et al.'s one-pass noise-robustness test beside the Monte Carlo test it replaces: an MLP (the <c>mlp-dropout</c>
/// preset) and a CNN (<c>lenet5</c>) trained here, then for each noise level the misclassification rate of test inputs with
/// added Gaussian noise estimated from one linearisation per input and counted over K noisy copies per input.
/// </summary>
internal sealed class NoiseRobustnessExperiment : Experiment
{
    public override string Name => "noise-robustness";

    public override string Paper => "Yasuda, M., Sakata, H., Cho, S.-I., Harada, T., Tanaka, A. & Yokoyama, M. (2019), An efficient test method for noise robustness of deep neural networks, " +
                                    "Nonlinear Theory and Its Applications (NOLTA), IEICE";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "one input-output pass per input estimates a net's misclassification rate under input noise as the Monte Carlo test over many noisy copies does, far faster";

    public override string ExpectedTime => "2 min (quick: 5 s)";

    public override string QuickVersion => "the embedded subset, 1 training epoch per net, 100 test inputs, K = 100 copies and 2 noise levels instead of 10 epochs per net, 500 inputs, K = 1000 and 4 levels";

    /// <summary>The two classifiers: a preset and the epochs it trains for in the full run (a few, so the run stays in minutes).</summary>
    private static readonly (string Preset, int Epochs)[] Nets = [("mlp-dropout", 10), ("lenet5", 10)];

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = SupervisedData.FromDataset(data.Train.WithClassCount(classes));
        var testImages = data.Test.WithClassCount(classes);
        int inputs = Math.Min(context.Quick ? 100 : 500, testImages.Count);
        var tested = testImages.Take(inputs);
        int copies = context.Quick ? 100 : 1000;
        double[] sigmas = context.Quick ? [0.05, 0.2] : [0.05, 0.1, 0.2, 0.3];
        var report = new ExperimentReport(this);
        var root = RandomStream.Root(context.Seed).Derive("robustness-monte-carlo");

        foreach (var (presetName, fullEpochs) in Nets)
        {
            var preset = Presets.Find(presetName)!;
            if (preset.Architecture.OutputLength != classes)
                throw new UsageException($"--data: {classes} classes; the {presetName} net has {preset.Architecture.OutputLength} outputs.");
            if (preset.Architecture.InputLength != data.Train.FeatureCount)
                throw new UsageException($"--data: {data.Train.FeatureCount} features per image; the {presetName} net takes {preset.Architecture.InputLength} (28x28 images).");
            int epochs = context.Quick ? 1 : fullEpochs;
            var config = preset with { Training = preset.Training with { Epochs = epochs, Seed = context.Seed } };
            var net = new FeedForwardNet(context.Backend, config.Architecture, context.Seed);
            new Trainer(net, config.CreateOptimizer(), config.Training).Fit(train);
            var clean = Trainer.Evaluate(net, SupervisedData.FromDataset(tested));

            RobustnessWarmUp.Run(net, tested, int.MaxValue, NoiseDistribution.Gaussian, root.Derive(presetName).Derive("warm-up"),
                RobustnessCommand.HostThreads(context.Backend));
            var clock = Stopwatch.StartNew();
            var margins = OnePassRobustness.Linearize(net, tested);
            double linearizeSeconds = clock.Elapsed.TotalSeconds;
            double onePassTotal = linearizeSeconds, monteCarloTotal = 0;
            string key = presetName.Replace('-', '_');
            string setting = $"{presetName} trained {epochs} epoch(s) ({P(clean.Accuracy)} clean accuracy on the {inputs} tested inputs), Gaussian noise, " +
                             $"all {classes - 1} competing classes, K = {copies}, seed {context.Seed}; {data.Description}";
            for (int s = 0; s < sigmas.Length; s++)
            {
                clock.Restart();
                var onePass = margins.MisclassificationProbabilities(sigmas[s], RobustnessCommand.HostThreads(context.Backend));
                onePassTotal += clock.Elapsed.TotalSeconds;
                clock.Restart();
                var monteCarlo = MonteCarloRobustness.Run(net, tested, NoiseDistribution.Gaussian, (float)sigmas[s], copies, root.Derive(presetName).Derive("sigma-" + sigmas[s].ToString("R", CultureInfo.InvariantCulture)));
                double monteCarloSeconds = clock.Elapsed.TotalSeconds;
                monteCarloTotal += monteCarloSeconds;
                double onePassRate = onePass.Average();
                var (lower, upper) = monteCarlo.ConfidenceInterval();
                var (inside, absolute, _) = monteCarlo.Agreement(onePass);
                string sigma = sigmas[s].ToString(CultureInfo.InvariantCulture);
                report.Rows.Add(new ReportRow($"{presetName}, sigma {sigma}: the one-pass estimate against the Monte Carlo rate",
                    "the one-pass estimate follows the Monte Carlo rate at small noise", "MNIST nets, Gaussian noise (the paper's figures)",
                    $"one-pass {P(onePassRate)}; Monte Carlo {P(monteCarlo.Rate())} [{P(lower)}, {P(upper)}]; {P(inside)} of inputs inside their own interval, " +
                    $"per-input mean |difference| {absolute:F4}", $"sigma {sigma} on [0, 1] pixels; {setting}"));
                string level = $"{key}_sigma_{sigma.Replace('.', '_')}";
                report.Figures[$"{level}_one_pass_rate"] = onePassRate;
                report.Figures[$"{level}_mc_rate"] = monteCarlo.Rate();
                report.Figures[$"{level}_mc_lower"] = lower;
                report.Figures[$"{level}_mc_upper"] = upper;
                report.Figures[$"{level}_inside_interval"] = inside;
                report.Figures[$"{level}_mc_seconds"] = monteCarloSeconds;
            }
            report.Rows.Add(new ReportRow($"{presetName}: seconds for every noise level, one pass against Monte Carlo",
                "much faster than the Monte Carlo test", "MNIST (abstract)",
                $"{onePassTotal:F2} s against {monteCarloTotal:F1} s ({monteCarloTotal / onePassTotal:F0}x); the linearisation, shared by every level, {linearizeSeconds:F2} s",
                $"{sigmas.Length} levels, {inputs} inputs, K = {copies}, {Shinso.Cli.Commands.CommonOptions.Describe(context.Backend)}"));
            report.Figures[$"{key}_clean_accuracy"] = clean.Accuracy;
            report.Figures[$"{key}_epochs"] = epochs;
            report.Figures[$"{key}_one_pass_seconds"] = onePassTotal;
            report.Figures[$"{key}_mc_seconds"] = monteCarloTotal;
            report.Figures[$"{key}_speedup"] = monteCarloTotal / onePassTotal;
        }
        report.Figures["inputs"] = inputs;
        report.Figures["mc_copies"] = copies;
        report.Figures["levels"] = sigmas.Length;
        report.Notes.Add($"Data: {data.Description}; the first {inputs} test images are tested." + (context.Quick ? " Quick: the embedded subset, 1 epoch per net, K = 100." : ""));
        report.Notes.Add("The one-pass estimate expands the class margins to first order in the noise (one forward and one input-gradient pass per competitor), " +
                         "so every level comes from one linearisation; it is exact for a linear classifier and drifts from the Monte Carlo rate as sigma grows, " +
                         "the max-pooling CNN first (noise raises the maximum of a flat pool window, which the linearisation does not see). " +
                         "The paper's column is its claim in words: its figures are for its own MNIST nets, not quoted here.");
        report.Notes.Add("No recipe was tuned for this experiment: each net is its preset's, trained for fewer epochs; the Monte Carlo streams are named (robustness-monte-carlo / net / sigma-VALUE), so a level draws the same noise in the quick and the full run.");
        return report;
    }

    private static string P(double? x) => (x ?? double.NaN).ToString("P2", CultureInfo.InvariantCulture);
}
