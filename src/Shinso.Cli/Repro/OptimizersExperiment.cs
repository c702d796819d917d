using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Every optimizer on Schaul et al.'s kind of unit tests (<see cref="OptimizerTestFunction"/>: bowl, cliff, plateau, saddle), with
/// exact and with noisy gradients and four step sizes each, then every optimizer at its default settings on one net, with the
/// loss curves as plots.
/// </summary>
internal sealed class OptimizersExperiment : Experiment
{
    /// <summary>The optimizers the test functions take: every rule that needs no layer statistics (K-FAC does, so it runs on the net only).</summary>
    private static readonly string[] RuleOptimizers = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"];

    /// <summary>Step sizes tried on each test function: the optimizer's default times these.</summary>
    private static readonly float[] RateMultipliers = [0.1f, 1f, 10f, 100f];

    /// <summary>The standard deviation of the gradient noise of the stochastic tests.</summary>
    private const double GradientNoise = 0.1;

    /// <summary>A run has solved a test when its final excess over the minimum is below this.</summary>
    private const double Solved = 1e-3;

    public override string Name => "optimizers";

    public override string Paper => "Schaul, T., Antonoglou, I. & Silver, D. (2014), Unit tests for stochastic optimization, ICLR 2014; " +
                                    "Dauphin, Y., Pascanu, R., Gulcehre, C., Cho, K., Ganguli, S. & Bengio, Y. (2014), Identifying and attacking the saddle point problem " +
                                    "in high-dimensional non-convex optimization, NIPS 2014";

    public override string Dataset => "the four test functions; Fashion-MNIST for the net (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset)";

    public override string Claim => "small prototype functions show which landscape feature (an ill-conditioned bowl, a cliff, a plateau, a saddle) each optimizer handles " +
                                    "and how robust it is to its step size; saddle points slow first-order methods";

    public override string ExpectedTime => "2 min (quick: 15 s)";

