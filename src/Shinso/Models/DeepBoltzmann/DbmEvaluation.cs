using Shinso.Models.Boltzmann;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>The variational lower bound on the average log-probability of a data set, with the interval AIS puts on it.</summary>
/// <param name="LogProbabilityBound">Mean over rows of <c>-F_q(v) - log Z</c> (nats), log Z the AIS estimate.</param>
/// <param name="Low">The same with the upper end of log Z's 3-sigma interval.</param>
/// <param name="High">The same with the lower end of log Z's interval (positive infinity when that end is 0).</param>
/// <param name="MeanFieldIterations">The most sweeps any batch needed.</param>
/// <param name="Converged">Whether every batch met the mean-field tolerance.</param>
public sealed record DbmBound(double LogProbabilityBound, double Low, double High, int MeanFieldIterations, bool Converged);

/// <summary>
/// Partition functions and likelihood bounds of a <see cref="DeepBoltzmannMachine"/>: exact enumeration for small machines,
/// annealed importance sampling on the model with its odd layers summed out (Salakhutdinov &amp; Hinton 2009, section 4), and
/// the mean-field lower bound on test log-probabilities.
/// </summary>
/// <remarks>
/// With the odd layers summed out, the unnormalised probability of the even layers' states is
/// <c>p*(x_even) = exp(sum_(k even) b_k . x_k) prod_(k odd) prod_j (1 + exp(a_kj))</c>, <c>a_k = b_k + x_(k-1) W_(k-1) + x_(k+1) W_k^T</c>.
/// The AIS path scales everything but the visible biases by beta and moves those from the data's base rates to the model's:
/// <c>log p*_beta = ((1 - beta) r + beta b_0) . v + beta sum_(k even, k &gt; 0) b_k . x_k + sum_(k odd) sum_j softplus(beta a_kj)</c>. At
/// beta = 0 the visible units are independent with the base rates and every hidden unit is a fair coin, so
/// <c>log Z_0 = sum_i softplus(r_i) + (sum_(k &gt; 0) n_k) log 2</c>. A transition at beta is one Gibbs sweep of that model: the odd
/// layers given the even ones, then the even ones given the odd ones.
/// </remarks>
public static class DbmEvaluation
{
    /// <summary>The most even-layer units the exact sums enumerate (2^24 states).</summary>
    public const int MaxEnumeratedUnits = 24;

