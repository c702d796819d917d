using Shinso.Backends;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.Regression;

/// <summary>
/// Fits a feed-forward net to a <see cref="RegressionTable"/> by gradient descent on the shared training core: when the
/// config standardises, the inputs and the target are standardised in double precision (so that a net of any depth
/// starts at the scale its initial weights assume, and float32 sees residuals rather than the targets' offset), and both
/// standardisations are folded into the net afterwards, so the net returned takes the table's raw inputs and predicts in
/// its units (and a linear one reads as a <see cref="LinearFit"/> in them).
/// </summary>
public static class GradientDescentRegression
{
    /// <summary>Trains a new net of <paramref name="config"/>'s architecture on all of <paramref name="rows"/> and returns it.</summary>
    /// <exception cref="ArgumentException">The architecture does not take the table's inputs or does not end in one output.</exception>
    /// <exception cref="InvalidOperationException">The config standardises but the net cannot absorb it (its first layer is not dense).</exception>
    public static FeedForwardNet Fit(RegressionTable rows, TrainingConfig config, IBackend backend, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(config);
        if (config.Architecture.InputLength != rows.InputCount || config.Architecture.OutputLength != 1)
            throw new ArgumentException($"The net maps {config.Architecture.InputLength} inputs to {config.Architecture.OutputLength} outputs; the table has {rows.InputCount} inputs and one target.", nameof(config));
        if (config.Normalize && !config.Architecture.CanAbsorbInputStandardization)
            throw new InvalidOperationException("Standardised inputs are folded into the first layer's weights; the net's first layer (after any dropout or flatten) must be dense.");
        var statistics = config.Normalize ? rows.InputStatistics() : null;
        (double Mean, double Deviation)? target = config.Normalize && config.Architecture.CanAbsorbTargetStandardization ? rows.TargetStatistics() : null;
        var net = new FeedForwardNet(backend, config.Architecture, config.Training.Seed);
        new Trainer(net, config.CreateOptimizer(), config.Training).Fit(rows.ToSupervisedData(statistics, target), cancellation: cancellation);
        if (statistics is not null) net.AbsorbInputStandardization(statistics);
        if (target is { } t) net.AbsorbTargetStandardization([t.Mean], [t.Deviation]);
        return net;
    }
}
