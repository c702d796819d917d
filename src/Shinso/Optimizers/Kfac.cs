using Shinso.Backends;
using Shinso.Layers;
using Shinso.Numerics;
using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Optimizers;

/// <summary>Which targets the Fisher's output-gradient statistics are taken at.</summary>
public enum FisherTargets
{
    /// <summary>Targets drawn from the model's own predictive distribution (the true Fisher, as Martens &amp; Grosse do); one extra backward pass per step.</summary>
    Sampled,

    /// <summary>The training targets (the empirical Fisher): the training backward pass's own gradients, no extra pass.</summary>
    Empirical,
}

/// <summary>
/// K-FAC (Martens &amp; Grosse, ICML 2015), the natural gradient with each dense layer's block of the Fisher approximated by a
/// Kronecker product <c>F ≈ A ⊗ G</c>: A the second moment of the layer's inputs, G that of the per-example gradients of its
/// outputs (pre-activations), both running averages over steps. The update of a weight W (inputs x units) is
/// <c>(A + π√λ I)⁻¹ ∇W (G + √λ/π I)⁻¹</c>, of its bias <c>(1 + π√λ)⁻¹ ∇b (G + √λ/π I)⁻¹</c> (the bias its own block, whose A
/// factor is 1), with
/// factored Tikhonov damping λ, the factors' inverses refreshed every <see cref="InverseInterval"/> steps, momentum, and the
/// step scaled down to a KL trust region (<see cref="KlClip"/>, as in Ba, Grosse &amp; Martens 2017) when
/// <c>lr² Σ ⟨Δ, ∇⟩</c> exceeds it. Parameters of other layers (convolutions, tied weights) take a plain momentum step.
/// </summary>
/// <remarks>
/// The damping is fixed (the paper adapts λ by a Levenberg-Marquardt rule, which costs an extra loss evaluation per
/// adjustment). The statistics come from the layers' own forward and backward tensors, read by <see cref="Observe"/>
/// after a backward pass; the trainer calls it after an extra backward pass from sampled targets, or after the training
/// one for <see cref="FisherTargets.Empirical"/>. The factor matrices are inverted on the CPU in double precision
/// (<see cref="SymmetricPositiveDefinite"/>); the statistics and the preconditioning are backend GEMMs.
/// </remarks>
public sealed class Kfac : Optimizer
{
    private readonly Dictionary<Parameter, Factors> _factorsOf = new(ReferenceEqualityComparer.Instance);
    private readonly List<Factors> _layers = [];
    private readonly Dictionary<Parameter, (Tensor Direction, Tensor Product)> _scratch = new(ReferenceEqualityComparer.Instance);
    private float _stepScale = 1f;
    private IReadOnlyList<ILayer>? _attachedTo;

