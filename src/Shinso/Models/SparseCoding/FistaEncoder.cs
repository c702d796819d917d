using Shinso.Backends;
using Shinso.Numerics;
using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Models.SparseCoding;

/// <summary>How <see cref="FistaEncoder"/> solves the lasso.</summary>
public sealed record FistaOptions
{
    /// <summary>The L1 weight λ in <c>½‖x − Dᵀh‖² + λ‖h‖₁</c>; must be positive.</summary>
    public float Lambda { get; init; } = 0.1f;

    /// <summary>The most iterations a block of rows runs.</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>A block stops when two iterations in a row lower its summed objective by less than this share of it; 0 runs every iteration.</summary>
    public double Tolerance { get; init; } = 1e-5;

    /// <summary>Rows coded together: the products of an iteration cover the whole block, and its iterates stay in cache.</summary>
    public int BlockRows { get; init; } = 2048;

    /// <summary>Which products an iteration makes; <see cref="FistaForm.Auto"/> takes the one with fewer multiply-adds.</summary>
    public FistaForm Form { get; init; } = FistaForm.Auto;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public void Validate()
    {
        if (!(Lambda > 0) || !float.IsFinite(Lambda)) throw new ArgumentException($"lambda must be a positive number, got {Lambda}.", nameof(Lambda));
        if (MaxIterations < 1) throw new ArgumentException($"the iteration limit must be at least 1, got {MaxIterations}.", nameof(MaxIterations));
        if (!(Tolerance >= 0)) throw new ArgumentException($"the tolerance must be >= 0, got {Tolerance}.", nameof(Tolerance));
        if (BlockRows < 1) throw new ArgumentException($"the block size must be at least 1 row, got {BlockRows}.", nameof(BlockRows));
    }
}

/// <summary>The products a FISTA iteration makes (both give the same iterates up to rounding).</summary>
public enum FistaForm
{
    /// <summary>The Gram form when the dictionary has at most twice as many atoms as features, else the factored form.</summary>
    Auto,
    /// <summary>One GEMM per iteration: the candidate times the Gram matrix <c>G = D Dᵀ</c> (rows x atoms x atoms).</summary>
    Gram,
    /// <summary>Two GEMMs per iteration: the residual times Dᵀ and the candidate times D (2 x rows x atoms x features).</summary>
    Factored,
}

/// <summary>The lasso codes of a set of rows and what solving them took.</summary>
/// <param name="Codes">Row-major [rows, atoms].</param>
/// <param name="MeanObjective">The mean over rows of <c>½‖x − Dᵀh‖² + λ‖h‖₁</c>.</param>
/// <param name="MeanNonZeros">The mean number of non-zero codes per row.</param>
/// <param name="Iterations">The most iterations any block ran.</param>
/// <param name="Converged">Whether every block met the tolerance before the iteration limit (always, with tolerance 0, which asks for every iteration).</param>
/// <param name="Trace">The mean objective after each iteration of the first block (for the tests and plots), the start first.</param>
public sealed record SparseCodes(float[] Codes, double MeanObjective, double MeanNonZeros, int Iterations, bool Converged, double[] Trace);

