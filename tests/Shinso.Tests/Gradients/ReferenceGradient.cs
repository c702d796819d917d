using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.Gradients;

/// <summary>
/// Gradient checks that catch a 0.1 % error: Shinso's float32 analytic gradient against a Richardson-extrapolated
/// central difference of the <see cref="DoubleReference"/> function. In double, with step h = 1e-4 the extrapolated
/// quotient's truncation error is O(h^4) and its rounding about 1e-16 / h, both far below the tolerance, so the
/// tolerance is the float32 side's alone: <see cref="RelativeTolerance"/> of the component plus
/// <see cref="ScaleTolerance"/> of the largest component of the gradients checked together (float32 sums cancel to
/// errors of that order).
/// </summary>
internal static class ReferenceGradient
{
    public const double RelativeTolerance = 1e-4;
    public const double ScaleTolerance = 1e-5;
    private const double Step = 1e-4;

    /// <summary>How many points a check compared, and how many it skipped because a kink lies within its step.</summary>
    public readonly record struct Counts(int Checked, int Skipped)
    {
        public static Counts operator +(Counts a, Counts b) => new(a.Checked + b.Checked, a.Skipped + b.Skipped);

        /// <summary>Kinks are rare at random inputs: a check must not skip its way to a pass.</summary>
        public void AssertFewSkipped(string what, double fraction = 0.1) =>
            Assert.True(Skipped <= fraction * (Checked + Skipped), $"{what}: skipped {Skipped} of {Checked + Skipped} points near a kink");
    }

    /// <summary>
    /// d f / d values[i] by central differences at h and h/2 combined by Richardson extrapolation; null where the two
    /// disagree beyond a smooth function's O(h^2) (a kink, a max-pool tie or a clamp lies within the step).
    /// </summary>
    public static double? Derivative(double[] values, int i, Func<double> f)
    {
        double saved = values[i];
        double h = Step * Math.Max(1, Math.Abs(saved));
        double Quotient(double step)
        {
            values[i] = saved + step;
            double plus = f();
            values[i] = saved - step;
            double minus = f();
            values[i] = saved;
            return (plus - minus) / (2 * step);
        }
        double coarse = Quotient(h), fine = Quotient(h / 2);
        if (Math.Abs(coarse - fine) > 1e-6 * (1 + Math.Abs(fine))) return null;
        return (4 * fine - coarse) / 3;
    }

    /// <summary>One gradient to check: the analytic float32 values, the double-precision point they are the gradient at, and its name.</summary>
    public sealed record Gradient(float[] Analytic, double[] Values, string What, IReadOnlyCollection<int>? Indices = null);

    /// <summary>Asserts every component of <paramref name="analytic"/> against the reference derivative of <paramref name="f"/> in <paramref name="values"/>.</summary>
    /// <param name="indices">The components to check (default all of them): a costly objective is probed at a sample.</param>
    public static Counts AssertMatches(float[] analytic, double[] values, Func<double> f, string what, IReadOnlyCollection<int>? indices = null) =>
        AssertMatches([new Gradient(analytic, values, what, indices)], f);

    /// <summary>
    /// Asserts several gradients of one objective (a layer's input and parameter gradients) against their reference
    /// derivatives. The scale term of the tolerance is the largest reference component over all of them: a tensor of one
    /// or a few components (a single filter's bias) can be a sum that cancels far below its terms, and only the others
    /// show the size of those terms, which is what float32 rounding is proportional to.
    /// </summary>
    public static Counts AssertMatches(IReadOnlyList<Gradient> gradients, Func<double> f)
    {
        var references = new List<double?[]>();
        double scale = 0;
        foreach (var g in gradients)
        {
            Assert.Equal(g.Values.Length, g.Analytic.Length);
            var reference = new double?[g.Values.Length];
            foreach (int i in g.Indices ?? Enumerable.Range(0, g.Values.Length).ToArray())
                if ((reference[i] = Derivative(g.Values, i, f)) is { } v) scale = Math.Max(scale, Math.Abs(v));
            references.Add(reference);
        }
        int compared = 0, skipped = 0;
        for (int k = 0; k < gradients.Count; k++)
        {
            var (analytic, what) = (gradients[k].Analytic, gradients[k].What);
            foreach (int i in gradients[k].Indices ?? Enumerable.Range(0, analytic.Length).ToArray())
            {
                if (references[k][i] is not { } expected) { skipped++; continue; }
                double tolerance = RelativeTolerance * Math.Abs(expected) + ScaleTolerance * scale + 1e-12;
                Assert.True(Math.Abs(analytic[i] - expected) <= tolerance,
                    $"{what}[{i}]: analytic {analytic[i]:G9} vs double-precision reference {expected:G9} (error {Math.Abs(analytic[i] - expected):G3}, tolerance {tolerance:G3})");
                compared++;
            }
        }
        var counts = new Counts(compared, skipped);
        // However the caller bounds its own kinks, a check that skipped most of its points checked nothing.
        Assert.True(compared > 0, $"{gradients[0].What}: no point compared");
        counts.AssertFewSkipped(gradients[0].What);
        return counts;
    }

