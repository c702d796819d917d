using System.Diagnostics;
using System.Globalization;
using Shinso.Backends;
using Shinso.Cli.Commands;
using Shinso.Data;
using Shinso.Models.Boltzmann;
using Shinso.Random;

namespace Shinso.Cli.Repro;

/// <summary>
/// Takahashi &amp; Yasuda's marginalized mean-field for Gaussian-Bernoulli RBMs against naive mean-field: on random machines
/// small enough to sum over every hidden state, how far each method's hidden marginals and free energy lie from the exact ones
/// as the couplings grow; then on the <c>rbm-gaussian</c> preset trained on Fashion-MNIST, both methods' free energies and
/// their completions of occluded images beside clamped Gibbs sampling.
/// </summary>
internal sealed class MarginalizedMeanFieldExperiment : Experiment
{
    /// <summary>Visible and hidden units of the enumerable machines (2^10 hidden states).</summary>
    private const int SmallVisible = 16, SmallHidden = 10;

    /// <summary>The weight deviations of the enumerable machines: weak, middling and strong couplings.</summary>
    private static readonly float[] WeightDeviations = [0.1f, 0.3f, 0.6f];

    /// <summary>
    /// Mean-field run to convergence on the enumerable machines, so each method's fixed point is compared, not its budget; the
    /// tolerance sits above the float32 means' resolution, which a damped update's last flicker would otherwise exceed.
    /// </summary>
    private static readonly MeanFieldOptions RunToConvergence = new(MaxIterations: 5000, Tolerance: 1e-6);

    /// <summary>The standard deviation of the enumerable machines' biases.</summary>
    private const float BiasDeviation = 0.5f;

    /// <summary>Observed visible values of the enumerable machines are drawn uniformly from [-ObservedRange, ObservedRange].</summary>
    private const float ObservedRange = 2f;

    /// <summary>Clamped Gibbs steps of the completion (the <c>complete</c> command's default).</summary>
    private const int GibbsSteps = 200;

    public override string Name => "marginalized-mean-field";

    public override string Paper => "Takahashi, C. & Yasuda, M. (2016), Mean-field inference in Gaussian restricted Boltzmann machine, J. Phys. Soc. Jpn. 85, 034001";

    public override string Dataset => "random 16-10 Gaussian-Bernoulli RBMs (exact enumeration); Fashion-MNIST for the trained machine (Debian's dataset-fashion-mnist if installed, " +
                                      "else the embedded subset; --quick: the subset)";

    public override string Claim => "mean-field inference on the model with the Gaussian visible layer integrated out is more accurate than naive mean-field: " +
                                    "its free energy is a tighter bound and its hidden marginals are closer to the exact ones";

    public override string ExpectedTime => "1 min (quick: 6 s)";

