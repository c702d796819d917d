namespace Shinso.Tests;

/// <summary>
/// Central finite differences of float32 objectives, for the objectives that have no double-precision twin (the tiled TICA
/// pooled objective); layers and losses are checked against their twins in <c>Gradients/</c>.
/// </summary>
internal static class FiniteDifference
{
    /// <summary>
    /// (f(x + eps) - f(x - eps)) / step at element <paramref name="i"/>, where step is the actual distance
    /// between the two float arguments after rounding, so the quotient is exact in the step taken.
    /// </summary>
    public static double Central(Span<float> values, int i, double epsilon, Func<double> objective)
    {
        float saved = values[i];
        values[i] = (float)(saved + epsilon);
        double plus = objective();
        values[i] = (float)(saved - epsilon);
        double minus = objective();
        values[i] = saved;
        double step = (double)(float)(saved + epsilon) - (float)(saved - epsilon);
        return (plus - minus) / step;
    }

    /// <summary>
    /// Asserts |numeric - analytic| &lt;= absolute + 1e-2 * max(|numeric|, |analytic|): float32 forward passes with a
    /// 1e-2 step carry truncation error ~eps^2 and rounding ~1e-7/eps.
    /// </summary>
    public static void AssertClose(double numeric, double analytic, string what, double absolute)
    {
        double tolerance = absolute + 1e-2 * Math.Max(Math.Abs(numeric), Math.Abs(analytic));
        Assert.True(Math.Abs(numeric - analytic) <= tolerance,
            $"{what}: finite difference {numeric:G6} vs analytic {analytic:G6} (tolerance {tolerance:G3})");
    }
}