    /// <summary>Exact <c>log Z</c>: the even layers enumerated, the odd ones summed in closed form, in double.</summary>
    /// <exception cref="ArgumentException">The even layers hold more than <see cref="MaxEnumeratedUnits"/> units.</exception>
    public static double ExactLogPartition(DeepBoltzmannMachine dbm)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        var model = HostModel.Of(dbm);
        int even = 0;
        for (int k = 0; k < model.Sizes.Length; k += 2) even += model.Sizes[k];
        if (even > MaxEnumeratedUnits) throw new ArgumentException($"The even layers hold {even} units; exact enumeration stops at {MaxEnumeratedUnits}.", nameof(dbm));
        return model.LogSumOverEven(fixedVisible: null);
    }

    /// <summary>Exact <c>log p(v)</c> of each row of <paramref name="data"/> (row-major, [N, n_0]) given the exact <paramref name="logZ"/>.</summary>
    /// <exception cref="ArgumentException">The even hidden layers hold more than <see cref="MaxEnumeratedUnits"/> units.</exception>
    public static double[] ExactLogProbabilities(DeepBoltzmannMachine dbm, ReadOnlySpan<float> data, double logZ)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        dbm.ValidateData(data, nameof(data));
        var model = HostModel.Of(dbm);
        int even = 0;
        for (int k = 2; k < model.Sizes.Length; k += 2) even += model.Sizes[k];
        if (even > MaxEnumeratedUnits) throw new ArgumentException($"The even hidden layers hold {even} units; exact enumeration stops at {MaxEnumeratedUnits}.", nameof(dbm));
        int nv = dbm.VisibleCount;
        var result = new double[data.Length / nv];
        for (int r = 0; r < result.Length; r++)
        {
            var v = new double[nv];
            for (int i = 0; i < nv; i++) v[i] = data[r * nv + i];
            result[r] = model.LogSumOverEven(v) - logZ;
        }
        return result;
    }

    /// <summary>
    /// AIS estimate of <c>log Z</c> from a base model whose visible biases are the base rates of <paramref name="trainingData"/>
    /// (the same smoothing as the RBM's estimate), over <see cref="AisOptions.Runs"/> chains run as the rows of one batch.
    /// </summary>
    public static AisEstimate EstimateLogPartition(DeepBoltzmannMachine dbm, ReadOnlySpan<float> trainingData, AisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        options ??= new AisOptions();
        return EstimateLogPartitionFromBaseRates(dbm, AnnealedImportanceSampling.BaseRateBiases(trainingData, dbm.VisibleCount, options.BaseRateSmoothing), options);
    }

    /// <summary>AIS estimate of <c>log Z</c> from the base model with visible biases <paramref name="baseBiases"/>.</summary>
    public static AisEstimate EstimateLogPartitionFromBaseRates(DeepBoltzmannMachine dbm, float[] baseBiases, AisOptions options)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentNullException.ThrowIfNull(baseBiases);
        ArgumentNullException.ThrowIfNull(options);
        if (baseBiases.Length != dbm.VisibleCount) throw new ArgumentException($"{baseBiases.Length} base biases for {dbm.VisibleCount} visible units.", nameof(baseBiases));
        double[] betas = AnnealedImportanceSampling.CheckedSchedule(options);
        var be = dbm.Backend;
        var sizes = dbm.LayerSizes;
        int m = options.Runs, layers = sizes.Count;
        var stream = RandomStream.Root(options.Seed).Derive("dbm-ais");
        ulong counter = 0;
        var state = new Tensor[layers];
        var input = new Tensor[layers];
        var biasAtBeta = new Tensor[layers];
        for (int k = 0; k < layers; k++)
        {
            state[k] = be.Allocate(m, sizes[k]);
            input[k] = be.Allocate(m, sizes[k]);
            biasAtBeta[k] = be.Allocate(sizes[k]);
        }
        var baseBias = be.Allocate(sizes[0]);
        be.Upload(baseBiases, baseBias);
        var evenTerm = be.Allocate(m, 1);
        var softplus = be.Allocate(m);
        var host = new float[m];
        var logw = new double[m];

        // A sample of the base model: visible units at the base rates, even hidden layers fair coins.
        be.Fill(input[0], 0f);
        be.AddRowVector(input[0], baseBias);
        be.SigmoidBernoulli(stream, counter, input[0], input[0], state[0]);
        counter += DeepBoltzmannMachine.BlocksFor(state[0].Length);
        for (int k = 2; k < layers; k += 2)
        {
            be.Fill(input[k], 0f);
            be.SigmoidBernoulli(stream, counter, input[k], input[k], state[k]);
            counter += DeepBoltzmannMachine.BlocksFor(state[k].Length);
        }

        // The odd layers' inputs a_k at beta = 1 for the current even states; log p*_beta reads them scaled.
        void OddInputs()
        {
            for (int k = 1; k < layers; k += 2) dbm.LayerInput(k, state[k - 1], k + 1 < layers ? state[k + 1] : null, input[k]);
        }

        void AddLogPStar(double beta, double sign)
        {
            be.Gemm(Transpose.None, Transpose.None, (float)(1 - beta), state[0], baseBias.Reshape(sizes[0], 1), 0f, evenTerm);
            be.Gemm(Transpose.None, Transpose.None, (float)beta, state[0], dbm.Biases[0].Reshape(sizes[0], 1), 1f, evenTerm);
            for (int k = 2; k < layers; k += 2)
                be.Gemm(Transpose.None, Transpose.None, (float)beta, state[k], dbm.Biases[k].Reshape(sizes[k], 1), 1f, evenTerm);
            be.Download(evenTerm, host);
            for (int r = 0; r < m; r++) logw[r] += sign * host[r];
            for (int k = 1; k < layers; k += 2)
            {
                be.SoftplusSumRows(input[k], (float)beta, softplus);
                be.Download(softplus, host);
                for (int r = 0; r < m; r++) logw[r] += sign * host[r];
            }
        }

        OddInputs();
        AddLogPStar(0.0, -1);
        for (int t = 1; t < betas.Length - 1; t++)
        {
            double beta = betas[t];
            float b = (float)beta;
            AddLogPStar(beta, +1);
            // The transition at beta: odd layers from their (already computed) inputs, then the even layers.
            for (int k = 1; k < layers; k += 2)
            {
                be.ScaleShift(input[k], b, 0f, input[k]);
                be.SigmoidBernoulli(stream, counter, input[k], input[k], state[k]);
                counter += DeepBoltzmannMachine.BlocksFor(state[k].Length);
            }
            be.Axpby(1f - b, baseBias, 0f, biasAtBeta[0]);
            be.Axpy(b, dbm.Biases[0], biasAtBeta[0]);
            for (int k = 2; k < layers; k += 2) be.Axpby(b, dbm.Biases[k], 0f, biasAtBeta[k]);
            for (int k = 0; k < layers; k += 2)
            {
                var pre = input[k];
                float accumulate = 0f;
                if (k > 0)
                {
                    be.Gemm(Transpose.None, Transpose.None, b, state[k - 1], dbm.Weights[k - 1], 0f, pre);
                    accumulate = 1f;
                }
                if (k + 1 < layers) be.Gemm(Transpose.None, Transpose.Transposed, b, state[k + 1], dbm.Weights[k], accumulate, pre);
                be.AddRowVector(pre, biasAtBeta[k]);
                be.SigmoidBernoulli(stream, counter, pre, pre, state[k]);
                counter += DeepBoltzmannMachine.BlocksFor(state[k].Length);
            }
            OddInputs();
            AddLogPStar(beta, -1);
        }
        AddLogPStar(1.0, +1);

        double baseLogZ = 0;
        foreach (float r in baseBiases) baseLogZ += AnnealedImportanceSampling.Softplus(r);
        for (int k = 1; k < layers; k++) baseLogZ += sizes[k] * Math.Log(2);
        return AnnealedImportanceSampling.Summarize(logw, m, baseLogZ);
    }

    /// <summary>
    /// The mean-field lower bound <c>mean_v (-F_q(v)) - log Z</c> over the rows of <paramref name="data"/> (row-major, values in
    /// [0, 1]), with the bound's interval from <paramref name="logZ"/>'s.
    /// </summary>
    public static DbmBound LogProbabilityBound(DeepBoltzmannMachine dbm, ReadOnlySpan<float> data, AisEstimate logZ, DbmMeanFieldOptions? options = null,
        int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentNullException.ThrowIfNull(logZ);
        options ??= DbmMeanFieldOptions.TestTime;
        dbm.ValidateData(data, nameof(data));
        int nv = dbm.VisibleCount, n = data.Length / nv;
        if (n == 0) throw new ArgumentException("No samples to bound.", nameof(data));
        var be = dbm.Backend;
        double sum = 0;
        int most = 0;
        bool converged = true;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = dbm.Workspace.Get("bound-visible", rows, nv);
            be.Upload(data.Slice(start * nv, rows * nv), v);
            var means = new Tensor[dbm.HiddenLayerCount];
            for (int k = 0; k < means.Length; k++) means[k] = dbm.Workspace.Get("bound-means", k, rows, dbm.LayerSizes[k + 1]);
            var run = dbm.MeanField(v, means, options);
            most = Math.Max(most, run.Iterations);
            converged &= run.Converged;
            foreach (double f in dbm.VariationalFreeEnergies(v, means)) sum -= f;
        }
        double mean = sum / n;
        return new DbmBound(mean - logZ.LogZ, mean - logZ.LogZHigh, mean - logZ.LogZLow, most, converged);
    }

    /// <summary>The parameters in double on the host, for the exact sums.</summary>
    private sealed class HostModel
    {
        public required int[] Sizes { get; init; }
        public required double[][] Weights { get; init; }
        public required double[][] Biases { get; init; }

        public static HostModel Of(DeepBoltzmannMachine dbm)
        {
            int layers = dbm.LayerSizes.Count;
            var w = new double[layers - 1][];
            var b = new double[layers][];
            for (int k = 0; k < layers - 1; k++) w[k] = Array.ConvertAll(RestrictedBoltzmannMachine.Download(dbm.Weights[k]), x => (double)x);
            for (int k = 0; k < layers; k++) b[k] = Array.ConvertAll(RestrictedBoltzmannMachine.Download(dbm.Biases[k]), x => (double)x);
            return new HostModel { Sizes = [.. dbm.LayerSizes], Weights = w, Biases = b };
        }

        /// <summary>log of the sum over the even layers' states (the visible one fixed when given) of <c>p*(x_even)</c>.</summary>
        public double LogSumOverEven(double[]? fixedVisible)
        {
            int layers = Sizes.Length;
            var free = new List<(int Layer, int Unit)>();
            for (int k = fixedVisible is null ? 0 : 2; k < layers; k += 2)
                for (int j = 0; j < Sizes[k]; j++) free.Add((k, j));
            var x = new double[layers][];
            for (int k = 0; k < layers; k++) x[k] = new double[Sizes[k]];
            if (fixedVisible is not null) fixedVisible.CopyTo(x[0], 0);
            long states = 1L << free.Count;
            double max = double.NegativeInfinity, acc = 0;
            for (long s = 0; s < states; s++)
            {
                for (int u = 0; u < free.Count; u++) x[free[u].Layer][free[u].Unit] = (s >> u) & 1;
                double log = 0;
                for (int k = 0; k < layers; k += 2)
                    for (int j = 0; j < Sizes[k]; j++) log += Biases[k][j] * x[k][j];
                for (int k = 1; k < layers; k += 2)
                    for (int j = 0; j < Sizes[k]; j++)
                    {
                        double a = Biases[k][j];
                        for (int i = 0; i < Sizes[k - 1]; i++) a += x[k - 1][i] * Weights[k - 1][i * Sizes[k] + j];
                        if (k + 1 < layers)
                            for (int i = 0; i < Sizes[k + 1]; i++) a += x[k + 1][i] * Weights[k][j * Sizes[k + 1] + i];
                        log += AnnealedImportanceSampling.Softplus(a);
                    }
                // A running log-sum-exp keeps 2^24 terms in range.
                if (log > max)
                {
                    acc = acc * Math.Exp(max - log) + 1;
                    max = log;
                }
                else acc += Math.Exp(log - max);
            }
            return max + Math.Log(acc);
        }
    }
}
