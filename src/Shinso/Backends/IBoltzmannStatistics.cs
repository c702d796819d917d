using Shinso.Random;
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

    /// <summary>
    /// Probabilistic max-pooling (Lee et al. 2009) of detection inputs <paramref name="input"/> <c>[N, channels, height, width]</c> in
    /// <paramref name="block"/> x block blocks: <c>hidden = exp(I_i) / (1 + sum_block exp(I_j))</c>, and per block the probability
    /// that its pooling unit is on, <c>pool = 1 − 1 / (1 + sum_block exp(I_j))</c>, <c>[N, channels, height/block, width/block]</c>.
    /// </summary>
    void ProbabilisticMaxPool(Tensor input, int channels, int height, int width, int block, Tensor hiddenProbabilities, Tensor poolProbabilities);

    /// <summary>
    /// Samples each block's multinomial ("all off" or exactly one unit on) from <paramref name="hiddenProbabilities"/> as
    /// <see cref="ProbabilisticMaxPool"/> writes them, one uniform per block from Philox blocks <c>counter ..</c> (block b at position
    /// <c>4*counter + b</c>, blocks row-major); <paramref name="poolSamples"/> is 1 where a block has a unit on.
    /// </summary>
    void SampleProbabilisticMaxPool(RandomStream stream, ulong counter, Tensor hiddenProbabilities, int channels, int height, int width, int block,
        Tensor hiddenSamples, Tensor poolSamples);
}
