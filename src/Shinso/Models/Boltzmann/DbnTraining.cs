using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>Hyper-parameters of greedy layer-wise training of a <see cref="DeepBeliefNet"/>.</summary>
public sealed record GreedyLayerwiseOptions
{
    /// <summary>CD options of the directed layers' RBMs and of the bottom one; stage l samples and shuffles from
    /// <c>Root(Layer.Seed).Derive("greedy-layer", l)</c>.</summary>
    public RbmTrainingOptions Layer { get; init; } = new();

    /// <summary>CD options of the bottom RBM when they differ (Gaussian data wants a learning rate near 0.001); null: <see cref="Layer"/>.</summary>
    public RbmTrainingOptions? Bottom { get; init; }

    /// <summary>CD options of the top RBM with the labels.</summary>
    public RbmTrainingOptions Top { get; init; } = new();

    /// <summary>Epochs per directed layer.</summary>
    public int LayerEpochs { get; init; } = 10;

    /// <summary>Epochs of the top RBM.</summary>
    public int TopEpochs { get; init; } = 10;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Layer);
        ArgumentNullException.ThrowIfNull(Top);
        ArgumentOutOfRangeException.ThrowIfNegative(LayerEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(TopEpochs);
    }
}

/// <summary>
/// Greedy layer-wise training (Hinton, Osindero &amp; Teh 2006, section 4): each RBM of the stack is trained by CD on
/// the hidden probabilities the layers below produce for the data, its weights then serve both directions of a
/// directed layer, and the top RBM learns the joint distribution of the penultimate units and the labels.
/// </summary>
public static class GreedyLayerwiseTraining
{
    /// <summary>Trains every layer of <paramref name="dbn"/> on <paramref name="data"/> (features and labels).</summary>
    /// <param name="dbn">The net; its parameters are replaced.</param>
    /// <param name="data">Training data: <c>n_0</c> features in [0, 1] (Bernoulli data units) and <c>LabelCount</c> classes.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="progress">Called after each epoch with the layer's name ("layer 0", ..., "top"), the report and the
    /// validation figures (null without <paramref name="validation"/>).</param>
    /// <param name="completedStages">
    /// Stages already trained in <paramref name="dbn"/> (a resumed run): the directed layers are stages 0..L-1 and
    /// the top RBM is stage L. Those stages are not retrained; their recognition weights give the data of the next.
    /// </param>
    /// <param name="stageCompleted">Called with the stage index after each stage, when the net holds it (for a checkpoint).</param>
    /// <param name="stageStore">
    /// Keeps the unfinished stage after each of its epochs; the first stage to train continues from what it restores, so a
    /// run cut off part-way through a stage ends with the parameters of an uninterrupted one.
    /// </param>
    /// <param name="validation">
    /// Held-out rows measured after every epoch, or null: a directed layer's RBM by its mean-field reconstruction error on
    /// them (carried up through the layers below, as its training data is), the top RBM by the net's label cross-entropy and
    /// accuracy on them (<see cref="DeepBeliefNet.Evaluate"/>). The figures are reported, not used to stop.
    /// </param>
    /// <exception cref="ArgumentException">The data's feature or class count differs from the net's, or a value is out of range.</exception>
    public static void Train(DeepBeliefNet dbn, Dataset data, GreedyLayerwiseOptions options, Action<string, RbmEpochReport, Evaluation?>? progress = null,
        int completedStages = 0, Action<int>? stageCompleted = null, IGreedyStageStore? stageStore = null, Dataset? validation = null)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (data.FeatureCount != dbn.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the net has {dbn.VisibleCount} data units.", nameof(data));
        if (data.ClassCount != dbn.LabelCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the net has {dbn.LabelCount} label units.", nameof(data));
        if (completedStages < 0 || completedStages > dbn.Layers.Count + 1)
            throw new ArgumentOutOfRangeException(nameof(completedStages), completedStages, $"must be in 0..{dbn.Layers.Count + 1} (directed layers, then the top RBM).");
        dbn.ValidateData(data.Features, nameof(data));
        if (validation is not null)
        {
            if (validation.FeatureCount != dbn.VisibleCount || validation.ClassCount != dbn.LabelCount)
                throw new ArgumentException($"The validation rows have {validation.FeatureCount} features and {validation.ClassCount} classes but the net has " +
                                            $"{dbn.VisibleCount} data units and {dbn.LabelCount} labels.", nameof(validation));
            dbn.ValidateData(validation.Features, nameof(validation));
        }
        var be = dbn.Backend;
        var current = data;
        var currentValidation = validation;
        for (int l = 0; l < dbn.Layers.Count; l++)
        {
            var layer = dbn.Layers[l];
            var stage = RandomStream.Root(dbn.Seed).Derive("greedy-layer", l);
            var rbm = new RestrictedBoltzmannMachine(be, layer.BelowCount, layer.AboveCount, layer.BelowUnits, learnSigma: false, dbn.Seed, stage.Derive("rbm-weights"));
            if (l < completedStages)
            {
                // The same kernels as after training the layer, so a resumed run sees the same data as an uninterrupted one.
                be.Copy(layer.RecognitionWeights, rbm.Weights);
                be.Copy(layer.RecognitionBias, rbm.HiddenBias);
                current = HiddenProbabilities(rbm, current);
                if (currentValidation is not null) currentValidation = HiddenProbabilities(rbm, currentValidation);
                continue;
            }
            var layerOptions = l == 0 ? options.Bottom ?? options.Layer : options.Layer;
            var trainer = new ContrastiveDivergence(rbm, layerOptions, RandomStream.Root(options.Layer.Seed).Derive("greedy-layer", l));
            var stageData = current;
            string stageName = $"layer {l}";
            int stageIndex = l;
            var state = new TrainingState();
            if (stageStore?.Restore(stageIndex, trainer.Parameters, trainer.Optimizer) is { } saved) (state, trainer.Counter) = saved;
            var stageValidation = currentValidation;
            Func<Evaluation>? validate = stageValidation is null ? null : () => new Evaluation(RbmEvaluation.ReconstructionError(rbm, stageValidation.Features), null);
            RbmEpochReport? last = null;
            try
            {
                EpochRunner.Run(state, trainer.Parameters, options.LayerEpochs, patience: 0,
                    e => Metrics(last = trainer.TrainEpoch(stageData, e), layerOptions), validate,
                    m =>
                    {
                        progress?.Invoke(stageName, last!, m.Validation);
                        stageStore?.Save(stageIndex, state, trainer.Parameters, trainer.Optimizer, trainer.Counter);
                    }, optimizer: trainer.Optimizer);
            }
            catch (TrainingDivergedException e) { throw e.InStage($"greedy {stageName}"); }
            layer.CopyFrom(rbm, l);
            current = HiddenProbabilities(rbm, current);
            if (currentValidation is not null) currentValidation = HiddenProbabilities(rbm, currentValidation);
            stageCompleted?.Invoke(l);
        }
        if (completedStages > dbn.Layers.Count) return;
        var top = new AssociativeMemoryTrainer(dbn.Top, options.Top, RandomStream.Root(options.Top.Seed).Derive("greedy-layer", dbn.Layers.Count));
        var topData = current;
        int topStage = dbn.Layers.Count;
        var topState = new TrainingState();
        if (stageStore?.Restore(topStage, top.Parameters, top.Optimizer) is { } savedTop) (topState, top.Counter) = savedTop;
        // The top RBM trains inside the net, whose layers below already hold their stages: the net classifies the raw rows.
        Func<Evaluation>? validateTop = validation is null ? null : () => dbn.Evaluate(validation);
        RbmEpochReport? lastTop = null;
        try
        {
            EpochRunner.Run(topState, top.Parameters, options.TopEpochs, patience: 0,
                e => Metrics(lastTop = top.TrainEpoch(topData.Features, topData, e), options.Top), validateTop,
                m =>
                {
                    progress?.Invoke("top", lastTop!, m.Validation);
                    stageStore?.Save(topStage, topState, top.Parameters, top.Optimizer, top.Counter);
                }, optimizer: top.Optimizer);
        }
        catch (TrainingDivergedException e) { throw e.InStage("greedy top"); }
        stageCompleted?.Invoke(dbn.Layers.Count);
    }

    /// <summary>The figures of a stage's epoch as the stage's run state keeps them (samples/s and rate from the stage's own options).</summary>
    internal static EpochMetrics Metrics(RbmEpochReport report, RbmTrainingOptions options) =>
        EpochMetrics.Unsupervised(report.Epoch, report.ReconstructionError, report.Updates * options.BatchSize, report.Seconds, options.LearningRate);


    /// <summary>The data set of <c>p(h | v)</c> for every sample of <paramref name="data"/> (labels kept): the next RBM's training data.</summary>
    public static Dataset HiddenProbabilities(RestrictedBoltzmannMachine rbm, Dataset data, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(data);
        var be = rbm.Backend;
        int nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var features = new float[(long)data.Count * nh];
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            var v = rbm.Workspace.Get("batch-visible", rows, nv);
            var h = rbm.Workspace.Get("batch-hidden", rows, nh);
            be.Upload(data.Features.AsSpan(start * nv, rows * nv), v);
            rbm.HiddenProbabilities(v, h);
            be.Download(h, features.AsSpan(start * nh, rows * nh));
        }
        return new Dataset(features, data.Labels, data.ClassCount, nh);
    }
}

