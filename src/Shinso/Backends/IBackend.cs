using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>
/// The seam between models and kernels: every heavy operation a model performs goes through
/// this interface, so the same model code runs on the CPU and on OpenCL devices.
/// </summary>
/// <remarks>
/// All tensors passed to a backend must be owned by that backend. Matrix operations read a
/// tensor as <see cref="Tensor.Rows"/> x <see cref="Tensor.Columns"/> in row-major order.
/// Unless stated otherwise, outputs may alias inputs of the same shape (elementwise operations
/// run in place), and shapes that do not fit throw <see cref="ArgumentException"/> naming the argument.
/// </remarks>
public partial interface IBackend : IDisposable
{
    /// <summary>A short name such as <c>cpu</c> or <c>opencl:0</c>.</summary>
    string Name { get; }

    // ---- memory -------------------------------------------------------------------------

    /// <summary>A new zero-filled tensor of the given shape.</summary>
    Tensor Allocate(params int[] shape);

    /// <summary>Copies host values into <paramref name="destination"/> (lengths must match).</summary>
    void Upload(ReadOnlySpan<float> source, Tensor destination);

    /// <summary>Copies <paramref name="source"/> into host memory (lengths must match).</summary>
    void Download(Tensor source, Span<float> destination);

    /// <summary><c>destination = source</c> (lengths must match).</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>Sets every element of <paramref name="tensor"/> to <paramref name="value"/>.</summary>
    void Fill(Tensor tensor, float value);

    // ---- linear algebra -----------------------------------------------------------------

    /// <summary>
    /// <c>C = alpha * op(A) * op(B) + beta * C</c> on matrices; op is the identity or the transpose.
    /// When <paramref name="beta"/> is 0, C is not read (NaNs in C do not propagate).
    /// </summary>
    void Gemm(Transpose transA, Transpose transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /// <summary><c>y = alpha * x + y</c>.</summary>
    void Axpy(float alpha, Tensor x, Tensor y);

    /// <summary><c>y = alpha * x + beta * y</c>.</summary>
    void Axpby(float alpha, Tensor x, float beta, Tensor y);

    /// <summary><c>y = scale * x + shift</c>, elementwise.</summary>
    void ScaleShift(Tensor x, float scale, float shift, Tensor y);

    /// <summary><c>result = a * b</c>, elementwise.</summary>
    void Multiply(Tensor a, Tensor b, Tensor result);

    /// <summary><c>matrix[i, j] += row[j]</c> for every row i (adds a bias to each sample).</summary>
    void AddRowVector(Tensor matrix, Tensor row);

    /// <summary><c>result[j] = beta * result[j] + sum_i matrix[i, j]</c> (for example a bias gradient).</summary>
    void SumColumns(Tensor matrix, Tensor result, float beta = 0f);

    /// <summary><c>result[i] = sum_j matrix[i, j]</c>.</summary>
    void SumRows(Tensor matrix, Tensor result);

    /// <summary>The sum of all elements, returned to the host.</summary>
    float Sum(Tensor x);

    /// <summary>The sum of squares of all elements, returned to the host.</summary>
    float SumOfSquares(Tensor x);

    // ---- activations --------------------------------------------------------------------

    /// <summary><c>y = f(x)</c> elementwise.</summary>
    void Activate(Activation function, Tensor x, Tensor y);

    /// <summary>
    /// <c>dx = dy * f'(x)</c>, elementwise. Sigmoid and tanh read the derivative from the output
    /// <paramref name="y"/>; ReLU and absolute value read it from the input <paramref name="x"/>.
    /// </summary>
    void ActivationBackward(Activation function, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /// <summary>Row-wise softmax, stable for any finite input (the row maximum is subtracted first).</summary>
    void SoftmaxRows(Tensor x, Tensor y);

    /// <summary>Softmax Jacobian-vector product: <c>dx[i,j] = y[i,j] * (dy[i,j] - sum_k dy[i,k] y[i,k])</c>.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /// <summary><c>result[i] = log sum_j exp(x[i, j])</c>, stable for any finite input.</summary>
    void LogSumExpRows(Tensor x, Tensor result);

    // ---- losses (fused with their output nonlinearity; gradients are averaged over rows) -----

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

    // ---- regularizers ---------------------------------------------------------------------

    /// <summary>
    /// Max-norm projection (Srivastava et al. 2014): every column j of <paramref name="matrix"/> (a unit's
    /// incoming weights when weights are stored inputs x units) whose L2 norm exceeds
    /// <paramref name="maxNorm"/> is scaled down to that norm.
    /// </summary>
    void ClipColumnNorms(Tensor matrix, float maxNorm);

    /// <summary>
    /// Inverted-dropout mask: <c>mask[i] = u_i &lt; keep ? 1/keep : 0</c> with u_i uniform at position
    /// <c>counter*4 + i</c> of <paramref name="stream"/>.
    /// </summary>
    void SampleDropoutMask(RandomStream stream, ulong counter, float keepProbability, Tensor mask);

    // ---- convolution --------------------------------------------------------------------

    /// <summary>
    /// How many floats of unfolded columns <see cref="ConvolutionForward"/> and <see cref="ConvolutionBackward"/> hold
    /// at once per thread: they unfold the batch in chunks of as many images as fit (at least one). The CPU sizes a
    /// chunk to stay in a core's cache, so the columns are written and read there instead of through memory; a GPU
    /// takes a whole batch per launch.
    /// </summary>
    int ColumnChunkFloats { get; }

    /// <summary>
    /// A convolution layer's forward pass, <c>output[n, f] = bias[f] + sum_c weight[f, c] (*) input[n, c]</c>
    /// (cross-correlation with the geometry's stride and zero padding), by im2col and GEMM on chunks of
    /// <see cref="ColumnChunkFloats"/>: <paramref name="input"/> <c>[N, C, H, W]</c>, <paramref name="weight"/>
    /// <c>[F, C*KH*KW]</c> with each row in <see cref="Im2Col"/>'s order, <paramref name="bias"/> <c>[F]</c>,
    /// <paramref name="output"/> <c>[N, F, OH, OW]</c> (overwritten).
    /// </summary>
    void ConvolutionForward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor bias, Tensor output);

    /// <summary>
    /// The gradients of <see cref="ConvolutionForward"/> given <paramref name="outputGradient"/> <c>[N, F, OH, OW]</c>:
    /// <paramref name="weightGradient"/> (shaped as the weight) and <paramref name="biasGradient"/> are overwritten with
    /// their sums over the batch, and <paramref name="inputGradient"/> (shaped as the input), when given, with
    /// dLoss/dInput. The result does not depend on the thread count.
    /// </summary>
    void ConvolutionBackward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor outputGradient,
        Tensor weightGradient, Tensor biasGradient, Tensor? inputGradient);

