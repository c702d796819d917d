namespace Shinso.Optimizers;

/// <summary>
/// A low-dimensional function on which an optimizer's behaviour can be seen in isolation, after Schaul, Antonoglou &amp; Silver's
/// "Unit tests for stochastic optimization" (ICLR 2014): each one is a prototype of a landscape feature that real losses have
/// (an ill-conditioned bowl, a cliff, a plateau, a saddle point), with its starting point and its minimum value.
/// </summary>
public abstract class OptimizerTestFunction
{
    /// <summary>The short name (<c>bowl</c>, <c>cliff</c>, <c>plateau</c>, <c>saddle</c>).</summary>
    public abstract string Name { get; }

    /// <summary>What the function is, in a sentence with its formula.</summary>
    public abstract string Description { get; }

    /// <summary>The point every run starts from; its length is the function's dimension.</summary>
    public abstract double[] Start { get; }

    /// <summary>The function's smallest value (runs report <c>f(x) - Minimum</c>).</summary>
    public virtual double Minimum => 0;

    /// <summary>The function at <paramref name="x"/>.</summary>
    public abstract double Value(ReadOnlySpan<double> x);

    /// <summary>Writes the gradient at <paramref name="x"/> to <paramref name="gradient"/> (a one-sided derivative at a kink).</summary>
    public abstract void Gradient(ReadOnlySpan<double> x, Span<double> gradient);

    /// <summary>The four prototypes: bowl, cliff, plateau, saddle.</summary>
    public static IReadOnlyList<OptimizerTestFunction> All { get; } = [new Bowl(), new Cliff(), new Plateau(), new Saddle()];

    /// <summary>
    /// An ill-conditioned quadratic bowl, <c>(2 x^2 + 30 y^2) / 2</c> from (2, 2): curvatures 2 and 30, so that plain gradient
    /// descent's decade of step sizes holds no Newton step for the steep axis, which would land on the minimum in one step.
    /// </summary>
    private sealed class Bowl : OptimizerTestFunction
    {
        private const double Flat = 2, Steep = 30;

        public override string Name => "bowl";

        public override string Description => "(2 x^2 + 30 y^2) / 2 from (2, 2): a quadratic bowl with curvatures 2 and 30";

        public override double[] Start => [2, 2];

        public override double Value(ReadOnlySpan<double> x) => 0.5 * (Flat * x[0] * x[0] + Steep * x[1] * x[1]);

        public override void Gradient(ReadOnlySpan<double> x, Span<double> gradient)
        {
            gradient[0] = Flat * x[0];
            gradient[1] = Steep * x[1];
        }
    }

    /// <summary>
    /// A cliff: <c>3 x^2 / 2</c> for <c>x &lt;= 1</c> and <c>3/2 + 100 (x - 1)</c> beyond, from 1.5: the slope jumps from 3 to 100 at
    /// the edge, so a step size fit for the basin throws the point far past it from the cliff's face.
    /// </summary>
    private sealed class Cliff : OptimizerTestFunction
    {
        private const double Edge = 1, Curvature = 3, Steepness = 100;

        public override string Name => "cliff";

        public override string Description => "3 x^2 / 2 for x <= 1 and 3/2 + 100 (x - 1) beyond, from 1.5: a quadratic basin behind a cliff whose slope is 100";

        public override double[] Start => [1.5];

        public override double Value(ReadOnlySpan<double> x) => x[0] <= Edge ? 0.5 * Curvature * x[0] * x[0] : 0.5 * Curvature * Edge * Edge + Steepness * (x[0] - Edge);

        public override void Gradient(ReadOnlySpan<double> x, Span<double> gradient) => gradient[0] = x[0] <= Edge ? Curvature * x[0] : Steepness;
    }

    /// <summary>A plateau: the inverted Gaussian <c>1 - exp(-(x^2 + y^2) / 2)</c> from (4, 1), where the gradient is about 1e-3.</summary>
    private sealed class Plateau : OptimizerTestFunction
    {
        public override string Name => "plateau";

        public override string Description => "1 - exp(-(x^2 + y^2) / 2) from (4, 1): an inverted Gaussian whose gradient at the start is about 1e-3";

        public override double[] Start => [4, 1];

        public override double Value(ReadOnlySpan<double> x) => 1 - Math.Exp(-0.5 * (x[0] * x[0] + x[1] * x[1]));

        public override void Gradient(ReadOnlySpan<double> x, Span<double> gradient)
        {
            double bump = Math.Exp(-0.5 * (x[0] * x[0] + x[1] * x[1]));
            gradient[0] = x[0] * bump;
            gradient[1] = x[1] * bump;
        }
    }

    /// <summary>
    /// A saddle point: <c>x^2 / 2 - y^2 / 2 + y^4 / 16 + 1</c> from (1, 0.001), next to the saddle at the origin (value 1); the
    /// minima are (0, +-2) with value 0, and a first-order method leaves the saddle only as fast as the tiny y grows.
    /// </summary>
    private sealed class Saddle : OptimizerTestFunction
    {
        public override string Name => "saddle";

        public override string Description => "x^2 / 2 - y^2 / 2 + y^4 / 16 + 1 from (1, 0.001): a saddle at the origin between minima at (0, +-2)";

        public override double[] Start => [1, 1e-3];

        public override double Value(ReadOnlySpan<double> x)
        {
            double y2 = x[1] * x[1];
            return 0.5 * x[0] * x[0] - 0.5 * y2 + y2 * y2 / 16 + 1;
        }

        public override void Gradient(ReadOnlySpan<double> x, Span<double> gradient)
        {
            gradient[0] = x[0];
            gradient[1] = -x[1] + 0.25 * x[1] * x[1] * x[1];
        }
    }
}
