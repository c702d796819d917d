using Shinso.Layers;
using Shinso.Tensors;

namespace Shinso.Optimizers;

/// <summary>Plain (stochastic) gradient descent: <c>theta -= eta * g</c>.</summary>
public sealed class Sgd(ISchedule learningRate) : Optimizer(learningRate)
{
    /// <inheritdoc />
    public override string Kind => "sgd";

    /// <inheritdoc />
    protected override string[] StateNames => [];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.Axpy(-lr, p.Gradient, p.Value);

    /// <inheritdoc />
    protected override bool FusesGradientProducts => true;

    /// <summary><c>theta = (1 - eta*lambda) theta - eta * sum_k s_k L_k^T R_k</c>: the GEMMs accumulate into the parameter.</summary>
    protected override void UpdateFromGradientProducts(Parameter p, Tensor[] state, float lr, float weightDecay, int epoch)
    {
        var be = p.Value.Backend;
        if (weightDecay != 0f) be.ScaleShift(p.Value, 1f - lr * weightDecay, 0f, p.Value);
        for (int k = 0; k < p.GradientProductCount; k++)
        {
            var t = p.GradientProduct(k);
            be.Gemm(Operations.Transpose.Transposed, Operations.Transpose.None, -lr * t.Scale, t.Left, t.Right, 1f, p.Value);
        }
    }
}

/// <summary>
/// Classical momentum (Polyak 1964; as used by Hinton et al.): <c>v = mu*v - eta*g; theta += v</c>,
/// with a momentum schedule such as 0.5 -> 0.9.
/// </summary>
public sealed class Momentum(ISchedule learningRate, ISchedule momentum) : Optimizer(learningRate)
{
    /// <summary>The momentum per epoch.</summary>
    public ISchedule MomentumSchedule { get; } = momentum;

    /// <inheritdoc />
    public override string Kind => "momentum";

    /// <inheritdoc />
    protected override string[] StateNames => ["velocity"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.MomentumUpdate(p.Value, p.Gradient, state[0], lr, MomentumSchedule.At(epoch));

    /// <inheritdoc />
    protected override bool FusesGradientProducts => true;

    /// <summary>
    /// <c>v = mu v - eta sum_k s_k L_k^T R_k - eta lambda theta; theta += v</c>: the first GEMM scales the velocity by mu
    /// as it accumulates, so the gradient matrix is never formed (the fused CD update).
    /// </summary>
    protected override void UpdateFromGradientProducts(Parameter p, Tensor[] state, float lr, float weightDecay, int epoch)
    {
        var be = p.Value.Backend;
        var velocity = state[0];
        float mu = MomentumSchedule.At(epoch);
        for (int k = 0; k < p.GradientProductCount; k++)
        {
            var t = p.GradientProduct(k);
            be.Gemm(Operations.Transpose.Transposed, Operations.Transpose.None, -lr * t.Scale, t.Left, t.Right, k == 0 ? mu : 1f, velocity);
        }
        if (weightDecay != 0f) be.Axpy(-lr * weightDecay, p.Value, velocity);
        be.Axpy(1f, velocity, p.Value);
    }
}

/// <summary>
/// Nesterov's accelerated gradient as in Sutskever, Martens, Dahl &amp; Hinton (ICML 2013): the gradient is
/// taken at the look-ahead point <c>theta + mu*v</c>. The stored parameters are kept at that point
/// (Bengio et al. 2013's change of variables), so the next backward pass computes exactly that gradient.
/// </summary>
public sealed class Nesterov(ISchedule learningRate, ISchedule momentum) : Optimizer(learningRate)
{
    /// <summary>The momentum per epoch.</summary>
    public ISchedule MomentumSchedule { get; } = momentum;

    /// <inheritdoc />
    public override string Kind => "nesterov";

    /// <inheritdoc />
    protected override string[] StateNames => ["velocity"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.NesterovUpdate(p.Value, p.Gradient, state[0], lr, MomentumSchedule.At(epoch));
}

/// <summary>AdaGrad (Duchi, Hazan &amp; Singer, JMLR 2011): <c>h += g^2; theta -= eta*g/(sqrt(h)+eps)</c>.</summary>
public sealed class AdaGrad(ISchedule learningRate, float epsilon = 1e-8f) : Optimizer(learningRate)
{
    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; } = epsilon;

    /// <inheritdoc />
    public override string Kind => "adagrad";

    /// <inheritdoc />
    protected override string[] StateNames => ["sum-of-squares"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.AdaGradUpdate(p.Value, p.Gradient, state[0], lr, Epsilon);
}

/// <summary>RMSprop (Tieleman &amp; Hinton, Coursera lecture 6.5, 2012): <c>MS = 0.9*MS + 0.1*g^2; theta -= eta*g/sqrt(MS)</c>.</summary>
public sealed class RmsProp(ISchedule learningRate, float decay = 0.9f, float epsilon = 1e-8f) : Optimizer(learningRate)
{
    /// <summary>The decay rho of the mean square.</summary>
    public float Decay { get; } = decay;

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; } = epsilon;

    /// <inheritdoc />
    public override string Kind => "rmsprop";

    /// <inheritdoc />
    protected override string[] StateNames => ["mean-square"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.RmsPropUpdate(p.Value, p.Gradient, state[0], lr, Decay, Epsilon);
}

/// <summary>
/// AdaDelta (Zeiler 2012, Algorithm 1; rho 0.95, eps 1e-6): no global learning rate; the
/// schedule's value multiplies the step and is 1 by default.
/// </summary>
public sealed class AdaDelta(ISchedule? learningRate = null, float decay = 0.95f, float epsilon = 1e-6f)
    : Optimizer(learningRate ?? new ConstantSchedule(1f))
{
    /// <summary>The decay rho.</summary>
    public float Decay { get; } = decay;

    /// <summary>The conditioning constant.</summary>
    public float Epsilon { get; } = epsilon;

    /// <inheritdoc />
    public override string Kind => "adadelta";

    /// <inheritdoc />
    protected override string[] StateNames => ["mean-square-gradient", "mean-square-delta"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch)
    {
        var backend = p.Value.Backend;
        if (lr != 1f) backend.ScaleShift(p.Gradient, lr, 0f, p.Gradient);
        backend.AdaDeltaUpdate(p.Value, p.Gradient, state[0], state[1], Decay, Epsilon);
    }
}

/// <summary>Adam (Kingma &amp; Ba, ICLR 2015), bias-corrected; defaults 1e-3 / 0.9 / 0.999 / 1e-8.</summary>
public sealed class Adam(ISchedule learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    : Optimizer(learningRate)
{
    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; } = beta1;

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; } = beta2;

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; } = epsilon;

    /// <inheritdoc />
    public override string Kind => "adam";

    /// <inheritdoc />
    protected override string[] StateNames => ["first-moment", "second-moment"];

    /// <inheritdoc />
    protected override void Update(Parameter p, Tensor[] state, float lr, int epoch) =>
        p.Value.Backend.AdamUpdate(p.Value, p.Gradient, state[0], state[1], lr, Beta1, Beta2, Epsilon, (int)StepCount);
}
