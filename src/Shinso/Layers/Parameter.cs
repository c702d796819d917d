using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>What a parameter is, so regularizers know which ones they apply to.</summary>
public enum ParameterRole
{
    /// <summary>A weight matrix stored inputs x units: weight decay and max-norm apply.</summary>
    Weight,
    /// <summary>A bias vector: left alone by weight decay and max-norm, as in the papers.</summary>
    Bias,
}

/// <summary>A trainable tensor, its gradient (same shape, same backend) and its role.</summary>
/// <remarks>
/// A gradient source either writes <see cref="Gradient"/> or, for a matrix whose gradient is a sum of GEMM products
/// (the weight statistics of a Boltzmann machine), states those products with <see cref="SetGradientProducts"/> and
/// leaves the optimizer to choose: a rule that only adds the gradient into its state writes the products straight
/// there (the fused CD update), any other forms <see cref="Gradient"/> first.
/// </remarks>
public sealed class Parameter
{
    private GradientTerm _term0, _term1;

    private Tensor? _gradient;
    private bool _gradientWritten;

    /// <summary>Creates a parameter; its gradient, a zeroed tensor of the same shape on the value's backend, is allocated on first use.</summary>
    public Parameter(string name, Tensor value, ParameterRole role)
    {
        Name = name;
        Value = value;
        Role = role;
    }

    /// <summary>A unique name within its model, e.g. <c>layer0.weight</c>; used in model files.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public Tensor Value { get; }

    /// <summary>
    /// The gradient of the objective, written by the last backward pass (a parameter whose gradient is always fused from
    /// products never has it written, nor allocated).
    /// </summary>
    public Tensor Gradient => _gradient ??= Value.Backend.Allocate(Value.Shape.ToArray());

    /// <summary>
    /// Starts a pass: the next layer to write <see cref="Gradient"/> replaces it. Layers call it from their forward pass, so
    /// a parameter used by several layers (tied weights) starts each pass once per user, before any backward pass writes.
    /// </summary>
    public void BeginPass() => _gradientWritten = false;

    /// <summary>
    /// The <c>beta</c> with which a layer writes its share of <see cref="Gradient"/> in a backward pass: 0 for the first
    /// writer since <see cref="BeginPass"/> (it replaces the last pass's gradient), 1 for every later one (a layer sharing
    /// the parameter adds its share), so a shared parameter's gradient is the sum over the layers that use it.
    /// </summary>
    public float NextGradientBeta()
    {
        float beta = _gradientWritten ? 1f : 0f;
        _gradientWritten = true;
        return beta;
    }

    /// <summary>Weight or bias.</summary>
    public ParameterRole Role { get; }

    /// <summary>Multiplies the optimizer's learning rate for this parameter (e.g. 0.1 for an RBM's log sigma).</summary>
    public float LearningRateScale { get; init; } = 1f;

    /// <summary>Number of pending gradient products (0: <see cref="Gradient"/> holds the gradient).</summary>
    public int GradientProductCount { get; private set; }

    /// <summary>
    /// States the gradient as <c>scale0 * left0^T right0 (+ scale1 * left1^T right1)</c>, to be formed or fused by the
    /// next optimizer step; <see cref="Gradient"/> is not written until then.
    /// </summary>
    /// <exception cref="ArgumentException">A product's shape is not the parameter's.</exception>
    public void SetGradientProducts(GradientTerm first, GradientTerm? second = null)
    {
        Check(first);
        _term0 = first;
        GradientProductCount = 1;
        if (second is { } s)
        {
            Check(s);
            _term1 = s;
            GradientProductCount = 2;
        }
    }

    /// <summary>Pending product <paramref name="index"/> (0 or 1).</summary>
    public GradientTerm GradientProduct(int index) =>
        index < GradientProductCount ? (index == 0 ? _term0 : _term1) : throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {GradientProductCount} pending products.");

    /// <summary>Writes the pending products into <see cref="Gradient"/> and clears them.</summary>
    public void FormGradient()
    {
        var be = Gradient.Backend;
        for (int k = 0; k < GradientProductCount; k++)
        {
            var t = GradientProduct(k);
            be.Gemm(Operations.Transpose.Transposed, Operations.Transpose.None, t.Scale, t.Left, t.Right, k == 0 ? 0f : 1f, Gradient);
        }
        ClearGradientProducts();
    }

    /// <summary>Drops the pending products (after a rule has fused them).</summary>
    public void ClearGradientProducts()
    {
        GradientProductCount = 0;
        _term0 = _term1 = default;
    }

    private void Check(GradientTerm t)
    {
        ArgumentNullException.ThrowIfNull(t.Left);
        ArgumentNullException.ThrowIfNull(t.Right);
        if (Value.Rank != 2 || t.Left.Columns != Value.Rows || t.Right.Columns != Value.Columns || t.Left.Rows != t.Right.Rows)
            throw new ArgumentException($"{Name}: a product of [{t.Left.Rows}, {t.Left.Columns}]^T and [{t.Right.Rows}, {t.Right.Columns}] does not give its shape {Tensor.ShapeText(Value.Shape)}.");
    }
}

/// <summary>One GEMM product of a gradient: <c>Scale * Left^T Right</c>.</summary>
/// <param name="Left">[rows, parameter rows].</param>
/// <param name="Right">[rows, parameter columns].</param>
/// <param name="Scale">The factor.</param>
public readonly record struct GradientTerm(Tensor Left, Tensor Right, float Scale);
