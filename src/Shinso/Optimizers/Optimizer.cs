using Shinso.Layers;
using Shinso.Tensors;

namespace Shinso.Optimizers;

/// <summary>
/// An update rule applied to every parameter after each backward pass. Rules hold their own
/// per-parameter state (velocities, moment estimates) in backend tensors; regularizers attach as
/// <see cref="IOptimizerHook"/>s, so models never contain optimizer code.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<Parameter, Tensor[]> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates an optimizer with the given learning-rate schedule.</summary>
    protected Optimizer(ISchedule learningRate) => LearningRate = learningRate;

    /// <summary>A short name, e.g. <c>adam</c>; used in configs and checkpoints.</summary>
    public abstract string Kind { get; }

    /// <summary>The learning rate per epoch.</summary>
    public ISchedule LearningRate { get; }

    /// <summary>Regularizers run before (on gradients) and after (on parameters) each update.</summary>
    public List<IOptimizerHook> Hooks { get; } = [];

    /// <summary>Updates performed so far (Adam's t; saved in checkpoints).</summary>
    public long StepCount { get; set; }

    /// <summary>Names of the state tensors this rule keeps per parameter (e.g. <c>velocity</c>).</summary>
    protected abstract string[] StateNames { get; }

    /// <summary>
    /// Applies one update to every parameter from its current gradient, or from its pending gradient products
    /// (<see cref="Parameter.SetGradientProducts"/>): the rule fuses those into its state when it can and every hook allows
    /// it (<see cref="IOptimizerHook.NeedsFormedGradients"/>), otherwise they are formed into the gradient first.
    /// </summary>
    public void Step(IReadOnlyList<Parameter> parameters, int epoch)
    {
        bool fuse = FusesGradientProducts;
        float weightDecay = 0f;
        foreach (var hook in Hooks)
        {
            if (hook.NeedsFormedGradients) fuse = false;
            if (hook is WeightDecay decay) weightDecay += decay.Lambda;
        }
        if (!fuse)
            foreach (var p in parameters)
                if (p.GradientProductCount > 0) p.FormGradient();
        try
        {
            foreach (var hook in Hooks) hook.BeforeUpdate(parameters);
            StepCount++;
            float lr = LearningRate.At(epoch);
            foreach (var p in parameters)
            {
                float rate = lr * p.LearningRateScale;
                if (p.GradientProductCount > 0)
                    UpdateFromGradientProducts(p, StateOf(p), rate, p.Role == ParameterRole.Weight ? weightDecay : 0f, epoch);
                else Update(p, StateOf(p), rate, epoch);
            }
        }
        finally
        {
            // Products name the gradient source's buffers, which its next batch overwrites: never leave one pending.
            foreach (var p in parameters) p.ClearGradientProducts();
        }
        foreach (var hook in Hooks) hook.AfterUpdate(parameters);
    }

    /// <summary>Applies the rule to one parameter.</summary>
    protected abstract void Update(Parameter parameter, Tensor[] state, float learningRate, int epoch);

    /// <summary>Whether <see cref="UpdateFromGradientProducts"/> is overridden, so a step need not form product gradients.</summary>
    protected virtual bool FusesGradientProducts => false;

    /// <summary>
    /// Applies the rule to a parameter whose gradient is its pending products plus <c>weightDecay * theta</c>
    /// (the <see cref="WeightDecay"/> hooks, which leave such parameters to the rule). Rules that can write the products
    /// straight into their state override this and <see cref="FusesGradientProducts"/>.
    /// </summary>
    protected virtual void UpdateFromGradientProducts(Parameter parameter, Tensor[] state, float learningRate, float weightDecay, int epoch) =>
        throw new NotSupportedException($"{Kind} forms product gradients before its update.");

    /// <summary>The state tensors of <paramref name="parameters"/> with names <c>parameter/state</c>, for checkpoints.</summary>
    public IEnumerable<(string Name, Tensor Value)> State(IReadOnlyList<Parameter> parameters)
    {
        var names = StateNames;
        foreach (var p in parameters)
        {
            var state = StateOf(p);
            for (int i = 0; i < state.Length; i++) yield return ($"{p.Name}/{names[i]}", state[i]);
        }
    }

    private Tensor[] StateOf(Parameter p)
    {
        if (!_state.TryGetValue(p, out var state))
        {
            var names = StateNames;
            state = new Tensor[names.Length];
            for (int i = 0; i < state.Length; i++) state[i] = p.Value.Backend.Allocate(p.Value.Shape.ToArray());
            _state[p] = state;
        }
        return state;
    }
}

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
