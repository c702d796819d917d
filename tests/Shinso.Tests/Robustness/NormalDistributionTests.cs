using Shinso.Numerics;

namespace Shinso.Tests.Robustness;

public class NormalDistributionTests
{
    /// <summary>Φ at points whose values mpmath gives to 20 digits (<c>mpmath.mp.dps = 30; mpmath.ncdf(z)</c>).</summary>
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.0, 0.15865525393145705141)]
    [InlineData(1.5, 0.933192798731141934)]
    [InlineData(-1.2, 0.11506967022170827665)]   // where the series hands over to the continued fraction
    [InlineData(-2.8284271247461903, 0.002338867490523632919)]
    [InlineData(-3.0, 0.0013498980316300945267)]
    [InlineData(-6.0, 9.865876450376981407e-10)]
    [InlineData(-10.0, 7.619853024160526066e-24)]
    [InlineData(-20.0, 2.7536241186062336951e-89)]
    public void Cdf_matches_tabulated_values_to_full_precision_in_both_tails(double z, double expected)
    {
        Assert.True(Math.Abs(NormalDistribution.Cdf(z) - expected) <= 2e-14 * expected, $"Φ({z}) = {NormalDistribution.Cdf(z):R}, expected {expected:R}");
        // The upper side: 1 - Φ(-z) equals Φ(z) up to the rounding of numbers near 1.
        Assert.True(Math.Abs(1 - NormalDistribution.Cdf(-z) - expected) <= Math.Max(2e-14 * expected, 2.3e-16), $"1 - Φ({-z}) = {1 - NormalDistribution.Cdf(-z):R}");
    }

    [Fact]
    public void InverseCdf_inverts_Cdf_from_the_far_tail_to_one_half()
    {
        for (double logP = -300; logP <= Math.Log10(0.5); logP += 0.37)
        {
            double p = Math.Pow(10, logP);
            double z = NormalDistribution.InverseCdf(p);
            // Φ's condition number at z is about z², so this is as close as double precision allows.
            Assert.True(Math.Abs(NormalDistribution.Cdf(z) - p) <= 4e-16 * (1 + z * z) * p, $"Φ(Φ⁻¹({p:R})) = {NormalDistribution.Cdf(z):R}");
            // 1 - p rounds to a multiple of 2^-53, so the mirrored quantile is good to that share of the tail only.
            if (p > 1e-8) Assert.Equal(-z, NormalDistribution.InverseCdf(1 - p), 1e-6);
        }
        Assert.Equal(double.NegativeInfinity, NormalDistribution.InverseCdf(0));
        Assert.Equal(double.PositiveInfinity, NormalDistribution.InverseCdf(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.InverseCdf(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.InverseCdf(double.NaN));
    }

    [Fact]
    public void The_fast_forms_are_within_float_precision_of_the_exact_ones()
    {
        for (double z = -30; z <= 8; z += 0.0137)
        {
            double exact = NormalDistribution.Cdf(z), fast = NormalDistribution.FastCdf(z);
            Assert.True(Math.Abs(fast - exact) <= 1.5e-7 * exact, $"FastCdf({z}) = {fast:R}, Φ = {exact:R}");
        }
        for (double logP = -250; logP < -0.31; logP += 0.11)
        {
            double p = Math.Pow(10, logP);
            double z = NormalDistribution.FastInverseCdf(p);
            Assert.True(Math.Abs(NormalDistribution.Cdf(z) - p) <= 5e-7 * p, $"Φ(FastInverseCdf({p:R})) = {NormalDistribution.Cdf(z):R}");
            double q = 1 - p / 2;
            if (p > 1e-12) Assert.True(Math.Abs(NormalDistribution.InverseCdf(q) - NormalDistribution.FastInverseCdf(q)) <= 1e-5, $"FastInverseCdf({q:R})");
        }
    }
    [Fact]
    public void The_four_lane_fast_forms_give_the_scalar_ones_lane_by_lane()
    {
        var values = new List<double>();
        for (double z = -30; z <= 8; z += 0.0137) values.Add(z);
        for (int i = 0; i + 4 <= values.Count; i += 4)
        {
            var lanes = NormalDistribution.FastCdf(System.Runtime.Intrinsics.Vector256.Create(values[i], values[i + 1], values[i + 2], values[i + 3]));
            for (int k = 0; k < 4; k++)
            {
                double scalar = NormalDistribution.FastCdf(values[i + k]);
                // Only the vector exp may round differently from Math.Exp, by an ulp or so.
                Assert.True(Math.Abs(lanes[k] - scalar) <= 1e-14 * scalar, $"FastCdf({values[i + k]:R}): lane {lanes[k]:R}, scalar {scalar:R}");
            }
        }
        var probabilities = new List<double>();
        for (double logP = -250; logP < -0.31; logP += 0.11) probabilities.Add(Math.Pow(10, logP));
        probabilities.AddRange([0.3, 0.5, 0.7, 1 - 1e-9, 1 - 1e-16]);
        while (probabilities.Count % 4 != 0) probabilities.Add(0.5);
        for (int i = 0; i < probabilities.Count; i += 4)
        {
            var lanes = NormalDistribution.FastInverseCdf(System.Runtime.Intrinsics.Vector256.Create(probabilities[i], probabilities[i + 1], probabilities[i + 2], probabilities[i + 3]));
            for (int k = 0; k < 4; k++)
            {
                double scalar = NormalDistribution.FastInverseCdf(probabilities[i + k]);
                Assert.True(Math.Abs(lanes[k] - scalar) <= 1e-12 * Math.Max(1, Math.Abs(scalar)), $"FastInverseCdf({probabilities[i + k]:R}): lane {lanes[k]:R}, scalar {scalar:R}");
            }
        }
    }
}
