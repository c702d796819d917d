using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Xunit.Abstractions;

namespace Shinso.Tests.Boltzmann;

/// <summary>
/// Mean-field inference against exact enumeration on machines small enough to sum over every hidden state: the variational
/// free energies bound the exact one, and for Gaussian-Bernoulli RBMs the marginalized form (Takahashi &amp; Yasuda 2016) is
/// the tighter bound and the closer marginals.
/// </summary>
public class RbmMeanFieldTests(ITestOutputHelper output)
{
    private static readonly CpuBackend Cpu = new(new CpuKernelOptions(SimdPath.Auto, 1));

    private static readonly MeanFieldOptions Tight = new(MaxIterations: 2000, Tolerance: 1e-6);

    /// <summary>The exact conditional of the unobserved units given the observed ones, from a sum over every hidden state.</summary>
    private sealed record Exact(double FreeEnergy, double[] HiddenMarginals, double[] VisibleMeans);

    /// <summary>
    /// Gaussian visible units: for each h the unobserved v_i are independent, and each one's integral
    /// <c>integral exp(-(v - b)^2 / (2 s^2) + (v / s) a) dv</c> with its first moment is taken by the trapezoid rule on a fine
    /// grid, not from the closed form the marginalized method rests on.
    /// </summary>
    private static Exact GaussianByEnumeration(Naive.Params p, float[] v, bool[] observed)
    {
        int nh = p.Nh, nv = p.Nv;
        var logWeights = new double[1 << nh];
        var conditionalMeans = new double[1 << nh, nv];
        var h = new double[nh];
        for (int s = 0; s < 1 << nh; s++)
        {
            for (int j = 0; j < nh; j++) h[j] = (s >> j) & 1;
            double logWeight = 0;
            for (int j = 0; j < nh; j++) logWeight += p.C[j] * h[j];
            for (int i = 0; i < nv; i++)
            {
                double a = 0;
                for (int j = 0; j < nh; j++) a += p.W[i * nh + j] * h[j];
                double sigma = p.Sigma[i];
                double LogIntegrand(double x) => -(x - p.B[i]) * (x - p.B[i]) / (2 * sigma * sigma) + x / sigma * a;
                if (observed[i])
                {
                    logWeight += LogIntegrand(v[i]);
                    conditionalMeans[s, i] = v[i];
                    continue;
                }
                // The integrand peaks at b + s a; 40 sigma either side on 8001 points leaves no measurable tail.
                double centre = p.B[i] + sigma * a, half = 40 * sigma, step = 2 * half / 8000, peak = LogIntegrand(centre);
                double mass = 0, moment = 0;
                for (int k = 0; k <= 8000; k++)
                {
                    double x = centre - half + k * step;
                    double w = (k == 0 || k == 8000 ? 0.5 : 1) * Math.Exp(LogIntegrand(x) - peak);
                    mass += w;
                    moment += w * x;
                }
                logWeight += peak + Math.Log(mass * step);
                conditionalMeans[s, i] = moment / mass;
            }
            logWeights[s] = logWeight;
        }
        return Marginalize(logWeights, nh, nv, (s, i) => conditionalMeans[s, i]);
    }

    /// <summary>Bernoulli visible units: a sum over every unobserved visible state and every hidden state.</summary>
    private static Exact BernoulliByEnumeration(Naive.Params p, float[] v, bool[] observed)
    {
        int nh = p.Nh, nv = p.Nv;
        var free = Enumerable.Range(0, nv).Where(i => !observed[i]).ToArray();
        var logWeights = new double[1 << nh];
        var conditionalMeans = new double[1 << nh, nv];
        var state = new float[nv];
        var h = new float[nh];
        for (int s = 0; s < 1 << nh; s++)
        {
            for (int j = 0; j < nh; j++) h[j] = (s >> j) & 1;
            var terms = new double[1 << free.Length];
            var firstMoments = new double[nv];
            for (int u = 0; u < 1 << free.Length; u++)
            {
                for (int i = 0; i < nv; i++) state[i] = v[i];
                for (int k = 0; k < free.Length; k++) state[free[k]] = (u >> k) & 1;
                terms[u] = -Naive.Energy(p, state, h);
            }
            double logSum = Naive.LogSumExp(terms);
            for (int u = 0; u < 1 << free.Length; u++)
            {
                double pr = Math.Exp(terms[u] - logSum);
                for (int k = 0; k < free.Length; k++) firstMoments[free[k]] += pr * ((u >> k) & 1);
            }
            logWeights[s] = logSum;
            for (int i = 0; i < nv; i++) conditionalMeans[s, i] = observed[i] ? v[i] : firstMoments[i];
        }
        return Marginalize(logWeights, nh, nv, (s, i) => conditionalMeans[s, i]);
    }

