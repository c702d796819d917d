using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>Where a filter-study net's convolution filters come from (Jarrett et al.'s R, R+ and U+).</summary>
public enum FilterSource
{
    /// <summary>Random and frozen: only the classifier on top trains.</summary>
    Random,

    /// <summary>Random at the start, then every layer learned by backprop.</summary>
    Learned,

    /// <summary>Pretrained as a convolutional DBN (greedy CD), then every layer fine-tuned by backprop.</summary>
    Pretrained,
}

/// <summary>One architecture of the study: its stages and their rectification.</summary>
/// <param name="Stages">Convolution stages, bottom first (1 or 2 of the preset's).</param>
/// <param name="Rectified">Absolute-value rectification between each stage's tanh and its average pooling.</param>
public sealed record FilterStudyArchitecture(int Stages, bool Rectified)
{
    /// <summary>Jarrett's name for it, e.g. <c>2 stages, abs + average pooling</c>.</summary>
    public string Name => $"{Stages} stage{(Stages == 1 ? "" : "s")}, {(Rectified ? "abs + average pooling" : "average pooling")}";
}

/// <summary>The random-against-learned-filters study: the stages, the architectures, the pretraining and the backprop training of every net.</summary>
/// <param name="Stages">Each stage's filters (groups, side) and pooling window (block), bottom first; the pretrained nets' convolutional DBN has these layers.</param>
/// <param name="Architectures">The table's rows.</param>
/// <param name="Pretraining">CD settings of the convolutional DBN (its layers' learning-rate scales are the stages').</param>
/// <param name="PretrainEpochs">CD epochs per layer.</param>
/// <param name="Training">Backprop of every net (architecture replaced per net): the classifier alone for random filters, the whole net otherwise.</param>
/// <param name="RandomFiltersLearningRate">The learning rate when only the classifier trains (random filters); null keeps <paramref name="Training"/>'s.</param>
public sealed record FilterStudyPreset(IReadOnlyList<ConvolutionalLayerSpec> Stages, IReadOnlyList<FilterStudyArchitecture> Architectures,
    Boltzmann.RbmTrainingOptions Pretraining, int PretrainEpochs, TrainingConfig Training, float? RandomFiltersLearningRate = null);

/// <summary>One cell of the table.</summary>
/// <param name="Architecture">The row.</param>
/// <param name="Filters">The column.</param>
/// <param name="Accuracy">Test accuracy.</param>
/// <param name="Seconds">Seconds of backprop training (pretraining not included; it is the study's <see cref="FilterStudyResult.PretrainSeconds"/>).</param>
public sealed record FilterStudyCell(FilterStudyArchitecture Architecture, FilterSource Filters, double Accuracy, double Seconds);

/// <summary>What the study measured.</summary>
/// <param name="Cells">Every architecture with every filter source, in the preset's row order.</param>
/// <param name="PretrainSeconds">Seconds of the convolutional DBN's greedy training (once, shared by the pretrained nets).</param>
public sealed record FilterStudyResult(IReadOnlyList<FilterStudyCell> Cells, double PretrainSeconds);

/// <summary>
/// Jarrett, Kavukcuoglu, Ranzato &amp; LeCun (ICCV 2009), "What is the best multi-stage architecture for object recognition?": how much
/// of a convolutional net's accuracy its architecture gives with random filters. Each stage is a convolution, tanh, optionally
/// absolute-value rectification, and average pooling; a softmax layer sits on the last stage. The filters are random and frozen,
/// learned by backprop, or pretrained as a convolutional DBN and fine-tuned.
/// </summary>
public static class RandomFilterStudy
{
    /// <summary>The study's default preset.</summary>
    /// <remarks>
    /// The convolutional DBN preset's layers (24 groups of 5x5, 40 groups of 5x5 at a tenth of the rate, 2x2 blocks) are the stages,
    /// pretrained with its CD settings; backprop is momentum SGD for 5 epochs of batch 100, at 0.01 for the nets trained throughout
    /// and 0.02 for the classifier on random filters. Chosen on a validation split (the first 50,000 training images against the
    /// last 10,000; rates 0.05, 0.02 and 0.01, each with all nine nets): at 0.05 the two-stage abs nets with learned and pretrained
    /// filters diverged (10 %); at 0.02 and 0.01 the nine nets averaged 84.81 and 84.80 %, with random filters best at 0.02
    /// (mean 84.12 against 82.57 %) and learned and pretrained ones at 0.01 (86.99 against 86.67 %, 84.84 against 83.64 %).
    /// </remarks>
    public static FilterStudyPreset Default => new(ConvolutionalDbnPresets.Find("cdbn")!.Layers,
        [new FilterStudyArchitecture(2, true), new FilterStudyArchitecture(2, false), new FilterStudyArchitecture(1, true)],
        ConvolutionalDbnPresets.CdTraining, 5,
        ConvolutionalDbnPresets.FineTuning with
        {
            Optimizer = ConvolutionalDbnPresets.FineTuning.Optimizer with { LearningRate = 0.01f },
        }, RandomFiltersLearningRate: 0.02f);

