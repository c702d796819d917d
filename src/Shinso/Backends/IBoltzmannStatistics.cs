using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>Operations for restricted Boltzmann machines: free energies, Gaussian visible units, CD statistics. One capability of an <see cref="IBackend"/>.</summary>
public interface IBoltzmannStatistics
{
    /// <summary>
    /// <c>result[i] = sum_j softplus(scale * x[i, j])</c>, <c>softplus(y) = log(1 + e^y)</c>, stable for any finite input.
    /// The hidden part of an RBM's free energy; <paramref name="scale"/> is the inverse temperature in AIS.
    /// </summary>
    void SoftplusSumRows(Tensor x, float scale, Tensor result);

    /// <summary><c>y = scale * sigmoid(x)</c>, elementwise; may run in place (with scale -1, the negative-phase statistics of CD).</summary>
    void ScaledSigmoid(Tensor x, float scale, Tensor y);

    /// <summary>
    /// <c>result[j] = beta * result[j] + sum_i [(v[i,j] - b[j])^2 / sigma[j]^2 - v[i,j] * drive[i,j] / sigma[j]]</c>:
    /// minus the derivative of a Gaussian-Bernoulli RBM's energy by <c>log sigma_j</c>, summed over the rows,
    /// where <paramref name="drive"/> is <c>h W^T</c>.
    /// </summary>
    void GaussianScaleStatistics(Tensor visible, Tensor drive, Tensor visibleBias, Tensor sigma, Tensor result, float beta);
}
