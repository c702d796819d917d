using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.Regression;

/// <summary>How well predictions fit real-valued targets.</summary>
/// <param name="MeanSquaredError">The mean of <c>(prediction - target)^2</c> (not halved, unlike the training loss).</param>
/// <param name="RSquared">The coefficient of determination <c>1 - SS_res / SS_tot</c>; NaN when the targets are all equal.</param>
/// <param name="Count">The number of rows scored.</param>
public sealed record RegressionMetrics(double MeanSquaredError, double RSquared, int Count)
{
    /// <summary>The figures of <paramref name="predictions"/> against <paramref name="targets"/>, in double precision.</summary>
    /// <exception cref="ArgumentException">The lengths differ or there are no rows.</exception>
    public static RegressionMetrics Of(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        if (predictions.Length != targets.Length)
            throw new ArgumentException($"{predictions.Length} predictions for {targets.Length} targets.", nameof(predictions));
        if (targets.Length == 0) throw new ArgumentException("No rows to score.", nameof(targets));
        double mean = 0;
        foreach (double t in targets) mean += t;
        mean /= targets.Length;
        double residual = 0, total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double e = predictions[i] - targets[i], d = targets[i] - mean;
            residual += e * e;
            total += d * d;
        }
        return new RegressionMetrics(residual / targets.Length, total > 0 ? 1 - residual / total : double.NaN, targets.Length);
    }

    /// <summary>
    /// The figures of a one-output <paramref name="net"/> on <paramref name="rows"/>: its float32 predictions (inference
    /// mode, in batches) against the table's targets in double precision, as the closed form is scored.
    /// </summary>
    /// <exception cref="ArgumentException">The net has more than one output or the rows do not fit it.</exception>
    public static RegressionMetrics Of(FeedForwardNet net, RegressionTable rows, int batchSize = 500) =>
        Of(Predictions(net, rows.ToSupervisedData(), batchSize), rows.Targets);

    /// <summary>The predictions of a one-output <paramref name="net"/> for every row of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The net has more than one output or the data does not fit it.</exception>
    public static double[] Predictions(FeedForwardNet net, SupervisedData data, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        if (net.Spec.OutputLength != 1 || data.TargetLength != 1)
            throw new ArgumentException($"Regression figures are for one target; the net has {net.Spec.OutputLength} outputs and the data {data.TargetLength} targets.", nameof(net));
        var backend = net.Backend;
        int batch = Math.Max(1, Math.Min(batchSize, data.Count));
        var input = backend.Allocate(batch, data.InputLength);
        var host = new float[batch];
        var predictions = new double[data.Count];
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            var x = input.SliceRows(0, rows);
            backend.Upload(data.Inputs.AsSpan(start * data.InputLength, rows * data.InputLength), x);
            backend.Download(net.Predict(x), host.AsSpan(0, rows));
            for (int r = 0; r < rows; r++) predictions[start + r] = host[r];
        }
        return predictions;
    }
}
