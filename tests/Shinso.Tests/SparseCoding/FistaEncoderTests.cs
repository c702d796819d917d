using Shinso.Backends;
using Shinso.Models.SparseCoding;

namespace Shinso.Tests.SparseCoding;

/// <summary>FISTA's codes against the exact lasso solution, its monotone objective, its step size and its refusals.</summary>
public sealed class FistaEncoderTests
{
    private static readonly CpuBackend Cpu = new();

    /// <summary>Unit-norm random atoms, [atoms, features].</summary>
    internal static float[] RandomDictionary(System.Random random, int atoms, int features)
    {
        var d = new float[atoms * features];
        for (int a = 0; a < atoms; a++)
        {
            double squares = 0;
            for (int f = 0; f < features; f++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                d[a * features + f] = (float)g;
                squares += g * g;
            }
            for (int f = 0; f < features; f++) d[a * features + f] = (float)(d[a * features + f] / Math.Sqrt(squares));
        }
        return d;
    }

    /// <summary>
    /// The exact lasso solution by enumeration: for every sign pattern s in {−1, 0, +1}^atoms, the stationary point on that orthant's
    /// face, <c>h_S = (D_S D_Sᵀ)⁻¹ (D_S x − λ s_S)</c>; of the points whose signs agree with s, the one of least objective is the optimum
    /// (the objective is convex and its minimiser is the stationary point of its own sign pattern).
    /// </summary>
    internal static double[] ExactLasso(float[] dictionary, int atoms, int features, ReadOnlySpan<float> x, double lambda)
    {
        double best = double.PositiveInfinity;
        var bestCodes = new double[atoms];
        int patterns = (int)Math.Pow(3, atoms);
        var signs = new int[atoms];
        for (int code = 0; code < patterns; code++)
        {
            int rest = code, size = 0;
            for (int a = 0; a < atoms; a++)
            {
                signs[a] = rest % 3 - 1;
                rest /= 3;
                if (signs[a] != 0) size++;
            }
            var support = Enumerable.Range(0, atoms).Where(a => signs[a] != 0).ToArray();
            var h = new double[atoms];
            if (size > 0)
            {
                var g = new double[size, size];
                var rhs = new double[size];
                for (int i = 0; i < size; i++)
                {
                    for (int j = 0; j < size; j++)
                        for (int f = 0; f < features; f++) g[i, j] += (double)dictionary[support[i] * features + f] * dictionary[support[j] * features + f];
                    for (int f = 0; f < features; f++) rhs[i] += (double)dictionary[support[i] * features + f] * x[f];
                    rhs[i] -= lambda * signs[support[i]];
                }
                var solution = Solve(g, rhs);
                if (solution is null) continue;
                bool consistent = true;
                for (int i = 0; i < size; i++)
                {
                    if (Math.Sign(solution[i]) != signs[support[i]]) consistent = false;
                    h[support[i]] = solution[i];
                }
                if (!consistent) continue;
            }
            double objective = Objective(dictionary, atoms, features, x, h, lambda);
            if (objective < best)
            {
                best = objective;
                bestCodes = h;
            }
        }
        return bestCodes;
    }

    internal static double Objective(float[] dictionary, int atoms, int features, ReadOnlySpan<float> x, IReadOnlyList<double> h, double lambda)
    {
        double squares = 0, l1 = 0;
        for (int f = 0; f < features; f++)
        {
            double r = x[f];
            for (int a = 0; a < atoms; a++) r -= h[a] * dictionary[a * features + f];
            squares += r * r;
        }
        for (int a = 0; a < atoms; a++) l1 += Math.Abs(h[a]);
        return 0.5 * squares + lambda * l1;
    }

