using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>Elementwise activations, softmax and the losses fused with their output nonlinearity. One capability of an <see cref="IBackend"/>.</summary>
public interface IActivationsAndLosses
{
    /// <summary><c>y = f(x)</c> elementwise.</summary>
    void Activate(Activation function, Tensor x, Tensor y);

    /// <summary>
    /// <c>dx = dy * f'(x)</c>, elementwise. Sigmoid and tanh read the derivative from the output
    /// <paramref name="y"/>; ReLU and absolute value read it from the input <paramref name="x"/>; the step has none (dx = 0).
    /// </summary>
    void ActivationBackward(Activation function, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /// <summary>Row-wise softmax, stable for any finite input (the row maximum is subtracted first).</summary>
    void SoftmaxRows(Tensor x, Tensor y);

    /// <summary>Softmax Jacobian-vector product: <c>dx[i,j] = y[i,j] * (dy[i,j] - sum_k dy[i,k] y[i,k])</c>.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /// <summary><c>result[i] = log sum_j exp(x[i, j])</c>, stable for any finite input.</summary>
    void LogSumExpRows(Tensor x, Tensor result);

    /// <summary>
    /// Softmax + cross-entropy in one stable pass: <c>P = softmax(Z)</c> row-wise,
    /// returns <c>-(1/B) sum_i sum_j T[i,j] log P[i,j]</c> and writes <c>dZ = (P - T)/B</c>.
    /// Targets are one-hot labels or any rows of a distribution (soft targets).
    /// </summary>
    float SoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient);

    /// <summary>
    /// Sigmoid + binary cross-entropy in one stable pass: <c>P = sigmoid(Z)</c>, returns
    /// <c>-(1/B) sum [T log P + (1-T) log(1-P)]</c> computed from the logits, and writes <c>dZ = (P - T)/B</c>.
    /// </summary>
    float SigmoidCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient);

    /// <summary>Returns <c>(1/(2B)) sum (Y - T)^2</c> and writes <c>dY = (Y - T)/B</c>.</summary>
    float SquaredError(Tensor outputs, Tensor targets, Tensor outputsGradient);
}
