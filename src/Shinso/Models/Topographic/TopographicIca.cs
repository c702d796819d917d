using Shinso.Backends;
using Shinso.Data;
using Shinso.Numerics;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.Topographic;

/// <summary>How <see cref="TopographicIca"/> learns its filters.</summary>
public sealed record TopographicIcaOptions
{
    /// <summary>The filters sit on a Side x Side torus: Side² filters.</summary>
    public int Side { get; init; } = 8;

    /// <summary>Each pool is the Neighbourhood x Neighbourhood window of filters around one position (wrapping around the torus); odd.</summary>
    public int Neighbourhood { get; init; } = 3;

    /// <summary>ε in <c>sqrt(ε + pooled energy)</c>: smooths the square root at zero, where its derivative would be infinite.</summary>
    public float Epsilon { get; init; } = 1e-2f;

    /// <summary>
    /// RICA's reconstruction weight λ in <c>λ‖WᵀW x − x‖²</c> (Le, Karpenko, Ngiam &amp; Ng 2011), which replaces the orthonormality
    /// constraint; 0 is Hyvärinen &amp; Hoyer's TICA, with <c>W Wᵀ = I</c> restored after every step.
    /// </summary>
    public float Reconstruction { get; init; }

    /// <summary>The step: plain gradient descent for TICA (then orthonormalisation), Adam's rate for RICA.</summary>
    public float LearningRate { get; init; } = 0.5f;

    /// <summary>Passes over the rows.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Rows per step.</summary>
    public int BatchRows { get; init; } = 1000;

    /// <summary>The seed of the initial filters and of the order of the rows.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Filters: Side².</summary>
    public int FilterCount => Side * Side;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range, or when TICA asks for more filters than the data has dimensions.</summary>
    public void Validate(int features)
    {
        if (Side < 1) throw new ArgumentException($"the torus side must be at least 1, got {Side}.", nameof(Side));
        if (Neighbourhood < 1 || Neighbourhood % 2 == 0 || Neighbourhood > Side)
            throw new ArgumentException($"the neighbourhood must be odd and at most the side ({Side}), got {Neighbourhood}.", nameof(Neighbourhood));
        if (!(Epsilon > 0)) throw new ArgumentException($"epsilon must be positive, got {Epsilon}.", nameof(Epsilon));
        if (!(Reconstruction >= 0) || !float.IsFinite(Reconstruction)) throw new ArgumentException($"the reconstruction weight must be >= 0, got {Reconstruction}.", nameof(Reconstruction));
        if (!(LearningRate > 0)) throw new ArgumentException($"the learning rate must be positive, got {LearningRate}.", nameof(LearningRate));
        if (Epochs < 0) throw new ArgumentException($"epochs must be >= 0, got {Epochs}.", nameof(Epochs));
        if (BatchRows < 1) throw new ArgumentException($"the batch must hold at least 1 row, got {BatchRows}.", nameof(BatchRows));
        if (Reconstruction == 0 && FilterCount > features)
            throw new ArgumentException($"TICA keeps W Wᵀ = I, so it can learn at most as many filters as the data has (whitened) dimensions: " +
                                        $"{FilterCount} filters ({Side} x {Side}) for {features}. Use fewer, or RICA (a reconstruction weight > 0) for an overcomplete bank.", nameof(Side));
    }
}

/// <summary>One pass of <see cref="TopographicIca.Train"/>: the mean objective after it, and how far W Wᵀ is from I.</summary>
public sealed record TicaEpoch(int Epoch, double MeanObjective, double Orthonormality, double Seconds);

/// <summary>
/// Topographic ICA (Hyvärinen &amp; Hoyer, Vision Research 2001; Hyvärinen, Hoyer &amp; Inki 2001): filters W on whitened data, arranged on a
/// 2-D torus, minimising <c>sum_i sum_k sqrt(ε + sum_{j in P_k} (w_j·x_i)²)</c> over the fixed neighbourhoods P_k, subject to
/// <c>W Wᵀ = I</c>, kept by the symmetric orthonormalisation <c>W ← (W Wᵀ)^(−1/2) W</c> after every step. Neighbouring filters learn
/// similar features because energy pooled over a neighbourhood is cheaper when its members respond together. With a reconstruction
/// weight it is RICA (Le et al., NIPS 2011): the constraint becomes the penalty <c>λ‖WᵀW x − x‖²</c>, so the bank may be overcomplete
/// and the data unwhitened.
/// </summary>
/// <remarks>
/// A step runs as backend GEMMs: responses <c>Z = X Wᵀ</c>, pooled energies <c>Q = (Z∘Z) N</c> with the 0/1 neighbourhood matrix N,
/// <see cref="ISparseCoding.PoolingRoots"/>, the gradient <c>Gᵀ X / n</c> with <c>G = Z ∘ (Q^(−1/2) N)</c>, and for RICA the reconstruction's
/// <c>2λ(Zᵀ R + (R Wᵀ)ᵀ X)/n</c> with <c>R = Z W − X</c>. The orthonormalisation decomposes the small K x K matrix W Wᵀ on the host.
/// </remarks>
public sealed class TopographicIca
{
    /// <summary>Builds a model from its filters.</summary>
    /// <exception cref="ArgumentException">The filters are not Side² rows of <paramref name="features"/>, or a setting is out of range.</exception>
    public TopographicIca(float[] filters, int features, int side, int neighbourhood, float epsilon, float reconstruction)
    {
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        new TopographicIcaOptions { Side = side, Neighbourhood = neighbourhood, Epsilon = epsilon, Reconstruction = reconstruction }.Validate(int.MaxValue);
        if (filters.Length != (long)side * side * features)
            throw new ArgumentException($"{filters.Length} filter values are not {side * side} filters ({side} x {side}) of {features}.", nameof(filters));
        Filters = filters;
        FeatureCount = features;
        Side = side;
        Neighbourhood = neighbourhood;
        Epsilon = epsilon;
        Reconstruction = reconstruction;
    }

