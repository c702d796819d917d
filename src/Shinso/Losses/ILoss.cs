using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Losses;

/// <summary>
/// A training objective fused with the network's output nonlinearity: the network ends in raw
/// scores, the loss turns them into predictions and the gradient with respect to the scores.
/// </summary>
public interface ILoss
{
    /// <summary>A short name, e.g. <c>softmax-cross-entropy</c>; used in model files.</summary>
    string Kind { get; }

    /// <summary>The nonlinearity that turns scores into predictions at inference time.</summary>
    OutputFunction Output { get; }

    /// <summary>
    /// Returns the mean loss over the batch, writes the predictions into <paramref name="predictions"/>
    /// and dLoss/dScores into <paramref name="scoresGradient"/>.
    /// </summary>
    float Compute(IBackend backend, Tensor scores, Tensor targets, Tensor predictions, Tensor scoresGradient);
}

/// <summary>How a network's raw scores become its predictions.</summary>
public enum OutputFunction
{
    /// <summary>The scores themselves (regression).</summary>
    Identity,
    /// <summary>Row-wise softmax (classification into one of several classes).</summary>
    Softmax,
    /// <summary>Elementwise sigmoid (independent binary outputs, reconstructions).</summary>
    Sigmoid,
}

/// <summary>Softmax + cross-entropy, the classifier objective; targets are one-hot rows or soft targets.</summary>
public sealed class SoftmaxCrossEntropyLoss : ILoss
{
    /// <inheritdoc />
    public string Kind => "softmax-cross-entropy";

    /// <inheritdoc />
    public OutputFunction Output => OutputFunction.Softmax;

    /// <inheritdoc />
    public float Compute(IBackend backend, Tensor scores, Tensor targets, Tensor predictions, Tensor scoresGradient) =>
        backend.SoftmaxCrossEntropy(scores, targets, predictions, scoresGradient);
}

/// <summary>Sigmoid + binary cross-entropy, for targets in [0, 1] (e.g. autoencoder reconstructions).</summary>
public sealed class BinaryCrossEntropyLoss : ILoss
{
    /// <inheritdoc />
    public string Kind => "binary-cross-entropy";

    /// <inheritdoc />
    public OutputFunction Output => OutputFunction.Sigmoid;

    /// <inheritdoc />
    public float Compute(IBackend backend, Tensor scores, Tensor targets, Tensor predictions, Tensor scoresGradient) =>
        backend.SigmoidCrossEntropy(scores, targets, predictions, scoresGradient);
}

/// <summary>Half the squared error, averaged over rows; the outputs are the scores themselves.</summary>
public sealed class SquaredErrorLoss : ILoss
{
    /// <inheritdoc />
    public string Kind => "squared-error";

    /// <inheritdoc />
    public OutputFunction Output => OutputFunction.Identity;

    /// <inheritdoc />
    public float Compute(IBackend backend, Tensor scores, Tensor targets, Tensor predictions, Tensor scoresGradient)
    {
        backend.Copy(scores, predictions);
        return backend.SquaredError(scores, targets, scoresGradient);
    }
}

/// <summary>Creates losses by their <see cref="ILoss.Kind"/>.</summary>
public static class LossFactory
{
    /// <summary>The loss named <paramref name="kind"/>.</summary>
    public static ILoss Create(string kind) => kind switch
    {
        "softmax-cross-entropy" => new SoftmaxCrossEntropyLoss(),
        "binary-cross-entropy" => new BinaryCrossEntropyLoss(),
        "squared-error" => new SquaredErrorLoss(),
        _ => throw new ArgumentException(
            $"Unknown loss '{kind}'; expected softmax-cross-entropy, binary-cross-entropy or squared-error.", nameof(kind)),
    };
}
