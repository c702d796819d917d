using Shinso.Layers;
using Shinso.Profiling;
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
    private readonly Dictionary<Parameter, float> _rateMultipliers = new(ReferenceEqualityComparer.Instance);

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

    /// <summary>
    /// Multiplies the learning rate of <paramref name="parameter"/> by <paramref name="multiplier"/> from the next step on, on
    /// top of its own <see cref="Parameter.LearningRateScale"/>: e.g. 0.1 for layers copied from another net and fine-tuned
    /// gently. 1 restores the plain rate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="multiplier"/> is not positive and finite (freeze a layer instead of giving it 0).</exception>
    public void SetLearningRateMultiplier(Parameter parameter, float multiplier)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!(multiplier > 0) || !float.IsFinite(multiplier))
            throw new ArgumentOutOfRangeException(nameof(multiplier), multiplier, $"{parameter.Name}: a learning-rate multiplier must be positive and finite (freeze the layer to keep it fixed).");
        if (multiplier == 1f) _rateMultipliers.Remove(parameter);
        else _rateMultipliers[parameter] = multiplier;
    }

    /// <summary>The factor on the schedule's learning rate for <paramref name="parameter"/>: its own scale times the multiplier set for it.</summary>
    public float RateScale(Parameter parameter) =>
        parameter.LearningRateScale * (_rateMultipliers.TryGetValue(parameter, out float m) ? m : 1f);

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
            weightDecay += hook.FusedWeightDecay;
        }
        if (!fuse)
            foreach (var p in parameters)
                if (p.GradientProductCount > 0) p.FormGradient();
        try
        {
            foreach (var hook in Hooks) hook.BeforeUpdate(parameters);
            StepCount++;
            float lr = LearningRate.At(epoch, StepCount - 1);
            Prepare(parameters, lr);
            foreach (var p in parameters)
            {
                using var span = Profiler.Update(p, p.Name);
                float rate = lr * RateScale(p);
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

    /// <summary>
    /// Runs once per step after the hooks and before the per-parameter updates, with the step's learning rate: for rules
    /// whose update of one parameter depends on all of them (K-FAC's trust region). StepCount is already the step's number.
    /// </summary>
    protected virtual void Prepare(IReadOnlyList<Parameter> parameters, float learningRate) { }

    /// <summary>State a rule keeps besides its per-parameter tensors (K-FAC's Kronecker factors), for checkpoints.</summary>
    protected virtual IEnumerable<(string Name, Tensor Value)> ExtraState() => [];

    /// <summary>Applies the rule to one parameter.</summary>
    protected abstract void Update(Parameter parameter, Tensor[] state, float learningRate, int epoch);

    /// <summary>Whether <see cref="UpdateFromGradientProducts"/> is overridden, so a step need not form product gradients.</summary>
    protected virtual bool FusesGradientProducts => false;

    /// <summary>
    /// Applies the rule to a parameter whose gradient is its pending products plus <c>weightDecay * theta</c>
    /// (the hooks' <see cref="IOptimizerHook.FusedWeightDecay"/>, since they leave such parameters to the rule). Rules that can write the products
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
        foreach (var extra in ExtraState()) yield return extra;
    }

    /// <summary>The per-parameter state tensors of <paramref name="p"/> (one per <see cref="StateNames"/> entry, allocated zero on first use).</summary>
    protected Tensor[] StateOf(Parameter p)
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
