using System.Diagnostics;
using System.Globalization;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Models.SparseCoding;
using Shinso.Training;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>A convolutional RBM or DBN preset: the layers, their CD training, and the classifiers on the features.</summary>
/// <param name="Layers">The layers, bottom first.</param>
/// <param name="Visible">The first layer's visible units.</param>
/// <param name="Training">CD-1 settings of every layer (learning rate, batch, momentum, sparsity).</param>
/// <param name="Epochs">CD epochs per layer.</param>
/// <param name="Classifier">Softmax regression on the standardised pooling probabilities; null skips it.</param>
/// <param name="FineTuning">Backprop of the whole stack, converted to a convolutional net with a softmax layer on top; null skips it.</param>
public sealed record ConvolutionalDbnPreset(IReadOnlyList<ConvolutionalLayerSpec> Layers, VisibleUnits Visible, RbmTrainingOptions Training, int Epochs,
    TrainingConfig? Classifier, TrainingConfig? FineTuning);

/// <summary>The convolutional RBM and DBN presets.</summary>
public static class ConvolutionalDbnPresets
{
    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Names { get; } = ["conv-rbm", "cdbn"];

    /// <summary>CD-1 at rate 1 on mean statistics, batch 50, the guide's momentum switch, Lee et al.'s sparsity on the hidden biases (target 0.05, cost 5).</summary>
    public static RbmTrainingOptions CdTraining => new() { LearningRate = 1f, BatchSize = 50, SparsityTarget = 0.05f, SparsityCost = 5f, WeightDecay = 1e-4f };

    /// <summary>Backprop of the converted stack: momentum SGD at 0.1 (0.01 fell 4 points short on the validation split), 5 epochs of batch 100.</summary>
    public static TrainingConfig FineTuning => new()
    {
        Architecture = new FeedForwardSpec([1], [LayerSpec.Dense(10)], "softmax-cross-entropy"),
        Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.1f, MomentumStart = 0.9f, MomentumEnd = 0.9f },
        Training = new TrainingOptions { Epochs = 5, BatchSize = 100, Seed = 1 },
    };

    /// <summary>The preset <paramref name="name"/>, or null for another name.</summary>
    public static ConvolutionalDbnPreset? Find(string name) => name switch
    {
        // 24 groups of 5x5 filters on 28x28 images: 24x24 detection maps in 2x2 blocks, 12x12 pooled maps. Chosen on a validation split
        // (the first 10,000 training images against 5,000 of the last 10,000; 8 recipes): 5x5 filters 82.50 %, 7x7 81.92 %, 40 groups
        // 82.20 %, sparsity target 0.02 / 0.1 79.38 / 81.12 %, cost 1 81.78 %, no weight decay 82.00 % (softmax on the pooled maps).
        "conv-rbm" => new ConvolutionalDbnPreset([new ConvolutionalLayerSpec(24, 5, 2)], VisibleUnits.Bernoulli, CdTraining, 5, SparseCodingPresets.SoftmaxClassifier, FineTuning),
        // Lee et al.'s two-layer model, scaled to 28x28: a second layer of 40 groups of 5x5 filters over the first's 24 pooled maps (8x8 detection, 4x4 pooled),
        // at a tenth of the first layer's rate: at the first layer's rate 1 its reconstruction error blew up in the fourth epoch on the full set.
        "cdbn" => new ConvolutionalDbnPreset([new ConvolutionalLayerSpec(24, 5, 2), new ConvolutionalLayerSpec(40, 5, 2, LearningRateScale: 0.1f)], VisibleUnits.Bernoulli, CdTraining, 5,
            SparseCodingPresets.SoftmaxClassifier, FineTuning),
        _ => null,
    };
}

/// <summary>The test accuracy of softmax regression on one choice of pooled features.</summary>
/// <param name="Features">Which layers' pooling probabilities, e.g. <c>layer 1</c> or <c>layers 1+2</c>.</param>
/// <param name="Width">Values per image.</param>
/// <param name="Accuracy">Test accuracy.</param>
public sealed record FeatureAccuracy(string Features, int Width, double Accuracy);