    /// <summary>The filters, row-major [Side², features], in torus order (row by row).</summary>
    public float[] Filters { get; }

    /// <summary>Values per row of the data.</summary>
    public int FeatureCount { get; }

    /// <summary>Filters per side of the torus.</summary>
    public int Side { get; }

    /// <summary>The pooling window's side.</summary>
    public int Neighbourhood { get; }

    /// <summary>The square root's smoothing ε.</summary>
    public float Epsilon { get; }

    /// <summary>RICA's reconstruction weight; 0 for TICA.</summary>
    public float Reconstruction { get; }

    /// <summary>Filters: Side².</summary>
    public int FilterCount => Side * Side;

    /// <summary>
    /// The symmetric 0/1 matrix N [K, K] with <c>N[k, j] = 1</c> when filter j lies in the Neighbourhood x Neighbourhood window centred on
    /// filter k, distances wrapping around the Side x Side torus.
    /// </summary>
    public static float[] NeighbourhoodMatrix(int side, int neighbourhood)
    {
        int k = side * side, half = neighbourhood / 2;
        var n = new float[k * k];
        for (int r = 0; r < side; r++)
            for (int c = 0; c < side; c++)
                for (int dr = -half; dr <= half; dr++)
                    for (int dc = -half; dc <= half; dc++)
                    {
                        int j = ((r + dr + side) % side) * side + (c + dc + side) % side;
                        n[(r * side + c) * k + j] = 1f;
                    }
        return n;
    }

    /// <summary>The mean objective over the rows of <paramref name="data"/> and its gradient by the filters (for the tests and for training).</summary>
    public (double Objective, float[] Gradient) ObjectiveAndGradient(IBackend backend, ReadOnlySpan<float> data)
    {
        var step = new Step(backend, FeatureCount, Side, Neighbourhood, EvaluationBlock(data));
        backend.Upload(Filters, step.W);
        double objective = step.Run(data, Epsilon, Reconstruction, gradient: true);
        var gradient = new float[Filters.Length];
        backend.Download(step.Gradient, gradient);
        return (objective, gradient);
    }

    /// <summary>The mean objective over the rows of <paramref name="data"/> (no gradient), in blocks of at most 4,096 rows.</summary>
    public double MeanObjective(IBackend backend, ReadOnlySpan<float> data)
    {
        var step = new Step(backend, FeatureCount, Side, Neighbourhood, EvaluationBlock(data));
        backend.Upload(Filters, step.W);
        return step.Run(data, Epsilon, Reconstruction, gradient: false);
    }

    private int EvaluationBlock(ReadOnlySpan<float> data) => Math.Clamp(data.Length / FeatureCount, 1, 4096);

    /// <summary>
    /// <c>sum ‖WᵀW x − x‖² / sum ‖x‖²</c> over the rows of <paramref name="data"/> (the first 5,000 at most), in double precision: the
    /// share of the data the bank does not reconstruct (0 for an orthonormal complete bank).
    /// </summary>
    public double RelativeReconstructionError(ReadOnlySpan<float> data)
    {
        int f = FeatureCount, k = FilterCount, n = Math.Min(data.Length / f, 5000);
        double error = 0, total = 0;
        var z = new double[k];
        for (int r = 0; r < n; r++)
        {
            var x = data.Slice(r * f, f);
            for (int a = 0; a < k; a++)
            {
                double sum = 0;
                for (int j = 0; j < f; j++) sum += (double)Filters[a * f + j] * x[j];
                z[a] = sum;
            }
            for (int j = 0; j < f; j++)
            {
                double back = 0;
                for (int a = 0; a < k; a++) back += z[a] * Filters[a * f + j];
                error += (back - x[j]) * (back - x[j]);
                total += (double)x[j] * x[j];
            }
        }
        return total > 0 ? error / total : 0;
    }

