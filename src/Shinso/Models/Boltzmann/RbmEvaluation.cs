using Shinso.Training;
using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>An estimate of an RBM's log partition function from annealed importance sampling.</summary>
/// <param name="LogZ">log of the mean importance weight plus the base model's log Z.</param>
/// <param name="LogZLow">log(mean weight - 3 standard errors) + base log Z (negative infinity when the interval reaches 0).</param>
/// <param name="LogZHigh">log(mean weight + 3 standard errors) + base log Z.</param>
/// <param name="BaseLogZ">The base-rate model's exact log Z.</param>
/// <param name="LogWeights">Each run's log importance weight.</param>
public sealed record AisEstimate(double LogZ, double LogZLow, double LogZHigh, double BaseLogZ, double[] LogWeights)
{
    /// <summary>Whether <paramref name="logZ"/> lies in [<see cref="LogZLow"/>, <see cref="LogZHigh"/>].</summary>
    public bool Contains(double logZ) => logZ >= LogZLow && logZ <= LogZHigh;
}

/// <summary>Settings of annealed importance sampling.</summary>
public sealed record AisOptions
{
    /// <summary>Number of independent AIS runs (importance weights).</summary>
    public int Runs { get; init; } = 100;

    /// <summary>The inverse temperatures, from 0 to 1 inclusive; default <see cref="AnnealedImportanceSampling.DefaultBetas"/>.</summary>
    public double[]? Betas { get; init; }

    /// <summary>Seed of the AIS chains (Philox).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Pseudo-count per sample added to the visible marginals of the base-rate model (the paper's code: 5 per batch of 100).</summary>
    public double BaseRateSmoothing { get; init; } = 0.05;
}

/// <summary>
/// Annealed importance sampling (Neal 2001) of a Bernoulli-Bernoulli RBM's partition function, as in
/// Salakhutdinov &amp; Murray (2008) and their RBM_AIS.m: the base model has the visible biases of the training
/// data's marginals and no weights; the intermediate models are <c>p_k(v) ∝ p*_A(v)^(1-beta_k) p*_B(v)^beta_k</c>
/// with the hidden units of both models summed out, and each transition is one block-Gibbs step at beta_k.
/// </summary>
/// <remarks>
/// The chains run as the rows of one minibatch through <see cref="IBackend"/> (two GEMMs per temperature);
/// the log weights accumulate in double. The interval is that of RBM_AIS.m: <c>log(mean w +/- 3 std(w)/sqrt(runs))</c>.
/// </remarks>
public static class AnnealedImportanceSampling
{
    /// <summary>The paper's schedule: 0..0.5 step 1e-3, 0.5..0.9 step 1e-4, 0.9..1 step 1e-5 (14,501 temperatures).</summary>
    public static double[] DefaultBetas() => Schedule((0.5, 1e-3), (0.9, 1e-4), (1.0, 1e-5));

    /// <summary>
    /// A piecewise-uniform schedule from 0: each segment runs from the previous end to <c>End</c> in steps of <c>Step</c>;
    /// the last value is exactly 1 when the last segment ends at 1.
    /// </summary>
    public static double[] Schedule(params (double End, double Step)[] segments)
    {
        var betas = new List<double> { 0.0 };
        double start = 0;
        foreach (var (end, step) in segments)
        {
            if (!(step > 0) || !(end > start)) throw new ArgumentException($"Segment to {end} with step {step} does not move forward from {start}.", nameof(segments));
            long n = (long)Math.Round((end - start) / step);
            for (long i = 1; i <= n; i++) betas.Add(i == n ? end : start + i * step);
            start = end;
        }
        return [.. betas];
    }