    /// <summary>
    /// dL/dx and dL/dθ of L = sum(w * layer(x)) (+ the layer's penalty) for fixed random x ~ N(0, 1) and w, through
    /// <paramref name="layer"/>'s own Forward and Backward, against the double-precision reference of
    /// <paramref name="definedBy"/> (by default the layer itself; a test of the check passes a mutated layer and the original).
    /// </summary>
    public static Counts CheckLayer(IBackend backend, ILayer layer, int batch, int[] sampleShape, ulong seed, ForwardContext? context = null,
        ILayer? definedBy = null)
    {
        var ctx = context ?? ForwardContext.Inference;
        var x = backend.Allocate([batch, .. sampleShape]);
        backend.SampleGaussian(new RandomStream(seed, 10), 0, 0f, 1f, x);
        var y = layer.Forward(x, ctx);
        var w = backend.Allocate(y.Shape.ToArray());
        backend.SampleGaussian(new RandomStream(seed, 11), 0, 0f, 1f, w);
        foreach (var p in layer.Parameters) p.BeginPass();
        var dx = DoubleReference.Host32(layer.Backward(w, needInputGradient: true)!);
        var parameterGradients = layer.Parameters.Select(p => DoubleReference.Host32(p.Gradient)).ToArray();

        var reference = new DoubleReference(backend, ctx);
        var x64 = DoubleReference.Host(x);
        var w64 = DoubleReference.Host(w);
        double Objective()
        {
            var y64 = reference.Forward(definedBy ?? layer, x64, batch);
            double sum = reference.Penalty;
            for (int i = 0; i < y64.Length; i++) sum += w64[i] * y64[i];
            return sum;
        }
        double ResetPenaltyThenObjective()
        {
            reference.ResetPenalty();
            return Objective();
        }
        var gradients = new List<Gradient> { new(dx, x64, $"{layer.Kind} d/dx") };
        for (int p = 0; p < layer.Parameters.Count; p++)
            gradients.Add(new(parameterGradients[p], reference.Values(layer.Parameters[p]), $"{layer.Kind} d/d{layer.Parameters[p].Name}"));
        return AssertMatches(gradients, ResetPenaltyThenObjective);
    }

    /// <summary>
    /// dLoss/dθ of a whole net (its loss and penalties, under <paramref name="context"/>) for every parameter, against the
    /// double-precision reference of the same net: shared parameters and penalties are checked as the net uses them.
    /// </summary>
    public static Counts CheckNet(FeedForwardNet net, Tensor x, Tensor targets, ForwardContext context)
    {
        net.Forward(x, context);
        net.ComputeLoss(targets, out _);
        net.Backward();
        var analytic = net.Parameters.Select(p => DoubleReference.Host32(p.Gradient)).ToArray();
        var reference = new DoubleReference(net.Backend, context);
        var x64 = DoubleReference.Host(x);
        var t64 = DoubleReference.Host(targets);
        var gradients = net.Parameters.Select((p, k) => new Gradient(analytic[k], reference.Values(p), $"d loss / d {p.Name}")).ToList();
        return AssertMatches(gradients, () => reference.Loss(net, x64, t64, x.Rows));
    }
}
