using Shinso.Backends;
using Shinso.Layers;
using Shinso.Random;

namespace Shinso.Optimizers;

/// <summary>
/// Runs an optimizer on an <see cref="OptimizerTestFunction"/>: the point is a parameter on the backend, its gradient is the
/// function's (plus, for a stochastic test, Gaussian noise from a named stream), and the optimizer's own update rule moves it.
/// </summary>
public static class OptimizerTestRun
{
    /// <summary>
    /// The excess <c>f(x_t) - f*</c> before the first step and after each of <paramref name="steps"/> steps (length steps + 1).
    /// A run whose point leaves the finite numbers stops there and its remaining entries are <see cref="double.PositiveInfinity"/>.
    /// </summary>
    /// <param name="backend">Where the point and the optimizer's state live.</param>
    /// <param name="optimizer">A fresh optimizer (its state is created for this run's parameter).</param>
    /// <param name="function">The test function.</param>
    /// <param name="steps">Updates to run.</param>
    /// <param name="noise">The standard deviation of the noise added to each gradient component (0: the exact gradient).</param>
    /// <param name="stream">The noise's stream: step t draws at counter <c>t * dimension</c>, so every optimizer sees the same noise.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> or <paramref name="noise"/> is negative.</exception>
    public static double[] Run(IBackend backend, Optimizer optimizer, OptimizerTestFunction function, int steps, double noise, RandomStream stream)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (!(noise >= 0)) throw new ArgumentOutOfRangeException(nameof(noise), $"The noise's standard deviation must be >= 0, got {noise}.");
        var start = function.Start;
        int d = start.Length;
        var point = new Parameter("x", backend.Allocate(d), ParameterRole.Weight);
        var parameters = new[] { point };
        var noiseTensor = backend.Allocate(d);
        var x = new float[d];
        var xd = new double[d];
        var gradient = new double[d];
        var gradientFloats = new float[d];
        var noiseValues = new float[d];
        for (int i = 0; i < d; i++) x[i] = (float)start[i];
        backend.Upload(x, point.Value);
        var excess = new double[steps + 1];
        for (int t = 0; ; t++)
        {
            backend.Download(point.Value, x);
            for (int i = 0; i < d; i++) xd[i] = x[i];
            excess[t] = function.Value(xd) - function.Minimum;
            if (!double.IsFinite(excess[t]))
            {
                excess.AsSpan(t).Fill(double.PositiveInfinity);
                return excess;
            }
            if (t == steps) return excess;
            function.Gradient(xd, gradient);
            if (noise > 0)
            {
                backend.SampleGaussian(stream, (ulong)t * (ulong)d, 0f, (float)noise, noiseTensor);
                backend.Download(noiseTensor, noiseValues);
            }
            for (int i = 0; i < d; i++) gradientFloats[i] = (float)gradient[i] + (noise > 0 ? noiseValues[i] : 0f);
            backend.Upload(gradientFloats, point.Gradient);
            optimizer.Step(parameters, 0);
        }
    }
}
