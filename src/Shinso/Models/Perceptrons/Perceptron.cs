using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Models.Perceptrons;

/// <summary>
/// Rosenblatt's perceptron (1958): threshold units <c>y = step(x W + b)</c>, one per output, trained by the perceptron rule
/// rather than by gradient descent. With several units it is one-vs-rest: unit k says "class k" (the net's outputs, and
/// the exported model's, are those decisions, several of which may be 1), and <see cref="Accuracy"/> takes a sample's
/// class as the unit with the largest score <c>x W_k + b_k</c>.
/// </summary>
/// <remarks>
/// The model is a <see cref="FeedForwardNet"/> of one dense layer and a <c>step</c> layer, so it exports to ONNX
/// (<c>Gemm</c>, or <c>MatMul</c> + <c>Add</c>, then <c>GreaterOrEqual</c> and <c>Cast</c>) like any feed-forward net; its model
/// file (<see cref="PerceptronModelFile"/>, kind <c>perceptron</c>) keeps it a perceptron. Weights and biases start at 0, as in
/// Rosenblatt's and Novikoff's analyses (the rule is invariant to a common scale, so no random start is needed).
/// </remarks>
public sealed class Perceptron
{
    /// <summary>Creates a perceptron with <paramref name="units"/> threshold units over <paramref name="inputs"/> inputs, all weights 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Perceptron(IBackend backend, int inputs, int units)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Net = new FeedForwardNet(backend, new FeedForwardSpec([inputs], [LayerSpec.Dense(units), LayerSpec.Of("step")], "squared-error"), seed: 0);
        Scores = (Dense)Net.Layers[0];
        backend.Upload(new float[inputs * units], Scores.Weight.Value);
        backend.Upload(new float[units], Scores.Bias.Value);
    }

    /// <summary>The net: dense scores, then the threshold.</summary>
    public FeedForwardNet Net { get; }

    /// <summary>The dense layer whose outputs are the units' scores <c>x W + b</c>.</summary>
    public Dense Scores { get; }

    /// <summary>Threshold units.</summary>
    public int Units => Scores.Units;

    /// <summary>The fraction of <paramref name="data"/> classified right: the unit's decision for one unit, the largest score for several.</summary>
    public double Accuracy(SupervisedData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var be = Net.Backend;
        const int batch = 500;
        var host = new float[batch * data.InputLength];
        var targets = new float[batch * data.TargetLength];
        var scores = new float[batch * Units];
        var indices = new int[batch];
        var x = be.Allocate(batch, data.InputLength);
        long correct = 0;
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            for (int r = 0; r < rows; r++) indices[r] = start + r;
            data.CopyBatch(indices.AsSpan(0, rows), host, targets);
            var xs = x.SliceRows(0, rows);
            be.Upload(host.AsSpan(0, rows * data.InputLength), xs);
            be.Download(Scores.Forward(xs, ForwardContext.Inference), scores.AsSpan(0, rows * Units));
            for (int r = 0; r < rows; r++)
            {
                var s = scores.AsSpan(r * Units, Units);
                var t = targets.AsSpan(r * data.TargetLength, data.TargetLength);
                bool right = Units == 1 ? (s[0] >= 0f) == (t[0] > 0.5f) : Trainer.ArgMax(s) == Trainer.ArgMax(t);
                if (right) correct++;
            }
        }
        return data.Count == 0 ? double.NaN : (double)correct / data.Count;
    }
}

/// <summary>Hyper-parameters of the perceptron rule.</summary>
public sealed record PerceptronOptions
{
    /// <summary>The step eta of <c>w += eta (t - y) x</c> (from zero weights any positive value gives the same decisions).</summary>
    public float LearningRate { get; init; } = 1f;

    /// <summary>Samples per update: 1 is Rosenblatt's online rule, larger sums the corrections of a batch.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Epochs at most; training stops earlier after an epoch without a mistake.</summary>
    public int MaxEpochs { get; init; } = 100;

    /// <summary>Seed of the order in which each epoch visits the samples.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// The <c>perceptron</c> preset: Rosenblatt's online rule for one epoch. On a validation split of Fashion-MNIST's training
    /// set 1, 3, 5 and 10 epochs gave 80.98, 80.68, 77.46 and 79.09 % (the online rule's last weights wander once the data
    /// is not separable).
    /// </summary>
    public static PerceptronOptions Preset { get; } = new() { MaxEpochs = 1, BatchSize = 1, LearningRate = 1f, Seed = 1 };
}

/// <summary>What a perceptron run did.</summary>
/// <param name="Epochs">Epochs run.</param>
/// <param name="Updates">Corrections made: (sample, unit) pairs the rule changed the weights for.</param>
/// <param name="Converged">Whether the last epoch made no mistake (the data is separated).</param>
/// <param name="MistakesPerEpoch">Mistakes of each epoch.</param>
public sealed record PerceptronReport(int Epochs, long Updates, bool Converged, IReadOnlyList<long> MistakesPerEpoch);

