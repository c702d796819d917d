using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Training;

/// <summary>
/// Training of the feed-forward models on the shared <see cref="EpochLoop"/>: each step uploads its minibatch once, runs
/// forward, the fused loss, backward and one optimizer update, and reads back scalars; the epochs, validation, early
/// stopping and the per-epoch callback that writes checkpoints are <see cref="EpochRunner"/>'s.
/// </summary>
/// <remarks>Single-threaded: a trainer, its net and its optimizer belong to the thread that calls <see cref="Fit"/> (the
/// kernels parallelise inside each operation).</remarks>
public sealed class Trainer
{
    private readonly FeedForwardNet _net;
    private readonly Optimizer _optimizer;
    private readonly TrainingOptions _options;
    private readonly IReadOnlyList<Parameter> _trainable;
    private readonly int _lowestTrainedLayer;

    /// <summary>Trains <paramref name="net"/> with <paramref name="optimizer"/>, leaving the parameters of <see cref="TrainingOptions.FrozenLayers"/> as they are.</summary>
    /// <param name="net">The net to train.</param>
    /// <param name="optimizer">Its update rule.</param>
    /// <param name="options">The loop's settings.</param>
    /// <param name="teachers">With <see cref="TrainingOptions.Distillation"/>: the teacher nets, loaded from its files in its order, on the net's backend.</param>
    /// <exception cref="ArgumentException">A frozen layer index is not a layer of the net or has no parameters, nothing is left to train,
    /// or teachers are given without distillation settings (or the reverse) or do not fit the net.</exception>
    public Trainer(FeedForwardNet net, Optimizer optimizer, TrainingOptions options, IReadOnlyList<FeedForwardNet>? teachers = null)
    {
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Epochs must be >= 0, got {options.Epochs}.");
        if (options.BatchSize < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Batch size must be >= 0, got {options.BatchSize}.");
        _net = net;
        _optimizer = optimizer;
        _options = options;
        (_trainable, _lowestTrainedLayer) = net.Trainable(options.FrozenLayers);
        ApplyLearningRateMultipliers(net, optimizer, options);
        _augmenter = options.Augmentation is { IsIdentity: false } augmentation ? CreateAugmenter(augmentation) : null;
        if (options.Distillation is { } distillation)
        {
            if (teachers is not { Count: > 0 }) throw new ArgumentException("The options distil from teachers, but no teacher net was given.", nameof(teachers));
            if (teachers.Count != distillation.Teachers.Count)
                throw new ArgumentException($"The options name {distillation.Teachers.Count} teacher(s), but {teachers.Count} net(s) were given.", nameof(teachers));
            _distillation = new DistillationObjective(distillation, teachers, net);
        }
        else if (teachers is { Count: > 0 }) throw new ArgumentException("Teacher nets were given, but the options do not distil (set TrainingOptions.Distillation).", nameof(teachers));
        if (optimizer is Kfac kfac)
        {
            kfac.Attach(net.Layers, _trainable);
            _kfac = kfac;
        }
    }

    /// <summary>Gives each parameter of a layer in <see cref="TrainingOptions.LearningRateMultipliers"/> its multiplier in <paramref name="optimizer"/>.</summary>
    /// <exception cref="ArgumentException">A layer is not in the net, has no parameters, is also frozen, or shares a parameter with a layer of another multiplier.</exception>
    private static void ApplyLearningRateMultipliers(FeedForwardNet net, Optimizer optimizer, TrainingOptions options)
    {
        var given = new Dictionary<Parameter, (int Layer, float Multiplier)>(ReferenceEqualityComparer.Instance);
        foreach (var (layer, multiplier) in options.LearningRateMultipliers.OrderBy(m => m.Key))
        {
            if (layer < 0 || layer >= net.Layers.Count)
                throw new ArgumentException($"Learning-rate multiplier for layer {layer}: the net has layers 0 to {net.Layers.Count - 1}.", nameof(options));
            if (net.Layers[layer].Parameters.Count == 0)
                throw new ArgumentException($"Learning-rate multiplier for layer {layer} ({net.Spec.Layers[layer].Type}): the layer has no parameters.", nameof(options));
            if (options.FrozenLayers.Contains(layer))
                throw new ArgumentException($"Layer {layer} is frozen and also given a learning-rate multiplier: a frozen layer does not train.", nameof(options));
            foreach (var p in net.Layers[layer].Parameters)
            {
                if (given.TryGetValue(p, out var other) && other.Multiplier != multiplier)
                    throw new ArgumentException($"{p.Name} is shared by layers {other.Layer} and {layer}, whose learning-rate multipliers differ ({other.Multiplier} and {multiplier}).", nameof(options));
                given[p] = (layer, multiplier);
                optimizer.SetLearningRateMultiplier(p, multiplier);
            }
        }
    }

    /// <summary>Distorts each training minibatch, when the options ask for it.</summary>
    private readonly Data.ImageAugmenter? _augmenter;

    /// <summary>The teachers and objective when the net learns from other nets' outputs.</summary>
    private readonly DistillationObjective? _distillation;

    /// <summary>The optimizer when it is K-FAC, whose statistics each step observes.</summary>
    private readonly Kfac? _kfac;

    /// <summary>The state of the run (epochs done, step, early-stopping record); replace it to resume.</summary>
    public TrainingState State { get; set; } = new();

    /// <summary>Called after every epoch, e.g. to print progress or write a checkpoint.</summary>
    public Action<EpochMetrics>? EpochCompleted { get; set; }

    /// <summary>Called after every batch with (batches done, batches per epoch).</summary>
    public Action<int, int>? BatchCompleted { get; set; }

    /// <summary>Trains until <see cref="TrainingOptions.Epochs"/> epochs are done or early stopping fires.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled; it is checked before every
    /// update, so the net may be part-way through an epoch (the last checkpoint is the consistent state to resume from).</exception>
    public TrainingState Fit(SupervisedData train, SupervisedData? validation = null, CancellationToken cancellation = default)
    {
        CheckData(train, nameof(train));
        if (validation is not null) CheckData(validation, nameof(validation));
        var backend = _net.Backend;
        var plan = new MinibatchPlan(train.Count, _options.BatchSize, DropPartialBatch: false,
            RandomStream.Root(_options.Seed).Derive(Data.DeterministicShuffle.EpochOrderPurpose));
        int batch = plan.EffectiveBatchSize;
        var hostInputs = new float[batch * train.InputLength];
        var hostTargets = new float[batch * train.TargetLength];
        var hostPredictions = new float[batch * train.TargetLength];
        var inputs = backend.Allocate(batch, train.InputLength);
        var targets = backend.Allocate(batch, train.TargetLength);
        var random = RandomStream.Root(_options.Seed).Derive("stochastic-layers");
        var augmenter = _augmenter;
        var augmentStream = RandomStream.Root(_options.Seed).Derive(Data.ImageAugmentation.StreamPurpose);
        Action<int>? augmentBatch = augmenter is null ? null : rows => augmenter.Apply(hostInputs, rows, augmentStream.Derive("step", checked((int)State.Step)));
        bool observes = _kfac is { LowestObservedLayer: >= 0 };
        var fisher = observes && _kfac!.Targets == FisherTargets.Sampled
            ? new FisherTargetSampler(_net, batch, RandomStream.Root(_options.Seed).Derive("fisher-targets"))
            : null;

        BatchOutcome Step(ReadOnlySpan<int> indices, int epoch)
        {
            int rows = indices.Length;
            // Each step's distortions are addressed by the step, so a resumed run draws the ones it would have drawn.
            var (x, t) = UploadBatch(train, indices, hostInputs, hostTargets, inputs, targets, augmentBatch);
            var scores = _net.Forward(x, new ForwardContext(true, random, State.Step));
            float loss = _net.ComputeLoss(t, out var predictions);
            // The teachers see the same (distorted) images; their objective replaces the labels' gradient before any backward pass.
            if (_distillation is not null) loss = _distillation.Apply(_net, x, scores, loss);
            if (fisher is not null)
            {
                // The true Fisher's statistics: one more backward pass, from targets the net itself predicts, before the training one.
                _net.Backpropagate(fisher.Gradient(scores, predictions, State.Step), _kfac!.LowestObservedLayer);
                _kfac.Observe();
            }
            _net.Backward(_lowestTrainedLayer);
            if (observes && fisher is null) _kfac!.Observe();
            _optimizer.Step(_trainable, epoch);
            State.Step++;
            long correct = 0;
            if (train.Labels is not null)
            {
                backend.Download(predictions, hostPredictions.AsSpan(0, rows * train.TargetLength));
                correct = CountCorrect(hostPredictions, train.TargetLength, train.Labels, indices);
            }
            return new BatchOutcome((double)loss * rows, correct);
        }

        EpochMetrics TrainEpoch(int epoch)
        {
            var outcome = EpochLoop.Run(Step, plan, epoch, BatchCompleted, cancellation);
            return new EpochMetrics(epoch + 1, outcome.LossSum / train.Count,
                train.Labels is null ? null : (double)outcome.Correct / train.Count,
                null, null, outcome.Seconds, train.Count / Math.Max(outcome.Seconds, 1e-9), _optimizer.LearningRate.At(epoch));
        }

        Func<Evaluation>? validate = validation is null ? null : () => Evaluate(_net, validation, Math.Max(batch, 100));
        return EpochRunner.Run(State, _net.Parameters, _options.Epochs, _options.Patience, TrainEpoch, validate, m => EpochCompleted?.Invoke(m), cancellation, _optimizer);
    }

    /// <summary>Mean loss and accuracy of <paramref name="net"/> on <paramref name="data"/>, with dropout off.</summary>
    /// <param name="net">The net.</param>
    /// <param name="data">The rows.</param>
    /// <param name="batchSize">Rows per forward pass.</param>
    /// <param name="confusion">When given, and the rows are labelled: classes x classes counts, row-major by true label, to
    /// which each row's predicted class (the largest output) is added, in the same pass.</param>
    /// <exception cref="ArgumentException"><paramref name="confusion"/> is not the square of the net's outputs.</exception>
    public static Evaluation Evaluate(FeedForwardNet net, SupervisedData data, int batchSize = 500, int[]? confusion = null)
    {
        if (confusion is not null && confusion.Length != data.TargetLength * data.TargetLength)
            throw new ArgumentException($"The confusion counts need {data.TargetLength * data.TargetLength} entries, not {confusion.Length}.", nameof(confusion));
        var backend = net.Backend;
        int batch = Math.Max(1, Math.Min(batchSize, data.Count));
        var hostInputs = new float[batch * data.InputLength];
        var hostTargets = new float[batch * data.TargetLength];
        var hostPredictions = new float[batch * data.TargetLength];
        var inputs = backend.Allocate(batch, data.InputLength);
        var targets = backend.Allocate(batch, data.TargetLength);
        var indices = new int[batch];
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            for (int r = 0; r < rows; r++) indices[r] = start + r;
            var (x, t) = UploadBatch(data, indices.AsSpan(0, rows), hostInputs, hostTargets, inputs, targets);
            net.Forward(x, ForwardContext.Inference);
            lossSum += (double)net.ComputeLoss(t, out var predictions) * rows;
            if (data.Labels is not null)
            {
                backend.Download(predictions, hostPredictions.AsSpan(0, rows * data.TargetLength));
                correct += CountCorrect(hostPredictions, data.TargetLength, data.Labels, indices.AsSpan(0, rows));
                if (confusion is not null) AddToConfusion(confusion, hostPredictions, data.TargetLength, data.Labels, indices.AsSpan(0, rows));
            }
        }
        return new Evaluation(lossSum / data.Count, data.Labels is null ? null : (double)correct / data.Count);
    }