    private static Exact Marginalize(double[] logWeights, int nh, int nv, Func<int, int, double> conditionalMean)
    {
        double logZ = Naive.LogSumExp(logWeights);
        var hidden = new double[nh];
        var visible = new double[nv];
        for (int s = 0; s < logWeights.Length; s++)
        {
            double pr = Math.Exp(logWeights[s] - logZ);
            for (int j = 0; j < nh; j++) if (((s >> j) & 1) == 1) hidden[j] += pr;
            for (int i = 0; i < nv; i++) visible[i] += pr * conditionalMean(s, i);
        }
        return new Exact(-logZ, hidden, visible);
    }

    private sealed record Fit(double FreeEnergy, double[] Hidden, double[] Visible, MeanFieldResult Result);

    private static Fit Infer(RestrictedBoltzmannMachine rbm, float[] v, bool[] observed, MeanFieldMethod method, MeanFieldOptions options)
    {
        int nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var visible = Cpu.Allocate(1, nv);
        Cpu.Upload(v, visible);
        Shinso.Tensors.Tensor? mask = null;
        if (observed.Any(o => o))
        {
            mask = Cpu.Allocate(1, nv);
            Cpu.Upload(observed.Select(o => o ? 1f : 0f).ToArray(), mask);
        }
        var hiddenMeans = Cpu.Allocate(1, nh);
        var visibleMeans = Cpu.Allocate(1, nv);
        var result = RbmMeanField.Infer(rbm, visible, mask, method, options, hiddenMeans, visibleMeans);
        return new Fit(result.FreeEnergies[0], RestrictedBoltzmannMachine.Download(hiddenMeans).Select(x => (double)x).ToArray(),
            RestrictedBoltzmannMachine.Download(visibleMeans).Select(x => (double)x).ToArray(), result);
    }

    /// <summary>Sum over hidden units of <c>KL(Bernoulli(exact) || Bernoulli(approximate))</c>.</summary>
    private static double MarginalKl(double[] exact, double[] approximate)
    {
        double kl = 0;
        for (int j = 0; j < exact.Length; j++)
        {
            double p = exact[j], q = Math.Clamp(approximate[j], 1e-12, 1 - 1e-12);
            if (p > 0) kl += p * Math.Log(p / q);
            if (p < 1) kl += (1 - p) * Math.Log((1 - p) / (1 - q));
        }
        return kl;
    }

