namespace Shinso.Training;

/// <summary>Loss and accuracy of a model on a data set.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Fraction classified correctly, for classification data.</param>
public readonly record struct Evaluation(double Loss, double? Accuracy);
