using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Optimizers;
using Shinso.Random;

namespace Shinso.Tests.Optimizers;

/// <summary>
/// The optimizer unit-test functions (bowl, cliff, plateau, saddle): analytic gradients against central differences at random
/// points, their minima and starting points, and <see cref="OptimizerTestRun"/> against plain gradient descent's closed form.
/// </summary>
public class OptimizerTestFunctionTests
{
    private static readonly CpuBackend Cpu = new(new CpuKernelOptions(SimdPath.Auto, 1));

    private static OptimizerTestFunction Function(string name) => OptimizerTestFunction.All.Single(f => f.Name == name);

    [Fact]
    public void Every_gradient_matches_central_differences_at_random_points()
    {
        var points = from index in Gen.Choose(0, OptimizerTestFunction.All.Count - 1)
                     from a in Gen.Choose(-3000, 5000)
                     from b in Gen.Choose(-3000, 5000)
                     select (Index: index, X: a / 1000.0, Y: b / 1000.0);
        PropertyCheck.ForAll(points, p =>
        {
            var f = OptimizerTestFunction.All[p.Index];
            var x = new[] { p.X, p.Y }.AsSpan(0, f.Start.Length).ToArray();
            // The cliff's slope jumps at its edge: differences straddling it measure neither side.
            if (f.Name == "cliff" && Math.Abs(x[0] - 1) < 1e-3) return;
            var gradient = new double[x.Length];
            f.Gradient(x, gradient);
            const double h = 1e-5;
            for (int i = 0; i < x.Length; i++)
            {
                var up = (double[])x.Clone();
                var down = (double[])x.Clone();
                up[i] += h;
                down[i] -= h;
                double difference = (f.Value(up) - f.Value(down)) / (2 * h);
                Assert.True(Math.Abs(difference - gradient[i]) <= 1e-6 * (1 + Math.Abs(gradient[i])),
                    $"{f.Name} at ({string.Join(", ", x)}): d/dx{i} analytic {gradient[i]:R}, central difference {difference:R}");
            }
        }, maxTests: 400);
    }

    [Theory]
    [InlineData("bowl", new[] { 0.0, 0.0 })]
    [InlineData("cliff", new[] { 0.0 })]
    [InlineData("plateau", new[] { 0.0, 0.0 })]
    [InlineData("saddle", new[] { 0.0, 2.0 })]
    [InlineData("saddle", new[] { 0.0, -2.0 })]
    public void The_minimum_is_reached_at_the_minimiser_with_a_zero_gradient_and_the_start_lies_above_it(string name, double[] minimiser)
    {
        var f = Function(name);
        Assert.Equal(f.Minimum, f.Value(minimiser), 12);
        var gradient = new double[minimiser.Length];
        f.Gradient(minimiser, gradient);
        Assert.All(gradient, g => Assert.Equal(0, g, 12));
        Assert.Equal(minimiser.Length, f.Start.Length);
        Assert.True(f.Value(f.Start) - f.Minimum > 0.1, $"{name} starts {f.Value(f.Start) - f.Minimum} above its minimum");
    }

    [Fact]
    public void The_saddle_is_a_stationary_point_above_the_minima_and_the_plateau_start_has_a_tiny_gradient()
    {
        var saddle = Function("saddle");
        var gradient = new double[2];
        saddle.Gradient([0, 0], gradient);
        Assert.Equal([0.0, 0.0], gradient);
        Assert.Equal(1, saddle.Value([0, 0]), 12);

        var plateau = Function("plateau");
        plateau.Gradient(plateau.Start, gradient);
        double norm = Math.Sqrt(gradient[0] * gradient[0] + gradient[1] * gradient[1]);
        Assert.InRange(norm, 1e-4, 1e-2);

        var cliff = Function("cliff");
        var slope = new double[1];
        cliff.Gradient(cliff.Start, slope);
        Assert.Equal(100, slope[0]);
    }

    [Fact]
    public void Sgd_on_the_bowl_follows_gradient_descent_in_closed_form()
    {
        const float lr = 0.02f;
        var bowl = Function("bowl");
        var curve = OptimizerTestRun.Run(Cpu, OptimizerTests.Create("sgd", lr), bowl, 60, 0, RandomStream.Root(1).Derive("unused"));
        Assert.Equal(61, curve.Length);
        double x0 = bowl.Start[0], y0 = bowl.Start[1];
        for (int t = 0; t <= 60; t++)
        {
            double x = x0 * Math.Pow(1 - 2 * lr, t), y = y0 * Math.Pow(1 - 30 * lr, t);
            double expected = 0.5 * (2 * x * x + 30 * y * y);
            // The point moves in float32: 60 steps of rounding stay well inside 1e-4.
            Assert.True(Math.Abs(curve[t] - expected) <= 1e-4 * expected + 1e-12, $"step {t}: {curve[t]:R} against {expected:R}");
        }
    }

    [Fact]
    public void Noisy_runs_repeat_exactly_for_a_stream_and_differ_from_exact_ones()
    {
        var saddle = Function("saddle");
        var stream = RandomStream.Root(7).Derive("gradient-noise");
        var first = OptimizerTestRun.Run(Cpu, OptimizerTests.Create("adam", 0.01f), saddle, 50, 0.1, stream);
        var again = OptimizerTestRun.Run(Cpu, OptimizerTests.Create("adam", 0.01f), saddle, 50, 0.1, stream);
        var exact = OptimizerTestRun.Run(Cpu, OptimizerTests.Create("adam", 0.01f), saddle, 50, 0, stream);
        Assert.Equal(first, again);
        Assert.NotEqual(first[^1], exact[^1]);
        Assert.Equal(first[0], exact[0]);
    }

    [Fact]
    public void A_diverging_run_ends_in_infinities_instead_of_nans()
    {
        // Curvature 30 with step 1: each step multiplies y by -29 until float overflows.
        var curve = OptimizerTestRun.Run(Cpu, OptimizerTests.Create("sgd", 1f), Function("bowl"), 100, 0, RandomStream.Root(1).Derive("unused"));
        Assert.Equal(101, curve.Length);
        Assert.True(double.IsPositiveInfinity(curve[^1]));
        Assert.DoesNotContain(curve, double.IsNaN);
        Assert.True(curve[5] > curve[0]);
    }
}
