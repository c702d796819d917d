using Shinso.Backends;
using Shinso.Layers;
using Shinso.Losses;
using Shinso.Tensors;
using Shinso.Operations;
using Shinso.Profiling;

namespace Shinso.Models.FeedForward;

/// <summary>
/// A feed-forward network trained by backpropagation (Rumelhart, Hinton &amp; Williams 1986): a
/// sequence of layers ending in raw scores, and a loss fused with the output nonlinearity.
/// Linear regression is the one-layer case with squared error.
/// </summary>
/// <remarks>
/// One thread at a time: the layers keep their activations and gradients in buffers they reuse, so neither training
/// nor <see cref="Predict"/> may run on two threads at once. For predictions from many threads use
/// <see cref="ConcurrentPredictor"/>, which keeps a replica of the net per concurrent call.
/// </remarks>
public sealed class FeedForwardNet
{
    private readonly ILayer[] _layers;
    private readonly BatchBuffer _predictions;
    private readonly BatchBuffer _scoresGradient;
    private readonly IPenaltyLayer[] _penalties;
    private Tensor? _scores;
    private string[]? _profileLabels;
    private int _attributedTo;

    /// <summary>Builds the network described by <paramref name="spec"/> on <paramref name="backend"/>.</summary>
    /// <param name="backend">Where the parameters live and the operations run.</param>
    /// <param name="spec">The architecture.</param>
    /// <param name="seed">Seeds the initial weights and the dropout masks.</param>
    public FeedForwardNet(IBackend backend, FeedForwardSpec spec, ulong seed)
    {
        Backend = backend;
        Spec = spec;
        Seed = seed;
        Loss = LossFactory.Create(spec.Loss);
        _layers = spec.Build(backend, seed);
        // A parameter shared by two layers (tied weights) is listed, saved and updated once.
        var parameters = new List<Parameter>();
        foreach (var l in _layers)
            foreach (var p in l.Parameters)
                if (!parameters.Contains(p)) parameters.Add(p);
        Parameters = parameters;
        _penalties = [.. _layers.OfType<IPenaltyLayer>()];
        _predictions = new BatchBuffer(backend);
        _scoresGradient = new BatchBuffer(backend);
    }

    /// <summary>The backend the network runs on.</summary>
    public IBackend Backend { get; }

    /// <summary>The architecture.</summary>
    public FeedForwardSpec Spec { get; }

    /// <summary>The seed of the initial weights and dropout masks.</summary>
    public ulong Seed { get; }

    /// <summary>The objective.</summary>
    public ILoss Loss { get; }

    /// <summary>The layers, input first.</summary>
    public IReadOnlyList<ILayer> Layers => _layers;

