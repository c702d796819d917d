using Shinso.Losses;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Training;

/// <summary>
/// Targets drawn from a net's own predictive distribution, and the loss gradient at them: what the true Fisher's
/// output-gradient statistics are taken from (K-FAC's sampled Fisher). The distribution is the one the loss is the negative
/// log-likelihood of: a class from the softmax, a Bernoulli bit per sigmoid output, or a unit-variance Gaussian around an
/// identity output (half squared error). Draws come from one named stream, addressed by step, so a resumed run repeats them.
/// </summary>
internal sealed class FisherTargetSampler
{
    private readonly FeedForwardNet _net;
    private readonly RandomStream _stream;
    private readonly ulong _countersPerStep;
    private readonly Tensor _targets;
    private readonly Tensor _predictions;
    private readonly Tensor _gradient;
    private readonly float[] _host;

    public FisherTargetSampler(FeedForwardNet net, int batch, RandomStream stream)
    {
        _net = net;
        _stream = stream;
        int outputs = net.Spec.OutputLength;
        // Every step owns its own range of positions (four per counter).
        _countersPerStep = ((ulong)batch * (ulong)outputs + 3) / 4;
        _targets = net.Backend.Allocate(batch, outputs);
        _predictions = net.Backend.Allocate(batch, outputs);
        _gradient = net.Backend.Allocate(batch, outputs);
        _host = new float[batch * outputs];
    }

    /// <summary>dLoss/dScores at targets drawn from <paramref name="predictions"/> (the last forward's, with its <paramref name="scores"/>) for step <paramref name="step"/>.</summary>
    public Tensor Gradient(Tensor scores, Tensor predictions, long step)
    {
        int rows = scores.Rows, outputs = scores.Columns;
        var backend = _net.Backend;
        var targets = _targets.SliceRows(0, rows);
        ulong counter = (ulong)step * _countersPerStep;
        switch (_net.Loss.Output)
        {
            case OutputFunction.Softmax:
                // One uniform per row picks a class by the inverse of the predicted distribution's cumulative sum.
                var host = _host.AsSpan(0, rows * outputs);
                backend.Download(predictions, host);
                for (int i = 0; i < rows; i++)
                {
                    var row = host.Slice(i * outputs, outputs);
                    float u = Philox4x32.Uniform(_stream, counter * 4 + (ulong)i), cumulative = 0;
                    int drawn = outputs - 1;
                    for (int c = 0; c < outputs; c++)
                    {
                        cumulative += row[c];
                        if (u < cumulative) { drawn = c; break; }
                    }
                    row.Clear();
                    row[drawn] = 1;
                }
                backend.Upload(host, targets);
                break;
            case OutputFunction.Sigmoid:
                backend.SampleBernoulli(_stream, counter, predictions, targets);
                break;
            default:
                backend.SampleGaussian(_stream, counter, 0f, 1f, targets);
                backend.Axpy(1f, predictions, targets);
                break;
        }
        var gradient = _gradient.SliceRows(0, rows);
        _net.Loss.Compute(backend, scores, targets, _predictions.SliceRows(0, rows), gradient);
        return gradient;
    }
}