    /// <summary>The largest deviation of <c>W Wᵀ</c> from the identity.</summary>
    public static double Orthonormality(ReadOnlySpan<float> filters, int count, int features)
    {
        double worst = 0;
        for (int a = 0; a < count; a++)
            for (int b = 0; b <= a; b++)
            {
                double dot = 0;
                for (int f = 0; f < features; f++) dot += (double)filters[a * features + f] * filters[b * features + f];
                worst = Math.Max(worst, Math.Abs(dot - (a == b ? 1 : 0)));
            }
        return worst;
    }

    /// <summary>
    /// <c>W ← (W Wᵀ)^(−1/2) W</c> in double precision (the eigendecomposition of the K x K matrix W Wᵀ): the orthonormal matrix nearest W.
    /// </summary>
    /// <exception cref="ArithmeticException">W Wᵀ is singular (the filters are linearly dependent).</exception>
    public static void Orthonormalize(Span<float> filters, int count, int features)
    {
        var gram = new double[count * count];
        for (int a = 0; a < count; a++)
            for (int b = 0; b <= a; b++)
            {
                double dot = 0;
                for (int f = 0; f < features; f++) dot += (double)filters[a * features + f] * filters[b * features + f];
                gram[a * count + b] = gram[b * count + a] = dot;
            }
        var eigen = SymmetricEigen.Of(gram, count);
        if (!(eigen.Values[^1] > 1e-12 * Math.Max(eigen.Values[0], 1e-300)))
            throw new ArithmeticException($"W Wᵀ is singular (smallest eigenvalue {eigen.Values[^1]:G3}): the filters are linearly dependent.");
        // M = V diag(1/sqrt(λ)) Vᵀ, then W ← M W.
        var m = new double[count * count];
        for (int a = 0; a < count; a++)
            for (int b = 0; b < count; b++)
            {
                double sum = 0;
                for (int c = 0; c < count; c++) sum += eigen.Vectors[a * count + c] * eigen.Vectors[b * count + c] / Math.Sqrt(eigen.Values[c]);
                m[a * count + b] = sum;
            }
        var old = new double[count * features];
        for (int i = 0; i < old.Length; i++) old[i] = filters[i];
        for (int a = 0; a < count; a++)
            for (int f = 0; f < features; f++)
            {
                double sum = 0;
                for (int c = 0; c < count; c++) sum += m[a * count + c] * old[c * features + f];
                filters[a * features + f] = (float)sum;
            }
    }

    /// <summary>Learns filters for <paramref name="data"/> (rows of <paramref name="features"/> values; whitened for TICA).</summary>
    /// <exception cref="ArgumentException">A setting is out of range, TICA asks for more filters than dimensions, or the data is not whole rows.</exception>
    public static (TopographicIca Model, IReadOnlyList<TicaEpoch> Epochs) Train(IBackend backend, ReadOnlySpan<float> data, int features,
        TopographicIcaOptions options, Action<TicaEpoch>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(features);
        if (features < 1 || data.Length % features != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {features}.", nameof(data));
        int n = data.Length / features, k = options.FilterCount;
        if (n == 0) throw new ArgumentException("There are no rows to learn from.", nameof(data));
        var root = RandomStream.Root(options.Seed).Derive(options.Reconstruction > 0 ? "rica" : "tica");
        var filters = new float[k * features];
        var init = root.Derive("initial-filters");
        for (int i = 0; i < filters.Length; i++) filters[i] = Philox4x32.Gaussian(init, (ulong)i);
        bool tica = options.Reconstruction == 0;
        if (tica) Orthonormalize(filters, k, features);
        else
            for (int a = 0; a < k; a++)
            {
                double norm = 0;
                for (int f = 0; f < features; f++) norm += (double)filters[a * features + f] * filters[a * features + f];
                for (int f = 0; f < features; f++) filters[a * features + f] = (float)(filters[a * features + f] / Math.Sqrt(norm));
            }
        int batch = Math.Min(options.BatchRows, n);
        var step = new Step(backend, features, options.Side, options.Neighbourhood, batch);
        backend.Upload(filters, step.W);
        var first = backend.Allocate(k, features);
        var second = backend.Allocate(k, features);
        var rows = new float[batch * features];
        var epochs = new List<TicaEpoch>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int t = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = DeterministicShuffle.EpochPermutation(n, epoch, root.Derive("order"));
            for (int start = 0; start + batch <= n; start += batch)
            {
                for (int r = 0; r < batch; r++) data.Slice(order[start + r] * features, features).CopyTo(rows.AsSpan(r * features, features));
                step.Run(rows, options.Epsilon, options.Reconstruction, gradient: true);
                if (tica)
                {
                    backend.Axpy(-options.LearningRate, step.Gradient, step.W);
                    backend.Download(step.W, filters);
                    Orthonormalize(filters, k, features);
                    backend.Upload(filters, step.W);
                }
                else
                {
                    backend.AdamUpdate(step.W, step.Gradient, first, second, options.LearningRate, 0.9f, 0.999f, 1e-8f, ++t);
                }
            }
            backend.Download(step.W, filters);
            double objective = step.Run(data, options.Epsilon, options.Reconstruction, gradient: false);
            var report = new TicaEpoch(epoch, objective, tica ? Orthonormality(filters, k, features) : double.NaN, clock.Elapsed.TotalSeconds);
            epochs.Add(report);
            progress?.Invoke(report);
        }
        backend.Download(step.W, filters);
        return (new TopographicIca(filters, features, options.Side, options.Neighbourhood, options.Epsilon, options.Reconstruction), epochs);
    }