/// <summary>Hyper-parameters of up-down fine-tuning.</summary>
public sealed record UpDownOptions
{
    /// <summary>Learning rate of every parameter; updates are averaged over the minibatch.</summary>
    public float LearningRate { get; init; } = 0.01f;

    /// <summary>Minibatch size B (an epoch skips the last <c>Count % B</c> samples of its permutation).</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Alternating Gibbs iterations in the top RBM per update (the paper: 3, then 6 and 10 in later epochs).</summary>
    public int TopGibbsSteps { get; init; } = 3;

    /// <summary>Seed of the minibatch order and the samplers.</summary>
    public ulong Seed { get; init; } = 1;

    internal void Validate()
    {
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be positive and finite.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be >= 1.");
        if (TopGibbsSteps < 1) throw new ArgumentOutOfRangeException(nameof(TopGibbsSteps), TopGibbsSteps, "must be >= 1.");
    }
}

/// <summary>What one up-down epoch did.</summary>
/// <param name="Epoch">The 0-based epoch.</param>
/// <param name="Updates">Minibatch updates made.</param>
/// <param name="ReconstructionError">Mean over samples of <c>sum_i (v_i - p(v_i | h_wake))^2</c>, the generative weights' error on the data.</param>
/// <param name="Seconds">Wall-clock time of the epoch.</param>
public sealed record UpDownEpochReport(int Epoch, int Updates, double ReconstructionError, double Seconds);

