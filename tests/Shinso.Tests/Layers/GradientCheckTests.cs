using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Losses;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Tests.Layers;

/// <summary>
/// Every layer's and every loss's analytic gradient against central finite differences, on random
/// shapes drawn by FsCheck with a fixed replay seed. A layer is checked through the scalar
/// objective L = sum(w * layer(x)) with fixed random weights w, so dL/dy = w.
/// </summary>
public class GradientCheckTests
{
    private const double Epsilon = 1e-2;
    private const double AbsoluteTolerance = 2e-3;

    private static readonly FsCheck.Gen<(int Batch, int Inputs, int Units, int Seed)> Shapes =
        from batch in Gen.Choose(1, 5)
        from inputs in Gen.Choose(1, 9)
        from units in Gen.Choose(1, 7)
        from seed in Gen.Choose(0, 100000)
        select (batch, inputs, units, seed);

    [Fact]
    public void Dense_gradients_match_finite_differences()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var backend = new CpuBackend();
            var layer = new Dense(backend, s.Inputs, s.Units);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)s.Seed, 1), s.Inputs, s.Units);
            backend.SampleGaussian(new RandomStream((ulong)s.Seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
            CheckLayer(backend, layer, s.Batch, s.Inputs, s.Units, (ulong)s.Seed, skipNear: null);
        }, maxTests: 30);
    }

    [Theory]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.AbsoluteValue)]
    [InlineData(Activation.Step)]
    [InlineData(Activation.Identity)]
    public void Activation_gradients_match_finite_differences(Activation function)
    {
        int skipped = 0, checkedPoints = 0;
        PropertyCheck.ForAll(Shapes, s =>
        {
            var backend = new CpuBackend();
            var layer = new ActivationLayer(backend, function);
            // The step jumps at 0 and is flat elsewhere: away from the jump its finite differences, like its gradient, are 0.
            bool kinked = function is Activation.Relu or Activation.AbsoluteValue or Activation.Step;
            var (c, k) = CheckLayer(backend, layer, s.Batch, s.Inputs, s.Inputs, (ulong)s.Seed,
                skipNear: kinked ? 0f : null);
            checkedPoints += c;
            skipped += k;
        }, maxTests: 30);
        // Kinks are rare at random Gaussian inputs; the check must not have skipped its way to a pass.
        Assert.True(skipped * 10 < checkedPoints, $"skipped {skipped} of {checkedPoints + skipped} points near a kink");
    }

    [Fact]
    public void Softmax_layer_gradients_match_finite_differences()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var backend = new CpuBackend();
            CheckLayer(backend, new SoftmaxLayer(backend), s.Batch, s.Units, s.Units, (ulong)s.Seed, skipNear: null);
        }, maxTests: 30);
    }

    [Fact]
    public void Dropout_gradients_match_finite_differences_for_a_fixed_mask()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var backend = new CpuBackend();
            var layer = new Dropout(backend, 0.4f, maskIndex: 3);
            // Training mode with a fixed step: the same mask on every evaluation.
            var context = new ForwardContext(true, new RandomStream((ulong)s.Seed, 0), 5);
            CheckLayer(backend, layer, s.Batch, s.Inputs, s.Inputs, (ulong)s.Seed, skipNear: null, context);
        }, maxTests: 20);
    }

    [Theory]
    [InlineData("softmax-cross-entropy")]
    [InlineData("binary-cross-entropy")]
    [InlineData("squared-error")]
    public void Loss_gradients_match_finite_differences(string kind)
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var backend = new CpuBackend();
            var loss = LossFactory.Create(kind);
            int rows = s.Batch, cols = Math.Max(2, s.Units);
            var scores = backend.Allocate(rows, cols);
            backend.SampleGaussian(new RandomStream((ulong)s.Seed, 1), 0, 0f, 2f, scores);
            var targets = backend.Allocate(rows, cols);
            var t = targets.Span;
            var rng = new System.Random(s.Seed);
            for (int r = 0; r < rows; r++)
            {
                if (kind == "softmax-cross-entropy")
                {
                    // Soft targets: a random distribution per row (covers one-hot as a special case).
                    double sum = 0;
                    for (int j = 0; j < cols; j++) sum += t[r * cols + j] = (float)rng.NextDouble();
                    for (int j = 0; j < cols; j++) t[r * cols + j] /= (float)sum;
                }
                else
                {
                    for (int j = 0; j < cols; j++) t[r * cols + j] = kind == "squared-error" ? (float)(rng.NextDouble() * 4 - 2) : (float)rng.NextDouble();
                }
            }
            var predictions = backend.Allocate(rows, cols);
            var gradient = backend.Allocate(rows, cols);
            loss.Compute(backend, scores, targets, predictions, gradient);
            var analytic = gradient.Span.ToArray();
            var scratchP = backend.Allocate(rows, cols);
            var scratchG = backend.Allocate(rows, cols);
            for (int i = 0; i < scores.Length; i++)
                FiniteDifference.AssertClose(
                    FiniteDifference.Central(scores.Span, i, Epsilon, () => loss.Compute(backend, scores, targets, scratchP, scratchG)),
                    analytic[i], $"{kind} d/dscore[{i}]", AbsoluteTolerance);
        }, maxTests: 30);
    }

    /// <summary>Checks dL/dx and dL/dparameters of <paramref name="layer"/>; returns (checked, skipped) input points.</summary>
    private static (int Checked, int Skipped) CheckLayer(IBackend backend, ILayer layer, int batch, int inputs, int outputs, ulong seed,
        float? skipNear, ForwardContext? context = null)
    {
        var ctx = context ?? ForwardContext.Inference;
        var x = backend.Allocate(batch, inputs);
        backend.SampleGaussian(new RandomStream(seed, 10), 0, 0f, 1f, x);
        var w = backend.Allocate(batch, outputs);
        backend.SampleGaussian(new RandomStream(seed, 11), 0, 0f, 1f, w);
        var wHost = w.Span.ToArray();

        double Objective()
        {
            var y = layer.Forward(x, ctx).Span;
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += (double)y[i] * wHost[i];
            return sum;
        }

        layer.Forward(x, ctx);
        var dx = layer.Backward(w, needInputGradient: true)!.Span.ToArray();
        var parameterGradients = layer.Parameters.Select(p => p.Gradient.Span.ToArray()).ToArray();

        int checkedPoints = 0, skipped = 0;
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++)
        {
            if (skipNear is { } kink && Math.Abs(xs[i] - kink) < 2 * Epsilon) { skipped++; continue; }
            FiniteDifference.AssertClose(FiniteDifference.Central(xs, i, Epsilon, Objective), dx[i], $"{layer.Kind} d/dx[{i}]", AbsoluteTolerance);
            checkedPoints++;
        }
        for (int p = 0; p < layer.Parameters.Count; p++)
        {
            var values = layer.Parameters[p].Value.Span;
            for (int i = 0; i < values.Length; i++)
                FiniteDifference.AssertClose(FiniteDifference.Central(values, i, Epsilon, Objective), parameterGradients[p][i], $"{layer.Parameters[p].Name}[{i}]", AbsoluteTolerance);
        }
        return (checkedPoints, skipped);
    }
}