    /// <summary>The buffers of one objective-and-gradient evaluation over up to a block of rows.</summary>
    private sealed class Step
    {
        private readonly IBackend _backend;
        private readonly int _features, _filters, _block;
        private readonly Tensor _x, _z, _squares, _pooled, _roots, _inverse, _spread, _weighted, _residual, _back, _neighbourhood;

        public Step(IBackend backend, int features, int side, int neighbourhood, int block)
        {
            _backend = backend;
            _features = features;
            _filters = side * side;
            _block = block;
            W = backend.Allocate(_filters, features);
            Gradient = backend.Allocate(_filters, features);
            _neighbourhood = backend.Allocate(_filters, _filters);
            backend.Upload(NeighbourhoodMatrix(side, neighbourhood), _neighbourhood);
            _x = backend.Allocate(block, features);
            _z = backend.Allocate(block, _filters);
            _squares = backend.Allocate(block, _filters);
            _pooled = backend.Allocate(block, _filters);
            _roots = backend.Allocate(block, _filters);
            _inverse = backend.Allocate(block, _filters);
            _spread = backend.Allocate(block, _filters);
            _weighted = backend.Allocate(block, _filters);
            _residual = backend.Allocate(block, features);
            _back = backend.Allocate(block, _filters);
        }

        public Tensor W { get; }

        public Tensor Gradient { get; }

        /// <summary>The mean objective of <paramref name="data"/> under W and, if asked, its gradient into <see cref="Gradient"/>, block by block.</summary>
        public double Run(ReadOnlySpan<float> data, float epsilon, float reconstruction, bool gradient)
        {
            var be = _backend;
            int n = data.Length / _features;
            double sum = 0;
            if (gradient) be.Fill(Gradient, 0f);
            for (int start = 0; start < n; start += _block)
            {
                int rows = Math.Min(_block, n - start);
                Tensor x = _x.SliceRows(0, rows), z = _z.SliceRows(0, rows), squares = _squares.SliceRows(0, rows), pooled = _pooled.SliceRows(0, rows);
                Tensor roots = _roots.SliceRows(0, rows), inverse = _inverse.SliceRows(0, rows), spread = _spread.SliceRows(0, rows), weighted = _weighted.SliceRows(0, rows);
                be.Upload(data.Slice(start * _features, rows * _features), x);
                be.Gemm(Transpose.None, Transpose.Transposed, 1f, x, W, 0f, z);
                be.Multiply(z, z, squares);
                be.Gemm(Transpose.None, Transpose.None, 1f, squares, _neighbourhood, 0f, pooled);
                be.PoolingRoots(pooled, epsilon, roots, inverse);
                sum += be.Sum(roots);
                if (gradient)
                {
                    be.Gemm(Transpose.None, Transpose.None, 1f, inverse, _neighbourhood, 0f, spread);
                    be.Multiply(z, spread, weighted);
                    be.Gemm(Transpose.Transposed, Transpose.None, 1f / n, weighted, x, 1f, Gradient);
                }
                if (reconstruction > 0)
                {
                    var residual = _residual.SliceRows(0, rows);
                    var back = _back.SliceRows(0, rows);
                    be.Copy(x, residual);
                    be.Gemm(Transpose.None, Transpose.None, 1f, z, W, -1f, residual);
                    sum += reconstruction * be.SumOfSquares(residual);
                    if (!gradient) continue;
                    be.Gemm(Transpose.None, Transpose.Transposed, 1f, residual, W, 0f, back);
                    float weight = 2f * reconstruction / n;
                    be.Gemm(Transpose.Transposed, Transpose.None, weight, z, residual, 1f, Gradient);
                    be.Gemm(Transpose.Transposed, Transpose.None, weight, back, x, 1f, Gradient);
                }
            }
            return n == 0 ? 0 : sum / n;
        }

    }
}
