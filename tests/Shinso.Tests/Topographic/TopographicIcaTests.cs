using Shinso.Backends;
using Shinso.Models.Topographic;

namespace Shinso.Tests.Topographic;

/// <summary>The pooled TICA and RICA objectives and gradients against a naive double-precision twin, orthonormality, the torus, refusals.</summary>
public sealed class TopographicIcaTests
{
    private static readonly CpuBackend Cpu = new();

    /// <summary>The mean objective in double, straight from its definition.</summary>
    private static double NaiveObjective(double[] w, int side, int neighbourhood, double epsilon, double reconstruction, float[] x, int features)
    {
        int k = side * side, n = x.Length / features, half = neighbourhood / 2;
        double total = 0;
        var z = new double[k];
        for (int r = 0; r < n; r++)
        {
            for (int a = 0; a < k; a++)
            {
                double s = 0;
                for (int f = 0; f < features; f++) s += w[a * features + f] * x[r * features + f];
                z[a] = s;
            }
            for (int row = 0; row < side; row++)
                for (int col = 0; col < side; col++)
                {
                    double energy = 0;
                    for (int dr = -half; dr <= half; dr++)
                        for (int dc = -half; dc <= half; dc++)
                        {
                            double v = z[(row + dr + side) % side * side + (col + dc + side) % side];
                            energy += v * v;
                        }
                    total += Math.Sqrt(epsilon + energy);
                }
            if (reconstruction > 0)
                for (int f = 0; f < features; f++)
                {
                    double back = -x[r * features + f];
                    for (int a = 0; a < k; a++) back += z[a] * w[a * features + f];
                    total += reconstruction * back * back;
                }
        }
        return total / n;
    }

    [Theory]
    [InlineData(3, 3, 0f)]
    [InlineData(4, 3, 0f)]
    [InlineData(4, 3, 2f)]
    [InlineData(3, 1, 0.5f)]
    public void The_objective_and_its_gradient_match_central_differences_of_the_definition(int side, int neighbourhood, float reconstruction)
    {
        var random = new System.Random(side * 10 + neighbourhood);
        const int features = 16, rows = 40;
        const float epsilon = 0.05f;
        int k = side * side;
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var filters = new float[k * features];
        for (int i = 0; i < filters.Length; i++) filters[i] = (float)(random.NextDouble() - 0.5);
        var bank = new TopographicIca(filters, features, side, neighbourhood, epsilon, reconstruction);
        var (objective, gradient) = bank.ObjectiveAndGradient(Cpu, x);
        var w = Array.ConvertAll(filters, v => (double)v);
        double exact = NaiveObjective(w, side, neighbourhood, epsilon, reconstruction, x, features);
        Assert.True(Math.Abs(objective - exact) <= 1e-5 * Math.Abs(exact), $"objective {objective} vs {exact}");
        for (int i = 0; i < w.Length; i++)
        {
            double saved = w[i];
            const double h = 1e-5;
            w[i] = saved + h;
            double plus = NaiveObjective(w, side, neighbourhood, epsilon, reconstruction, x, features);
            w[i] = saved - h;
            double minus = NaiveObjective(w, side, neighbourhood, epsilon, reconstruction, x, features);
            w[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            double error = Math.Abs(numeric - gradient[i]) / (1e-3 + Math.Abs(numeric));
            Assert.True(error < 1e-4, $"filter {i / features} value {i % features}: finite difference {numeric:G8}, analytic {gradient[i]:G8}");
        }
    }

    [Fact]
    public void Symmetric_orthonormalisation_gives_the_identity_gram_matrix_and_keeps_an_orthonormal_bank()
    {
        var random = new System.Random(2);
        const int k = 16, features = 20;
        var w = new float[k * features];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        Assert.True(TopographicIca.Orthonormality(w, k, features) > 0.5);
        TopographicIca.Orthonormalize(w, k, features);
        Assert.True(TopographicIca.Orthonormality(w, k, features) < 1e-6);
        var again = (float[])w.Clone();
        TopographicIca.Orthonormalize(again, k, features);
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(w[i] - again[i]) < 1e-6, $"element {i}: {w[i]} -> {again[i]}");
        var dependent = new float[2 * 3];
        dependent[0] = dependent[3] = 1f;
        Assert.Throws<ArithmeticException>(() => TopographicIca.Orthonormalize(dependent, 2, 3));
    }