    private static double MeanAbsolute(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    /// <summary>A random machine and, for some, an observed subset of its visible units with values drawn near the model's scale.</summary>
    private static (RestrictedBoltzmannMachine Rbm, float[] Visible, bool[] Observed) RandomCase(int index, VisibleUnits units)
    {
        ulong seed = 1000 + (ulong)index;
        var draws = new float[8];
        RandomKernels.Uniform(RandomStream.Root(seed).Derive("mean-field-case"), 0, draws);
        int nv = 3 + (int)(draws[0] * 4), nh = 3 + (int)(draws[1] * 6);
        float weightStd = 0.2f + draws[2] * 0.8f;
        bool learnSigma = units == VisibleUnits.Gaussian && draws[3] < 0.5f;
        var rbm = Naive.Random(Cpu, nv, nh, seed, weightStd, 0.5f, units, learnSigma);
        var values = new float[nv];
        RandomKernels.Uniform(RandomStream.Root(seed).Derive("mean-field-values"), 0, values);
        var observed = new bool[nv];
        bool clamp = draws[4] < 0.5f;
        for (int i = 0; i < nv; i++)
        {
            observed[i] = clamp && i % 2 == 0;
            values[i] = units == VisibleUnits.Bernoulli ? (values[i] < 0.5f ? 0f : 1f) : 4f * values[i] - 2f;
        }
        return (rbm, values, observed);
    }

    private readonly record struct Errors(double HiddenL1, double HiddenKl, double VisibleL1, double Gap);

    private static Errors Compare(Exact exact, Fit fit) => new(MeanAbsolute(exact.HiddenMarginals, fit.Hidden),
        MarginalKl(exact.HiddenMarginals, fit.Hidden), MeanAbsolute(exact.VisibleMeans, fit.Visible), fit.FreeEnergy - exact.FreeEnergy);

    private string Summary(string name, IReadOnlyList<Errors> errors) =>
        $"{name,-13} hidden L1 mean {errors.Average(e => e.HiddenL1):F5} worst {errors.Max(e => e.HiddenL1):F5}; " +
        $"hidden KL mean {errors.Average(e => e.HiddenKl):F5} worst {errors.Max(e => e.HiddenKl):F5}; " +
        $"visible-mean L1 mean {errors.Average(e => e.VisibleL1):F5}; free-energy gap KL(q||p) mean {errors.Average(e => e.Gap):F5} worst {errors.Max(e => e.Gap):F5}";

    [Fact]
    public void Marginalized_mean_field_is_the_tighter_bound_and_the_closer_marginals_on_120_gaussian_rbms()
    {
        const int models = 120;
        var naive = new List<Errors>();
        var marginalized = new List<Errors>();
        int tighter = 0, closerHidden = 0, closerVisible = 0, clamped = 0;
        for (int index = 0; index < models; index++)
        {
            var (rbm, v, observed) = RandomCase(index, VisibleUnits.Gaussian);
            if (observed.Any(o => o)) clamped++;
            var exact = GaussianByEnumeration(Naive.Read(rbm), v, observed);
            var plain = Infer(rbm, v, observed, MeanFieldMethod.Naive, Tight);
            var marginal = Infer(rbm, v, observed, MeanFieldMethod.Marginalized, Tight);
            Assert.True(plain.Result.Converged && marginal.Result.Converged,
                $"model {index}: naive converged {plain.Result.Converged} in {plain.Result.Iterations}, marginalized {marginal.Result.Converged} in {marginal.Result.Iterations}");
            var a = Compare(exact, plain);
            var b = Compare(exact, marginal);
            naive.Add(a);
            marginalized.Add(b);
            // Both are variational bounds: KL(q || p) >= 0, up to float32 rounding of the parameters' products.
            Assert.True(a.Gap > -1e-4 && b.Gap > -1e-4, $"model {index}: free-energy gaps naive {a.Gap:G6}, marginalized {b.Gap:G6} must be >= 0");
            Assert.True(marginal.FreeEnergy <= plain.FreeEnergy + 1e-5,
                $"model {index}: marginalized free energy {marginal.FreeEnergy:F6} above naive {plain.FreeEnergy:F6}");
            tighter++;
            if (b.HiddenL1 <= a.HiddenL1 + 1e-9) closerHidden++;
            if (b.VisibleL1 <= a.VisibleL1 + 1e-9) closerVisible++;
            foreach (int i in Enumerable.Range(0, v.Length).Where(i => observed[i]))
            {
                Assert.Equal(v[i], (float)marginal.Visible[i]);
                Assert.Equal(v[i], (float)plain.Visible[i]);
            }
        }
        output.WriteLine($"{models} Gaussian-Bernoulli RBMs (3-6 visible, 3-8 hidden, weight std 0.2-1.0, {clamped} with half the visible units observed):");
        output.WriteLine(Summary("naive", naive));
        output.WriteLine(Summary("marginalized", marginalized));
        output.WriteLine($"free energy marginalized <= naive: {tighter}/{models}; hidden marginals closer: {closerHidden}/{models}; visible means closer: {closerVisible}/{models}");
        Assert.Equal(models, tighter);
        Assert.True(marginalized.Average(e => e.HiddenL1) < naive.Average(e => e.HiddenL1), "marginalized hidden marginals are not closer on average");
        Assert.True(marginalized.Average(e => e.HiddenKl) < naive.Average(e => e.HiddenKl), "marginalized hidden KL is not smaller on average");
        // The theorem orders the bounds, not each marginal: where the posterior is bimodal both families sit in one mode and
        // miss the other alike, so the worst cases are reported, not ordered.
        Assert.True(closerHidden >= models * 9 / 10, $"hidden marginals closer on only {closerHidden}/{models} models");
        Assert.True(closerVisible >= models * 9 / 10, $"visible means closer on only {closerVisible}/{models} models");
    }

    [Fact]
    public void Naive_mean_field_bounds_the_exact_free_energy_of_bernoulli_rbms_and_is_exact_in_the_weak_coupling_limit()
    {
        var errors = new List<Errors>();
        for (int index = 0; index < 100; index++)
        {
            var (rbm, v, observed) = RandomCase(index, VisibleUnits.Bernoulli);
            var exact = BernoulliByEnumeration(Naive.Read(rbm), v, observed);
            var fit = Infer(rbm, v, observed, MeanFieldMethod.Naive, Tight);
            var e = Compare(exact, fit);
            Assert.True(e.Gap > -1e-4, $"model {index}: naive mean-field free energy {fit.FreeEnergy:F6} below the exact {exact.FreeEnergy:F6}");
            errors.Add(e);
        }
        output.WriteLine(Summary("naive", errors));

        // With weights of order eps, mean-field marginals are exact to first order: errors shrink as eps^2.
        double previous = double.MaxValue;
        foreach (float weightStd in new[] { 0.1f, 0.01f })
        {
            var rbm = Naive.Random(Cpu, 5, 4, 77, weightStd, 0.5f);
            var v = new float[] { 1, 0, 1, 0, 0 };
            var observed = new[] { true, false, true, false, false };
            var exact = BernoulliByEnumeration(Naive.Read(rbm), v, observed);
            var e = Compare(exact, Infer(rbm, v, observed, MeanFieldMethod.Naive, Tight));
            output.WriteLine($"weight std {weightStd}: hidden L1 {e.HiddenL1:G3}, free-energy gap {e.Gap:G3}");
            Assert.True(e.HiddenL1 < 5 * weightStd * weightStd, $"weight std {weightStd}: hidden error {e.HiddenL1:G3} is not O(eps^2)");
            Assert.True(e.HiddenL1 < previous / 20, "the error did not fall by the square of the coupling");
            previous = e.HiddenL1;
        }
    }

    [Fact]
    public void Without_observed_units_the_free_energy_bounds_minus_log_z()
    {
        var rbm = Naive.Random(Cpu, 4, 5, 3, 0.6f, 0.5f, VisibleUnits.Gaussian);
        var observed = new bool[4];
        var v = new float[4];
        var exact = GaussianByEnumeration(Naive.Read(rbm), v, observed);
        var plain = Infer(rbm, v, observed, MeanFieldMethod.Naive, Tight);
        var marginal = Infer(rbm, v, observed, MeanFieldMethod.Marginalized, Tight);
        Assert.InRange(plain.FreeEnergy - exact.FreeEnergy, -1e-4, 10);
        Assert.InRange(marginal.FreeEnergy - exact.FreeEnergy, -1e-4, plain.FreeEnergy - exact.FreeEnergy + 1e-6);
        Assert.Equal(-RbmEvaluation.ExactLogPartition(rbm), exact.FreeEnergy, 3);
    }

    [Fact]
    public void Marginalized_mean_field_on_bernoulli_visible_units_is_an_error_that_names_the_method_that_applies()
    {
        var rbm = Naive.Random(Cpu, 3, 2, 1, 0.1f, 0.1f);
        var e = Assert.Throws<ArgumentException>(() => Infer(rbm, new float[3], new bool[3], MeanFieldMethod.Marginalized, new MeanFieldOptions()));
        Assert.Contains("Bernoulli", e.Message);
        Assert.Contains("naive mean-field", e.Message);
    }

    [Fact]
    public void The_iteration_cap_is_reported_when_the_tolerance_is_not_met()
    {
        var rbm = Naive.Random(Cpu, 6, 6, 5, 1.5f, 0.5f, VisibleUnits.Gaussian);
        var fit = Infer(rbm, new float[6], new bool[6], MeanFieldMethod.Marginalized, new MeanFieldOptions(MaxIterations: 2, Tolerance: 0));
        Assert.False(fit.Result.Converged);
        Assert.Equal(2, fit.Result.Iterations);
        Assert.Throws<ArgumentOutOfRangeException>(() => Infer(rbm, new float[6], new bool[6], MeanFieldMethod.Naive, new MeanFieldOptions(Damping: 1f)));
    }

    [Fact]
    public void Clamped_gibbs_completion_reaches_the_exact_conditional_means_and_keeps_observed_values()
    {
        var rbm = Naive.Random(Cpu, 6, 4, 21, 0.8f, 0.5f);
        var v = new float[] { 1, 0, 1, 0, 0, 0 };
        var observed = new[] { true, true, true, false, false, false };
        var exact = BernoulliByEnumeration(Naive.Read(rbm), v, observed);
        const int rows = 2000; // batches of 425: the last one partial
        var data = Enumerable.Range(0, rows).SelectMany(_ => v).ToArray();
        var mask = Enumerable.Range(0, rows).SelectMany(_ => observed.Select(o => o ? 1f : 0f)).ToArray();
        var completion = RbmCompletion.Complete(rbm, data, mask, CompletionMethod.Gibbs, 200, RandomStream.Root(4).Derive("completion"), batchSize: 425);
        Assert.Equal(200, completion.Iterations);
        var completed = completion.Values;
        for (int i = 0; i < v.Length; i++)
        {
            double average = 0;
            for (int r = 0; r < rows; r++)
            {
                float x = completed[r * v.Length + i];
                if (observed[i]) Assert.Equal(v[i], x);
                average += x / rows;
            }
            // 2,000 chains of 100 kept steps each: the standard error is well under 0.01.
            Assert.True(Math.Abs(average - exact.VisibleMeans[i]) < 0.02, $"unit {i}: Gibbs {average:F4}, exact {exact.VisibleMeans[i]:F4}");
        }
        var e = Assert.Throws<ArgumentException>(() => RbmCompletion.Complete(rbm, data, mask, CompletionMethod.MarginalizedMeanField, 10, RandomStream.Root(1)));
        Assert.Contains("methods that apply: gibbs, mean-field", e.Message);
        mask[3] = 0.5f;
        e = Assert.Throws<ArgumentException>(() => RbmCompletion.Complete(rbm, data, mask, CompletionMethod.MeanField, 10, RandomStream.Root(1)));
        Assert.Contains("Mask value 0.5 at index 3 (sample 0, unit 3) is neither 0 nor 1", e.Message);
    }

    [Fact]
    public void A_batch_with_a_different_mask_per_row_gives_each_row_its_own_answer()
    {
        var rbm = Naive.Random(Cpu, 7, 5, 31, 0.7f, 0.5f, VisibleUnits.Gaussian, learnSigma: true);
        const int rows = 4;
        var values = new float[rows * 7];
        RandomKernels.Gaussian(RandomStream.Root(2).Derive("values"), 0, 0f, 1f, values);
        var mask = new float[rows * 7];
        for (int k = 0; k < mask.Length; k++) mask[k] = (k % 7) % (k / 7 + 2) == 0 ? 1f : 0f;
        foreach (var method in new[] { MeanFieldMethod.Naive, MeanFieldMethod.Marginalized })
        {
            var batch = InferRows(rbm, values, mask, rows, method);
            for (int r = 0; r < rows; r++)
            {
                var single = InferRows(rbm, values.AsSpan(r * 7, 7).ToArray(), mask.AsSpan(r * 7, 7).ToArray(), 1, method);
                for (int j = 0; j < 5; j++) Assert.Equal(single.Hidden[j], batch.Hidden[r * 5 + j], 1e-5);
                for (int i = 0; i < 7; i++) Assert.Equal(single.Visible[i], batch.Visible[r * 7 + i], 1e-5);
                Assert.Equal(single.Result.FreeEnergies[0], batch.Result.FreeEnergies[r], 1e-4);
            }
        }
    }

    private static (float[] Hidden, float[] Visible, MeanFieldResult Result) InferRows(RestrictedBoltzmannMachine rbm, float[] values, float[] mask, int rows,
        MeanFieldMethod method)
    {
        var v = Cpu.Allocate(rows, rbm.VisibleCount);
        var o = Cpu.Allocate(rows, rbm.VisibleCount);
        Cpu.Upload(values, v);
        Cpu.Upload(mask, o);
        var h = Cpu.Allocate(rows, rbm.HiddenCount);
        var x = Cpu.Allocate(rows, rbm.VisibleCount);
        var result = RbmMeanField.Infer(rbm, v, o, method, Tight, h, x);
        return (RestrictedBoltzmannMachine.Download(h), RestrictedBoltzmannMachine.Download(x), result);
    }

    [Theory]
    [InlineData("left", 0, 14)]
    [InlineData("right", 14, 28)]
    public void Occlusion_halves_hide_the_named_columns(string region, int firstHidden, int endHidden)
    {
        var mask = Shinso.Data.Occlusion.Parse(region).ObservedMask(2, 28, 28, RandomStream.Root(1));
        for (int k = 0; k < mask.Length; k++)
        {
            int x = k % 28;
            Assert.Equal(x >= firstHidden && x < endHidden ? 0f : 1f, mask[k]);
        }
        var top = Shinso.Data.Occlusion.Parse("top").ObservedMask(1, 5, 3, RandomStream.Root(1));
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, top);
        var bottom = Shinso.Data.Occlusion.Parse("bottom").ObservedMask(1, 5, 3, RandomStream.Root(1));
        Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0 }, bottom);
        var random = Shinso.Data.Occlusion.Parse("random:0.25").ObservedMask(100, 28, 28, RandomStream.Root(1));
        Assert.InRange(random.Count(x => x == 0f) / (double)random.Length, 0.24, 0.26);
        foreach (string bad in new[] { "random:1", "random:0", "random:x", "centre" })
            Assert.Contains("expected left, right, top, bottom or random:F", Assert.Throws<FormatException>(() => Shinso.Data.Occlusion.Parse(bad)).Message);
    }
}