    private static double[]? Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c])) pivot = r;
            if (Math.Abs(m[pivot, c]) < 1e-10) return null;
            for (int k = 0; k < n; k++) (m[c, k], m[pivot, k]) = (m[pivot, k], m[c, k]);
            (x[c], x[pivot]) = (x[pivot], x[c]);
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double factor = m[r, c] / m[c, c];
                for (int k = c; k < n; k++) m[r, k] -= factor * m[c, k];
                x[r] -= factor * x[c];
            }
        }
        for (int c = 0; c < n; c++) x[c] /= m[c, c];
        return x;
    }

    [Theory]
    [InlineData(6, 4, 0.05, FistaForm.Gram)]
    [InlineData(6, 4, 0.05, FistaForm.Factored)]
    [InlineData(7, 5, 0.2, FistaForm.Gram)]
    [InlineData(7, 5, 0.2, FistaForm.Factored)]
    [InlineData(5, 8, 0.1, FistaForm.Gram)]
    [InlineData(5, 8, 0.1, FistaForm.Factored)]
    [InlineData(9, 3, 0.1, FistaForm.Auto)]
    public void Codes_equal_the_exact_lasso_solution(int atoms, int features, double lambda, FistaForm form)
    {
        var random = new System.Random(atoms * 31 + features);
        var dictionary = RandomDictionary(random, atoms, features);
        const int rows = 12;
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        var codes = FistaEncoder.Encode(Cpu, x, features, tensor, new FistaOptions { Lambda = (float)lambda, Tolerance = 0, MaxIterations = 20000, BlockRows = 5, Form = form });
        int nonZeros = 0, zeros = 0;
        for (int r = 0; r < rows; r++)
        {
            var exact = ExactLasso(dictionary, atoms, features, x.AsSpan(r * features, features), lambda);
            for (int a = 0; a < atoms; a++)
            {
                float got = codes.Codes[r * atoms + a];
                Assert.True(Math.Abs(got - exact[a]) <= 1e-4, $"row {r} atom {a}: FISTA {got}, exact {exact[a]}");
                if (exact[a] == 0) zeros++;
                else nonZeros++;
            }
        }
        // The problems exercise both sides of the threshold.
        Assert.True(zeros > 0 && nonZeros > 0, $"{zeros} zero and {nonZeros} non-zero exact codes");
    }

    [Theory]
    [InlineData(FistaForm.Gram)]
    [InlineData(FistaForm.Factored)]
    public void No_row_objective_rises_from_one_iteration_to_the_next(FistaForm form)
    {
        var random = new System.Random(5);
        const int atoms = 48, features = 16, rows = 64;
        const float lambda = 0.05f;
        var dictionary = RandomDictionary(random, atoms, features);
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        // Each row's objective, recomputed in double from the codes after 1, 2, ... iterations: an independent view of every step.
        double[] Objectives(int iterations)
        {
            var codes = FistaEncoder.Encode(Cpu, x, features, tensor, new FistaOptions { Lambda = lambda, Tolerance = 0, MaxIterations = iterations, Form = form }).Codes;
            return [.. Enumerable.Range(0, rows).Select(r => Objective(dictionary, atoms, features, x.AsSpan(r * features, features),
                codes.AsSpan(r * atoms, atoms).ToArray().Select(v => (double)v).ToArray(), lambda))];
        }
        var before = Enumerable.Range(0, rows).Select(r => 0.5 * x.AsSpan(r * features, features).ToArray().Sum(v => (double)v * v)).ToArray();
        var start = (double[])before.Clone();
        bool restarted = false;
        for (int iterations = 1; iterations <= 80; iterations++)
        {
            var after = Objectives(iterations);
            for (int r = 0; r < rows; r++)
            {
                // The acceptance tolerates the rounding of its single-precision sums, a millionth of their size (about half the squared norm).
                Assert.True(after[r] <= before[r] + 2e-6 * start[r], $"row {r}, iteration {iterations}: {before[r]:G9} -> {after[r]:G9}");
                if (after[r] == before[r] && iterations > 1) restarted = true;
            }
            before = after;
        }
        for (int r = 0; r < rows; r++) Assert.True(before[r] < 0.9 * start[r], $"row {r}: {start[r]} -> {before[r]}");
        // Plain FISTA overshoots on this problem: some row's candidate was refused and the row restarted, unchanged for a step.
        Assert.True(restarted, "no row ever restarted");
    }

    [Fact]
    public void A_restart_does_not_stop_a_single_row_short_of_the_solution()
    {
        var random = new System.Random(11);
        const int atoms = 7, features = 5;
        var dictionary = RandomDictionary(random, atoms, features);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        for (int trial = 0; trial < 20; trial++)
        {
            var x = Enumerable.Range(0, features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var exact = ExactLasso(dictionary, atoms, features, x, 0.05);
            double best = Objective(dictionary, atoms, features, x, exact, 0.05);
            var codes = FistaEncoder.Encode(Cpu, x, features, tensor, new FistaOptions { Lambda = 0.05f, Tolerance = 1e-5 });
            Assert.True(codes.MeanObjective <= best * (1 + 1e-3) + 1e-6, $"trial {trial}: FISTA {codes.MeanObjective:G8}, exact {best:G8}, {codes.Iterations} iterations");
        }
    }

    [Fact]
    public void The_gram_and_the_factored_form_reach_the_same_objective_row_by_row()
    {
        var random = new System.Random(13);
        const int atoms = 64, features = 16, rows = 300;
        var dictionary = RandomDictionary(random, atoms, features);
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        var options = new FistaOptions { Lambda = 0.1f, Tolerance = 0, MaxIterations = 3000, BlockRows = 128 };
        var gram = FistaEncoder.Encode(Cpu, x, features, tensor, options with { Form = FistaForm.Gram });
        var factored = FistaEncoder.Encode(Cpu, x, features, tensor, options with { Form = FistaForm.Factored });
        // Four atoms per feature leave the lasso nearly flat along some directions, so the codes may differ where the objectives cannot:
        // each row's objective (in double, from its codes) agrees.
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * features, features);
            double a = Objective(dictionary, atoms, features, row, gram.Codes.AsSpan(r * atoms, atoms).ToArray().Select(v => (double)v).ToArray(), 0.1);
            double b = Objective(dictionary, atoms, features, row, factored.Codes.AsSpan(r * atoms, atoms).ToArray().Select(v => (double)v).ToArray(), 0.1);
            Assert.True(Math.Abs(a - b) < 2e-6 * a, $"row {r}: Gram {a:G9}, factored {b:G9}");
        }
        // Auto takes the factored form for 4x as many atoms as features, and gives its very codes.
        Assert.Equal(factored.Codes, FistaEncoder.Encode(Cpu, x, features, tensor, options).Codes);
    }

    [Fact]
    public void A_warm_start_at_the_solution_stays_there()
    {
        var random = new System.Random(9);
        const int atoms = 20, features = 10, rows = 30;
        var dictionary = RandomDictionary(random, atoms, features);
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var tensor = Cpu.Allocate(atoms, features);
        Cpu.Upload(dictionary, tensor);
        var options = new FistaOptions { Lambda = 0.1f, Tolerance = 1e-7, MaxIterations = 5000 };
        var cold = FistaEncoder.Encode(Cpu, x, features, tensor, options);
        var warm = FistaEncoder.Encode(Cpu, x, features, tensor, options, cold.Codes);
        Assert.True(warm.Iterations < cold.Iterations / 4, $"warm {warm.Iterations} vs cold {cold.Iterations} iterations");
        Assert.True(Math.Abs(warm.MeanObjective - cold.MeanObjective) < 1e-6, $"{warm.MeanObjective} vs {cold.MeanObjective}");
    }

    [Fact]
    public void The_step_comes_from_the_largest_eigenvalue_of_the_gram_matrix()
    {
        // Orthonormal atoms: D Dᵀ = I. The same atoms twice: every eigenvalue doubles.
        var identity = new float[16];
        for (int i = 0; i < 4; i++) identity[i * 4 + i] = 1f;
        Assert.Equal(1.0, FistaEncoder.LipschitzConstant(identity, 4, 4), 10);
        var doubled = identity.Concat(identity).ToArray();
        Assert.Equal(2.0, FistaEncoder.LipschitzConstant(doubled, 8, 4), 10);
        // Random dictionaries with more and with fewer atoms than features (the two branches): the largest eigenvalue of D Dᵀ by
        // power iteration in double.
        var random = new System.Random(2);
        foreach (var (atoms, features) in new[] { (3, 7), (12, 5) })
        {
            var d = RandomDictionary(random, atoms, features);
            var v = Enumerable.Repeat(1.0, atoms).ToArray();
            double lambda = 0;
            for (int iteration = 0; iteration < 2000; iteration++)
            {
                var u = new double[features];
                for (int a = 0; a < atoms; a++) for (int f = 0; f < features; f++) u[f] += v[a] * d[a * features + f];
                var w = new double[atoms];
                for (int a = 0; a < atoms; a++) for (int f = 0; f < features; f++) w[a] += u[f] * d[a * features + f];
                lambda = Math.Sqrt(w.Sum(z => z * z));
                v = [.. w.Select(z => z / lambda)];
            }
            Assert.Equal(lambda, FistaEncoder.LipschitzConstant(d, atoms, features), 6);
        }
    }

    [Fact]
    public void Bad_input_is_refused_with_what_was_expected()
    {
        var tensor = Cpu.Allocate(4, 3);
        var x = new float[6];
        var e = Assert.Throws<ArgumentException>(() => FistaEncoder.Encode(Cpu, x, 3, tensor, new FistaOptions { Lambda = 0f }));
        Assert.Contains("lambda must be a positive number, got 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => FistaEncoder.Encode(Cpu, x, 3, tensor, new FistaOptions { Lambda = -1f }));
        Assert.Contains("lambda", e.Message);
        e = Assert.Throws<ArgumentException>(() => FistaEncoder.Encode(Cpu, new float[8], 4, tensor, new FistaOptions()));
        Assert.Contains("atoms have 3 values but the rows have 4", e.Message);
        x[4] = float.NaN;
        e = Assert.Throws<ArgumentException>(() => FistaEncoder.Encode(Cpu, x, 3, tensor, new FistaOptions()));
        Assert.Contains("Row 1 value 1 is NaN", e.Message);
        e = Assert.Throws<ArgumentException>(() => FistaEncoder.Encode(Cpu, new float[6], 3, tensor, new FistaOptions(), new float[5]));
        Assert.Contains("warm start has 5 values, not 2 rows x 4 atoms", e.Message);
    }
}