    /// <summary>Creates the optimizer; call <see cref="Attach"/> with the net's layers before the first step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its range.</exception>
    public Kfac(ISchedule learningRate, float momentum = 0.9f, float damping = 1e-2f, float statisticsDecay = 0.95f, int inverseInterval = 20,
        float klClip = 1e-3f, FisherTargets targets = FisherTargets.Sampled) : base(learningRate)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "K-FAC's momentum lies in [0, 1).");
        if (!(damping > 0) || !float.IsFinite(damping)) throw new ArgumentOutOfRangeException(nameof(damping), damping, "K-FAC's damping must be positive.");
        if (!(statisticsDecay >= 0 && statisticsDecay < 1)) throw new ArgumentOutOfRangeException(nameof(statisticsDecay), statisticsDecay, "The statistics' decay lies in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inverseInterval);
        if (!(klClip >= 0) || !float.IsFinite(klClip)) throw new ArgumentOutOfRangeException(nameof(klClip), klClip, "The KL clip is >= 0 (0: no clipping).");
        MomentumRate = momentum;
        Damping = damping;
        StatisticsDecay = statisticsDecay;
        InverseInterval = inverseInterval;
        KlClip = klClip;
        Targets = targets;
    }

    /// <inheritdoc />
    public override string Kind => "kfac";

    /// <summary>The momentum μ of <c>v ← μ v - ν lr Δ</c>.</summary>
    public float MomentumRate { get; }

    /// <summary>The Tikhonov damping λ.</summary>
    public float Damping { get; }

    /// <summary>The running averages' decay ε (the paper's <c>min(1 - 1/k, ε)</c> at step k, so early steps are not biased to zero).</summary>
    public float StatisticsDecay { get; }

    /// <summary>Steps between refreshes of the factors' inverses (T₃ in the paper).</summary>
    public int InverseInterval { get; }

    /// <summary>The KL trust region κ: the step is scaled by <c>min(1, √(κ / (lr² Σ ⟨Δ, ∇⟩)))</c>; 0 turns it off.</summary>
    public float KlClip { get; }

    /// <summary>Where the Fisher's output gradients come from.</summary>
    public FisherTargets Targets { get; }

    /// <summary>The layers K-FAC preconditions (attached dense layers whose weights no other layer shares).</summary>
    public int PreconditionedLayers => _layers.Count;

    /// <summary>The lowest layer index whose statistics <see cref="Observe"/> reads (-1 when none): a statistics pass must reach it.</summary>
    public int LowestObservedLayer { get; private set; } = -1;

    /// <inheritdoc />
    protected override string[] StateNames => ["velocity"];

    /// <summary>
    /// Finds the layers to precondition among <paramref name="layers"/> (input first): every dense layer whose weight is
    /// trained (in <paramref name="trainable"/>) and used by no other layer. Call once, before training or restoring a checkpoint.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already attached to other layers.</exception>
    public void Attach(IReadOnlyList<ILayer> layers, IReadOnlyList<Parameter> trainable)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(trainable);
        // A restored checkpoint attaches before reading the factors, and the trainer then attaches again: the same net is no change.
        if (ReferenceEquals(_attachedTo, layers)) return;
        if (_attachedTo is not null) throw new InvalidOperationException("This K-FAC optimizer is attached to another net's layers already.");
        _attachedTo = layers;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not Dense dense || !trainable.Contains(dense.Weight) || !trainable.Contains(dense.Bias)) continue;
            bool shared = false;
            for (int j = 0; j < layers.Count; j++)
                if (j != i && layers[j].Parameters.Contains(dense.Weight)) shared = true;
            if (shared) continue;
            var backend = dense.Weight.Value.Backend;
            var factors = new Factors(dense, _layers.Count,
                backend.Allocate(dense.Inputs, dense.Inputs), backend.Allocate(dense.Units, dense.Units),
                backend.Allocate(dense.Inputs, dense.Inputs), backend.Allocate(dense.Units, dense.Units), backend.Allocate(1));
            _layers.Add(factors);
            _factorsOf[dense.Weight] = factors;
            _factorsOf[dense.Bias] = factors;
            if (LowestObservedLayer < 0) LowestObservedLayer = i;
        }
    }

    /// <summary>
    /// Folds the last forward and backward pass of every preconditioned layer into its factors:
    /// <c>A ← ε A + (1-ε) XᵀX / n</c> and <c>G ← ε G + (1-ε) n dYᵀdY</c> (dY is the gradient of the batch's mean loss, so
    /// n dY holds the per-example gradients). Once per step.
    /// </summary>
    /// <exception cref="InvalidOperationException">A layer has not run forward and backward.</exception>
    public void Observe()
    {
        // The step about to be taken is step StepCount + 1: its average starts from the first observation.
        long k = StepCount + 1;
        float decay = Math.Min(1f - 1f / k, StatisticsDecay);
        foreach (var f in _layers)
        {
            var x = f.Layer.LastInput ?? throw new InvalidOperationException("K-FAC observed a dense layer that has not run forward.");
            var dy = f.Layer.LastOutputGradient ?? throw new InvalidOperationException("K-FAC observed a dense layer that has not run backward.");
            int n = x.Rows;
            var backend = x.Backend;
            backend.Gemm(Transpose.Transposed, Transpose.None, (1 - decay) / n, x, x, decay, f.A);
            backend.Gemm(Transpose.Transposed, Transpose.None, (1 - decay) * n, dy, dy, decay, f.G);
        }
    }

    /// <summary>
    /// Refreshes the inverses when due, then forms every parameter's preconditioned direction and the KL scale of the step.
    /// </summary>
    protected override void Prepare(IReadOnlyList<Parameter> parameters, float learningRate)
    {
        if ((StepCount - 1) % InverseInterval == 0)
            foreach (var f in _layers) RefreshInverses(f);
        double quadratic = 0;
        Span<float> scale = stackalloc float[1];
        foreach (var p in parameters)
        {
            var (direction, product) = Scratch(p);
            var backend = p.Value.Backend;
            if (_factorsOf.TryGetValue(p, out var f))
            {
                if (p == f.Layer.Weight)
                {
                    // Δ = A⁻¹ ∇W G⁻¹; the product buffer holds A⁻¹ ∇W on the way.
                    backend.Gemm(Transpose.None, Transpose.None, 1f, f.InverseA, p.Gradient, 0f, product);
                    backend.Gemm(Transpose.None, Transpose.None, 1f, product, f.InverseG, 0f, direction);
                }
                else
                {
                    // The bias's own A factor is E[1·1] = 1, damped like A: Δb = (1 + π√λ)⁻¹ ∇b G⁻¹.
                    backend.Download(f.BiasScale, scale);
                    backend.Gemm(Transpose.None, Transpose.None, scale[0], p.Gradient.Reshape(1, f.Layer.Units), f.InverseG, 0f,
                        direction.Reshape(1, f.Layer.Units));
                }
            }
            else backend.Copy(p.Gradient, direction);
            backend.Multiply(direction, p.Gradient, product);
            double rate = RateScale(p);
            quadratic += backend.Sum(product) * rate * rate;
        }
        double step = (double)learningRate * learningRate * quadratic;
        _stepScale = KlClip > 0 && step > KlClip ? (float)Math.Sqrt(KlClip / step) : 1f;
    }

    /// <inheritdoc />
    protected override void Update(Parameter parameter, Tensor[] state, float learningRate, int epoch)
    {
        var backend = parameter.Value.Backend;
        // v ← μ v - ν lr Δ; θ ← θ + v.
        backend.Axpby(-_stepScale * learningRate, Scratch(parameter).Direction, MomentumRate, state[0]);
        backend.Axpy(1f, state[0], parameter.Value);
    }

    /// <summary>
    /// A parameter's preconditioned direction and a product buffer, both recomputed every step from the gradient: scratch,
    /// so not optimizer state (checkpoints keep only the velocity and the factors).
    /// </summary>
    private (Tensor Direction, Tensor Product) Scratch(Parameter p)
    {
        if (!_scratch.TryGetValue(p, out var buffers))
        {
            var shape = p.Value.Shape.ToArray();
            buffers = (p.Value.Backend.Allocate(shape), p.Value.Backend.Allocate(shape));
            _scratch[p] = buffers;
        }
        return buffers;
    }

    /// <summary>The factors and their inverses, for checkpoints: a resumed run preconditions as the uninterrupted one.</summary>
    protected override IEnumerable<(string Name, Tensor Value)> ExtraState()
    {
        foreach (var f in _layers)
        {
            yield return ($"kfac/{f.Index}/A", f.A);
            yield return ($"kfac/{f.Index}/G", f.G);
            yield return ($"kfac/{f.Index}/inverse-A", f.InverseA);
            yield return ($"kfac/{f.Index}/inverse-G", f.InverseG);
            yield return ($"kfac/{f.Index}/bias-scale", f.BiasScale);
        }
    }

    /// <summary>The damped inverses: <c>(A + π√λ I)⁻¹</c> and <c>(G + √λ/π I)⁻¹</c>, π² the ratio of the factors' mean eigenvalues.</summary>
    private void RefreshInverses(Factors f)
    {
        var a = Download(f.A);
        var g = Download(f.G);
        int na = f.Layer.Inputs, ng = f.Layer.Units;
        double traceA = 0, traceG = 0;
        for (int i = 0; i < na; i++) traceA += a[i * na + i];
        for (int i = 0; i < ng; i++) traceG += g[i * ng + i];
        double pi = traceA > 0 && traceG > 0 ? Math.Sqrt(traceA / na / (traceG / ng)) : 1;
        double root = Math.Sqrt(Damping);
        for (int i = 0; i < na; i++) a[i * na + i] += pi * root;
        for (int i = 0; i < ng; i++) g[i * ng + i] += root / pi;
        f.BiasScale.Backend.Upload([(float)(1 / (1 + pi * root))], f.BiasScale);
        SymmetricPositiveDefinite.Invert(a, na);
        SymmetricPositiveDefinite.Invert(g, ng);
        Upload(a, f.InverseA);
        Upload(g, f.InverseG);
    }

    private static double[] Download(Tensor t)
    {
        var floats = new float[t.Length];
        t.Backend.Download(t, floats);
        var values = new double[floats.Length];
        for (int i = 0; i < floats.Length; i++) values[i] = floats[i];
        return values;
    }

    private static void Upload(double[] values, Tensor t)
    {
        var floats = new float[values.Length];
        for (int i = 0; i < values.Length; i++) floats[i] = (float)values[i];
        t.Backend.Upload(floats, t);
    }

    /// <summary>One preconditioned layer: its Kronecker factors, their damped inverses, and the bias's damped scalar factor.</summary>
    /// <param name="Layer">The dense layer.</param>
    /// <param name="Index">Its position among the preconditioned layers (names its checkpoint tensors).</param>
    /// <param name="A">The running second moment of its inputs.</param>
    /// <param name="G">The running second moment of its per-example output gradients.</param>
    /// <param name="InverseA">The damped inverse of A.</param>
    /// <param name="InverseG">The damped inverse of G.</param>
    /// <param name="BiasScale"><c>(1 + π√λ)⁻¹</c>, refreshed with the inverses (a one-element tensor, so checkpoints keep it).</param>
    private sealed record Factors(Dense Layer, int Index, Tensor A, Tensor G, Tensor InverseA, Tensor InverseG, Tensor BiasScale);
}
