using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Yosinski et al.'s transfer protocol, scaled down: Fashion-MNIST's classes split into tasks A = {0..4} and B = {5..9}, a base
/// net trained on each, and for every n the nets for B that start from the first n weight layers of the base net of B (BnB)
/// or of A (AnB), those layers frozen or fine-tuned (+), the rest freshly initialised; several seeds each.
/// </summary>
internal sealed class TransferExperiment : Experiment
{
    private const string Plot = "transfer.png";

    /// <summary>Where a net for B takes its first layers from: base B, base A (the other half of the classes), or base A' (the distant data set).</summary>
    private enum Source { B, A, Distant }

    /// <summary>The ways of starting a net for B, in the paper's names and the plot's colour order; the last two only with --source-data.</summary>
    private static readonly (string Name, Source From, bool FineTune)[] AllConditions =
        [("BnB", Source.B, false), ("BnB+", Source.B, true), ("AnB", Source.A, false), ("AnB+", Source.A, true), ("A'nB", Source.Distant, false), ("A'nB+", Source.Distant, true)];

    private static readonly string[] Colours = ["blue", "orange", "green", "red", "purple", "brown", "pink"];

    public override string Name => "transfer";

    public override string Paper => "Yosinski, J., Clune, J., Bengio, Y. & Lipson, H. (2014), How transferable are features in deep neural networks?, NIPS 27:3320-3328";

    public override string Dataset => "Fashion-MNIST split by class into A = {0..4} and B = {5..9} (Debian's dataset-fashion-mnist if installed, else the embedded subset); the paper split ImageNet's 1,000 classes in two halves";

    public override string Claim => "copied and fine-tuned features (AnB+) do at least as well as training on B alone, while frozen copies lose accuracy as more layers are copied";

    public override string ExpectedTime => "4-5 min (quick: 5 s)";

    public override string? SourceDataHelp =>
        "The distant variant: also transfer to B from a net trained on all classes of this data set (e.g. an MNIST-format digits folder), Yosinski et al.'s dissimilar task A'; " +
        "its images must have the shape of --data's";

