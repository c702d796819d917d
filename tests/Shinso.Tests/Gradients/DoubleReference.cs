using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Operations;
using Shinso.Tensors;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.Gradients;

/// <summary>
/// Every layer kind's forward pass, and every loss, evaluated in double precision from its definition (the naive twins),
/// on the float values a layer holds widened exactly to double. The gradient checks difference these functions, so the
/// reference gradient carries no float32 rounding. Parameters are looked up by identity, so a weight two layers share
/// (a tied decoder's) is one array that both uses read. A stochastic layer's mask or noise is read from the float layer's
/// own draw for the step, so its check shows that backward matches forward for that draw; the draws themselves are
/// checked against their Philox twins elsewhere (the harness's sampling entries, the denoising test).
/// </summary>
internal sealed class DoubleReference(IBackend backend, ForwardContext context)
{
    private readonly Dictionary<Parameter, double[]> _values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ILayer, double[]> _noise = new(ReferenceEqualityComparer.Instance);

    /// <summary>The double-precision values of <paramref name="parameter"/> that the reference reads; perturb these to difference it.</summary>
    public double[] Values(Parameter parameter)
    {
        if (!_values.TryGetValue(parameter, out var values))
            _values[parameter] = values = Host(parameter.Value);
        return values;
    }

    /// <summary>Makes <paramref name="values"/> the double-precision values the reference reads for <paramref name="parameter"/> (a parameter computed from others).</summary>
    public void Set(Parameter parameter, double[] values) => _values[parameter] = values;

    /// <summary>The penalties the penalty layers added during the last <see cref="Forward"/> (a sparsity penalty's KL term).</summary>
    public double Penalty { get; private set; }

    /// <summary>Starts a new objective: the penalties of earlier forward passes no longer count.</summary>
    public void ResetPenalty() => Penalty = 0;

    /// <summary><paramref name="layer"/>'s output for the <paramref name="batch"/> samples in <paramref name="x"/>, penalties added to <see cref="Penalty"/>.</summary>
    /// <exception cref="NotSupportedException">The layer type has no double-precision twin here: add one with the kind.</exception>
    public double[] Forward(ILayer layer, double[] x, int batch)
    {
        switch (layer)
        {
            case Dense d:
                return Affine(x, batch, d.Inputs, d.Units, Values(d.Weight), Values(d.Bias), transposed: false);
            case TiedDense t:
                return Affine(x, batch, t.Inputs, t.Units, Values(t.Weight), Values(t.Bias), transposed: true);
            case ActivationLayer a:
                return Array.ConvertAll(x, v => NaiveKernels.Activate(a.Function, v));
            case SoftmaxLayer:
                return NaiveKernels.SoftmaxRows(x, batch, x.Length / batch);
            case Conv2d c:
                return NaiveConvolution.Convolve(x, batch, c.Geometry, Values(c.Weight), Values(c.Bias), c.Filters);
            case TiledConv2d t:
                return NaiveConvolution.TiledConvolve(x, batch, t.Geometry, Values(t.Weight), Values(t.Bias), t.Filters);
            case Pool2d p:
                return NaiveConvolution.Pool(x, batch, p.Geometry, p.PoolingKind switch
                {
                    PoolingKind.Max => 0,
                    PoolingKind.Average => 1,
                    PoolingKind.Lp => 2,
                    _ => throw new NotSupportedException($"{p.PoolingKind} pooling has no double-precision twin in {nameof(DoubleReference)}."),
                }, p.P);
            case ProbabilisticMaxPool p:
                return NaiveKernels.ProbabilisticPooling(x, batch * p.Channels, p.Height, p.Width, p.Block).Pool;
            case LocalResponseNormalization l:
                return NaiveConvolution.Lrn(x, batch, l.Channels, l.Height * l.Width, l.Settings);
            case MaxoutLayer m:
                return NaiveKernels.Maxout(x, batch, m.Pieces);
            case LocalContrastNormalization l:
                return NaiveConvolution.Lcn(x, batch, l.Geometry).Output;
            case Flatten or CodeLayer:
                return x;
            case ResidualBlock r:
                return Residual(r, x, batch);
            case SparsityPenalty s:
                if (context.Training && s.Weight > 0f) Penalty += s.Weight * Sparsity(x, batch, s.Target);
                return x;
            case Dropout d:
                return context.Training && d.Rate > 0f ? Multiply(x, Noise(d, x.Length / batch, batch, 1f)) : x;
            case InputNoise n when !context.Training || n.Amount == 0f:
                return x;
            case InputNoise { Noise: NoiseKind.Masking } n:
                return Multiply(x, Noise(n, x.Length / batch, batch, 1f));
            case InputNoise n:
                var noise = Noise(n, x.Length / batch, batch, 0f);
                return [.. x.Select((v, i) => v + noise[i])];
            default:
                throw new NotSupportedException($"{layer.GetType().Name} ({layer.Kind}) has no double-precision twin in {nameof(DoubleReference)}.");
        }
    }

