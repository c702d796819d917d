using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>The update rules of the optimizers, each one fused pass over a parameter and its state (the rules of the optimizers in Shinso.Optimizers). One capability of an <see cref="IBackend"/>.</summary>
public interface IOptimizerUpdates
{
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