    /// <summary>Gathers the rows named by <paramref name="indices"/> on the host and uploads them once: the only host-to-backend traffic of a step.</summary>
    private static (Tensor Inputs, Tensor Targets) UploadBatch(SupervisedData data, ReadOnlySpan<int> indices,
        float[] hostInputs, float[] hostTargets, Tensor inputs, Tensor targets, Action<int>? augment = null)
    {
        int rows = indices.Length;
        data.CopyBatch(indices, hostInputs, hostTargets);
        augment?.Invoke(rows);
        var x = inputs.SliceRows(0, rows);
        var t = targets.SliceRows(0, rows);
        inputs.Backend.Upload(hostInputs.AsSpan(0, rows * data.InputLength), x);
        inputs.Backend.Upload(hostTargets.AsSpan(0, rows * data.TargetLength), t);
        return (x, t);
    }

    /// <summary>The index of the largest value of each row.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    private static void AddToConfusion(int[] counts, float[] predictions, int classes, int[] labels, ReadOnlySpan<int> indices)
    {
        for (int r = 0; r < indices.Length; r++)
        {
            int label = labels[indices[r]];
            // A label outside the net's outputs has no row (training data with one is refused before training).
            if ((uint)label < (uint)classes) counts[label * classes + ArgMax(predictions.AsSpan(r * classes, classes))]++;
        }
    }

