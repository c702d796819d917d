using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>Philox-addressed sampling: the same values for a (stream, counter) on every backend. One capability of an <see cref="IBackend"/>.</summary>
public interface ISampling
{
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

    /// <summary>
    /// Inverted-dropout mask: <c>mask[i] = u_i &lt; keep ? 1/keep : 0</c> with u_i uniform at position
    /// <c>counter*4 + i</c> of <paramref name="stream"/>.
    /// </summary>
    void SampleDropoutMask(RandomStream stream, ulong counter, float keepProbability, Tensor mask);

    /// <summary>
    /// One category per row of <paramref name="probabilities"/> [N, C] (each row a distribution, as a softmax gives): row r takes
    /// the uniform u_r at position <c>counter*4 + r</c> and <paramref name="samples"/> row r becomes the one-hot vector of the first
    /// category whose running sum exceeds u_r (the last category when rounding leaves the whole row's sum at or below u_r).
    /// <paramref name="samples"/> may be <paramref name="probabilities"/> itself.
    /// </summary>
    void SampleOneHot(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples);
}
