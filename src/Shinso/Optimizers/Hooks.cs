using Shinso.Layers;

namespace Shinso.Optimizers;

/// <summary>A regularizer attached to an optimizer: it edits gradients before and parameters after each update.</summary>
public interface IOptimizerHook
{
    /// <summary>Runs after the backward pass, before the update rule.</summary>
    void BeforeUpdate(IReadOnlyList<Parameter> parameters);

    /// <summary>Runs after the update rule.</summary>
    void AfterUpdate(IReadOnlyList<Parameter> parameters);

    /// <summary>
    /// Whether <see cref="BeforeUpdate"/> reads or changes gradients, so every pending gradient product must be formed first
    /// (the default). A hook that says false must leave parameters with pending products alone; what it would have added
    /// to their gradients it states as <see cref="FusedWeightDecay"/>, which the fused rule applies.
    /// </summary>
    bool NeedsFormedGradients => true;

    /// <summary>The L2 coefficient this hook adds to weight gradients, for a rule that fuses gradient products to apply itself (0: none).</summary>
    float FusedWeightDecay => 0f;
}

/// <summary>
/// Weight decay: the L2 penalty <c>(lambda/2) ||W||^2</c> added to the objective, i.e. <c>g += lambda*W</c>
/// for weights (biases are not decayed).
/// </summary>
public sealed class WeightDecay(float lambda) : IOptimizerHook
{
    /// <summary>The penalty coefficient.</summary>
    public float Lambda { get; } = lambda >= 0f ? lambda : throw new ArgumentOutOfRangeException(nameof(lambda), $"Weight decay must be >= 0, got {lambda}.");

    /// <summary>Adds <c>lambda*W</c> to the gradient of every weight; a weight with pending gradient products gets the
    /// penalty from the rule's fused update instead (<see cref="Optimizer.Step"/>).</summary>
    public void BeforeUpdate(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (p.Role == ParameterRole.Weight && p.GradientProductCount == 0) p.Value.Backend.Axpy(Lambda, p.Value, p.Gradient);
    }

    /// <inheritdoc />
    public void AfterUpdate(IReadOnlyList<Parameter> parameters) { }

    /// <inheritdoc />
    public bool NeedsFormedGradients => false;

    /// <inheritdoc />
    public float FusedWeightDecay => Lambda;
}

/// <summary>
/// Max-norm (Srivastava et al., JMLR 2014, section 5.1): after every update each unit's incoming
/// weight vector is projected onto the ball of radius <c>c</c>.
/// </summary>
public sealed class MaxNorm(float maxNorm) : IOptimizerHook
{
    /// <summary>The radius c.</summary>
    public float Limit { get; } = maxNorm > 0f ? maxNorm : throw new ArgumentOutOfRangeException(nameof(maxNorm), $"Max-norm must be > 0, got {maxNorm}.");

    /// <inheritdoc />
    public void BeforeUpdate(IReadOnlyList<Parameter> parameters) { }

    /// <inheritdoc />
    public void AfterUpdate(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (p.Role == ParameterRole.Weight) p.Value.Backend.ClipColumnNorms(p.Value, Limit);
    }

    /// <inheritdoc />
    public bool NeedsFormedGradients => false;
}

/// <summary>Gradient clipping by global norm (Pascanu et al. 2013): if ||g|| &gt; c, every gradient is scaled by c/||g||.</summary>
public sealed class GradientClipping(float maxNorm) : IOptimizerHook
{
    /// <summary>The largest allowed global gradient norm.</summary>
    public float Limit { get; } = maxNorm > 0f ? maxNorm : throw new ArgumentOutOfRangeException(nameof(maxNorm), $"Clipping norm must be > 0, got {maxNorm}.");

    /// <inheritdoc />
    public void BeforeUpdate(IReadOnlyList<Parameter> parameters)
    {
        double sumOfSquares = 0;
        foreach (var p in parameters) sumOfSquares += p.Gradient.Backend.SumOfSquares(p.Gradient);
        double norm = Math.Sqrt(sumOfSquares);
        if (norm <= Limit) return;
        float scale = (float)(Limit / norm);
        foreach (var p in parameters) p.Gradient.Backend.ScaleShift(p.Gradient, scale, 0f, p.Gradient);
    }

    /// <inheritdoc />
    public void AfterUpdate(IReadOnlyList<Parameter> parameters) { }
}
