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
    double? ValidationAccuracy, double Seconds, double SamplesPerSecond, float LearningRate);