/// <summary>
/// The up-down algorithm (contrastive wake-sleep; Hinton, Osindero &amp; Teh 2006, section 5 and appendix B): a
/// stochastic up pass with the recognition weights adapts the generative weights (wake phase), a few alternating
/// Gibbs iterations in the top RBM give its contrastive update, and a stochastic down pass from the top RBM's
/// negative state adapts the recognition weights (sleep phase).
/// </summary>
/// <remarks>
/// Per minibatch, with states s (up pass) and t (down pass), and every prediction made with the parameters from
/// before the update, as in the appendix code:
/// <c>G_l += (eta/B) (s_l - sigmoid(g_l + s_{l+1} G_l^T))^T s_{l+1}</c>,
/// <c>R_l += (eta/B) t_l^T (t_{l+1} - sigmoid(r_l + t_l R_l))</c>, and the top RBM moves by the difference of its
/// wake and Gibbs statistics (binary states, label probabilities on the negative side). The trainer states these as
/// gradients (their negatives, weight terms as GEMM products) and plain SGD applies them.
/// </remarks>
public sealed class UpDownTrainer
{
    private readonly DeepBeliefNet _dbn;
    private readonly Tensor[] _wake, _sleep, _generativePrediction, _recognitionPrediction;
    private readonly Tensor _labels, _wakeTop, _negPen, _negLab, _negTop, _topPre, _penPre, _topScratch, _penScratch, _labScratch;
    private readonly RandomStream _epochOrder;
    private float[]? _validated;
    private readonly Parameter[] _parameters;
    private readonly Parameter _topPenultimateWeights, _topLabelWeights, _topBias, _topPenultimateBias, _topLabelBias;
    private readonly Parameter[] _generativeWeights, _generativeBias, _recognitionWeights, _recognitionBias;