    public override string QuickVersion => "200 steps per test instead of 500; the net on the embedded subset for 1 epoch instead of the full set for 2";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var report = new ExperimentReport(this);
        var root = RandomStream.Root(context.Seed).Derive("optimizer-tests");
        int steps = context.Quick ? 200 : 500;
        foreach (var function in OptimizerTestFunction.All)
        {
            foreach (double noise in new[] { 0.0, GradientNoise })
            {
                var noiseStream = root.Derive(function.Name).Derive("gradient-noise");
                var best = new List<(string Optimizer, float Rate, double[] Curve, int SolvedSettings)>();
                foreach (var name in RuleOptimizers)
                {
                    var defaults = OptimizerConfig.Defaults(name);
                    double[]? bestCurve = null;
                    float bestRate = 0;
                    int solved = 0;
                    foreach (float multiplier in RateMultipliers)
                    {
                        var config = defaults with { LearningRate = defaults.LearningRate * multiplier };
                        var curve = OptimizerTestRun.Run(context.Backend, config.Create(), function, steps, noise, noiseStream);
                        if (SolvedFrom(curve) >= 0) solved++;
                        if (bestCurve is null || Final(curve) < Final(bestCurve))
                        {
                            bestCurve = curve;
                            bestRate = config.LearningRate;
                        }
                    }
                    best.Add((name, bestRate, bestCurve!, solved));
                }
                string condition = noise > 0 ? $"gradient noise N(0, {noise.ToString(CultureInfo.InvariantCulture)}^2)" : "exact gradients";
                string key = $"{function.Name}_{(noise > 0 ? "noisy" : "exact")}";
                report.Rows.Add(new ReportRow($"{function.Name}, {condition}: f - f* after {steps} steps at each optimizer's best step size, the step from which it stayed below {Number(Solved)} (solved), and how many of the 4 step sizes solved it",
                    PaperFigure(function.Name), PaperSetting(function.Name),
                    string.Join("; ", best.Select(b => $"{b.Optimizer} {Number(b.Curve[^1])}{SolvedAt(b.Curve)} (lr {Number(b.Rate)}, {b.SolvedSettings}/4)")),
                    $"{function.Description}; {steps} steps; solved: f - f* < {Number(Solved)}; step sizes: each optimizer's default times 0.1, 1, 10, 100"));
                foreach (var b in best)
                {
                    report.Figures[$"{key}_{b.Optimizer}_final_excess"] = double.IsFinite(b.Curve[^1]) ? b.Curve[^1] : null;
                    report.Figures[$"{key}_{b.Optimizer}_learning_rate"] = b.Rate;
                    report.Figures[$"{key}_{b.Optimizer}_solved_settings"] = b.SolvedSettings;
                    int at = SolvedFrom(b.Curve);
                    report.Figures[$"{key}_{b.Optimizer}_steps_to_solve"] = at < 0 ? null : at;
                }
                if (noise > 0)
                {
                    string file = $"{function.Name}.png";
                    var plot = new ScatterPlot();
                    for (int k = 0; k < best.Count; k++)
                    {
                        // A diverged run's infinite tail is left out; an exact zero plots at 1e-12.
                        var curve = best[k].Curve;
                        var finite = Enumerable.Range(0, curve.Length).Where(t => double.IsFinite(curve[t])).ToArray();
                        plot.Points([.. finite.Select(t => (double)t)], [.. finite.Select(t => Math.Log10(Math.Max(curve[t], 1e-12)))], [.. finite.Select(_ => k)]);
                    }
                    plot.Write(Path.Combine(context.OutDirectory, file));
                    report.Images.Add((file, $"{function.Name} with noisy gradients: log10(f - f*) (y) against steps (x) at each optimizer's best step size; " + Colours(best.Select(b => b.Optimizer))));
                }
            }
        }
        AddNetRow(report, context);
        report.Figures["steps"] = steps;
        report.Figures["gradient_noise"] = GradientNoise;
        report.Notes.Add("The step sizes are chosen per test from four settings by the run's own final value: these are unit tests of the optimizers, not models of data, " +
                         $"so there is no held-out set ({RuleOptimizers.Length * RateMultipliers.Length * OptimizerTestFunction.All.Count * 2} runs). Every optimizer sees the same gradient noise " +
                         "(one named stream per function). K-FAC needs a net's layer statistics, so it runs on the net only.");
        report.Notes.Add("The paper's column gives its claims in words: Schaul et al.'s figures are for their own prototypes and algorithms, not quoted here.");
        return report;
    }

    /// <summary>
    /// The step from which <paramref name="curve"/> stays below <see cref="Solved"/> to its end, or -1 when it ends above it
    /// (a noisy run that dips below and climbs back has not solved the test).
    /// </summary>
    private static int SolvedFrom(double[] curve)
    {
        if (!(curve[^1] < Solved)) return -1;
        int t = curve.Length - 1;
        while (t > 0 && curve[t - 1] < Solved) t--;
        return t;
    }

    /// <summary>" from step t" for a run that solved the test, or nothing.</summary>
    private static string SolvedAt(double[] curve) => SolvedFrom(curve) is int t and >= 0 ? $" from step {t}" : "";

    /// <summary>Orders runs by their final excess, a diverged run last.</summary>
    private static double Final(double[] curve) => double.IsFinite(curve[^1]) ? curve[^1] : double.MaxValue;

    private static string PaperFigure(string function) => function switch
    {
        "saddle" => "first-order methods stall near a saddle point until the escaping direction grows",
        "cliff" => "a sudden change of slope: a step fit for the basin is wrong on the cliff's face",
        "plateau" => "a vanishing gradient: a fixed step barely moves",
        _ => "ill-conditioning: the steep direction's curvature limits a fixed step",
    };

    private static string PaperSetting(string function) => function == "saddle"
        ? "Dauphin et al. 2014 (saddle points in high-dimensional losses); a prototype in Schaul et al. 2014's manner"
        : "the landscape feature the prototype isolates, after Schaul et al. 2014 (with and without noise)";

    /// <summary>Every optimizer at its default settings on one net: the training loss against updates, the test accuracy at the end.</summary>
    private static void AddNetRow(ExperimentReport report, ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = SupervisedData.FromDataset(data.Train.WithClassCount(classes));
        var test = SupervisedData.FromDataset(data.Test.WithClassCount(classes));
        var probe = SupervisedData.FromDataset(data.Train.WithClassCount(classes).Take(Math.Min(1000, data.Train.Count)));
        var preset = Presets.Find("mlp-dropout")!;
        if (preset.Architecture.InputLength != data.Train.FeatureCount || preset.Architecture.OutputLength != classes)
            throw new UsageException($"--data: {data.Train.FeatureCount} features and {classes} classes; the 784-800-800-10 net takes 784 and 10.");
        var architecture = preset.Architecture with { Layers = [.. preset.Architecture.Layers.Where(l => l is not DropoutSpec)] };
        int epochs = context.Quick ? 1 : 2;
        var training = preset.Training with { Epochs = epochs, Seed = context.Seed };
        int updatesPerEpoch = (train.Count + training.BatchSize - 1) / training.BatchSize;
        int every = Math.Max(1, updatesPerEpoch * epochs / 20);
        var names = RuleOptimizers.Append("kfac").ToArray();
        var results = new List<(string Optimizer, float Rate, List<(int Updates, double Loss)> Curve, double Accuracy)>();
        foreach (var name in names)
        {
            var config = OptimizerConfig.Defaults(name);
            var net = new FeedForwardNet(context.Backend, architecture, context.Seed);
            var curve = new List<(int, double)> { (0, Trainer.Evaluate(net, probe).Loss) };
            var trainer = new Trainer(net, config.Create(), training);
            int updates = 0;
            trainer.BatchCompleted = (_, _) =>
            {
                if (++updates % every == 0) curve.Add((updates, Trainer.Evaluate(net, probe).Loss));
            };
            trainer.Fit(train);
            if (curve[^1].Item1 != updates) curve.Add((updates, Trainer.Evaluate(net, probe).Loss));
            results.Add((name, config.LearningRate, curve, Trainer.Evaluate(net, test).Accuracy ?? double.NaN));
        }
        var plot = new ScatterPlot();
        for (int k = 0; k < results.Count; k++)
        {
            var points = results[k].Curve.Where(p => double.IsFinite(p.Loss)).ToArray();
            plot.Points([.. points.Select(p => (double)p.Updates)], [.. points.Select(p => p.Loss)], [.. points.Select(_ => k)]);
        }
        const string netPlot = "net.png";
        plot.Write(Path.Combine(context.OutDirectory, netPlot));
        report.Images.Add((netPlot, $"the 784-800-800-10 net: cross-entropy on {probe.Count:N0} training images (y) against updates (x), every optimizer at its defaults; " +
                                    Colours(results.Select(r => r.Optimizer))));
        report.Rows.Add(new ReportRow($"one net: training cross-entropy after {epochs} epoch(s) and test accuracy, every optimizer at its default step size",
            "-", "no paper figure: one real loss beside the prototypes",
            string.Join("; ", results.Select(r => $"{r.Optimizer} {Number(r.Curve[^1].Loss)} ({(r.Accuracy * 100).ToString("F2", CultureInfo.InvariantCulture)} %)")),
            $"784-800-800-10 ReLU (the mlp-dropout net without dropout), batch {training.BatchSize}, {epochs} epoch(s), seed {context.Seed}, default step sizes " +
            string.Join(", ", results.Select(r => $"{r.Optimizer} {Number(r.Rate)}")) + $"; {data.Description}"));
        foreach (var r in results)
        {
            report.Figures[$"net_{r.Optimizer}_train_loss"] = double.IsFinite(r.Curve[^1].Loss) ? r.Curve[^1].Loss : null;
            report.Figures[$"net_{r.Optimizer}_test_accuracy"] = r.Accuracy;
        }
    }

    private static string Colours(IEnumerable<string> optimizers) =>
        string.Join(", ", optimizers.Select((o, k) => $"{o} {ColourNames[k % ColourNames.Length]}"));

    /// <summary>The names of <see cref="ScatterPlot.Palette"/>'s colours, in its order.</summary>
    private static readonly string[] ColourNames = ["blue", "orange", "green", "red", "purple", "brown", "pink", "grey", "olive", "cyan"];

    private static string Number(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
}