    public override string QuickVersion => "20 random machines per coupling instead of 100; the embedded subset, 1 RBM epoch instead of 20, and 200 occluded test images instead of 1,000";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var report = new ExperimentReport(this);
        var root = RandomStream.Root(context.Seed).Derive("marginalized-mean-field");
        int models = context.Quick ? 20 : 100;
        foreach (var (deviation, level) in WeightDeviations.Select((d, k) => (d, k)))
            AddEnumerationRows(report, context.Backend, root.Derive("coupling", level), deviation, models);
        AddTrainedRows(report, context, root.Derive("trained"));
        report.Notes.Add($"Random machines: {SmallVisible} Gaussian visible units (sigma 1), {SmallHidden} hidden units, weights N(0, s^2), biases N(0, {(BiasDeviation * BiasDeviation).ToString(CultureInfo.InvariantCulture)}); half of the cases " +
                         $"observe every other visible unit at a value drawn from U(-{ObservedRange.ToString(CultureInfo.InvariantCulture)}, {ObservedRange.ToString(CultureInfo.InvariantCulture)}). The exact posterior sums the 2^10 hidden states with the visible units integrated in " +
                         $"closed form; both methods iterate to a tolerance of 1e-6 (naive undamped, marginalized with its default damping 0.5).");
        report.Notes.Add("The paper's column states its claims in words (the bounds are ordered at equal hidden means, a theorem; the methods' fixed points are found by different updates, so their order is counted; its figures are for its own machines, not quoted here). " +
                         "No recipe was tuned for this experiment: the trained machine is the rbm-gaussian preset.");
        return report;
    }

    /// <summary>Errors of one method on one enumerable case.</summary>
    private readonly record struct CaseErrors(double HiddenL1, double Gap);

    private static void AddEnumerationRows(ExperimentReport report, IBackend backend, RandomStream stream, float deviation, int models)
    {
        var naive = new List<CaseErrors>();
        var marginalized = new List<CaseErrors>();
        int tighter = 0, closer = 0, unconverged = 0;
        for (int k = 0; k < models; k++)
        {
            var rbm = new RestrictedBoltzmannMachine(backend, SmallVisible, SmallHidden, VisibleUnits.Gaussian);
            var modelStream = stream.Derive("model", k);
            backend.SampleGaussian(modelStream.Derive("weights"), 0, 0f, deviation, rbm.Weights);
            backend.SampleGaussian(modelStream.Derive("visible-bias"), 0, 0f, BiasDeviation, rbm.VisibleBias);
            backend.SampleGaussian(modelStream.Derive("hidden-bias"), 0, 0f, BiasDeviation, rbm.HiddenBias);
            var draws = backend.Allocate(1, SmallVisible);
            backend.SampleUniform(modelStream.Derive("observed-values"), 0, draws);
            var values = RestrictedBoltzmannMachine.Download(draws);
            var observed = new bool[SmallVisible];
            for (int i = 0; i < SmallVisible; i++)
            {
                values[i] = ObservedRange * (2f * values[i] - 1f);
                observed[i] = k % 2 == 1 && i % 2 == 0;
            }
            var (exactFree, exactHidden) = ExactPosterior(rbm, values, observed);
            var plain = Infer(rbm, values, observed, MeanFieldMethod.Naive);
            var marginal = Infer(rbm, values, observed, MeanFieldMethod.Marginalized);
            if (!plain.Converged || !marginal.Converged) unconverged++;
            var a = new CaseErrors(MeanAbsolute(plain.Hidden, exactHidden), plain.FreeEnergy - exactFree);
            var b = new CaseErrors(MeanAbsolute(marginal.Hidden, exactHidden), marginal.FreeEnergy - exactFree);
            naive.Add(a);
            marginalized.Add(b);
            // The free energies are sums of a few dozen float32 products, accurate to about 1e-6 nats.
            if (marginal.FreeEnergy <= plain.FreeEnergy + 1e-6) tighter++;
            if (b.HiddenL1 <= a.HiddenL1 + 1e-9) closer++;
        }
        string s = deviation.ToString(CultureInfo.InvariantCulture);
        string setting = $"{models} random {SmallVisible}-{SmallHidden} machines, weight deviation {s}" + (unconverged > 0 ? $"; {unconverged} did not converge" : "");
        report.Rows.Add(new ReportRow($"weight deviation {s}: mean |q(h_j) - p(h_j)| over the hidden units, naive against marginalized",
            "marginalized closer to the exact marginals", "Gaussian-Bernoulli RBMs with exact marginals",
            $"naive {naive.Average(e => e.HiddenL1):F5}, marginalized {marginalized.Average(e => e.HiddenL1):F5}; marginalized closer on {closer}/{models}", setting));
        report.Rows.Add(new ReportRow($"weight deviation {s}: the free energy's excess over the exact one (KL(q || p), nats), naive against marginalized",
            "the marginalized free energy is the tighter bound (at equal hidden means, so at each method's optimum)", "theorem (any Gaussian-Bernoulli RBM)",
            $"naive {naive.Average(e => e.Gap):G4}, marginalized {marginalized.Average(e => e.Gap):G4}; at the fixed points found, marginalized at or below naive on {tighter}/{models}", setting));
        string key = $"coupling_{s.Replace('.', '_')}";
        report.Figures[$"{key}_naive_hidden_l1"] = naive.Average(e => e.HiddenL1);
        report.Figures[$"{key}_marginalized_hidden_l1"] = marginalized.Average(e => e.HiddenL1);
        report.Figures[$"{key}_naive_kl"] = naive.Average(e => e.Gap);
        report.Figures[$"{key}_marginalized_kl"] = marginalized.Average(e => e.Gap);
        report.Figures[$"{key}_tighter"] = tighter;
        report.Figures[$"{key}_closer"] = closer;
        report.Figures[$"{key}_models"] = models;
    }

    /// <summary>
    /// The exact free energy <c>-log sum_h integral exp(-E) dv_unobserved</c> and hidden marginals of a Gaussian-Bernoulli RBM
    /// with sigma 1, from the 2^n_h hidden states: given h, each unobserved v_i integrates to <c>sqrt(2 pi) exp(b_i a_i + a_i^2 / 2)</c>
    /// with <c>a = W h</c>, and an observed one contributes <c>-(v_i - b_i)^2 / 2 + v_i a_i</c>.
    /// </summary>
    private static (double FreeEnergy, double[] Hidden) ExactPosterior(RestrictedBoltzmannMachine rbm, float[] v, bool[] observed)
    {
        float[] w = RestrictedBoltzmannMachine.Download(rbm.Weights), b = RestrictedBoltzmannMachine.Download(rbm.VisibleBias), c = RestrictedBoltzmannMachine.Download(rbm.HiddenBias);
        int nv = rbm.VisibleCount, nh = rbm.HiddenCount, states = 1 << nh;
        double logRootTwoPi = 0.5 * Math.Log(2 * Math.PI);
        var logWeights = new double[states];
        for (int state = 0; state < states; state++)
        {
            double log = 0;
            for (int j = 0; j < nh; j++) if (((state >> j) & 1) == 1) log += c[j];
            for (int i = 0; i < nv; i++)
            {
                double a = 0;
                for (int j = 0; j < nh; j++) if (((state >> j) & 1) == 1) a += w[i * nh + j];
                log += observed[i]
                    ? -0.5 * (v[i] - b[i]) * (v[i] - b[i]) + v[i] * a
                    : logRootTwoPi + b[i] * a + 0.5 * a * a;
            }
            logWeights[state] = log;
        }
        double max = logWeights.Max(), sum = 0;
        foreach (double l in logWeights) sum += Math.Exp(l - max);
        double logZ = max + Math.Log(sum);
        var hidden = new double[nh];
        for (int state = 0; state < states; state++)
        {
            double p = Math.Exp(logWeights[state] - logZ);
            for (int j = 0; j < nh; j++) if (((state >> j) & 1) == 1) hidden[j] += p;
        }
        return (-logZ, hidden);
    }

    private sealed record Fit(double FreeEnergy, double[] Hidden, bool Converged);

    private static Fit Infer(RestrictedBoltzmannMachine rbm, float[] v, bool[] observed, MeanFieldMethod method)
    {
        var backend = rbm.Backend;
        var visible = backend.Allocate(1, rbm.VisibleCount);
        backend.Upload(v, visible);
        var mask = backend.Allocate(1, rbm.VisibleCount);
        backend.Upload(observed.Select(o => o ? 1f : 0f).ToArray(), mask);
        var hiddenMeans = backend.Allocate(1, rbm.HiddenCount);
        var visibleMeans = backend.Allocate(1, rbm.VisibleCount);
        var result = RbmMeanField.Infer(rbm, visible, observed.Any(o => o) ? mask : null, method, RunToConvergence, hiddenMeans, visibleMeans);
        return new Fit(result.FreeEnergies[0], [.. RestrictedBoltzmannMachine.Download(hiddenMeans).Select(x => (double)x)], result.Converged);
    }

    private static double MeanAbsolute(double[] a, double[] b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++) sum += Math.Abs(a[j] - b[j]);
        return sum / a.Length;
    }

    /// <summary>The rbm-gaussian preset on the images: free energies of the right half given the left, and completions of that half.</summary>
    private static void AddTrainedRows(ExperimentReport report, ExperimentContext context, RandomStream stream)
    {
        var data = ExperimentData.Load(context);
        var preset = BoltzmannPresets.FindRbm("rbm-gaussian")!;
        // AIS is not what this experiment measures: the fewest runs the run accepts beyond its first checks.
        preset = preset with { Epochs = context.Quick ? 1 : preset.Epochs, AisRuns = 10, Options = preset.Options with { Seed = context.Seed } };
        var summary = BoltzmannRuns.TrainRbm("marginalized-mean-field-rbm", preset, context.Backend, data, Path.Combine(context.OutDirectory, "rbm-gaussian"));
        var rbm = RbmModelFile.Load(summary["model_path"]!.GetValue<string>(), context.Backend);
        var centering = VisibleCentering.Fit(data.Train);
        int count = Math.Min(context.Quick ? 200 : 1000, data.Test.Count), nv = rbm.VisibleCount;
        var test = centering.Apply(data.Test.Take(count));
        var inputs = test.Features.AsSpan(0, count * nv).ToArray();
        int side = (int)Math.Round(Math.Sqrt(nv));
        var mask = Occlusion.Parse("right").ObservedMask(count, side, side, stream.Derive("occlusion"));
        var truth = inputs.ToArray();
        centering.Invert(truth);

        var backend = context.Backend;
        var visible = backend.Allocate(count, nv);
        backend.Upload(inputs, visible);
        var observed = backend.Allocate(count, nv);
        backend.Upload(mask, observed);
        var hiddenMeans = backend.Allocate(count, rbm.HiddenCount);
        var visibleMeans = backend.Allocate(count, nv);
        var options = new MeanFieldOptions();
        var naive = RbmMeanField.Infer(rbm, visible, observed, MeanFieldMethod.Naive, options, hiddenMeans, visibleMeans);
        var marginalized = RbmMeanField.Infer(rbm, visible, observed, MeanFieldMethod.Marginalized, options, hiddenMeans, visibleMeans);
        int tighter = 0;
        // 784-500 free energies are sums of some 10^5 float32 products: equal to about 1e-3 nats.
        for (int n = 0; n < count; n++) if (marginalized.FreeEnergies[n] <= naive.FreeEnergies[n] + 1e-3) tighter++;
        double naiveFree = naive.FreeEnergies.Average(), marginalizedFree = marginalized.FreeEnergies.Average();
        string setting = $"rbm-gaussian preset (784-500, CD-1 on centred pixels), {preset.Epochs} epoch(s), seed {context.Seed}; the right half of the first {count:N0} test images hidden; {data.Description}";
        report.Rows.Add(new ReportRow("the trained machine: mean free energy of the hidden half given the visible half, naive against marginalized",
            "the marginalized free energy is the tighter bound (at equal hidden means)", "theorem",
            $"naive {naiveFree:F2}, marginalized {marginalizedFree:F2} nats ({naiveFree - marginalizedFree:F2} lower); at the means reached, marginalized at or below naive on {tighter}/{count} images; " +
            $"iterations {naive.Iterations} / {marginalized.Iterations} of at most {options.MaxIterations}" +
            (naive.Converged && marginalized.Converged ? "" : $" (the tolerance {options.Tolerance.ToString("0.#########", CultureInfo.InvariantCulture)} {(naive.Converged ? "met" : "not met")} by naive, {(marginalized.Converged ? "met" : "not met")} by marginalized)"), setting));
        report.Figures["trained_naive_free_energy"] = naiveFree;
        report.Figures["trained_marginalized_free_energy"] = marginalizedFree;
        report.Figures["trained_tighter"] = tighter;
        report.Figures["trained_images"] = count;

        long hiddenPixels = mask.Count(m => m == 0f);
        foreach (var method in RbmCompletion.Applicable(rbm))
        {
            int steps = method == CompletionMethod.Gibbs ? GibbsSteps : options.MaxIterations;
            var clock = Stopwatch.StartNew();
            var completion = RbmCompletion.Complete(rbm, inputs, mask, method, steps, stream.Derive("completion"));
            double seconds = clock.Elapsed.TotalSeconds;
            var pixels = completion.Values;
            centering.Invert(pixels);
            double error = 0;
            for (int k = 0; k < pixels.Length; k++)
                if (mask[k] == 0f) error += (double)(pixels[k] - truth[k]) * (pixels[k] - truth[k]);
            error /= hiddenPixels;
            string name = RbmCompletion.Name(method);
            report.Rows.Add(new ReportRow($"the trained machine: the right halves filled in by {name}",
                method == CompletionMethod.MarginalizedMeanField ? "the more accurate inference" : "-", "-",
                $"squared error {error:F4} per hidden pixel, {seconds:F2} s", $"{(method == CompletionMethod.Gibbs ? $"{steps} clamped Gibbs steps" : $"{completion.Iterations} of at most {steps} iterations")}; {setting}"));
            report.Figures[$"completion_{name.Replace('-', '_')}_squared_error"] = error;
            report.Figures[$"completion_{name.Replace('-', '_')}_seconds"] = seconds;
        }
    }
}