/// <summary>What a convolutional DBN run measured.</summary>
/// <param name="Dbn">The trained stack.</param>
/// <param name="Reports">Each layer's CD epochs.</param>
/// <param name="TrainSeconds">Seconds of greedy training.</param>
/// <param name="Classifiers">Softmax regression on each layer's pooled features and, for two or more layers, on all of them.</param>
/// <param name="FineTuned">The stack converted to a convolutional net and fine-tuned, or null.</param>
/// <param name="FineTunedAccuracy">Its test accuracy (NaN without fine-tuning).</param>
public sealed record ConvolutionalDbnResult(ConvolutionalDbn Dbn, IReadOnlyList<ConvolutionalLayerReport> Reports, double TrainSeconds, IReadOnlyList<FeatureAccuracy> Classifiers,
    FeedForwardNet? FineTuned, double FineTunedAccuracy);

/// <summary>Test accuracies with <paramref name="Labelled"/> labelled training images (the convolutional DBN itself trained on all of them, unlabelled).</summary>
/// <param name="Labelled">Labelled images the classifier and the fine-tuning saw.</param>
/// <param name="Classifier">Softmax regression on the pooled maps of every layer.</param>
/// <param name="FineTuned">The stack converted to a convolutional net and fine-tuned on them.</param>
/// <param name="Epochs">The fine-tuning's epochs: as many updates as the preset's epochs on the whole training set (the classifier's epochs scale the same way).</param>
public sealed record LabelledSubsetAccuracy(int Labelled, double Classifier, double FineTuned, int Epochs);

