using Shinso.Training;
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
/// <para>Label units, where the machine has them, go with the layers of parity L + 1. Beside an even top layer (two hidden layers)
/// they are summed out with the odd layers, adding <c>log sum_c exp(beta (d_c + U_c . x_L))</c> to <c>log p*_beta</c>; beside an odd
/// top layer (three) they are part of the even state, adding <c>beta d . y</c> and <c>y U</c> to the top layer's input. Either way they
/// are uniform at beta = 0, which adds <c>log C</c> to <c>log Z_0</c>.</para>
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
        int m = options.Runs, layers = sizes.Count, top = layers - 1, labelCount = dbm.LabelCount;
        // With labels the group sits one past the top layer: summed out with the odd layers, or sampled with the even ones.
        bool labelsOdd = dbm.HasLabels && dbm.LabelParity == 1, labelsEven = dbm.HasLabels && dbm.LabelParity == 0;
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
        Tensor? labels = dbm.HasLabels ? be.Allocate(m, labelCount) : null;
        Tensor? labelInput = dbm.HasLabels ? be.Allocate(m, labelCount) : null;
        float[]? hostLabelInput = labelsOdd ? new float[m * labelCount] : null;
        var baseBias = be.Allocate(sizes[0]);
        be.Upload(baseBiases, baseBias);
        var evenTerm = be.Allocate(m, 1);
        var softplus = be.Allocate(m);
        var host = new float[m];
        var logw = new double[m];

        void SampleLabels(Tensor probabilities)
        {
            be.SampleOneHot(stream, counter, probabilities, labels!);
            counter += DeepBoltzmannMachine.BlocksFor(m);
        }

        // A sample of the base model: visible units at the base rates, even hidden layers fair coins, even labels uniform.
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
        if (labelsEven)
        {
            be.Fill(labelInput!, 1f / labelCount);
            SampleLabels(labelInput!);
        }

        // The odd groups' inputs at beta = 1 for the current even states; log p*_beta reads them scaled.
        void OddInputs()
        {
            for (int k = 1; k < layers; k += 2)
                dbm.LayerInput(k, state[k - 1], k + 1 < layers ? state[k + 1] : null, input[k], labels: k == top && labelsEven ? labels : null);
            if (labelsOdd)
            {
                dbm.LabelInput(state[top], labelInput!);
                be.Download(labelInput!, hostLabelInput);
            }
        }

        void AddLogPStar(double beta, double sign)
        {
            be.Gemm(Transpose.None, Transpose.None, (float)(1 - beta), state[0], baseBias.Reshape(sizes[0], 1), 0f, evenTerm);
            be.Gemm(Transpose.None, Transpose.None, (float)beta, state[0], dbm.Biases[0].Reshape(sizes[0], 1), 1f, evenTerm);
            for (int k = 2; k < layers; k += 2)
                be.Gemm(Transpose.None, Transpose.None, (float)beta, state[k], dbm.Biases[k].Reshape(sizes[k], 1), 1f, evenTerm);
            if (labelsEven) be.Gemm(Transpose.None, Transpose.None, (float)beta, labels!, dbm.LabelBias!.Reshape(labelCount, 1), 1f, evenTerm);
            be.Download(evenTerm, host);
            for (int r = 0; r < m; r++) logw[r] += sign * host[r];
            for (int k = 1; k < layers; k += 2)
            {
                be.SoftplusSumRows(input[k], (float)beta, softplus);
                be.Download(softplus, host);
                for (int r = 0; r < m; r++) logw[r] += sign * host[r];
            }
            if (labelsOdd)
                for (int r = 0; r < m; r++) logw[r] += sign * LogSumExp(hostLabelInput.AsSpan(r * labelCount, labelCount), beta);
        }

        OddInputs();
        AddLogPStar(0.0, -1);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int t = 1; t < betas.Length - 1; t++)
        {
            WorkProgress.Report("AIS", t - 1, betas.Length - 2, started);
            double beta = betas[t];
            float b = (float)beta;
            AddLogPStar(beta, +1);
            // The transition at beta: odd groups from their (already computed) inputs, then the even ones.
            for (int k = 1; k < layers; k += 2)
            {
                be.ScaleShift(input[k], b, 0f, input[k]);
                be.SigmoidBernoulli(stream, counter, input[k], input[k], state[k]);
                counter += DeepBoltzmannMachine.BlocksFor(state[k].Length);
            }
            if (labelsOdd)
            {
                be.ScaleShift(labelInput!, b, 0f, labelInput!);
                be.SoftmaxRows(labelInput!, labelInput!);
                SampleLabels(labelInput!);
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
                if (k == top && labelsOdd) be.Gemm(Transpose.None, Transpose.None, b, labels!, dbm.LabelWeights!, 1f, pre);
                be.AddRowVector(pre, biasAtBeta[k]);
                be.SigmoidBernoulli(stream, counter, pre, pre, state[k]);
                counter += DeepBoltzmannMachine.BlocksFor(state[k].Length);
            }
            if (labelsEven)
            {
                dbm.LabelInput(state[top], labelInput!);
                be.ScaleShift(labelInput!, b, 0f, labelInput!);
                be.SoftmaxRows(labelInput!, labelInput!);
                SampleLabels(labelInput!);
            }
            OddInputs();
            AddLogPStar(beta, -1);
        }
        AddLogPStar(1.0, +1);

        double baseLogZ = 0;
        foreach (float r in baseBiases) baseLogZ += AnnealedImportanceSampling.Softplus(r);
        for (int k = 1; k < layers; k++) baseLogZ += sizes[k] * Math.Log(2);
        // At beta = 0 the labels are uniform over their categories, summed out or enumerated alike.
        if (dbm.HasLabels) baseLogZ += Math.Log(labelCount);
        return AnnealedImportanceSampling.Summarize(logw, m, baseLogZ);
    }

    /// <summary><c>log sum_c exp(scale * x_c)</c> in double.</summary>
    internal static double LogSumExp(ReadOnlySpan<float> x, double scale)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, scale * v);
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(scale * v - max);
        return max + Math.Log(sum);
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
        double sum = 0;
        int most = 0;
        bool converged = true;
        // The labels, when the machine has them, are inferred and summed out: the bound is on log p(v).
        MeanFieldBatches(dbm, data, options, batchSize, (_, v, means, labelMeans, run) =>
        {
            most = Math.Max(most, run.Iterations);
            converged &= run.Converged;
            foreach (double f in dbm.VariationalFreeEnergies(v, means, labelMeans)) sum -= f;
        });
        double mean = sum / n;
        return new DbmBound(mean - logZ.LogZ, mean - logZ.LogZHigh, mean - logZ.LogZLow, most, converged);
    }

    /// <summary>
    /// The label each row of <paramref name="data"/> (row-major, [N, n_0], values in [0, 1]) gets from a machine with label units:
    /// the largest of its mean-field <c>q(y | v)</c> (the labels inferred beside the hidden layers).
    /// </summary>
    /// <exception cref="ArgumentException">The machine has no label units, or a value lies outside [0, 1].</exception>
    public static int[] Classify(DeepBoltzmannMachine dbm, ReadOnlySpan<float> data, DbmMeanFieldOptions? options = null, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        if (!dbm.HasLabels) throw new ArgumentException("The DBM has no label units to classify with.", nameof(dbm));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        options ??= DbmMeanFieldOptions.TestTime;
        dbm.ValidateData(data, nameof(data));
        int nv = dbm.VisibleCount, n = data.Length / nv, labels = dbm.LabelCount;
        var result = new int[n];
        var q = new float[Math.Min(batchSize, Math.Max(n, 1)) * labels];
        MeanFieldBatches(dbm, data, options, batchSize, (start, _, _, labelMeans, _) =>
        {
            int rows = labelMeans!.Rows;
            dbm.Backend.Download(labelMeans, q.AsSpan(0, rows * labels));
            for (int r = 0; r < rows; r++)
            {
                int best = 0;
                for (int c = 1; c < labels; c++)
                    if (q[r * labels + c] > q[r * labels + best]) best = c;
                result[start + r] = best;
            }
        });
        return result;
    }

    /// <summary>Mean-field on each batch of <paramref name="data"/> (labels inferred where the machine has them), handing the batch's first
    /// row, its data, means, label means and run to <paramref name="batchDone"/>.</summary>
    private static void MeanFieldBatches(DeepBoltzmannMachine dbm, ReadOnlySpan<float> data, DbmMeanFieldOptions options, int batchSize,
        Action<int, Tensor, Tensor[], Tensor?, DbmMeanFieldResult> batchDone)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int nv = dbm.VisibleCount, n = data.Length / nv;
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var v = dbm.Workspace.Get("mean-field-batch-visible", rows, nv);
            dbm.Backend.Upload(data.Slice(start * nv, rows * nv), v);
            var means = new Tensor[dbm.HiddenLayerCount];
            for (int k = 0; k < means.Length; k++) means[k] = dbm.Workspace.Get("mean-field-batch-means", k, rows, dbm.LayerSizes[k + 1]);
            var labelMeans = dbm.HasLabels ? dbm.Workspace.Get("mean-field-batch-label-means", rows, dbm.LabelCount) : null;
            var run = dbm.MeanField(v, means, options, labelMeans: labelMeans);
            batchDone(start, v, means, labelMeans, run);
        }
    }

    /// <summary>The parameters in double on the host, for the exact sums.</summary>
    private sealed class HostModel
    {
        public required int[] Sizes { get; init; }
        public required double[][] Weights { get; init; }
        public required double[][] Biases { get; init; }
        public required int Labels { get; init; }
        public required double[] LabelWeights { get; init; }
        public required double[] LabelBias { get; init; }

        public static HostModel Of(DeepBoltzmannMachine dbm)
        {
            int layers = dbm.LayerSizes.Count;
            var w = new double[layers - 1][];
            var b = new double[layers][];
            for (int k = 0; k < layers - 1; k++) w[k] = Double(dbm.Weights[k]);
            for (int k = 0; k < layers; k++) b[k] = Double(dbm.Biases[k]);
            return new HostModel
            {
                Sizes = [.. dbm.LayerSizes], Weights = w, Biases = b, Labels = dbm.LabelCount,
                LabelWeights = dbm.HasLabels ? Double(dbm.LabelWeights!) : [], LabelBias = dbm.HasLabels ? Double(dbm.LabelBias!) : [],
            };
        }

        private static double[] Double(Tensor t) => Array.ConvertAll(RestrictedBoltzmannMachine.Download(t), x => (double)x);

        /// <summary>
        /// log of the sum over the even layers' states (the visible one fixed when given) of <c>p*(x_even)</c>; labels in an even
        /// position are enumerated with them, labels in an odd position summed out in closed form.
        /// </summary>
        public double LogSumOverEven(double[]? fixedVisible)
        {
            int layers = Sizes.Length, top = layers - 1;
            bool labelsEven = Labels > 0 && layers % 2 == 0, labelsOdd = Labels > 0 && !labelsEven;
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
                for (int label = 0; label < (labelsEven ? Labels : 1); label++)
                {
                    double log = labelsEven ? LabelBias[label] : 0;
                    for (int k = 0; k < layers; k += 2)
                        for (int j = 0; j < Sizes[k]; j++) log += Biases[k][j] * x[k][j];
                    for (int k = 1; k < layers; k += 2)
                        for (int j = 0; j < Sizes[k]; j++)
                        {
                            double a = Biases[k][j];
                            for (int i = 0; i < Sizes[k - 1]; i++) a += x[k - 1][i] * Weights[k - 1][i * Sizes[k] + j];
                            if (k + 1 < layers)
                                for (int i = 0; i < Sizes[k + 1]; i++) a += x[k + 1][i] * Weights[k][j * Sizes[k + 1] + i];
                            if (k == top && labelsEven) a += LabelWeights[label * Sizes[top] + j];
                            log += AnnealedImportanceSampling.Softplus(a);
                        }
                    if (labelsOdd)
                    {
                        double most = double.NegativeInfinity;
                        var exact = new double[Labels];
                        for (int c = 0; c < Labels; c++)
                        {
                            double a = LabelBias[c];
                            for (int j = 0; j < Sizes[top]; j++) a += LabelWeights[c * Sizes[top] + j] * x[top][j];
                            exact[c] = a;
                            most = Math.Max(most, a);
                        }
                        double sum = 0;
                        foreach (double a in exact) sum += Math.Exp(a - most);
                        log += most + Math.Log(sum);
                    }
                    // A running log-sum-exp keeps 2^24 terms in range.
                    if (log > max)
                    {
                        acc = acc * Math.Exp(max - log) + 1;
                        max = log;
                    }
                    else acc += Math.Exp(log - max);
                }
            }
            return max + Math.Log(acc);
        }
    }
}