    /// <summary>The base-rate visible biases: <c>log(p / (1 - p))</c> of each visible unit's smoothed mean over the data.</summary>
    public static float[] BaseRateBiases(ReadOnlySpan<float> data, int visibleCount, double smoothing = 0.05)
    {
        int n = data.Length / visibleCount;
        var biases = new float[visibleCount];
        var sums = new double[visibleCount];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < visibleCount; i++) sums[i] += data[s * visibleCount + i];
        for (int i = 0; i < visibleCount; i++)
        {
            double p = (sums[i] + smoothing * n) / (n + smoothing * n);
            p = Math.Clamp(p, 1e-6, 1 - 1e-6);
            biases[i] = (float)(Math.Log(p) - Math.Log(1 - p));
        }
        return biases;
    }

    /// <summary>
    /// Estimates log Z of <paramref name="rbm"/>: for Bernoulli visible units from a base-rate model fitted to
    /// <paramref name="trainingData"/> (row-major, [N, visible]); for Gaussian ones from the model's own visible Gaussians with
    /// the weights and hidden biases at zero (<see cref="EstimateGaussian"/>; the data are not needed).
    /// </summary>
    public static AisEstimate Estimate(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> trainingData, AisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        options ??= new AisOptions();
        if (rbm.Units == VisibleUnits.Gaussian) return EstimateGaussian(rbm, options);
        return EstimateFromBaseRates(rbm, BaseRateBiases(trainingData, rbm.VisibleCount, options.BaseRateSmoothing), options);
    }

    /// <summary>Estimates log Z of <paramref name="rbm"/> from the base-rate model with visible biases <paramref name="baseBiases"/>.</summary>
    /// <exception cref="NotSupportedException">The visible units are not Bernoulli.</exception>
    public static AisEstimate EstimateFromBaseRates(RestrictedBoltzmannMachine rbm, float[] baseBiases, AisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(baseBiases);
        options ??= new AisOptions();
        if (rbm.Units != VisibleUnits.Bernoulli) throw new NotSupportedException("AIS with a base-rate model is implemented for Bernoulli visible units.");
        if (baseBiases.Length != rbm.VisibleCount) throw new ArgumentException($"{baseBiases.Length} base biases for {rbm.VisibleCount} visible units.", nameof(baseBiases));
        double[] betas = CheckedSchedule(options);
        int m = options.Runs, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var be = rbm.Backend;
        var stream = RandomStream.Root(options.Seed).Derive("ais");
        ulong counter = 0;

        var biasA = be.Allocate(nv);
        be.Upload(baseBiases, biasA);
        var pair = new float[nv * 2];
        var bB = RestrictedBoltzmannMachine.Download(rbm.VisibleBias);
        for (int i = 0; i < nv; i++)
        {
            pair[2 * i] = baseBiases[i];
            pair[2 * i + 1] = bB[i];
        }
        var biasPair = be.Allocate(nv, 2);
        be.Upload(pair, biasPair);
        var mixed = be.Allocate(nv);
        var v = be.Allocate(m, nv);
        var vPre = be.Allocate(m, nv);
        var wh = be.Allocate(m, nh);
        var tmp = be.Allocate(m, nh);
        var hs = be.Allocate(m, nh);
        var vb = be.Allocate(m, 2);
        var sp = be.Allocate(m);
        var vbHost = new float[2 * m];
        var spHost = new float[m];
        var logw = new double[m];

        // v ~ base model.
        be.Fill(vPre, 0f);
        be.AddRowVector(vPre, biasA);
        be.SigmoidBernoulli(stream, counter, vPre, vPre, v);
        counter += RestrictedBoltzmannMachine.BlocksFor(v.Length);
        be.Gemm(Transpose.None, Transpose.None, 1f, v, biasPair, 0f, vb);
        be.Download(vb, vbHost);
        for (int r = 0; r < m; r++) logw[r] = -(vbHost[2 * r] + nh * Math.Log(2));
        rbm.HiddenInput(v, wh);

        void LogPStar(double beta, double sign)
        {
            be.Gemm(Transpose.None, Transpose.None, 1f, v, biasPair, 0f, vb);
            be.SoftplusSumRows(wh, (float)beta, sp);
            be.Download(vb, vbHost);
            be.Download(sp, spHost);
            for (int r = 0; r < m; r++)
                logw[r] += sign * ((1 - beta) * vbHost[2 * r] + beta * vbHost[2 * r + 1] + spHost[r]);
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int k = 1; k < betas.Length - 1; k++)
        {
            WorkProgress.Report("AIS", k - 1, betas.Length - 2, started);
            double beta = betas[k];
            LogPStar(beta, +1);
            be.ScaleShift(wh, (float)beta, 0f, tmp);
            be.SigmoidBernoulli(stream, counter, tmp, tmp, hs);
            counter += RestrictedBoltzmannMachine.BlocksFor(hs.Length);
            be.Axpby((float)(1 - beta), biasA, 0f, mixed);
            be.Axpy((float)beta, rbm.VisibleBias, mixed);
            be.Gemm(Transpose.None, Transpose.Transposed, (float)beta, hs, rbm.Weights, 0f, vPre);
            be.AddRowVector(vPre, mixed);
            be.SigmoidBernoulli(stream, counter, vPre, vPre, v);
            counter += RestrictedBoltzmannMachine.BlocksFor(v.Length);
            rbm.HiddenInput(v, wh);
            LogPStar(beta, -1);
        }
        LogPStar(1.0, +1);

        double baseLogZ = nh * Math.Log(2);
        foreach (float b in baseBiases) baseLogZ += Softplus(b);
        return Summarize(logw, m, baseLogZ);
    }

    /// <summary>
    /// AIS for Gaussian visible units. The path <c>p_beta(v, h) ~ exp(-sum (v - b)^2 / (2 sigma^2) + beta (c.h + (v / sigma)^T W h))</c>
    /// starts at independent Gaussians and uniform hidden bits (<c>log Z_0 = sum log(sqrt(2 pi) sigma_i) + H log 2</c>); with h summed
    /// out the Gaussian term is common to every temperature, so each weight is a difference of <c>sum_j softplus(beta pre_j(v))</c>.
    /// A transition at beta is <c>h ~ sigmoid(beta pre(v))</c>, then <c>v ~ N(b + sigma beta (h W^T), sigma^2)</c>.
    /// </summary>
    public static AisEstimate EstimateGaussian(RestrictedBoltzmannMachine rbm, AisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        options ??= new AisOptions();
        if (rbm.Units != VisibleUnits.Gaussian) throw new ArgumentException("EstimateGaussian needs Gaussian visible units; use Estimate with training data for Bernoulli ones.", nameof(rbm));
        double[] betas = CheckedSchedule(options);
        int m = options.Runs, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var be = rbm.Backend;
        var stream = RandomStream.Root(options.Seed).Derive("ais");
        ulong counter = 0;
        var v = be.Allocate(m, nv);
        var mean = be.Allocate(m, nv);
        var pre = be.Allocate(m, nh);
        var scaled = be.Allocate(m, nh);
        var hs = be.Allocate(m, nh);
        var sp = be.Allocate(m);
        var spHost = new float[m];
        var logw = new double[m];
        for (int r = 0; r < m; r++) logw[r] = -nh * Math.Log(2);

        be.Fill(hs, 0f);
        counter += rbm.SampleVisible(hs, stream, counter, mean, v);
        rbm.HiddenInput(v, pre);

        void LogPStar(double beta, double sign)
        {
            be.SoftplusSumRows(pre, (float)beta, sp);
            be.Download(sp, spHost);
            for (int r = 0; r < m; r++) logw[r] += sign * spHost[r];
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int k = 1; k < betas.Length - 1; k++)
        {
            WorkProgress.Report("AIS", k - 1, betas.Length - 2, started);
            double beta = betas[k];
            LogPStar(beta, +1);
            be.ScaleShift(pre, (float)beta, 0f, scaled);
            be.SigmoidBernoulli(stream, counter, scaled, scaled, hs);
            counter += RestrictedBoltzmannMachine.BlocksFor(hs.Length);
            be.ScaleShift(hs, (float)beta, 0f, scaled);
            counter += rbm.SampleVisible(scaled, stream, counter, mean, v);
            rbm.HiddenInput(v, pre);
            LogPStar(beta, -1);
        }
        LogPStar(1.0, +1);

        double baseLogZ = nh * Math.Log(2);
        foreach (float sigma in RestrictedBoltzmannMachine.Download(rbm.Sigma)) baseLogZ += 0.5 * Math.Log(2 * Math.PI) + Math.Log(sigma);
        return Summarize(logw, m, baseLogZ);
    }

    /// <summary>The options' temperatures, checked to run from 0 to 1, with at least one run asked for.</summary>
    internal static double[] CheckedSchedule(AisOptions options)
    {
        double[] betas = options.Betas ?? DefaultBetas();
        if (betas.Length < 2 || betas[0] != 0 || betas[^1] != 1) throw new ArgumentException("The schedule must start at 0 and end at 1.", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Runs, nameof(options));
        return betas;
    }

    /// <summary>log of the mean importance weight with RBM_AIS.m's 3-sigma interval, shifted by the base model's log Z.</summary>
    internal static AisEstimate Summarize(double[] logw, int m, double baseLogZ)
    {
        double max = logw.Max();
        double mean = 0;
        foreach (double w in logw) mean += Math.Exp(w - max);
        mean /= m;
        double variance = 0;
        foreach (double w in logw) variance += Math.Pow(Math.Exp(w - max) - mean, 2);
        double std = m > 1 ? Math.Sqrt(variance / (m - 1)) : 0;
        double error = 3 * std / Math.Sqrt(m);
        double logMean = Math.Log(mean) + max;
        double high = Math.Log(mean + error) + max;
        double low = mean > error ? Math.Log(mean - error) + max : double.NegativeInfinity;
        return new AisEstimate(logMean + baseLogZ, low + baseLogZ, high + baseLogZ, baseLogZ, logw);
    }

    internal static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));
}