/// <summary>
/// Lasso codes <c>argmin_h ½‖x − Dᵀh‖² + λ‖h‖₁</c> for many rows at once by FISTA (Beck &amp; Teboulle, SIAM J. Imaging Sciences 2009)
/// with the step <c>1/L</c>, L the largest eigenvalue of <c>D Dᵀ</c> (the squared spectral norm of the dictionary), and a per-row
/// function-value restart (O'Donoghue &amp; Candès 2015, made monotone): a candidate whose objective is higher than its row's current one
/// is dropped and that row's momentum reset, so a row's objective never rises by more than the rounding slack of the comparison
/// (<see cref="Kernels.Cpu.SparseCodingKernels.AcceptanceSlack"/> of its single-precision sum). The dictionary D holds one unit-norm atom
/// per row, [atoms, features], as in scikit-learn.
/// </summary>
/// <remarks>
/// In the Gram form a block of rows keeps <c>B = X Dᵀ</c> and the products <c>P = H G</c> of its two latest iterates with <c>G = D Dᵀ</c>;
/// the gradient at the extrapolated point is then <c>P + m(P − P') − B</c>, so an iteration costs one GEMM (the new candidate times G)
/// and two fused passes (<see cref="ISparseCoding"/>). For a dictionary with more than twice as many atoms as features the factored
/// form is cheaper: it keeps the reconstructions <c>R = H D</c>, and an iteration makes the residual at the extrapolated point
/// <c>R + m(R − R') − X</c>, its gradient (times Dᵀ) and the candidate's reconstruction (times D). Either way every row's objective is
/// known after each iteration without another product.
/// </remarks>
public static class FistaEncoder
{
    /// <summary>The largest eigenvalue of <c>D Dᵀ</c> (which shares its non-zero eigenvalues with <c>Dᵀ D</c>, the smaller of the two is decomposed).</summary>
    public static double LipschitzConstant(ReadOnlySpan<float> dictionary, int atoms, int features)
    {
        if (dictionary.Length != (long)atoms * features) throw new ArgumentException($"The dictionary has {dictionary.Length} values, not {atoms} x {features}.", nameof(dictionary));
        bool byFeatures = features <= atoms;
        int n = byFeatures ? features : atoms;
        var gram = new double[n * n];
        for (int a = 0; a < atoms; a++)
        {
            var atom = dictionary.Slice(a * features, features);
            if (byFeatures)
            {
                for (int i = 0; i < features; i++)
                {
                    double ai = atom[i];
                    if (ai == 0) continue;
                    for (int j = 0; j <= i; j++) gram[i * n + j] += ai * atom[j];
                }
            }
            else
            {
                for (int b = 0; b <= a; b++)
                {
                    double dot = 0;
                    var other = dictionary.Slice(b * features, features);
                    for (int j = 0; j < features; j++) dot += (double)atom[j] * other[j];
                    gram[a * n + b] = dot;
                }
            }
        }
        return SymmetricEigen.Of(gram, n).Values[0];
    }