    /// <summary>Every trainable parameter, in layer order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Runs the layers and returns the raw scores (before the output nonlinearity).</summary>
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        CheckInput(input);
        var x = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            using var span = LayerSpan(i, LayerPass.Forward);
            x = _layers[i].Forward(x, context);
        }
        _scores = x;
        return x;
    }

    /// <summary>
    /// Scores the last <see cref="Forward"/> against <paramref name="targets"/>: returns the mean loss (plus the
    /// penalties of the layers that add one, such as a sparsity penalty, after a training pass) and keeps dLoss/dScores
    /// for <see cref="Backward()"/>; the predictions are returned through <paramref name="predictions"/>.
    /// </summary>
    public float ComputeLoss(Tensor targets, out Tensor predictions)
    {
        var scores = _scores ?? throw new InvalidOperationException("ComputeLoss called before Forward.");
        if (targets.Rows != scores.Rows || targets.Columns != scores.Columns)
            throw new ArgumentException(
                $"Targets of shape {Tensor.ShapeText(targets.Shape)} do not match the network's outputs {Tensor.ShapeText(scores.Shape)}.", nameof(targets));
        predictions = _predictions.Get(scores.Rows, scores.Shape[1..]);
        var gradient = _scoresGradient.Get(scores.Rows, scores.Shape[1..]);
        float loss = Loss.Compute(Backend, scores, targets, predictions, gradient);
        float penalties = 0f;
        foreach (var penalty in _penalties) penalties += (float)penalty.Penalty;
        LastPenalty = penalties;
        return loss + penalties;
    }

    /// <summary>The layers' penalties (a sparsity penalty's) that the last <see cref="ComputeLoss"/> added to its loss; their gradients reach the layers directly, not through the scores.</summary>
    public float LastPenalty { get; private set; }

    /// <summary>
    /// dLoss/dScores as the last <see cref="ComputeLoss"/> kept it, for <see cref="Backward()"/>: an objective beyond the
    /// net's own loss (distillation from a teacher's outputs) rewrites it in place between the two.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass came before.</exception>
    public Tensor ScoresGradient
    {
        get
        {
            var scores = _scores ?? throw new InvalidOperationException("ScoresGradient read before Forward and ComputeLoss.");
            return _scoresGradient.Get(scores.Rows, scores.Shape[1..]);
        }
    }

    /// <summary>Backpropagates the gradient kept by <see cref="ComputeLoss"/>, writing every parameter's gradient.</summary>
    public void Backward() => Backward(0);

    /// <summary>
    /// Backpropagates the gradient kept by <see cref="ComputeLoss"/> down to layer <paramref name="lowestLayer"/>, writing the
    /// gradients of the parameters of that layer and the ones above; the layers below get none (they are frozen).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lowestLayer"/> is not a layer index.</exception>
    public void Backward(int lowestLayer)
    {
        var scores = _scores ?? throw new InvalidOperationException("Backward called before ComputeLoss.");
        if ((uint)lowestLayer >= (uint)_layers.Length)
            throw new ArgumentOutOfRangeException(nameof(lowestLayer), lowestLayer, $"The net has layers 0 to {_layers.Length - 1}.");
        Tensor? gradient = _scoresGradient.Get(scores.Rows, scores.Shape[1..]);
        // Every backward pass replaces the gradients (a shared weight's users then add theirs), however often it runs.
        foreach (var p in Parameters) p.BeginPass();
        // The lowest layer's input gradient is never used, so its GEMM is skipped.
        for (int i = _layers.Length - 1; i >= lowestLayer && gradient is not null; i--)
        {
            using var span = LayerSpan(i, LayerPass.Backward);
            gradient = _layers[i].Backward(gradient, needInputGradient: i > lowestLayer);
        }
    }

    /// <summary>
    /// Backpropagates <paramref name="scoresGradient"/>, a gradient with respect to the raw scores of the last
    /// <see cref="Forward"/> (one row per input row), down to the input and returns it: row i is
    /// <c>Σ_k scoresGradient[i, k] ∂score_k / ∂input_i</c>, a vector-Jacobian product. For sensitivity analysis between
    /// training steps, not within one: the parameters' gradients are left unspecified (see <see cref="ILayer.InputGradient"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass came before.</exception>
    /// <exception cref="ArgumentException">The gradient's shape is not the scores'.</exception>
    public Tensor InputGradient(Tensor scoresGradient) => Backpropagate(scoresGradient, 0);

    /// <summary>Whether every layer can backpropagate several gradients per forward row (<see cref="RepeatedInputGradient"/>).</summary>
    public bool CanRepeatInputGradient => Array.TrueForAll(_layers, l => l is IRepeatedInputGradient);

    /// <summary>
    /// <see cref="InputGradient"/> for <paramref name="copies"/> score gradients per row of the last <see cref="Forward"/> (an
    /// inference pass): rows <c>r·copies</c> to <c>r·copies + copies - 1</c> of <paramref name="scoresGradient"/> belong to input
    /// row r, and so do those rows of the result. Several directions of sensitivity per input from one forward pass.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass came before, or a layer cannot (<see cref="CanRepeatInputGradient"/>).</exception>
    /// <exception cref="ArgumentException">The gradient does not hold <paramref name="copies"/> rows of scores per input row.</exception>
    public Tensor RepeatedInputGradient(Tensor scoresGradient, int copies)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        int unable = Array.FindIndex(_layers, l => l is not IRepeatedInputGradient);
        if (unable >= 0) throw new InvalidOperationException($"Layer {unable} ({_layers[unable].Kind}) cannot backpropagate several gradients per forward row.");
        BeginBackward(scoresGradient, copies);
        Tensor gradient = scoresGradient;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            using var span = LayerSpan(i, LayerPass.Backward);
            gradient = ((IRepeatedInputGradient)_layers[i]).RepeatedInputGradient(gradient, copies);
        }
        return gradient;
    }

    /// <summary>
    /// Sends <paramref name="scoresGradient"/> (rows as the last <see cref="Forward"/>'s scores) down to layer
    /// <paramref name="lowestLayer"/> by the layers' input-gradient passes and returns that layer's input gradient; every
    /// layer on the way sees its output gradient (what K-FAC's statistics read). Parameter gradients are left unspecified:
    /// within a training step, the training backward pass after it writes them afresh.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass came before.</exception>
    /// <exception cref="ArgumentException">The gradient's shape is not the scores'.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lowestLayer"/> is not a layer index.</exception>
    public Tensor Backpropagate(Tensor scoresGradient, int lowestLayer)
    {
        if ((uint)lowestLayer >= (uint)_layers.Length)
            throw new ArgumentOutOfRangeException(nameof(lowestLayer), lowestLayer, $"The net has layers 0 to {_layers.Length - 1}.");
        BeginBackward(scoresGradient, 1);
        Tensor gradient = scoresGradient;
        for (int i = _layers.Length - 1; i >= lowestLayer; i--)
        {
            using var span = LayerSpan(i, LayerPass.Backward);
            gradient = _layers[i].InputGradient(gradient);
        }
        return gradient;
    }

    /// <summary>
    /// A profiler span for a pass of layer <paramref name="index"/> (nothing while no profiler runs); the first span under a
    /// profiler also tells it which layer each parameter belongs to, so the optimizer's updates count for their layers.
    /// </summary>
    private ProfileScope LayerSpan(int index, LayerPass pass)
    {
        if (Profiler.Active is not { } profiler) return default;
        _profileLabels ??= [.. Spec.Layers.Select((l, i) => l.Description.StartsWith(l.Type, StringComparison.Ordinal) ? $"{i} {l.Description}" : $"{i} {l.Type} {l.Description}")];
        if (_attributedTo != profiler.Number)
        {
            // A weight tied between two layers counts for the first that uses it, as it is saved.
            for (int i = _layers.Length - 1; i >= 0; i--)
                foreach (var p in _layers[i].Parameters) profiler.AttributeUpdates(p, _profileLabels[i]);
            _attributedTo = profiler.Number;
        }
        return Profiler.Layer(_profileLabels[index], pass);
    }

    /// <summary>Checks a gradient of <paramref name="copies"/> rows per row of the last scores and starts the parameters' pass.</summary>
    private void BeginBackward(Tensor scoresGradient, int copies)
    {
        ArgumentNullException.ThrowIfNull(scoresGradient);
        var scores = _scores ?? throw new InvalidOperationException("A backward pass was asked for before Forward.");
        if (scoresGradient.Rows != (long)scores.Rows * copies || scoresGradient.Columns != scores.Columns)
            throw new ArgumentException(
                $"A gradient of shape {Tensor.ShapeText(scoresGradient.Shape)} is not {copies} row(s) per row of the scores {Tensor.ShapeText(scores.Shape)}.", nameof(scoresGradient));
        foreach (var p in Parameters) p.BeginPass();
    }

    /// <summary>
    /// The parameters that train when the layers <paramref name="frozenLayers"/> are frozen (every parameter no frozen layer
    /// uses; a weight tied between a frozen and a trained layer is frozen), and the lowest layer backpropagation must reach.
    /// </summary>
    /// <exception cref="ArgumentException">An index is not a layer, names a layer without parameters, or every parameter is frozen.</exception>
    public (IReadOnlyList<Parameter> Parameters, int LowestLayer) Trainable(IReadOnlyCollection<int> frozenLayers)
    {
        ArgumentNullException.ThrowIfNull(frozenLayers);
        if (frozenLayers.Count == 0) return (Parameters, 0);
        var frozen = new HashSet<Parameter>();
        foreach (int i in frozenLayers)
        {
            if ((uint)i >= (uint)_layers.Length)
                throw new ArgumentException($"Frozen layer {i} does not exist: the net has layers 0 to {_layers.Length - 1}.", nameof(frozenLayers));
            if (_layers[i].Parameters.Count == 0)
                throw new ArgumentException($"Frozen layer {i} ({Spec.Layers[i].Type}) has no parameters to freeze.", nameof(frozenLayers));
            frozen.UnionWith(_layers[i].Parameters);
        }
        var trainable = new List<Parameter>();
        foreach (var p in Parameters)
            if (!frozen.Contains(p)) trainable.Add(p);
        int lowest = -1;
        for (int i = 0; i < _layers.Length && lowest < 0; i++)
            foreach (var p in _layers[i].Parameters)
                if (!frozen.Contains(p)) lowest = i;
        if (lowest < 0) throw new ArgumentException($"Layers {string.Join(", ", frozenLayers)} are frozen: no parameter is left to train.", nameof(frozenLayers));
        return (trainable, lowest);
    }

    /// <summary>Predictions for a batch at inference time (dropout off, output nonlinearity applied).</summary>
    public Tensor Predict(Tensor input)
    {
        var scores = Forward(input, ForwardContext.Inference);
        var predictions = _predictions.Get(scores.Rows, scores.Shape[1..]);
        switch (Loss.Output)
        {
            case OutputFunction.Softmax: Backend.SoftmaxRows(scores, predictions); break;
            case OutputFunction.Sigmoid: Backend.Activate(Activation.Sigmoid, scores, predictions); break;
            default: Backend.Copy(scores, predictions); break;
        }
        return predictions;
    }

    /// <summary>
    /// Gives every dense layer (residual blocks' included) a copy of its weights laid out for inference
    /// (<see cref="Dense.PackWeightsForInference"/>): only for a net whose parameters no one writes again, such as
    /// <see cref="ConcurrentPredictor"/>'s replicas.
    /// </summary>
    internal void PackDenseWeightsForInference() => PackDenseWeights(_layers);

    private static void PackDenseWeights(IEnumerable<ILayer> layers)
    {
        foreach (var layer in layers)
        {
            if (layer is Dense dense) dense.PackWeightsForInference();
            else if (layer is ResidualBlock block) PackDenseWeights(block.Projection is { } projection ? [.. block.Body, projection] : block.Body);
        }
    }

    /// <summary>
    /// Folds the input standardisation the net was trained behind into its first layer (see
    /// <see cref="Dense.AbsorbInputStandardization"/>; dropout and flatten before it pass inputs through unchanged at
    /// inference), so that the net takes raw inputs from now on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The first layer that is not dropout, input noise or flatten is not dense (only an affine
    /// layer absorbs the standardisation exactly: a convolution's zero padding would see shifted inputs), or its weight is tied to another layer.</exception>
    /// <exception cref="ArgumentException">The statistics are for another number of inputs.</exception>
    public void AbsorbInputStandardization(Data.NormalizationStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        int index = 0;
        // Dropout and flatten are the identity at inference, so the standardisation folds exactly into a dense layer after them.
        while (index < _layers.Length && _layers[index] is Dropout or Flatten or InputNoise) index++;
        if (index == _layers.Length || _layers[index] is not Dense first)
            throw new InvalidOperationException(
                "Input standardisation is folded into the first layer's weights, so the first layer (after any dropout or flatten) must be dense; " +
                $"this net's is a '{(index == _layers.Length ? "nothing" : _layers[index].Kind)}' layer.");
        if (_layers.OfType<TiedDense>().Any(t => t.TiedTo == first))
            throw new InvalidOperationException("The first dense layer's weight is shared with a tied layer, which would change with it; input standardisation cannot be folded into it.");
        var mean = new float[statistics.FeatureCount];
        var scale = new float[statistics.FeatureCount];
        for (int j = 0; j < mean.Length; j++)
        {
            mean[j] = statistics.Mean[j];
            scale[j] = statistics.InverseScale[j];
        }
        first.AbsorbInputStandardization(mean, scale);
    }

    /// <summary>
    /// Folds the target standardisation a regression net was trained to predict into its last layer (see
    /// <see cref="Dense.AbsorbOutputStandardization"/>), so that it predicts in the targets' units from now on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The net does not end in a dense layer scored by squared error.</exception>
    /// <exception cref="ArgumentException">The statistics are for another number of outputs.</exception>
    public void AbsorbTargetStandardization(ReadOnlySpan<double> mean, ReadOnlySpan<double> deviation)
    {
        if (_layers.Length == 0 || _layers[^1] is not Dense last || Loss.Output != OutputFunction.Identity)
            throw new InvalidOperationException("A target standardisation is folded into the last layer, so the net must end in a dense layer scored by squared error.");
        last.AbsorbOutputStandardization(mean, deviation);
    }

    private void CheckInput(Tensor input)
    {
        if (input.Backend != Backend)
            throw new ArgumentException($"The input lives on backend '{input.Backend.Name}' but the network runs on '{Backend.Name}'.", nameof(input));
        if (input.Columns != Spec.InputLength)
            throw new ArgumentException(
                $"The network expects {Spec.InputLength} features per sample ({Tensor.ShapeText(Spec.InputShape)}) but the input has shape {Tensor.ShapeText(input.Shape)}.", nameof(input));
    }
}
