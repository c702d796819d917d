using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.Commands;
using Shinso.Models.Boltzmann;

namespace Shinso.Cli.Repro;

/// <summary>
/// Salakhutdinov &amp; Murray's use of annealed importance sampling: 784-500 RBMs learned by CD-1, CD-3 and PCD compared by
/// their AIS test log-probabilities (with the 3-sigma interval of log Z), and AIS checked against the exact log Z of a
/// 784-15 RBM, whose 2^15 hidden states can be summed.
/// </summary>
internal sealed class RbmAisExperiment : Experiment
{
    /// <summary>Hidden units of the RBM small enough to enumerate.</summary>
    private const int SmallHidden = 15;

    public override string Name => "rbm-ais";

    public override string Paper => "Salakhutdinov, R. & Murray, I. (2008), On the quantitative analysis of deep belief networks, ICML 2008:872-879";

    public override string Dataset => "Fashion-MNIST binarised at 0.5 (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "AIS estimates an RBM's partition function well enough to compare RBMs by test log-probability: it matches the exact value where that can be computed, and ranks longer-chain training above CD-1";

    public override string ExpectedTime => "4 min (quick: 20 s)";

    public override string QuickVersion => "the embedded subset, 2 epochs per RBM instead of 20, 10 AIS runs instead of 100";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var cd1 = BoltzmannPresets.FindRbm("rbm")!;
        var pcd = BoltzmannPresets.FindRbm("rbm-pcd")!;
        RbmPreset Scaled(RbmPreset p, int? hidden = null, int? gibbsSteps = null) => p with
        {
            Hidden = hidden ?? p.Hidden,
            Epochs = context.Quick ? 2 : p.Epochs,
            AisRuns = context.Quick ? 10 : p.AisRuns,
            Options = p.Options with { Seed = context.Seed, GibbsSteps = gibbsSteps ?? p.Options.GibbsSteps },
        };
        var models = new (string Name, string Label, RbmPreset Preset)[]
        {
            ("cd1", "CD-1", Scaled(cd1)),
            ("cd3", "CD-3", Scaled(cd1, gibbsSteps: 3)),
            ("pcd", "PCD", Scaled(pcd)),
        };
        var results = new Dictionary<string, JsonObject>();
        foreach (var (name, _, preset) in models)
            results[name] = BoltzmannRuns.TrainRbm($"rbm-ais-{name}", preset, context.Backend, data, Path.Combine(context.OutDirectory, name));

        // The enumerable RBM: AIS beside the exact log Z (its hidden layer summed state by state, in double).
        var small = Scaled(cd1, hidden: SmallHidden);
        var smallSummary = BoltzmannRuns.TrainRbm($"rbm-ais-h{SmallHidden}", small, context.Backend, data, Path.Combine(context.OutDirectory, $"h{SmallHidden}"));
        var smallRbm = RbmModelFile.Load(smallSummary["model_path"]!.GetValue<string>(), context.Backend);
        double exact = RbmEvaluation.ExactLogPartition(smallRbm);
        double ais = smallSummary["log_z"]!.GetValue<double>();
        double? low = smallSummary["log_z_low"]?.GetValue<double>(), high = smallSummary["log_z_high"]?.GetValue<double>();

        // A bound JSON could not hold is infinite: log Z's lower 3-sigma bound is -inf when the runs' weights spread widely,
        // which makes the log-probability's upper bound +inf.
        static string F(double? x, string infinite = "-inf") => x is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : infinite;
        string Interval(JsonObject r) => $"{F(r["test_log_probability"]!.GetValue<double>())} nats " +
            $"({F(r["test_log_probability_low"]?.GetValue<double>())} .. {F(r["test_log_probability_high"]?.GetValue<double>(), "+inf")})";
        string settings = $"{data.Train.Count:N0} training / {data.Test.Count:N0} test images, {models[0].Preset.Epochs} epochs, {models[0].Preset.AisRuns} AIS runs, seed {context.Seed}";
        var report = new ExperimentReport(this);
        foreach (var (name, label, preset) in models)
        {
            var o = preset.Options;
            report.Rows.Add(new ReportRow($"the average test log-probability of a 784-500 RBM learned by {label}",
                name == "cd1" ? "CD-1 gives the lowest test log-probability of the training rules compared" : "higher than CD-1's: longer chains learn better density models",
                "MNIST, 500 hidden units, AIS with 100 runs and 14,500 intermediate distributions",
                Interval(results[name]),
                $"lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)}, weight decay {o.WeightDecay.ToString(CultureInfo.InvariantCulture)}, batch {o.BatchSize}" +
                (preset.Persistent ? $", {o.PersistentChains} persistent chains" : $", {o.GibbsSteps} Gibbs step{(o.GibbsSteps == 1 ? "" : "s")}") + $"; {settings}"));
        }
        report.Rows.Add(new ReportRow($"AIS agrees with the exact log Z of an RBM small enough to enumerate",
            "AIS estimates agree with the exact log Z where it can be computed",
            "MNIST, small RBMs whose log Z is computed exactly",
            $"AIS {F(ais)} (3 sigma: {F(low)} .. {F(high)}) against exact {F(exact)}, off by {Math.Abs(ais - exact).ToString("G3", CultureInfo.InvariantCulture)} nats",
            $"784-{SmallHidden} RBM trained by CD-1 as above; exact log Z by summing its 2^{SmallHidden} hidden states in double"));
        report.Notes.Add($"Data: {data.Description}, binarised at 0.5." + (context.Quick ? " Quick: the embedded subset, 2 epochs, 10 AIS runs, so the intervals are wide." : ""));
        report.Notes.Add("The paper's figures are MNIST log-probabilities; Fashion-MNIST's binarised images are a different distribution, so only the " +
                         "ordering and the agreement with exact values are compared, not the nats. No recipe was tuned for this experiment: CD-1 and PCD are the " +
                         "rbm and rbm-pcd presets, CD-3 is rbm with three Gibbs steps.");
        foreach (var (name, _, _) in models)
        {
            report.Figures[$"{name}_test_log_probability"] = results[name]["test_log_probability"]!.GetValue<double>();
            report.Figures[$"{name}_log_z"] = results[name]["log_z"]!.GetValue<double>();
        }
        report.Figures["small_hidden"] = SmallHidden;
        report.Figures["small_exact_log_z"] = exact;
        report.Figures["small_ais_log_z"] = ais;
        report.Figures["small_ais_log_z_low"] = low;
        report.Figures["small_ais_log_z_high"] = high;
        report.Figures["train_samples"] = data.Train.Count;
        report.Figures["test_samples"] = data.Test.Count;
        return report;
    }
}