    /// <summary>
    /// Unfolds images <c>[N, C, H, W]</c> into one batch-wide column matrix <c>[C*KH*KW, N*OH*OW]</c> (zero padding):
    /// image n fills columns <c>n*OH*OW .. (n+1)*OH*OW - 1</c>, so a single GEMM convolves the whole batch.
    /// </summary>
    void Im2Col(Tensor images, ConvolutionGeometry geometry, Tensor columns);

    /// <summary>
    /// Folds a batch-wide column matrix <c>[C*KH*KW, N*OH*OW]</c> back into images <c>[N, C, H, W]</c>, summing
    /// overlapping contributions; <paramref name="images"/> is overwritten.
    /// </summary>
    void Col2Im(Tensor columns, ConvolutionGeometry geometry, Tensor images);

    /// <summary>
    /// <c>output[j, i, :] = input[i, j, :]</c> for <paramref name="input"/> viewed as <c>[outer, inner, rest]</c>: turns a
    /// convolution's <c>[F, N, OH*OW]</c> product into <c>[N, F, OH*OW]</c> images and back.
    /// </summary>
    void SwapLeadingAxes(Tensor input, int outer, int inner, Tensor output);

    // ---- sampling (Philox4x32-10, counter based) -----------------------------------------

    /// <summary>Element i gets the uniform [0, 1) number at position <c>counter*4 + i</c> of <paramref name="stream"/>.</summary>
    void SampleUniform(RandomStream stream, ulong counter, Tensor destination);

    /// <summary>Element i gets a normal deviate (Box-Muller) from position <c>counter*4 + i</c> of <paramref name="stream"/>.</summary>
    void SampleGaussian(RandomStream stream, ulong counter, float mean, float standardDeviation, Tensor destination);

    /// <summary><c>samples[i] = u_i &lt; probabilities[i] ? 1 : 0</c> with u_i uniform at position <c>counter*4 + i</c>.</summary>
    void SampleBernoulli(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples);

    /// <summary>
    /// The RBM inner step in one pass: <c>p = sigmoid(x)</c>, <c>s = u &lt; p ? 1 : 0</c>, with u as in
    /// <see cref="SampleBernoulli"/>. Either output may alias <paramref name="preActivation"/>.
    /// </summary>
    void SigmoidBernoulli(RandomStream stream, ulong counter, Tensor preActivation, Tensor probabilities, Tensor samples);

    // ---- optimizer updates (one fused pass per parameter) --------------------------------

    /// <summary>Classical momentum: <c>v = mu*v - eta*g; theta += v</c>.</summary>
    void MomentumUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum);

    /// <summary>
    /// Nesterov momentum in the form that keeps parameters at the look-ahead point
    /// (Sutskever et al. 2013, Bengio et al. 2013): <c>v = mu*v - eta*g; theta += mu*v - eta*g</c>.
    /// </summary>
    void NesterovUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum);

    /// <summary>AdaGrad (Duchi et al. 2011): <c>h += g^2; theta -= eta*g/(sqrt(h)+eps)</c>.</summary>
    void AdaGradUpdate(Tensor parameters, Tensor gradient, Tensor sumOfSquares, float learningRate, float epsilon);

    /// <summary>RMSprop (Tieleman &amp; Hinton 2012): <c>ms = rho*ms + (1-rho)*g^2; theta -= eta*g/(sqrt(ms)+eps)</c>.</summary>
    void RmsPropUpdate(Tensor parameters, Tensor gradient, Tensor meanSquare, float learningRate, float decay, float epsilon);

    /// <summary>
    /// AdaDelta (Zeiler 2012): <c>Eg = rho*Eg + (1-rho)*g^2; d = -sqrt(Ed+eps)/sqrt(Eg+eps)*g;
    /// Ed = rho*Ed + (1-rho)*d^2; theta += d</c>.
    /// </summary>
    void AdaDeltaUpdate(Tensor parameters, Tensor gradient, Tensor meanSquareGradient, Tensor meanSquareDelta, float decay, float epsilon);

    /// <summary>
    /// Adam (Kingma &amp; Ba 2015) at step <paramref name="step"/> (1-based), bias-corrected:
    /// <c>m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; theta -= eta*(m/(1-b1^t))/(sqrt(v/(1-b2^t))+eps)</c>.
    /// </summary>
    void AdamUpdate(Tensor parameters, Tensor gradient, Tensor firstMoment, Tensor secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, int step);
}
