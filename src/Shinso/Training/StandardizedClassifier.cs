using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.FeedForward;

namespace Shinso.Training;

/// <summary>A classifier on fixed features: the features standardised on the training set, a net trained on them, its test accuracy.</summary>
public static class StandardizedClassifier
{
    /// <summary>
    /// Trains <paramref name="config"/>'s net (its input shape replaced by the features') on standardised <paramref name="train"/>
    /// features and measures it on <paramref name="test"/> standardised alike; the net still expects standardised inputs
    /// (<see cref="FeedForwardNet.AbsorbInputStandardization"/> folds the statistics in).
    /// </summary>
    public static (FeedForwardNet Net, NormalizationStatistics Statistics, double Accuracy) Train(IBackend backend, TrainingConfig config, Dataset train, Dataset test)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (normalized, statistics) = Flat(train).Normalize();
        var testNormalized = Flat(test).Normalize(statistics);
        var spec = config.Architecture with { InputShape = [normalized.FeatureCount] };
        var net = new FeedForwardNet(backend, spec, config.Training.Seed);
        var trainer = new Trainer(net, (config with { Architecture = spec }).CreateOptimizer(), config.Training);
        trainer.Fit(SupervisedData.FromDataset(normalized));
        return (net, statistics, Trainer.Evaluate(net, SupervisedData.FromDataset(testNormalized)).Accuracy ?? double.NaN);
    }

    private static Dataset Flat(Dataset d) => d.SampleShape.Count == 1 ? d : new Dataset(d.Features, d.Labels, d.ClassCount, d.FeatureCount);
}
