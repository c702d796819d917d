namespace Shinso.Training;

/// <summary>The figures of one epoch.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (with dropout active).</param>
/// <param name="TrainAccuracy">Training accuracy over the epoch's batches, for classification.</param>
/// <param name="ValidationLoss">Loss on the validation set, when there is one.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation set, for classification.</param>
/// <param name="Seconds">Wall time of the epoch's training pass.</param>
/// <param name="SamplesPerSecond">Training samples per second.</param>
/// <param name="LearningRate">The learning rate used.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double? TrainAccuracy, double? ValidationLoss,
    double? ValidationAccuracy, double Seconds, double SamplesPerSecond, float LearningRate)
{
    /// <summary>The figures of an epoch of a model that reports one loss and no accuracy (a reconstruction error, a count of mistakes).</summary>
    /// <param name="epoch">The 0-based epoch.</param>
    /// <param name="loss">Its training loss.</param>
    /// <param name="samples">Samples the epoch visited.</param>
    /// <param name="seconds">Its wall time.</param>
    /// <param name="learningRate">The learning rate used.</param>
    public static EpochMetrics Unsupervised(int epoch, double loss, int samples, double seconds, float learningRate) =>
        new(epoch + 1, loss, null, null, null, seconds, samples / Math.Max(seconds, 1e-9), learningRate);

    /// <summary>The validation figures of the epoch, or null when it had none.</summary>
    public Evaluation? Validation => ValidationLoss is { } loss ? new Evaluation(loss, ValidationAccuracy) : null;
}
