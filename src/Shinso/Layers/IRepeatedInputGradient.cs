using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// A layer that backpropagates several output gradients per row of one forward pass: a net's sensitivity to its input in
/// several directions (the robustness test's class margins) from one forward pass per input, not one per direction.
/// </summary>
public interface IRepeatedInputGradient
{
    /// <summary>
    /// As <see cref="ILayer.InputGradient"/>, for <paramref name="copies"/> output gradients per row of the last forward pass
    /// (an inference pass): rows <c>r·copies</c> to <c>r·copies + copies - 1</c> of <paramref name="outputGradient"/> belong to
    /// forward row r, and so do those rows of the result.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass came before, or it was a training pass of a stochastic layer.</exception>
    /// <exception cref="ArgumentException">The gradient does not hold <paramref name="copies"/> rows per forward row.</exception>
    Tensor RepeatedInputGradient(Tensor outputGradient, int copies);
}
