using Shinso.Numerics;

namespace Shinso.Tests.Robustness;

public class GaussianOrthantTests
{
    [Theory]
    [InlineData(-0.95)]
    [InlineData(-0.5)]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.8)]
    [InlineData(0.99)]
    public void Two_centred_variables_give_Sheppards_formula(double rho)
    {
        // P(X > 0, Y > 0) = 1/4 + asin(ρ) / (2π) for centred unit normals of correlation ρ.
        double p = GaussianOrthant.Probability([0, 0], [2, 2 * rho, 2 * rho, 2]);
        Assert.Equal(0.25 + Math.Asin(rho) / (2 * Math.PI), p, 1e-4);
    }

    [Fact]
    public void Three_centred_variables_give_the_trivariate_closed_form()
    {
        // P(all > 0) = 1/8 + (asin ρ12 + asin ρ13 + asin ρ23) / (4π).
        double r12 = 0.4, r13 = -0.2, r23 = 0.55;
        double p = GaussianOrthant.Probability([0, 0, 0], [1, r12, r13, r12, 1, r23, r13, r23, 1]);
        Assert.Equal(0.125 + (Math.Asin(r12) + Math.Asin(r13) + Math.Asin(r23)) / (4 * Math.PI), p, 1e-4);
    }

    [Fact]
    public void Independent_variables_give_the_product_of_their_tails()
    {
        double[] mean = [0.3, -0.2, 1.5, 0.9, 2.5, 0.1, -0.7, 1.1, 3.0];
        double[] sd = [1, 0.5, 2, 0.7, 1.3, 0.2, 1.9, 0.4, 1];
        var covariance = new double[81];
        double expected = 1;
        for (int i = 0; i < 9; i++)
        {
            covariance[i * 9 + i] = sd[i] * sd[i];
            expected *= NormalDistribution.Cdf(mean[i] / sd[i]);
        }
        // Independent variables leave nothing to integrate: each factor is exact whatever the lattice (to the inner loop's float-grade Φ).
        Assert.Equal(expected, GaussianOrthant.Probability(mean, covariance), 1e-6);
    }

    [Fact]
    public void Nine_correlated_shifted_variables_agree_with_direct_sampling()
    {
        // A covariance like a 10-class net's margins: G_kl = g_t·g_t - g_t·g_k - g_t·g_l + g_k·g_l from random gradients.
        const int m = 9, d = 30;
        var random = new System.Random(11);
        var g = new double[(m + 1) * d];
        for (int i = 0; i < g.Length; i++) g[i] = random.NextDouble() * 2 - 1;
        var rows = new double[m * d];
        for (int k = 0; k < m; k++)
            for (int j = 0; j < d; j++) rows[k * d + j] = g[j] - g[(k + 1) * d + j];
        var covariance = new double[m * m];
        for (int k = 0; k < m; k++)
            for (int l = 0; l < m; l++)
                for (int j = 0; j < d; j++) covariance[k * m + l] += rows[k * d + j] * rows[l * d + j];
        double[] mean = [5.0, 3.5, 7.0, 4.0, 6.5, 8.0, 5.5, 9.0, 4.5];
        double p = GaussianOrthant.Probability(mean, covariance);

        // X = mean + rows · z with z ~ N(0, I_d): the same law, sampled.
        const int samples = 400_000;
        int inside = 0;
        var z = new double[d];
        for (int s = 0; s < samples; s++)
        {
            for (int j = 0; j < d; j++) z[j] = Gaussian(random);
            bool all = true;
            for (int k = 0; k < m && all; k++)
            {
                double x = mean[k];
                for (int j = 0; j < d; j++) x += rows[k * d + j] * z[j];
                all = x > 0;
            }
            if (all) inside++;
        }
        double sampled = (double)inside / samples;
        double standardError = Math.Sqrt(sampled * (1 - sampled) / samples);
        Assert.InRange(sampled, 0.2, 0.8);   // a probability the test can resolve, not 0 or 1
        Assert.True(Math.Abs(p - sampled) <= 4 * standardError + 2e-4, $"Genz {p:F5} vs sampled {sampled:F5} ± {standardError:F5}");
    }

    [Fact]
    public void A_singular_covariance_is_the_deterministic_relation_it_encodes()
    {
        // X2 = X1: P(both > 0) = P(X1 > 0). X2 = -X1 (centred): never both positive.
        Assert.Equal(NormalDistribution.Cdf(0.5), GaussianOrthant.Probability([0.5, 0.5], [1, 1, 1, 1]), 1e-6);
        Assert.Equal(0, GaussianOrthant.Probability([0, 0], [1, -1, -1, 1]), 1e-12);
        // A zero-variance component is its mean: positive passes, non-positive fails.
        Assert.Equal(NormalDistribution.Cdf(1), GaussianOrthant.Probability([1, 2], [1, 0, 0, 0]), 1e-6);
        Assert.Equal(0, GaussianOrthant.Probability([1, -2], [1, 0, 0, 0]));
        Assert.Equal(1, GaussianOrthant.Probability([], []));
    }

    [Fact]
    public void Bad_arguments_are_refused_with_what_was_expected()
    {
        Assert.Contains("4 entries", Assert.Throws<ArgumentException>(() => GaussianOrthant.Probability([0, 0], [1, 0, 0])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => GaussianOrthant.Probability([0, 0], [1, 0, 0, -1])).Message);
        Assert.Contains("not finite", Assert.Throws<ArgumentException>(() => GaussianOrthant.Probability([double.NaN], [1])).Message);
        Assert.Contains("At most", Assert.Throws<ArgumentException>(() => GaussianOrthant.Probability(new double[18], new double[18 * 18])).Message);
    }

    private static double Gaussian(System.Random random)
    {
        double u = 1 - random.NextDouble(), v = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }
    [Fact]
    public void An_adaptive_integral_stops_within_its_tolerance_of_the_full_lattice()
    {
        // Random 2- to 9-variable problems with correlated margins, shifted so that the probabilities spread over (0, 1).
        var random = new System.Random(5);
        int stoppedEarly = 0;
        double adaptiveError = 0, fixedError = 0;
        for (int trial = 0; trial < 600; trial++)
        {
            int m = 2 + trial % 8, d = 12;
            var rows = new double[m * d];
            for (int i = 0; i < rows.Length; i++) rows[i] = random.NextDouble() * 2 - 1;
            var covariance = new double[m * m];
            for (int k = 0; k < m; k++)
                for (int l = 0; l < m; l++)
                    for (int j = 0; j < d; j++) covariance[k * m + l] += rows[k * d + j] * rows[l * d + j];
            var mean = new double[m];
            // Margins of half a deviation to four: from integrands the lattice needs all of to ones it settles on early.
            for (int k = 0; k < m; k++) mean[k] = (0.5 + random.NextDouble() * 3.5) * Math.Sqrt(covariance[k * m + k]);
            double adaptive = GaussianOrthant.Probability(mean, covariance, 512, tolerance: 1e-5);
            double fixedLattice = GaussianOrthant.Probability(mean, covariance, 512);
            double reference = GaussianOrthant.Probability(mean, covariance, 8192);
            if (adaptive != fixedLattice) stoppedEarly++;
            // Stopping early moves the answer by far less than the lattice's own error (1.2e-4 at worst here, 2e-3 for the lattice).
            Assert.True(Math.Abs(adaptive - fixedLattice) <= 2e-4, $"{m} variables: adaptive {adaptive:R}, all 512 points {fixedLattice:R}");
            adaptiveError += Math.Abs(adaptive - reference);
            fixedError += Math.Abs(fixedLattice - reference);
        }
        Assert.True(stoppedEarly >= 20, $"only {stoppedEarly} of 600 integrals stopped early: the test checks little");
        // On average it is as accurate as the whole lattice (1.728e-4 against 1.725e-4 from 8192 points here).
        Assert.True(adaptiveError <= 1.05 * fixedError, $"mean error {adaptiveError / 600:R} stopping early, {fixedError / 600:R} with all 512 points");
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianOrthant.Probability([1, 1], [1, 0.5, 0.5, 1], 512, tolerance: -1e-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianOrthant.Probability([1, 1], [1, 0.5, 0.5, 1], 512, tolerance: double.NaN));
    }

    [Fact]
    public void The_four_lane_lattice_loop_gives_the_scalar_loops_integral()
    {
        // Point counts that are and are not multiples of the four lanes, with the early stop on and off, up to 9 variables.
        var random = new System.Random(8);
        foreach (int points in new[] { 3, 64, 509, 512 })
            for (int m = 2; m <= 9; m++)
            {
                var rows = new double[m * 10];
                for (int i = 0; i < rows.Length; i++) rows[i] = random.NextDouble() * 2 - 1;
                var covariance = new double[m * m];
                for (int k = 0; k < m; k++)
                    for (int l = 0; l < m; l++)
                        for (int j = 0; j < 10; j++) covariance[k * m + l] += rows[k * 10 + j] * rows[l * 10 + j];
                var mean = new double[m];
                for (int k = 0; k < m; k++) mean[k] = random.NextDouble() * 1.5 * Math.Sqrt(covariance[k * m + k]);
                foreach (double tolerance in new[] { 0, 1e-5 })
                {
                    double lanes = GaussianOrthant.Probability(mean, covariance, points, tolerance, vectorized: true);
                    double scalar = GaussianOrthant.Probability(mean, covariance, points, tolerance, vectorized: false);
                    Assert.True(Math.Abs(lanes - scalar) <= 1e-12, $"{m} variables, {points} points, tolerance {tolerance}: lanes {lanes:R}, scalar {scalar:R}");
                }
            }
    }
}