    public override string QuickVersion => "the first 1,500 / 500 images of each task from the embedded subset, 3 epochs per net, 1 seed";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        if (data.Train.ClassCount != 10)
            throw new Commands.UsageException($"--data: the transfer protocol splits ten classes into two tasks of five; the data has {data.Train.ClassCount}.");
        int trainLimit = context.Quick ? 1500 : int.MaxValue, testLimit = context.Quick ? 500 : int.MaxValue;
        LoadedData? distantData = null;
        if (context.SourceData is { } sourcePath)
        {
            try { distantData = Commands.CommonOptions.LoadData(sourcePath, null); }
            catch (Commands.UsageException e) when (e.Message.StartsWith("--data", StringComparison.Ordinal)) { throw new Commands.UsageException("--source-data" + e.Message["--data".Length..]); }
        }
        if (distantData is not null && !distantData.Train.SampleShape.SequenceEqual(data.Train.SampleShape))
            throw new Commands.UsageException($"--source-data: its images have shape [{string.Join(", ", distantData.Train.SampleShape)}], --data's [{string.Join(", ", data.Train.SampleShape)}]; " +
                                              "the copied layers need the same inputs.");
        var conditions = distantData is null ? AllConditions[..4] : AllConditions;
        var trainDistant = distantData is null ? null : SupervisedData.FromDataset(Classes(distantData.Train, 0, distantData.Train.ClassCount, trainLimit));
        var trainA = SupervisedData.FromDataset(Classes(data.Train, 0, 5, trainLimit));
        var trainB = SupervisedData.FromDataset(Classes(data.Train, 5, 5, trainLimit));
        var testB = SupervisedData.FromDataset(Classes(data.Test, 5, 5, testLimit));
        int seeds = context.Quick ? 1 : 3, epochs = context.Quick ? 3 : 5;
        var config = Recipe(data.Train.SampleShape, epochs, 5);
        var spec = config.Architecture;
        // The distant base net has its data set's classes on top; the layers below, the ones copied, are the same.
        var distantConfig = distantData is null ? null : Recipe(data.Train.SampleShape, epochs, distantData.Train.ClassCount);
        int depth = LayerTransfer.WeightLayers(new FeedForwardNet(context.Backend, spec, context.Seed)).Count;
        void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line));

        var clock = Stopwatch.StartNew();
        (FeedForwardNet Net, double Accuracy) Train(ulong seed, SupervisedData train, FeedForwardNet? from, int copied, bool fineTune, TrainingConfig? recipe = null)
        {
            // A transferred net's fresh layers and its minibatch order are its own, not a replay of the base net's.
            if (from is not null) seed = RandomStream.Root(seed).Derive("transfer-target", copied).Seed;
            var net = new FeedForwardNet(context.Backend, (recipe ?? config).Architecture, seed);
            var options = config.Training with { Seed = seed };
            if (from is not null)
            {
                var layers = LayerTransfer.Copy(from, net, copied);
                if (!fineTune) options = options with { FrozenLayers = layers };
            }
            new Trainer(net, config.CreateOptimizer(), options).Fit(train);
            return (net, recipe is null ? Trainer.Evaluate(net, testB).Accuracy ?? double.NaN : double.NaN);
        }

        var baseB = new List<double>();
        // accuracy[condition][n - 1][seed]
        var accuracy = conditions.Select(_ => Enumerable.Range(0, depth - 1).Select(_ => new List<double>()).ToArray()).ToArray();
        for (int s = 0; s < seeds; s++)
        {
            // One seed per replicate: the base nets start from it, and the nets built on them from seeds derived from it by name and n.
            ulong seed = context.Seed + (ulong)s;
            var (netA, _) = Train(seed, trainA, null, 0, false);
            var (netB, accB) = Train(seed, trainB, null, 0, false);
            // The distant base net's seed is its own, so that its first layers do not start as base A's.
            var netDistant = trainDistant is null ? null : Train(RandomStream.Root(seed).Derive("distant-base").Seed, trainDistant, null, 0, false, distantConfig).Net;
            baseB.Add(accB);
            Log(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: base B {accB:P2} on B's test images ({clock.Elapsed.TotalSeconds:F0} s)"));
            for (int n = 1; n < depth; n++)
                for (int c = 0; c < conditions.Length; c++)
                {
                    var (name, from, fineTune) = conditions[c];
                    double acc = Train(seed, trainB, from switch { Source.A => netA, Source.B => netB, _ => netDistant! }, n, fineTune).Accuracy;
                    accuracy[c][n - 1].Add(acc);
                    Log(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: {name.Replace("n", n.ToString(CultureInfo.InvariantCulture))} {acc:P2} ({clock.Elapsed.TotalSeconds:F0} s)"));
                }
        }

        var plot = new ScatterPlot();
        for (int c = 0; c < conditions.Length; c++)
            for (int n = 1; n < depth; n++)
            {
                var values = accuracy[c][n - 1];
                plot.Points([.. values.Select(_ => n + (c - (conditions.Length - 1) / 2.0) * 0.1)], [.. values.Select(a => 100 * (1 - a))], [.. values.Select(_ => c)]);
            }
        plot.Points([.. baseB.Select(_ => 0.0)], [.. baseB.Select(a => 100 * (1 - a))], [.. baseB.Select(_ => AllConditions.Length)]);
        plot.Write(Path.Combine(context.OutDirectory, Plot));

        static double Mean(IEnumerable<double> x) => x.Average();
        string P(double x) => (100 * x).ToString("F2", CultureInfo.InvariantCulture) + " %";
        string Series(int c) => string.Join(", ", Enumerable.Range(1, depth - 1).Select(n => $"n={n}: {P(Mean(accuracy[c][n - 1]))}"));
        double baseMean = Mean(baseB);
        string setting = $"lenet5's layers with a 5-way output ({depth} weight layers; n = 1..{depth - 1}); {config.Optimizer.Name} at lr {config.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                         $"weight decay {config.WeightDecay.ToString(CultureInfo.InvariantCulture)}, {epochs} epochs of batch {config.Training.BatchSize} per net; " +
                         $"{trainB.Count:N0} training images of B ({trainA.Count:N0} of A), {testB.Count:N0} test images of B; {seeds} seed(s) from {context.Seed}; means over seeds";
        const string paperSetting = "ImageNet split into two halves of 500 classes, Krizhevsky's 8-layer net, n = 1..7, top-1 accuracy on B's validation images";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("AnB+: layers copied from the other task and fine-tuned do at least as well as base B",
            "AnB+ at or above base B at every n (about +2 % top-1 in Fig. 2, the boost lasting after fine-tuning)", paperSetting,
            $"base B {P(baseMean)}; AnB+ {Series(3)}", setting));
        report.Rows.Add(new ReportRow("AnB: frozen features of the other task lose accuracy as n grows (features get specific to their task)",
            "AnB near base B for n = 1, 2, falling steadily from n = 3 to the largest drop at n = 7", paperSetting, $"AnB {Series(2)}", setting));
        report.Rows.Add(new ReportRow("BnB: frozen features of the same task lose a little in the middle layers (fragile co-adaptation), BnB+ recovers it",
            "BnB dips below base B at n = 3-6 and is back at n = 7; BnB+ matches base B at every n", paperSetting,
            $"BnB {Series(0)}; BnB+ {Series(1)}", setting));
        if (distantData is not null)
            report.Rows.Add(new ReportRow("A'nB: frozen features of a distant task lose more than a similar task's as n grows; fine-tuned (A'nB+) they still do as well as base B",
                "transfer from man-made to natural classes falls below transfer between random halves at every n, most at the top layers (Fig. 3)",
                "ImageNet split into 449 man-made and 551 natural classes, the same 8-layer net",
                $"A'nB {Series(4)}; A'nB+ {Series(5)} (AnB {Series(2)})",
                $"A' = all {distantData.Train.ClassCount} classes of {distantData.Description} ({trainDistant!.Count:N0} training images), its net lenet5's layers with a {distantData.Train.ClassCount}-way output; otherwise as above"));
        report.Images.Add((Plot, $"test error on B's images (%, y) against the weight layers copied (n, x; base B at n = 0): " +
                                 string.Join(", ", conditions.Select((cond, c) => $"{cond.Name} {Colours[c]}")) + $", base B {Colours[^1]}; one dot per seed"));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? " (quick: the first images of each task)." : "."));
        report.Notes.Add("One recipe, fixed before the run: lenet5's (momentum, exponential decay, weight decay 5e-4, chosen earlier on a validation split of all ten classes), " +
                         "its epochs cut for the many nets; no setting was tuned on these results.");
        report.Notes.Add("Copied layers are the net's conv and dense layers counted from the input (the activations and pooling between are the target's own, identical here). " +
                         "Frozen: the trainer leaves those layers out and backpropagates only into the layers above; fine-tuned: every layer trains at the same rate.");
        report.Figures["base_b_accuracy"] = new JsonArray([.. baseB.Select(a => (JsonNode)a)]);
        for (int c = 0; c < conditions.Length; c++)
            for (int n = 1; n < depth; n++)
                report.Figures[$"{conditions[c].Name.Replace("A'", "distant_A").Replace("+", "_plus").ToLowerInvariant()}_n{n}_accuracy"] = new JsonArray([.. accuracy[c][n - 1].Select(a => (JsonNode)a)]);
        report.Figures["seconds"] = clock.Elapsed.TotalSeconds;
        report.Figures["train_b_samples"] = trainB.Count;
        report.Figures["test_b_samples"] = testB.Count;
        return report;
    }

    /// <summary>lenet5's recipe with a <paramref name="classes"/>-way output and <paramref name="epochs"/> epochs.</summary>
    private static TrainingConfig Recipe(IReadOnlyList<int> sampleShape, int epochs, int classes)
    {
        var lenet = Presets.Find("lenet5")!;
        int[] shape = sampleShape.Count == 3 ? [.. sampleShape] : sampleShape.Count == 2 ? [1, sampleShape[0], sampleShape[1]]
            : throw new Commands.UsageException($"--data: the transfer protocol trains a convolutional net on images; the samples have shape [{string.Join(", ", sampleShape)}].");
        var layers = lenet.Architecture.Layers.ToList();
        layers[^1] = LayerSpec.Dense(classes, WeightInit.GlorotUniform);
        return lenet with
        {
            Architecture = lenet.Architecture with { InputShape = shape, Layers = layers },
            Training = lenet.Training with { Epochs = epochs },
        };
    }

    /// <summary>The first <paramref name="limit"/> samples of classes [<paramref name="first"/>, first + count), relabelled from 0.</summary>
    private static Dataset Classes(Dataset data, int first, int count, int limit)
    {
        var rows = new List<int>();
        for (int i = 0; i < data.Count && rows.Count < limit; i++)
            if (data.Labels[i] >= first && data.Labels[i] < first + count) rows.Add(i);
        int features = data.FeatureCount;
        var x = new float[rows.Count * features];
        var y = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            data.Features.AsSpan(rows[r] * features, features).CopyTo(x.AsSpan(r * features));
            y[r] = data.Labels[rows[r]] - first;
        }
        return new Dataset(x, y, count, data.SampleShape);
    }
}