    private static long CountCorrect(float[] predictions, int classes, int[] labels, ReadOnlySpan<int> indices)
    {
        long correct = 0;
        for (int r = 0; r < indices.Length; r++)
            if (ArgMax(predictions.AsSpan(r * classes, classes)) == labels[indices[r]]) correct++;
        return correct;
    }

    /// <summary>The augmenter for the net's images.</summary>
    /// <exception cref="ArgumentException">The net's inputs are not images of a shape the settings can take.</exception>
    private Data.ImageAugmenter CreateAugmenter(Data.ImageAugmentation augmentation)
    {
        var (channels, height, width) = augmentation.Geometry(_net.Spec.InputShape);
        return new Data.ImageAugmenter(augmentation, channels, height, width);
    }

    private void CheckData(SupervisedData data, string name)
    {
        if (data.InputLength != _net.Spec.InputLength)
            throw new ArgumentException($"The {name} data has {data.InputLength} features per sample but the network expects {_net.Spec.InputLength}.", name);
        if (data.TargetLength != _net.Spec.OutputLength)
            throw new ArgumentException($"The {name} data has {data.TargetLength} targets per sample but the network outputs {_net.Spec.OutputLength}.", name);
        if (data.Count == 0) throw new ArgumentException($"The {name} data is empty.", name);
    }
}
