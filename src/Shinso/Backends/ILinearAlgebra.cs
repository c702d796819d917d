using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>GEMM, BLAS-1 and reductions on row-major matrices, and the max-norm projection. One capability of an <see cref="IBackend"/>.</summary>
public interface ILinearAlgebra
{
    /// <summary>
    /// <c>C = alpha * op(A) * op(B) + beta * C</c> on matrices; op is the identity or the transpose.
    /// When <paramref name="beta"/> is 0, C is not read (NaNs in C do not propagate).
    /// </summary>
    void Gemm(Transpose transA, Transpose transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /// <summary>
    /// Writes <paramref name="b"/> [K, N] into <paramref name="panels"/>, shaped <see cref="ColumnPanels.Shape"/>: the
    /// layout <see cref="AffineColumnPanels"/> reads, for weights packed once and multiplied many times.
    /// </summary>
    void PackColumnPanels(Tensor b, Tensor panels);

    /// <summary>
    /// <c>y = x B + bias</c> with B [K, N] given as its <paramref name="panels"/> (<see cref="PackColumnPanels"/>): x is
    /// [rows, K], y [rows, N] (not read), bias [N]: a dense layer whose weights were packed once, at any batch size.
    /// </summary>
    void AffineColumnPanels(Tensor x, Tensor panels, Tensor bias, Tensor y);

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

    /// <summary>
    /// <c>output[j, i, :] = input[i, j, :]</c> for <paramref name="input"/> viewed as <c>[outer, inner, rest]</c>: turns a
    /// convolution's <c>[F, N, OH*OW]</c> product into <c>[N, F, OH*OW]</c> images and back.
    /// </summary>
    void SwapLeadingAxes(Tensor input, int outer, int inner, Tensor output);

    /// <summary><c>result[i, j] = matrix[i, j] * scale[j]</c> (for example <c>v / sigma</c> for Gaussian units); may run in place.</summary>
    void ScaleColumns(Tensor matrix, Tensor scale, Tensor result);

    /// <summary>
    /// Max-norm projection (Srivastava et al. 2014): every column j of <paramref name="matrix"/> (a unit's
    /// incoming weights when weights are stored inputs x units) whose L2 norm exceeds
    /// <paramref name="maxNorm"/> is scaled down to that norm.
    /// </summary>
    void ClipColumnNorms(Tensor matrix, float maxNorm);
}