    [Fact]
    public void Tica_training_lowers_the_objective_and_keeps_w_wt_the_identity_after_every_step()
    {
        var random = new System.Random(4);
        const int features = 16, rows = 2000;
        // Independent Laplacian sources of unit variance (white already): a random orthonormal start has to find their axes.
        // (A 3 x 3 window on a 3 x 3 torus would pool every filter together, an objective no rotation changes.)
        var x = new float[rows * features];
        for (int r = 0; r < rows; r++)
            for (int f = 0; f < features; f++)
            {
                double u = random.NextDouble() - 0.5;
                x[r * features + f] = (float)(Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)) / Math.Sqrt(2));
            }
        // One batch per epoch: the report after each epoch is the state after each step.
        var options = new TopographicIcaOptions { Side = 4, Neighbourhood = 3, LearningRate = 0.05f, Epochs = 25, BatchRows = rows };
        var (bank, epochs) = TopographicIca.Train(Cpu, x, features, options);
        Assert.Equal(25, epochs.Count);
        foreach (var e in epochs) Assert.True(e.Orthonormality < 1e-5, $"step {e.Epoch}: |W Wᵀ - I| = {e.Orthonormality}");
        Assert.True(epochs[^1].MeanObjective < epochs[0].MeanObjective, $"{epochs[0].MeanObjective} -> {epochs[^1].MeanObjective}");
        Assert.True(TopographicIca.Orthonormality(bank.Filters, 16, features) < 1e-5);
        var (again, _) = TopographicIca.Train(Cpu, x, features, options);
        Assert.Equal(bank.Filters, again.Filters);
    }

    [Fact]
    public void The_neighbourhoods_are_windows_on_a_torus()
    {
        var n = TopographicIca.NeighbourhoodMatrix(4, 3);
        for (int a = 0; a < 16; a++)
        {
            Assert.Equal(9f, n.AsSpan(a * 16, 16).ToArray().Sum());
            for (int b = 0; b < 16; b++) Assert.Equal(n[a * 16 + b], n[b * 16 + a]);
        }
        // Filter 0 (row 0, column 0) pools with its wrapped neighbours: column 3 and row 3.
        Assert.Equal(1f, n[0 * 16 + 3]);
        Assert.Equal(1f, n[0 * 16 + 12]);
        Assert.Equal(1f, n[0 * 16 + 15]);
        Assert.Equal(0f, n[0 * 16 + 2]);
        Assert.Equal(0f, n[0 * 16 + 10]);
    }

    [Fact]
    public void More_filters_than_dimensions_or_an_even_window_are_refused_for_tica()
    {
        var e = Assert.Throws<ArgumentException>(() => TopographicIca.Train(Cpu, new float[100 * 9], 9,
            new TopographicIcaOptions { Side = 4 }));
        Assert.Contains("at most as many filters as the data has (whitened) dimensions: 16 filters (4 x 4) for 9", e.Message);
        Assert.Contains("RICA", e.Message);
        // RICA may be overcomplete.
        var (bank, _) = TopographicIca.Train(Cpu, new float[100 * 9], 9, new TopographicIcaOptions { Side = 4, Reconstruction = 1f, Epochs = 1, LearningRate = 0.01f });
        Assert.Equal(16, bank.FilterCount);
        e = Assert.Throws<ArgumentException>(() => TopographicIca.Train(Cpu, new float[100 * 9], 9, new TopographicIcaOptions { Side = 3, Neighbourhood = 2 }));
        Assert.Contains("the neighbourhood must be odd and at most the side (3), got 2", e.Message);
    }
}