/// <summary>
/// The perceptron rule <c>w_k += eta (t_k - y_k) x</c>, <c>b_k += eta (t_k - y_k)</c> as a gradient source of the shared
/// training core: each minibatch states its "gradient" <c>X^T (Y - T)</c> as a GEMM product and plain SGD applies it, on
/// the shared <see cref="EpochLoop"/> in a seeded order. Online (batch 1) on linearly separable data with margin gamma and
/// radius R (inputs with a 1 appended for the bias) it stops after at most <c>(R / gamma)^2</c> corrections (Novikoff 1962);
/// on XOR it never stops (Minsky and Papert 1969).
/// </summary>
public sealed class PerceptronTrainer
{
    private readonly Perceptron _perceptron;
    private readonly Optimizer _optimizer;

    /// <summary>Creates a trainer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PerceptronTrainer(Perceptron perceptron, PerceptronOptions options)
    {
        ArgumentNullException.ThrowIfNull(perceptron);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.LearningRate > 0) || !float.IsFinite(options.LearningRate)) throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "LearningRate must be positive and finite.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be >= 1.");
        if (options.MaxEpochs < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxEpochs, "MaxEpochs must be >= 0.");
        _perceptron = perceptron;
        Options = options;
        _optimizer = new Sgd(new ConstantSchedule(options.LearningRate));
    }

    /// <summary>The hyper-parameters.</summary>
    public PerceptronOptions Options { get; }

    /// <summary>Trains until an epoch makes no mistake or <see cref="PerceptronOptions.MaxEpochs"/> are done.</summary>
    /// <param name="data">Inputs and 0/1 targets, one per unit (a one-hot row for one-vs-rest).</param>
    /// <param name="epochCompleted">Called after every epoch with (0-based epoch, its mistakes).</param>
    /// <param name="cancellation">Checked before every update.</param>
    /// <exception cref="ArgumentException">The data does not fit the perceptron, or a target is not 0 or 1.</exception>
    public PerceptronReport Fit(SupervisedData data, Action<int, long>? epochCompleted = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var net = _perceptron.Net;
        if (data.InputLength != net.Spec.InputLength || data.TargetLength != _perceptron.Units)
            throw new ArgumentException($"The data has {data.InputLength} inputs and {data.TargetLength} targets per sample; the perceptron takes {net.Spec.InputLength} and has {_perceptron.Units} units.", nameof(data));
        for (int i = 0; i < data.Targets.Length; i++)
            if (data.Targets[i] is not (0f or 1f))
                throw new ArgumentException($"Target {i % data.TargetLength} of sample {i / data.TargetLength} is {data.Targets[i]}; a threshold unit's target is 0 or 1.", nameof(data));
        var be = net.Backend;
        int b = Math.Min(Options.BatchSize, Math.Max(1, data.Count));
        var hostX = new float[b * data.InputLength];
        var hostT = new float[b * data.TargetLength];
        var x = be.Allocate(b, data.InputLength);
        var t = be.Allocate(b, data.TargetLength);
        var error = be.Allocate(b, data.TargetLength);
        var weight = _perceptron.Scores.Weight;
        var bias = _perceptron.Scores.Bias;
        Parameter[] parameters = [weight, bias];

        BatchOutcome Step(ReadOnlySpan<int> indices, int epoch)
        {
            int rows = indices.Length;
            data.CopyBatch(indices, hostX, hostT);
            var xs = x.SliceRows(0, rows);
            var ts = t.SliceRows(0, rows);
            var es = error.SliceRows(0, rows);
            be.Upload(hostX.AsSpan(0, rows * data.InputLength), xs);
            be.Upload(hostT.AsSpan(0, rows * data.TargetLength), ts);
            be.Copy(net.Forward(xs, ForwardContext.Inference), es);
            be.Axpby(-1f, ts, 1f, es); // Y - T: +1, 0 or -1 per (sample, unit)
            // Every entry is -1, 0 or 1, so the sum of squares counts the mistakes exactly.
            double mistakes = be.SumOfSquares(es);
            if (mistakes > 0)
            {
                weight.SetGradientProducts(new GradientTerm(xs, es, 1f));
                be.SumColumns(es, bias.Gradient);
                _optimizer.Step(parameters, epoch);
            }
            return new BatchOutcome(mistakes, 0);
        }

        var plan = new MinibatchPlan(data.Count, b, DropPartialBatch: false, RandomStream.Root(Options.Seed).Derive(Data.DeterministicShuffle.EpochOrderPurpose));
        var history = new List<long>();
        long updates = 0;
        bool converged = false;
        for (int epoch = 0; epoch < Options.MaxEpochs && !converged; epoch++)
        {
            long mistakes = (long)EpochLoop.Run(Step, plan, epoch, cancellation: cancellation).LossSum;
            history.Add(mistakes);
            updates += mistakes;
            converged = mistakes == 0;
            epochCompleted?.Invoke(epoch, mistakes);
        }
        return new PerceptronReport(history.Count, updates, converged, history);
    }
}