    /// <summary>Creates a trainer for <paramref name="dbn"/>.</summary>
    public UpDownTrainer(DeepBeliefNet dbn, UpDownOptions options)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dbn = dbn;
        Options = options;
        var be = dbn.Backend;
        int b = options.BatchSize, L = dbn.Layers.Count;
        var sizes = dbn.LayerSizes;
        _wake = new Tensor[L + 1];
        _sleep = new Tensor[L + 1];
        for (int l = 0; l <= L; l++)
        {
            _wake[l] = be.Allocate(b, sizes[l]);
            _sleep[l] = be.Allocate(b, sizes[l]);
        }
        _generativePrediction = new Tensor[L];
        _recognitionPrediction = new Tensor[L];
        for (int l = 0; l < L; l++)
        {
            _generativePrediction[l] = be.Allocate(b, sizes[l]);
            _recognitionPrediction[l] = be.Allocate(b, sizes[l + 1]);
        }
        var top = dbn.Top;
        _labels = be.Allocate(b, top.LabelCount);
        _wakeTop = be.Allocate(b, top.TopCount);
        _negPen = _sleep[L];
        _negLab = be.Allocate(b, top.LabelCount);
        _negTop = be.Allocate(b, top.TopCount);
        _topPre = be.Allocate(b, top.TopCount);
        _penPre = be.Allocate(b, top.PenultimateCount);
        _topScratch = be.Allocate(top.TopCount);
        _penScratch = be.Allocate(top.PenultimateCount);
        _labScratch = be.Allocate(top.LabelCount);
        var root = RandomStream.Root(options.Seed).Derive("up-down");
        Stream = root.Derive("gibbs");
        _epochOrder = root.Derive(DeterministicShuffle.EpochOrderPurpose);
        _topPenultimateWeights = new Parameter("top/penultimate-weights", top.PenultimateWeights, ParameterRole.Weight);
        _topLabelWeights = new Parameter("top/label-weights", top.LabelWeights, ParameterRole.Weight);
        _topBias = new Parameter("top/top-bias", top.TopBias, ParameterRole.Bias);
        _topPenultimateBias = new Parameter("top/penultimate-bias", top.PenultimateBias, ParameterRole.Bias);
        _topLabelBias = new Parameter("top/label-bias", top.LabelBias, ParameterRole.Bias);
        _generativeWeights = new Parameter[L];
        _generativeBias = new Parameter[L];
        _recognitionWeights = new Parameter[L];
        _recognitionBias = new Parameter[L];
        var parameters = new List<Parameter> { _topPenultimateWeights, _topLabelWeights, _topBias, _topPenultimateBias, _topLabelBias };
        for (int l = 0; l < L; l++)
        {
            var layer = dbn.Layers[l];
            parameters.Add(_generativeWeights[l] = new Parameter($"layer{l}/generative-weights", layer.GenerativeWeights, ParameterRole.Weight));
            parameters.Add(_generativeBias[l] = new Parameter($"layer{l}/generative-bias", layer.GenerativeBias, ParameterRole.Bias));
            parameters.Add(_recognitionWeights[l] = new Parameter($"layer{l}/recognition-weights", layer.RecognitionWeights, ParameterRole.Weight));
            parameters.Add(_recognitionBias[l] = new Parameter($"layer{l}/recognition-bias", layer.RecognitionBias, ParameterRole.Bias));
        }
        _parameters = [.. parameters];
        Optimizer = new Sgd(new ConstantSchedule(options.LearningRate));
    }

    /// <summary>The hyper-parameters.</summary>
    public UpDownOptions Options { get; }

    /// <summary>The Philox stream of the samplers.</summary>
    public RandomStream Stream { get; }

    /// <summary>The next unused Philox block of <see cref="Stream"/>.</summary>
    public ulong Counter { get; set; }

    /// <summary>The shared optimizer (plain SGD at <see cref="UpDownOptions.LearningRate"/>, as in the paper's code).</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Every parameter up-down moves: the top RBM's, then each directed layer's generative and recognition weights and biases.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Trains one epoch over <paramref name="data"/> in the order <see cref="Dataset.EpochPermutation(int, RandomStream)"/> gives for the run's <c>epoch-order</c> stream.</summary>
    /// <exception cref="ArgumentException">The data does not fit the net, or a value is out of range.</exception>
    /// <param name="data">The training data with its labels.</param>
    /// <param name="epoch">The 0-based epoch: selects the order.</param>
    /// <param name="cancellation">Checked before every update.</param>
    public UpDownEpochReport TrainEpoch(Dataset data, int epoch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != _dbn.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the net has {_dbn.VisibleCount} data units.", nameof(data));
        if (data.ClassCount != _dbn.LabelCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the net has {_dbn.LabelCount} label units.", nameof(data));
        if (epoch == 0 || !ReferenceEquals(_validated, data.Features))
        {
            _dbn.ValidateData(data.Features, nameof(data));
            _validated = data.Features;
        }
        int b = Options.BatchSize, nv = _dbn.VisibleCount;
        var hostData = new float[b * nv];
        var hostLabels = new float[b * _dbn.LabelCount];
        var labelIndices = new int[b];
        BatchOutcome Batch(ReadOnlySpan<int> indices, int _)
        {
            data.CopyBatch(indices, hostData, labelIndices);
            data.CopyOneHot(indices, hostLabels);
            _dbn.Backend.Upload(hostData, _wake[0]);
            _dbn.Backend.Upload(hostLabels, _labels);
            return new BatchOutcome(Step() * b, 0);
        }
        var outcome = EpochLoop.Run(Batch, new MinibatchPlan(data.Count, b, DropPartialBatch: true, _epochOrder), epoch, cancellation: cancellation);
        return new UpDownEpochReport(epoch, outcome.Updates, outcome.Updates == 0 ? 0 : outcome.MeanLoss, outcome.Seconds);
    }

    private double Step()
    {
        var be = _dbn.Backend;
        var layers = _dbn.Layers;
        var top = _dbn.Top;
        int L = layers.Count, b = Options.BatchSize;
        float r = 1f / b;

        // Wake (up) pass: binary states at every layer above the data.
        for (int l = 0; l < L; l++)
        {
            var pre = _recognitionPrediction[l];
            layers[l].UpInput(be, _wake[l], pre);
            Sample(pre, _wake[l + 1]);
        }
        top.TopInput(_wake[L], _labels, _topPre);
        Sample(_topPre, _wakeTop);

        // Alternating Gibbs in the top RBM from the wake top state.
        be.Copy(_wakeTop, _negTop);
        for (int it = 0; it < Options.TopGibbsSteps; it++)
        {
            top.PenultimateInput(_negTop, _penPre);
            Sample(_penPre, _negPen);
            top.LabelProbabilities(_negTop, _negLab);
            top.TopInput(_negPen, _negLab, _topPre);
            Sample(_topPre, _negTop);
        }

        // Sleep (down) pass from the negative penultimate state; probabilities at the data layer.
        for (int l = L - 1; l >= 0; l--)
        {
            if (l > 0)
            {
                layers[l].DownInput(be, _sleep[l + 1], _generativePrediction[l]);
                Sample(_generativePrediction[l], _sleep[l]);
                continue;
            }
            layers[l].DownInput(be, _sleep[l + 1], _sleep[l]);
            if (layers[0].BelowUnits == VisibleUnits.Bernoulli) be.Activate(Activation.Sigmoid, _sleep[0], _sleep[0]);
        }

        // Predictions with the old parameters, turned into the deltas (target - prediction).
        double error = 0;
        for (int l = 0; l < L; l++)
        {
            var pg = _generativePrediction[l];
            layers[l].DownInput(be, _wake[l + 1], pg);
            if (l > 0 || layers[0].BelowUnits == VisibleUnits.Bernoulli) be.Activate(Activation.Sigmoid, pg, pg);
            be.Axpby(1f, _wake[l], -1f, pg);
            if (l == 0) error = be.SumOfSquares(pg) / b;
            var pr = _recognitionPrediction[l];
            layers[l].UpInput(be, _sleep[l], pr);
            be.Activate(Activation.Sigmoid, pr, pr);
            be.Axpby(1f, _sleep[l + 1], -1f, pr);
        }

        // Gradients (descent directions, -1/B times the statistics): the top RBM's wake minus Gibbs statistics, the
        // generative and recognition deltas times the states; SGD accumulates the weight products straight into the weights.
        _topPenultimateWeights.SetGradientProducts(new GradientTerm(_wake[L], _wakeTop, -r), new GradientTerm(_negPen, _negTop, r));
        _topLabelWeights.SetGradientProducts(new GradientTerm(_labels, _wakeTop, -r), new GradientTerm(_negLab, _negTop, r));
        BiasGradient(_topBias.Gradient, _wakeTop, _negTop, _topScratch, r);
        BiasGradient(_topPenultimateBias.Gradient, _wake[L], _negPen, _penScratch, r);
        BiasGradient(_topLabelBias.Gradient, _labels, _negLab, _labScratch, r);
        for (int l = 0; l < L; l++)
        {
            var pg = _generativePrediction[l];
            _generativeWeights[l].SetGradientProducts(new GradientTerm(pg, _wake[l + 1], -r));
            be.SumColumns(pg, _generativeBias[l].Gradient);
            be.ScaleShift(_generativeBias[l].Gradient, -r, 0f, _generativeBias[l].Gradient);
            var pr = _recognitionPrediction[l];
            _recognitionWeights[l].SetGradientProducts(new GradientTerm(_sleep[l], pr, -r));
            be.SumColumns(pr, _recognitionBias[l].Gradient);
            be.ScaleShift(_recognitionBias[l].Gradient, -r, 0f, _recognitionBias[l].Gradient);
        }
        Optimizer.Step(_parameters, 0);
        return error;
    }

    /// <summary><c>gradient = r (sum of negative rows - sum of positive rows)</c>.</summary>
    private void BiasGradient(Tensor gradient, Tensor positive, Tensor negative, Tensor scratch, float r)
    {
        var be = _dbn.Backend;
        be.SumColumns(positive, gradient);
        be.SumColumns(negative, scratch);
        be.Axpby(r, scratch, -r, gradient);
    }

    private void Sample(Tensor preActivation, Tensor samples)
    {
        _dbn.Backend.SigmoidBernoulli(Stream, Counter, preActivation, preActivation, samples);
        Counter += RestrictedBoltzmannMachine.BlocksFor(samples.Length);
    }
}