    /// <summary>
    /// The codes of <paramref name="data"/> (rows of <paramref name="features"/> values) under <paramref name="dictionary"/>
    /// ([atoms, features] on <paramref name="backend"/>).
    /// </summary>
    /// <param name="backend">Where the products and passes run.</param>
    /// <param name="data">Row-major rows.</param>
    /// <param name="features">Values per row.</param>
    /// <param name="dictionary">The atoms, one per row.</param>
    /// <param name="options">λ, the iteration limit, the tolerance and the block size.</param>
    /// <param name="warmStart">Codes to start from ([rows, atoms]), or null to start from zero.</param>
    /// <param name="workspace">Scratch tensors on <paramref name="backend"/> kept between calls (a caller coding batch after batch passes one, so
    /// only its first call allocates), or null for fresh ones.</param>
    /// <exception cref="ArgumentException">The data is not whole rows, holds a value that is not finite, or does not fit the dictionary; an option is out of range.</exception>
    public static SparseCodes Encode(IBackend backend, ReadOnlySpan<float> data, int features, Tensor dictionary, FistaOptions options,
        ReadOnlySpan<float> warmStart = default, Workspace? workspace = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(dictionary);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (dictionary.Columns != features)
            throw new ArgumentException($"The dictionary's atoms have {dictionary.Columns} values but the rows have {features}.", nameof(dictionary));
        if (features < 1 || data.Length % features != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {features}.", nameof(data));
        int n = data.Length / features, atoms = dictionary.Rows;
        if (!warmStart.IsEmpty && warmStart.Length != (long)n * atoms)
            throw new ArgumentException($"The warm start has {warmStart.Length} values, not {n} rows x {atoms} atoms.", nameof(warmStart));
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i])) throw new ArgumentException($"Row {i / features} value {i % features} is {data[i]}; sparse coding needs finite values.", nameof(data));

        var hostDictionary = new float[dictionary.Length];
        backend.Download(dictionary, hostDictionary);
        double lipschitz = LipschitzConstant(hostDictionary, atoms, features);
        var codes = new float[(long)n * atoms];
        if (n == 0) return new SparseCodes(codes, 0, 0, 0, true, []);
        if (!(lipschitz > 0)) return Result(codes, data, features, hostDictionary, atoms, options.Lambda, 0, true, []);
        float step = (float)(1 / lipschitz), threshold = (float)(options.Lambda / lipschitz);

        bool factored = options.Form == FistaForm.Factored || (options.Form == FistaForm.Auto && 2L * features < atoms);
        var ws = workspace ?? new Workspace(backend);
        if (ws.Backend != backend) throw new ArgumentException("The workspace belongs to another backend.", nameof(workspace));
        Tensor? gram = null;
        if (!factored)
        {
            gram = ws.Get("fista-gram", atoms, atoms);
            backend.Gemm(Transpose.None, Transpose.Transposed, 1f, dictionary, dictionary, 0f, gram);
        }
        int block = Math.Min(options.BlockRows, n);
        // The Gram form keeps B = X Dᵀ and the products P = H G (rows x atoms); the factored form keeps the reconstructions R = H D
        // (rows x features), the residual at the extrapolated point and its gradient.
        int productWidth = factored ? features : atoms;
        var xBlock = ws.Get("fista-data", block, features);
        var correlationBlock = factored ? null : ws.Get("fista-correlation", block, atoms);
        var residualBlock = factored ? ws.Get("fista-residual", block, features) : null;
        var gradientBlock = factored ? ws.Get("fista-gradient", block, atoms) : null;
        var currentBlock = ws.Get("fista-codes", 0, block, atoms);
        var previousBlock = ws.Get("fista-codes", 1, block, atoms);
        var productBlock = ws.Get("fista-products", 0, block, productWidth);
        var previousProductBlock = ws.Get("fista-products", 1, block, productWidth);
        var objectiveBlock = ws.Get("fista-objective", block, 1);
        var tBlock = ws.Get("fista-t", block, 1);
        var momentumBlock = ws.Get("fista-momentum", block, 1);
        int most = 0;
        bool converged = true;
        var trace = new List<double>();
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            var x = xBlock.SliceRows(0, rows);
            var correlation = correlationBlock?.SliceRows(0, rows);
            var residual = residualBlock?.SliceRows(0, rows);
            var gradient = gradientBlock?.SliceRows(0, rows);
            // The iterate H, the one before it H', and their products; the pairs swap roles after every iteration.
            Tensor current = currentBlock.SliceRows(0, rows), previous = previousBlock.SliceRows(0, rows);
            Tensor product = productBlock.SliceRows(0, rows), previousProduct = previousProductBlock.SliceRows(0, rows);
            var objective = objectiveBlock.SliceRows(0, rows);
            var t = tBlock.SliceRows(0, rows);
            var momentum = momentumBlock.SliceRows(0, rows);
            var rowsData = data.Slice(start * features, rows * features);
            backend.Upload(rowsData, x);
            // The Gram form's objectives leave out ½‖x‖²; the factored form's are whole.
            double offset = 0;
            if (!factored)
            {
                backend.Gemm(Transpose.None, Transpose.Transposed, 1f, x, dictionary, 0f, correlation!);
                foreach (float v in rowsData) offset += 0.5 * v * v;
            }
            if (warmStart.IsEmpty)
            {
                backend.Fill(current, 0f);
                backend.Fill(product, 0f);
            }
            else
            {
                backend.Upload(warmStart.Slice(start * atoms, rows * atoms), current);
                if (factored) backend.Gemm(Transpose.None, Transpose.None, 1f, current, dictionary, 0f, product);
                else backend.Gemm(Transpose.None, Transpose.None, 1f, current, gram!, 0f, product);
            }
            void Accept(Tensor candidate, Tensor candidateProduct, Tensor from, Tensor fromProduct)
            {
                if (factored) backend.AcceptReconstruction(candidate, candidateProduct, from, fromProduct, x, options.Lambda, objective, t, momentum);
                else backend.AcceptDescent(candidate, candidateProduct, from, fromProduct, correlation!, options.Lambda, objective, t, momentum);
            }
            // The start's objective: accept the start against +inf, then begin FISTA's sequence at t = 1 with no momentum.
            backend.Copy(current, previous);
            backend.Copy(product, previousProduct);
            backend.Fill(objective, float.PositiveInfinity);
            Accept(previous, previousProduct, current, product);
            backend.Fill(t, 1f);
            backend.Fill(momentum, 0f);
            double total = backend.Sum(objective) + offset;
            bool first = start == 0;
            if (first) trace.Add(total / rows);
            int iteration = 0, small = 0;
            bool done = false;
            while (iteration < options.MaxIterations)
            {
                iteration++;
                if (factored)
                {
                    backend.ExtrapolatedResidual(product, previousProduct, x, momentum, residual!);
                    backend.Gemm(Transpose.None, Transpose.Transposed, 1f, residual!, dictionary, 0f, gradient!);
                    backend.ProximalStep(current, previous, gradient!, momentum, step, threshold);
                    backend.Gemm(Transpose.None, Transpose.None, 1f, previous, dictionary, 0f, previousProduct);
                }
                else
                {
                    backend.ShrinkageStep(current, previous, product, previousProduct, correlation!, momentum, step, threshold);
                    backend.Gemm(Transpose.None, Transpose.None, 1f, previous, gram!, 0f, previousProduct);
                }
                Accept(previous, previousProduct, current, product);
                (current, previous) = (previous, current);
                (product, previousProduct) = (previousProduct, product);
                double next = backend.Sum(objective) + offset;
                if (first) trace.Add(next / rows);
                double decrease = total - next;
                total = next;
                // A restarted row keeps its objective, so one small decrease may be a restart rather than convergence: the plain
                // proximal step after a restart always descends, so two small decreases in a row are needed to stop.
                small = options.Tolerance > 0 && decrease <= options.Tolerance * Math.Abs(next) ? small + 1 : 0;
                if (small == 2)
                {
                    done = true;
                    break;
                }
            }
            most = Math.Max(most, iteration);
            converged &= done || options.Tolerance == 0;
            backend.Download(current, codes.AsSpan(start * atoms, rows * atoms));
        }
        return Result(codes, data, features, hostDictionary, atoms, options.Lambda, most, converged, [.. trace]);
    }

    /// <summary>The mean lasso objective of <paramref name="codes"/> for <paramref name="data"/> under <paramref name="dictionary"/>, in double precision.</summary>
    public static double MeanObjective(ReadOnlySpan<float> data, int features, ReadOnlySpan<float> dictionary, ReadOnlySpan<float> codes, float lambda)
    {
        int atoms = dictionary.Length / features;
        int n = data.Length / features;
        if (n == 0) return 0;
        if (codes.Length != (long)n * atoms) throw new ArgumentException($"{codes.Length} codes are not {n} rows x {atoms} atoms.", nameof(codes));
        double sum = 0;
        var residual = new double[features];
        for (int r = 0; r < n; r++)
        {
            var x = data.Slice(r * features, features);
            for (int j = 0; j < features; j++) residual[j] = x[j];
            var h = codes.Slice(r * atoms, atoms);
            double l1 = 0;
            for (int a = 0; a < atoms; a++)
            {
                double c = h[a];
                if (c == 0) continue;
                l1 += Math.Abs(c);
                var atom = dictionary.Slice(a * features, features);
                for (int j = 0; j < features; j++) residual[j] -= c * atom[j];
            }
            double squares = 0;
            for (int j = 0; j < features; j++) squares += residual[j] * residual[j];
            sum += 0.5 * squares + lambda * l1;
        }
        return sum / n;
    }

    private static SparseCodes Result(float[] codes, ReadOnlySpan<float> data, int features, float[] dictionary, int atoms, float lambda, int iterations,
        bool converged, double[] trace)
    {
        int n = data.Length / features;
        long nonZeros = 0;
        foreach (float c in codes) if (c != 0) nonZeros++;
        return new SparseCodes(codes, MeanObjective(data, features, dictionary, codes, lambda), n == 0 ? 0 : (double)nonZeros / n, iterations, converged, trace);
    }
}