    /// <summary>
    /// The net of <paramref name="architecture"/> on images of <paramref name="imageShape"/>: per stage conv (he-normal weights from
    /// <c>Root(seed).Derive("layer-weights", index)</c>), tanh, abs when rectified, average pooling over the stage's block; then flatten
    /// and a dense softmax layer of <paramref name="classes"/> units.
    /// </summary>
    /// <exception cref="ArgumentException">The architecture has more stages than <paramref name="stages"/>, or a stage does not fit its input.</exception>
    public static FeedForwardSpec Architecture(int[] imageShape, IReadOnlyList<ConvolutionalLayerSpec> stages, FilterStudyArchitecture architecture, int classes)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(architecture);
        if (architecture.Stages < 1 || architecture.Stages > stages.Count)
            throw new ArgumentException($"The architecture '{architecture.Name}' needs {architecture.Stages} stages; the preset has {stages.Count}.", nameof(architecture));
        var layers = new List<LayerSpec>();
        for (int s = 0; s < architecture.Stages; s++)
        {
            layers.Add(LayerSpec.Conv(stages[s].Groups, stages[s].Filter));
            layers.Add(LayerSpec.Of("tanh"));
            if (architecture.Rectified) layers.Add(LayerSpec.Of("abs"));
            layers.Add(LayerSpec.Pool("avgpool", stages[s].Block));
        }
        layers.Add(LayerSpec.Of("flatten"));
        layers.Add(LayerSpec.Dense(classes));
        var spec = new FeedForwardSpec(imageShape, layers, "softmax-cross-entropy");
        spec.SampleShapes(); // every stage fits its input, or an error naming the layer
        return spec;
    }

    /// <summary>The indices of the convolution layers of <paramref name="spec"/>, bottom first.</summary>
    public static IReadOnlyList<int> ConvolutionLayers(FeedForwardSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var indices = new List<int>();
        for (int i = 0; i < spec.Layers.Count; i++)
            if (spec.Layers[i] is ConvSpec) indices.Add(i);
        return indices;
    }

    /// <summary>Images of the training set whose mean pre-activations set the pretrained convolutions' biases.</summary>
    public const int CentringImages = 1000;

    /// <summary>
    /// Writes the filters of <paramref name="dbn"/>'s first layers into <paramref name="net"/>'s convolutions, each less its mean
    /// (a random filter's is zero on average) and rescaled to <c>sqrt(2)</c>, the expected norm of a he-normal filter, and each bias set to minus its map's mean pre-activation over the
    /// first <see cref="CentringImages"/> images of <paramref name="images"/> (stage by stage, through the stages already loaded):
    /// the pretrained nets then start from the random nets' scale with centred tanh units, and differ from them in the filters'
    /// shapes alone. The DBN's filters respond to an image's mean brightness and its own biases sit far below zero under its
    /// sparsity target, so copied as they are every tanh unit starts saturated near -1 and fine-tuning barely moves.
    /// </summary>
    /// <exception cref="ArgumentException">The net has more convolutions than the DBN has layers, or a convolution's shape differs from its layer's.</exception>
    public static void LoadPretrainedFilters(FeedForwardNet net, ConvolutionalDbn dbn, Dataset images)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(dbn);
        ArgumentNullException.ThrowIfNull(images);
        var convs = ConvolutionLayers(net.Spec);
        if (convs.Count > dbn.Layers.Count)
            throw new ArgumentException($"The net has {convs.Count} convolutions; the convolutional DBN has {dbn.Layers.Count} layers.", nameof(dbn));
        var be = net.Backend;
        int count = Math.Min(CentringImages, images.Count);
        var x = be.Allocate(count, images.FeatureCount);
        be.Upload(images.Features.AsSpan(0, count * images.FeatureCount), x);
        int done = 0;
        var h = x;
        for (int s = 0; s < convs.Count; s++)
        {
            var conv = (Conv2d)net.Layers[convs[s]];
            var rbm = dbn.Layers[s];
            if (rbm.Weights.Length != conv.Weight.Value.Length || rbm.Groups != conv.Weight.Value.Rows)
                throw new ArgumentException($"The stage {s + 1} filters are {rbm.Groups} x {rbm.Weights.Columns} in the convolutional DBN and " +
                                            $"{conv.Weight.Value.Rows} x {conv.Weight.Value.Columns} in the net.", nameof(net));
            var filters = new float[rbm.Weights.Length];
            rbm.Backend.Download(rbm.Weights, filters);
            int length = rbm.Weights.Columns;
            for (int k = 0; k < rbm.Groups; k++)
            {
                var filter = filters.AsSpan(k * length, length);
                TensorPrimitives.Subtract(filter, TensorPrimitives.Sum<float>(filter) / length, filter);
                double norm = Math.Sqrt(TensorPrimitives.SumOfSquares<float>(filter));
                TensorPrimitives.Multiply(filter, norm > 0 ? (float)(Math.Sqrt(2) / norm) : 0f, filter);
            }
            be.Upload(filters, conv.Weight.Value);
            be.Upload(new float[conv.Bias.Value.Length], conv.Bias.Value);
            for (; done < convs[s]; done++) h = net.Layers[done].Forward(h, ForwardContext.Inference);
            var maps = new float[count * rbm.Groups * conv.Geometry.ColumnCount];
            be.Download(conv.Forward(h, ForwardContext.Inference), maps);
            int positions = conv.Geometry.ColumnCount;
            var bias = new float[rbm.Groups];
            for (int k = 0; k < rbm.Groups; k++)
            {
                double sum = 0;
                for (int n = 0; n < count; n++)
                    sum += TensorPrimitives.Sum<float>(maps.AsSpan((n * rbm.Groups + k) * positions, positions));
                bias[k] = (float)(-sum / ((double)count * positions));
            }
            be.Upload(bias, conv.Bias.Value);
        }
    }

    /// <summary>
    /// Runs the study: pretrains the convolutional DBN of the preset's stages on <paramref name="train"/>'s images (labels unused),
    /// then trains every architecture with every filter source by backprop on <paramref name="train"/> and measures it on
    /// <paramref name="test"/>. The same seed gives every net of a row the same random start.
    /// </summary>
    /// <exception cref="ArgumentException">The images are not image-shaped, or a stage does not fit.</exception>
    public static FilterStudyResult Run(FilterStudyPreset preset, IBackend backend, Dataset train, Dataset test, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var (channels, height, width) = ImagePatches.Geometry(train, 1);
        int[] shape = [channels, height, width];
        int depth = preset.Architectures.Max(a => a.Stages);
        // Built before pretraining, so a stage that does not fit fails at once.
        var specs = preset.Architectures.Select(a => Architecture(shape, preset.Stages, a, train.ClassCount)).ToList();

        var clock = Stopwatch.StartNew();
        var (dbn, _) = ConvolutionalDbn.TrainGreedy(backend, train, preset.Stages.Take(depth).ToList(), Boltzmann.VisibleUnits.Bernoulli,
            preset.Pretraining with { Seed = seed }, preset.PretrainEpochs, seed,
            (l, r) => progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"pretraining layer {l + 1} epoch {r.Epoch + 1}/{preset.PretrainEpochs}: reconstruction error {r.ReconstructionError:F3}, {r.Seconds:F1} s")));
        double pretrainSeconds = clock.Elapsed.TotalSeconds;

        var trainData = SupervisedData.FromDataset(train);
        var testData = SupervisedData.FromDataset(test);
        var cells = new List<FilterStudyCell>();
        for (int row = 0; row < specs.Count; row++)
        {
            var (architecture, spec) = (preset.Architectures[row], specs[row]);
            foreach (var source in Enum.GetValues<FilterSource>())
            {
                var net = new FeedForwardNet(backend, spec, seed);
                if (source == FilterSource.Pretrained) LoadPretrainedFilters(net, dbn, train);
                var options = preset.Training.Training with
                {
                    Seed = seed,
                    FrozenLayers = source == FilterSource.Random ? ConvolutionLayers(spec) : [],
                };
                var config = preset.Training with { Architecture = spec, Training = options };
                if (source == FilterSource.Random && preset.RandomFiltersLearningRate is float rate)
                    config = config with { Optimizer = config.Optimizer with { LearningRate = rate } };
                clock.Restart();
                new Trainer(net, config.CreateOptimizer(), options).Fit(trainData);
                double seconds = clock.Elapsed.TotalSeconds;
                double accuracy = Trainer.Evaluate(net, testData).Accuracy ?? double.NaN;
                cells.Add(new FilterStudyCell(architecture, source, accuracy, seconds));
                progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{architecture.Name}, {source.ToString().ToLowerInvariant()} filters: {accuracy:P2} test accuracy ({seconds:F1} s of backprop)"));
            }
        }
        return new FilterStudyResult(cells, pretrainSeconds);
    }
}
