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
/// <c>lr² Σ ⟨Δ, ∇⟩</c> exceeds it. Convolutions are preconditioned by KFC (Grosse &amp; Martens 2016): A from the patches
/// summed over output positions, G from the output gradients averaged over them, <c>Δ = G⁻¹ ∇W A⁻¹</c> for the [filters,
/// patch] weight. Dense layers and convolutions inside residual blocks are preconditioned too; parameters of other layers
/// (tiled convolutions, tied weights) take a plain momentum step.
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
    private readonly Dictionary<Factors, (int Batch, Tensor Columns, Tensor Gradients)> _patches = new(ReferenceEqualityComparer.Instance);
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

    /// <summary>The layers K-FAC preconditions (attached dense layers and convolutions whose weights no other layer shares).</summary>
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
        // A residual block's body and projection are preconditioned like top-level layers; a backward pass reaches them at the block's index.
        var leaves = new List<(int Index, ILayer Layer)>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is ResidualBlock block)
            {
                foreach (var inner in block.Body) leaves.Add((i, inner));
                if (block.Projection is { } projection) leaves.Add((i, projection));
            }
            else leaves.Add((i, layers[i]));
        }
        foreach (var (index, layer) in leaves)
        {
            var (weight, bias) = layer switch
            {
                Dense d => (d.Weight, d.Bias),
                Conv2d c => (c.Weight, c.Bias),
                _ => ((Parameter?)null, (Parameter?)null),
            };
            if (weight is null || bias is null || !trainable.Contains(weight) || !trainable.Contains(bias)) continue;
            bool shared = false;
            foreach (var (_, other) in leaves)
                if (!ReferenceEquals(other, layer) && other.Parameters.Contains(weight)) shared = true;
            if (shared) continue;
            var backend = weight.Value.Backend;
            // Dense: W is [inputs, units]. Convolution (KFC): W is [filters, C*KH*KW], each of OH*OW positions a dense layer on its patch.
            var (inputs, outputs, positions) = layer is Conv2d conv
                ? (conv.Geometry.ColumnRows, conv.Filters, conv.Geometry.ColumnCount)
                : (((Dense)layer).Inputs, ((Dense)layer).Units, 1);
            var factors = new Factors(layer, weight, bias, _layers.Count, inputs, outputs, positions,
                backend.Allocate(inputs, inputs), backend.Allocate(outputs, outputs),
                backend.Allocate(inputs, inputs), backend.Allocate(outputs, outputs), backend.Allocate(1));
            _layers.Add(factors);
            _factorsOf[weight] = factors;
            _factorsOf[bias] = factors;
            if (LowestObservedLayer < 0) LowestObservedLayer = index;
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
            if (f.Layer is Conv2d conv)
            {
                ObserveConvolution(f, conv, decay);
                continue;
            }
            var dense = (Dense)f.Layer;
            var x = dense.LastInput ?? throw new InvalidOperationException("K-FAC observed a dense layer that has not run forward.");
            var dy = dense.LastOutputGradient ?? throw new InvalidOperationException("K-FAC observed a dense layer that has not run backward.");
            int n = x.Rows;
            var backend = x.Backend;
            backend.Gemm(Transpose.Transposed, Transpose.None, (1 - decay) / n, x, x, decay, f.A);
            backend.Gemm(Transpose.Transposed, Transpose.None, (1 - decay) * n, dy, dy, decay, f.G);
        }
    }

    /// <summary>
    /// Grosse &amp; Martens 2016's KFC factors of a convolution: <c>A ← ε A + (1-ε) (1/n) Σ_i Σ_t a_it a_itᵀ</c> over the
    /// patches a (im2col's columns) and <c>G ← ε G + (1-ε) (n/T) Σ_i Σ_t dy_it dy_itᵀ</c> over the T output positions, so that
    /// <c>A ⊗ G</c> is the Fisher block under spatially uncorrelated, homogeneous output gradients.
    /// </summary>
    private void ObserveConvolution(Factors f, Conv2d conv, float decay)
    {
        var x = conv.LastInput ?? throw new InvalidOperationException("K-FAC observed a convolution that has not run forward.");
        var dy = conv.LastOutputGradient ?? throw new InvalidOperationException("K-FAC observed a convolution that has not run backward.");
        int n = x.Rows, t = f.Positions;
        var backend = x.Backend;
        var g = conv.Geometry;
        if (!_patches.TryGetValue(f, out var scratch) || scratch.Batch != n)
        {
            scratch = (n, backend.Allocate(f.Inputs, n * t), backend.Allocate(f.Outputs, n * t));
            _patches[f] = scratch;
        }
        backend.Im2Col(x.Reshape(n, g.Channels, g.Height, g.Width), g, scratch.Columns);
        backend.Gemm(Transpose.None, Transpose.Transposed, (1 - decay) / n, scratch.Columns, scratch.Columns, decay, f.A);
        // [n, F, T] to [F, n*T]: one GEMM sums the outer products over examples and positions.
        backend.SwapLeadingAxes(dy, n, f.Outputs, scratch.Gradients);
        backend.Gemm(Transpose.None, Transpose.Transposed, (1 - decay) * n / t, scratch.Gradients, scratch.Gradients, decay, f.G);
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
                if (p == f.Weight && f.Layer is Conv2d)
                {
                    // W is [filters, patch]: Δ = G⁻¹ ∇W A⁻¹; the product buffer holds G⁻¹ ∇W on the way.
                    backend.Gemm(Transpose.None, Transpose.None, 1f, f.InverseG, p.Gradient, 0f, product);
                    backend.Gemm(Transpose.None, Transpose.None, 1f, product, f.InverseA, 0f, direction);
                }
                else if (p == f.Weight)
                {
                    // W is [inputs, units]: Δ = A⁻¹ ∇W G⁻¹; the product buffer holds A⁻¹ ∇W on the way.
                    backend.Gemm(Transpose.None, Transpose.None, 1f, f.InverseA, p.Gradient, 0f, product);
                    backend.Gemm(Transpose.None, Transpose.None, 1f, product, f.InverseG, 0f, direction);
                }
                else
                {
                    // The bias's own A factor is the sum over positions of 1·1 (1 for a dense layer, T for a convolution), damped
                    // like A: Δb = (T + π√λ)⁻¹ ∇b G⁻¹.
                    backend.Download(f.BiasScale, scale);
                    backend.Gemm(Transpose.None, Transpose.None, scale[0], p.Gradient.Reshape(1, f.Outputs), f.InverseG, 0f,
                        direction.Reshape(1, f.Outputs));
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
        int na = f.Inputs, ng = f.Outputs;
        double traceA = 0, traceG = 0;
        for (int i = 0; i < na; i++) traceA += a[i * na + i];
        for (int i = 0; i < ng; i++) traceG += g[i * ng + i];
        double pi = traceA > 0 && traceG > 0 ? Math.Sqrt(traceA / na / (traceG / ng)) : 1;
        double root = Math.Sqrt(Damping);
        for (int i = 0; i < na; i++) a[i * na + i] += pi * root;
        for (int i = 0; i < ng; i++) g[i * ng + i] += root / pi;
        f.BiasScale.Backend.Upload([(float)(1 / (f.Positions + pi * root))], f.BiasScale);
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
    /// <param name="Layer">The dense layer or convolution.</param>
    /// <param name="Weight">Its weight.</param>
    /// <param name="Bias">Its bias.</param>
    /// <param name="Index">Its position among the preconditioned layers (names its checkpoint tensors).</param>
    /// <param name="Inputs">A's side: the dense layer's inputs, or a convolution's patch length C*KH*KW.</param>
    /// <param name="Outputs">G's side: units or filters.</param>
    /// <param name="Positions">Output positions sharing the weight: 1 for a dense layer, OH*OW for a convolution.</param>
    /// <param name="A">The running second moment of its inputs (patches, summed over positions).</param>
    /// <param name="G">The running second moment of its per-example output gradients.</param>
    /// <param name="InverseA">The damped inverse of A.</param>
    /// <param name="InverseG">The damped inverse of G.</param>
    /// <param name="BiasScale"><c>(1 + π√λ)⁻¹</c>, refreshed with the inverses (a one-element tensor, so checkpoints keep it).</param>
    private sealed record Factors(ILayer Layer, Parameter Weight, Parameter Bias, int Index, int Inputs, int Outputs, int Positions,
        Tensor A, Tensor G, Tensor InverseA, Tensor InverseG, Tensor BiasScale);
}