/// <summary>Evaluation of RBMs: reconstruction error, pseudo-likelihood, exact log Z and average log-probability.</summary>
public static class RbmEvaluation
{
    /// <summary>The largest layer that exact enumeration accepts (2^20 states).</summary>
    public const int MaxEnumeratedUnits = 20;

    /// <summary>
    /// Mean over samples of <c>sum_i (v_i - E[v_i | h = p(h|v)])^2</c>: the deterministic mean-field reconstruction.
    /// </summary>
    public static double ReconstructionError(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> data, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        rbm.ValidateData(data, nameof(data));
        int n = data.Length / rbm.VisibleCount, nv = rbm.VisibleCount;
        double total = 0;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = rbm.Workspace.Get("batch-visible", rows, nv);
            var h = rbm.Workspace.Get("batch-hidden", rows, rbm.HiddenCount);
            var mean = rbm.Workspace.Get("batch-visible-mean", rows, nv);
            var grad = rbm.Workspace.Get("batch-gradient", rows, nv);
            rbm.Backend.Upload(data.Slice(start * nv, rows * nv), v);
            rbm.HiddenProbabilities(v, h);
            rbm.VisibleMean(h, mean);
            total += 2.0 * rows * rbm.Backend.SquaredError(mean, v, grad);
        }
        return total / Math.Max(1, n);
    }

    /// <summary>The free energy of each sample (row-major data), computed through the backend.</summary>
    public static float[] FreeEnergies(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> data, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        int nv = rbm.VisibleCount, n = data.Length / nv;
        var result = new float[n];
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = rbm.Workspace.Get("free-energy-visible", rows, nv);
            var f = rbm.Workspace.Get("free-energy", rows, 1);
            rbm.Backend.Upload(data.Slice(start * nv, rows * nv), v);
            rbm.FreeEnergy(v, f.Reshape(rows));
            rbm.Backend.Download(f, result.AsSpan(start, rows));
        }
        return result;
    }

    /// <summary>
    /// Pseudo-likelihood per sample, as scikit-learn's <c>BernoulliRBM.score_samples</c>: one visible unit i per sample is
    /// chosen at random and flipped (<c>v_i -&gt; 1 - v_i</c>), and the score is
    /// <c>n_features * log(sigmoid(F(v_flipped) - F(v)))</c> (computed as <c>-n * logaddexp(0, -(F(v~) - F(v)))</c>).
    /// The index of sample s is <c>floor(u * n_features)</c> for the Philox word at position <c>counter*4 + s</c> of <paramref name="stream"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A value is outside [0, 1].</exception>
    public static double[] PseudoLikelihood(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> data, RandomStream stream, ulong counter = 0, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        if (rbm.Units != VisibleUnits.Bernoulli) throw new NotSupportedException("The pseudo-likelihood is defined here for Bernoulli visible units.");
        rbm.ValidateData(data, nameof(data));
        int nv = rbm.VisibleCount, n = data.Length / nv;
        var flipped = data.ToArray();
        for (int s = 0; s < n; s++)
        {
            int index = FlipIndex(stream, counter, s, nv);
            flipped[s * nv + index] = 1f - flipped[s * nv + index];
        }
        var f = FreeEnergies(rbm, data, batchSize);
        var ff = FreeEnergies(rbm, flipped, batchSize);
        var result = new double[n];
        for (int s = 0; s < n; s++)
        {
            double x = -((double)ff[s] - f[s]);
            result[s] = -nv * LogAddExpZero(x);
        }
        return result;
    }

    /// <summary>The visible unit flipped for sample <paramref name="sample"/> by <see cref="PseudoLikelihood"/>.</summary>
    public static int FlipIndex(RandomStream stream, ulong counter, int sample, int visibleCount) =>
        (int)((ulong)Philox4x32.Word(stream, counter * 4 + (ulong)sample) * (ulong)visibleCount >> 32);

    /// <summary>
    /// The exact log partition function, in double precision, by enumerating the 2^k states of the smaller layer
    /// (k = min(visible, hidden) for Bernoulli visible units; k = hidden for Gaussian ones, whose visible integral is closed-form).
    /// </summary>
    /// <exception cref="ArgumentException">The layer to enumerate has more than <see cref="MaxEnumeratedUnits"/> units.</exception>
    public static double ExactLogPartition(RestrictedBoltzmannMachine rbm)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        int nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        double[] w = ToDouble(RestrictedBoltzmannMachine.Download(rbm.Weights));
        double[] b = ToDouble(RestrictedBoltzmannMachine.Download(rbm.VisibleBias));
        double[] c = ToDouble(RestrictedBoltzmannMachine.Download(rbm.HiddenBias));
        bool gaussian = rbm.Units == VisibleUnits.Gaussian;
        bool enumerateHidden = gaussian || nh <= nv;
        int k = enumerateHidden ? nh : nv;
        if (k > MaxEnumeratedUnits)
            throw new ArgumentException(
                $"Exact log Z enumerates the {(enumerateHidden ? "hidden" : "visible")} layer: {k} units exceed the limit of {MaxEnumeratedUnits}.", nameof(rbm));
        if (gaussian)
        {
            double[] sigma = ToDouble(RestrictedBoltzmannMachine.Download(rbm.Sigma));
            double constant = 0;
            for (int i = 0; i < nv; i++) constant += 0.5 * Math.Log(2 * Math.PI) + Math.Log(sigma[i]);
            return constant + EnumerateLogSum(nh, nv, c, (int i, int j) => w[i * nh + j],
                act => { double s = 0; for (int i = 0; i < nv; i++) s += act[i] * b[i] / sigma[i] + 0.5 * act[i] * act[i]; return s; });
        }
        if (enumerateHidden)
            return EnumerateLogSum(nh, nv, c, (int i, int j) => w[i * nh + j],
                act => { double s = 0; for (int i = 0; i < nv; i++) s += AnnealedImportanceSampling.Softplus(b[i] + act[i]); return s; });
        return EnumerateLogSum(nv, nh, b, (int hid, int vis) => w[vis * nh + hid],
            act => { double s = 0; for (int j = 0; j < nh; j++) s += AnnealedImportanceSampling.Softplus(c[j] + act[j]); return s; });
    }

    /// <summary>log sum over the 2^k binary states x of exp(bias.x + tail(W x)), with W x updated along a Gray code.</summary>
    private static double EnumerateLogSum(int k, int other, double[] bias, Func<int, int, double> weight, Func<double[], double> tail)
    {
        var column = new double[k][];
        for (int j = 0; j < k; j++)
        {
            column[j] = new double[other];
            for (int i = 0; i < other; i++) column[j][i] = weight(i, j);
        }
        long states = 1L << k;
        var terms = new double[states];
        var act = new double[other];
        var x = new bool[k];
        double linear = 0;
        double max = double.NegativeInfinity;
        for (long g = 0; g < states; g++)
        {
            if (g > 0)
            {
                int j = System.Numerics.BitOperations.TrailingZeroCount((ulong)g);
                x[j] = !x[j];
                double sign = x[j] ? 1 : -1;
                linear += sign * bias[j];
                var col = column[j];
                for (int i = 0; i < other; i++) act[i] += sign * col[i];
                // Re-anchor periodically to keep the running sums exact to rounding.
                if ((g & 0xFFF) == 0) Recompute(x, column, bias, act, ref linear);
            }
            double t = linear + tail(act);
            terms[g] = t;
            if (t > max) max = t;
        }
        double sum = 0;
        foreach (double t in terms) sum += Math.Exp(t - max);
        return max + Math.Log(sum);
    }

    private static void Recompute(bool[] x, double[][] column, double[] bias, double[] act, ref double linear)
    {
        Array.Clear(act);
        linear = 0;
        for (int j = 0; j < x.Length; j++)
        {
            if (!x[j]) continue;
            linear += bias[j];
            for (int i = 0; i < act.Length; i++) act[i] += column[j][i];
        }
    }

    /// <summary>Mean of <c>log p(v) = -F(v) - log Z</c> over the samples.</summary>
    public static double AverageLogProbability(RestrictedBoltzmannMachine rbm, ReadOnlySpan<float> data, double logZ)
    {
        var f = FreeEnergies(rbm, data);
        double sum = 0;
        foreach (float x in f) sum += -x;
        return sum / Math.Max(1, f.Length) - logZ;
    }

    private static double LogAddExpZero(double x) => AnnealedImportanceSampling.Softplus(x);

    private static double[] ToDouble(float[] a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }
}