/// <summary>Runs a <see cref="ConvolutionalDbnPreset"/>: greedy CD training, the classifiers on pooled features, fine-tuning of the converted net.</summary>
public static class ConvolutionalDbnRun
{
    /// <summary>Trains on <paramref name="train"/> and measures on <paramref name="test"/>.</summary>
    /// <exception cref="ArgumentException">The images are not image-shaped, or a layer's filter or block does not fit the maps it reads.</exception>
    public static ConvolutionalDbnResult Run(ConvolutionalDbnPreset preset, IBackend backend, Dataset train, Dataset test, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var clock = Stopwatch.StartNew();
        var options = preset.Training with { Seed = seed };
        var (dbn, reports) = ConvolutionalDbn.TrainGreedy(backend, train, preset.Layers, preset.Visible, options, preset.Epochs, seed,
            (l, r) => progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"layer {l + 1} epoch {r.Epoch + 1}/{preset.Epochs}: reconstruction error {r.ReconstructionError:F3}, {r.Seconds:F1} s")));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var classifiers = new List<FeatureAccuracy>();
        if (preset.Classifier is { } classifier)
        {
            var choices = Enumerable.Range(0, dbn.Layers.Count).Select(l => (Name: $"layer {l + 1}", Layers: (IReadOnlyList<int>)[l])).ToList();
            if (dbn.Layers.Count > 1) choices.Add(($"layers {string.Join("+", Enumerable.Range(1, dbn.Layers.Count))}", [.. Enumerable.Range(0, dbn.Layers.Count)]));
            // One up pass per set: every choice of features reads the same pooled maps.
            var trainPooled = dbn.PooledByLayer(train);
            var testPooled = dbn.PooledByLayer(test);
            foreach (var (name, layers) in choices)
            {
                var trainFeatures = ConvolutionalDbn.Concatenate(trainPooled, layers, train);
                var testFeatures = ConvolutionalDbn.Concatenate(testPooled, layers, test);
                double accuracy = StandardizedClassifier.Train(backend, classifier, trainFeatures, testFeatures).Accuracy;
                classifiers.Add(new FeatureAccuracy(name, trainFeatures.FeatureCount, accuracy));
                progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"softmax on the pooled {name} ({trainFeatures.FeatureCount} per image): {accuracy:P2} test accuracy"));
            }
        }
        FeedForwardNet? fineTuned = null;
        double fineTunedAccuracy = double.NaN;
        if (preset.FineTuning is { } fine)
        {
            fineTuned = dbn.ToFeedForwardNet(seed, train.ClassCount);
            var trainer = new Trainer(fineTuned, fine.CreateOptimizer(), fine.Training with { Seed = seed });
            trainer.Fit(SupervisedData.FromDataset(train));
            fineTunedAccuracy = Trainer.Evaluate(fineTuned, SupervisedData.FromDataset(test)).Accuracy ?? double.NaN;
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"the stack as a convolutional net, fine-tuned {fine.Training.Epochs} epochs: {fineTunedAccuracy:P2} test accuracy"));
        }
        return new ConvolutionalDbnResult(dbn, reports, trainSeconds, classifiers, fineTuned, fineTunedAccuracy);
    }

    /// <summary>
    /// Lee et al.'s table of accuracy against labelled data: for each of <paramref name="counts"/>, a random subset of that many
    /// labelled training images (from <c>Root(seed).Derive("labelled-subset")</c>, the smaller subsets inside the larger) trains
    /// softmax regression on the pooled maps of every layer and, separately, the fine-tuned convolutional net, each for as many
    /// updates as the preset's epochs over the whole set (so a 1,000-image subset runs 60 times the epochs), measured on <paramref name="test"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A count is below 1 or above the training set, or the preset has no classifier or fine-tuning.</exception>
    public static IReadOnlyList<LabelledSubsetAccuracy> LabelledSubsets(ConvolutionalDbnPreset preset, ConvolutionalDbn dbn, IBackend backend, Dataset train, Dataset test,
        IReadOnlyList<int> counts, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(dbn);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(counts);
        if (preset.Classifier is not { } classifier || preset.FineTuning is not { } fine)
            throw new ArgumentException("The labelled-subset table needs the preset's classifier and fine-tuning.", nameof(preset));
        foreach (int n in counts)
            if (n < 1 || n > train.Count) throw new ArgumentException($"A labelled subset of {n} images is not within the {train.Count} training images.", nameof(counts));
        var all = Enumerable.Range(0, dbn.Layers.Count).ToList();
        var trainFeatures = Concatenate(dbn, train, all);
        var testFeatures = Concatenate(dbn, test, all);
        var order = DeterministicShuffle.EpochPermutation(train.Count, 0, Random.RandomStream.Root(seed).Derive("labelled-subset"));
        var rows = new List<LabelledSubsetAccuracy>();
        foreach (int n in counts)
        {
            var indices = order.AsSpan(0, n);
            int Epochs(TrainingConfig c) => (int)Math.Ceiling((double)c.Training.Epochs * train.Count / n);
            var subsetClassifier = classifier with { Training = classifier.Training with { Epochs = Epochs(classifier) } };
            double classified = StandardizedClassifier.Train(backend, subsetClassifier, trainFeatures.Subset(indices), testFeatures).Accuracy;
            var net = dbn.ToFeedForwardNet(seed, train.ClassCount);
            var options = fine.Training with { Seed = seed, Epochs = Epochs(fine) };
            new Trainer(net, fine.CreateOptimizer(), options).Fit(SupervisedData.FromDataset(train.Subset(indices)));
            double fineTuned = Trainer.Evaluate(net, SupervisedData.FromDataset(test)).Accuracy ?? double.NaN;
            rows.Add(new LabelledSubsetAccuracy(n, classified, fineTuned, options.Epochs));
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"{n:N0} labelled images: softmax on the pooled maps {classified:P2}, fine-tuned net {fineTuned:P2} test accuracy ({options.Epochs} epochs)"));
        }
        return rows;
    }

    private static Dataset Concatenate(ConvolutionalDbn dbn, Dataset images, IReadOnlyList<int> layers) => ConvolutionalDbn.Concatenate(dbn.PooledByLayer(images), layers, images);
}