    /// <summary>The net's scores (its last layer's outputs, before the loss) in double; penalties start again from 0.</summary>
    public double[] Scores(FeedForwardNet net, double[] x, int batch)
    {
        ResetPenalty();
        var h = x;
        foreach (var layer in net.Layers) h = Forward(layer, h, batch);
        return h;
    }

    /// <summary>The net's training objective in double: its layers, its loss against <paramref name="targets"/>, and its layers' penalties.</summary>
    public double Loss(FeedForwardNet net, double[] x, double[] targets, int batch) =>
        Loss(net.Loss.Kind, Scores(net, x, batch), targets, batch) + Penalty;

    /// <summary>The mean loss over <paramref name="rows"/> rows of <paramref name="scores"/>, as <see cref="IActivationsAndLosses"/> defines each.</summary>
    public static double Loss(string kind, double[] scores, double[] targets, int rows)
    {
        int columns = scores.Length / rows;
        double sum = 0;
        switch (kind)
        {
            case "softmax-cross-entropy":
                for (int r = 0; r < rows; r++)
                {
                    double max = double.NegativeInfinity, total = 0;
                    for (int j = 0; j < columns; j++) max = Math.Max(max, scores[r * columns + j]);
                    for (int j = 0; j < columns; j++) total += Math.Exp(scores[r * columns + j] - max);
                    double logZ = max + Math.Log(total);
                    for (int j = 0; j < columns; j++) sum -= targets[r * columns + j] * (scores[r * columns + j] - logZ);
                }
                return sum / rows;
            case "binary-cross-entropy":
                // -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] = max(z, 0) - t z + log(1 + exp(-|z|)).
                for (int i = 0; i < scores.Length; i++)
                    sum += Math.Max(scores[i], 0) - targets[i] * scores[i] + Math.Log(1 + Math.Exp(-Math.Abs(scores[i])));
                return sum / rows;
            case "squared-error":
                for (int i = 0; i < scores.Length; i++) sum += (scores[i] - targets[i]) * (scores[i] - targets[i]);
                return sum / (2.0 * rows);
            default:
                throw new NotSupportedException($"The loss {kind} has no double-precision twin in {nameof(DoubleReference)}.");
        }
    }

    /// <summary>y = x W + b, W [inputs, units]; transposed: y = x Wᵀ + b with W [units, inputs] (a tied decoder).</summary>
    private static double[] Affine(double[] x, int batch, int inputs, int units, double[] w, double[] b, bool transposed)
    {
        var y = new double[batch * units];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < units; j++)
            {
                double sum = b[j];
                for (int i = 0; i < inputs; i++) sum += x[r * inputs + i] * (transposed ? w[j * inputs + i] : w[i * units + j]);
                y[r * units + j] = sum;
            }
        return y;
    }

    private double[] Residual(ResidualBlock block, double[] x, int batch)
    {
        var h = x;
        foreach (var layer in block.Body) h = Forward(layer, h, batch);
        var shortcut = block.Projection is null ? x : Forward(block.Projection, x, batch);
        double[] sum = [.. h.Select((v, i) => v + shortcut[i])];
        return block.OutputActivation is null ? sum : Forward(block.OutputActivation, sum, batch);
    }

    /// <summary>beta-free KL sum: sum_j KL(rho || q_j) with q_j the batch mean of unit j, clamped as the layer clamps it.</summary>
    private static double Sparsity(double[] x, int batch, double rho)
    {
        int units = x.Length / batch;
        double penalty = 0;
        for (int j = 0; j < units; j++)
        {
            double mean = 0;
            for (int r = 0; r < batch; r++) mean += x[r * units + j];
            double q = Math.Clamp(mean / batch, SparsityPenalty.MeanFloor, 1 - SparsityPenalty.MeanFloor);
            penalty += rho * Math.Log(rho / q) + (1 - rho) * Math.Log((1 - rho) / (1 - q));
        }
        return penalty;
    }

    /// <summary>
    /// A stochastic layer's draw for this context's step, read by running the float layer once on a constant input: a
    /// mask (scaled, for dropout) times ones, or additive noise plus zeros. The draw does not depend on the input's values.
    /// </summary>
    private double[] Noise(ILayer layer, int columns, int batch, float probe)
    {
        if (_noise.TryGetValue(layer, out var noise) && noise.Length == columns * batch) return noise;
        var input = backend.Allocate(batch, columns);
        backend.Fill(input, probe);
        _noise[layer] = noise = Host(layer.Forward(input, context));
        return noise;
    }

    /// <summary>A tensor's values on the host, from any backend.</summary>
    public static float[] Host32(Tensor tensor)
    {
        var values = new float[tensor.Length];
        tensor.Backend.Download(tensor, values);
        return values;
    }

    /// <summary>A tensor's values on the host, widened exactly to double.</summary>
    public static double[] Host(Tensor tensor) => NaiveConvolution.Double(Host32(tensor));

    private static double[] Multiply(double[] x, double[] mask) => [.. x.Select((v, i) => v * mask[i])];
}
