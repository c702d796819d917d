using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Models.Perceptrons;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Rosenblatt's perceptron on images, one threshold unit per class (one-vs-rest), beside multinomial logistic regression:
/// the same linear scores, learned by the mistake-driven rule and by gradient descent on cross-entropy.
/// </summary>
internal sealed class PerceptronExperiment : Experiment
{
    public override string Name => "perceptron";

    public override string Paper => "Rosenblatt, F. (1958), The perceptron: a probabilistic model for information storage and organization in the brain, Psychol. Rev. 65(6):386-408";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset)";

    public override string Claim => "a layer of threshold units learns to classify images by the perceptron rule, short of logistic regression on the same linear scores";

    public override string ExpectedTime => "5 s (quick: 1 s)";

    public override string QuickVersion => "the embedded subset (10,000 training / 2,000 test images) instead of the full set";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = SupervisedData.FromDataset(data.Train.WithClassCount(classes));
        var test = SupervisedData.FromDataset(data.Test.WithClassCount(classes));

        var options = PerceptronOptions.Preset with { Seed = context.Seed };
        var perceptron = new Perceptron(context.Backend, train.InputLength, classes);
        var learned = new PerceptronTrainer(perceptron, options).Fit(train);
        double perceptronAccuracy = perceptron.Accuracy(test);

        var logistic = Presets.Find("logistic")!;
        if (logistic.Architecture.InputLength != train.InputLength || logistic.Architecture.OutputLength != classes)
            throw new UsageException($"--data: samples of {train.InputLength} features in {classes} classes; the logistic preset takes 784 features in 10 classes.");
        logistic = logistic with { Training = logistic.Training with { Seed = context.Seed } };
        var net = new FeedForwardNet(context.Backend, logistic.Architecture, context.Seed);
        new Trainer(net, logistic.CreateOptimizer(), logistic.Training).Fit(train);
        var logisticFigures = Trainer.Evaluate(net, test);

        string P(double x) => x.ToString("P2", CultureInfo.InvariantCulture);
        string size = $"{train.Count:N0} training / {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("threshold units learn to classify by the perceptron rule",
            "no benchmark (the 1958 paper is a theory of the model)", "the photoperceptron, analysed rather than run on data",
            $"{P(perceptronAccuracy)} test accuracy ({learned.Updates:N0} corrections in {learned.Epochs} epoch{(learned.Epochs == 1 ? "" : "s")})",
            $"{classes} units one-vs-rest, online rule, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, {options.MaxEpochs} epoch, seed {context.Seed}; {size}"));
        report.Rows.Add(new ReportRow("logistic regression on the same linear scores",
            "-", "-",
            $"{P(logisticFigures.Accuracy ?? double.NaN)} test accuracy (cross-entropy {logisticFigures.Loss.ToString("F4", CultureInfo.InvariantCulture)})",
            $"the logistic preset: softmax regression, SGD lr {logistic.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {logistic.Training.BatchSize}, " +
            $"{logistic.Training.Epochs} epochs, seed {context.Seed}; {size}"));
        report.Notes.Add($"Data: {data.Description}." + (context.Quick ? " Quick: the embedded subset." : ""));
        report.Notes.Add("Both recipes were chosen on a 50,000 / 10,000 validation split of Fashion-MNIST's training set (perceptron: 1, 3, 5, 10 epochs; " +
                         "logistic: lr 0.01, 0.1, 0.5 over 10 epochs), then trained on the whole training set.");
        report.Figures["perceptron_accuracy"] = perceptronAccuracy;
        report.Figures["perceptron_updates"] = learned.Updates;
        report.Figures["logistic_accuracy"] = logisticFigures.Accuracy;
        report.Figures["logistic_loss"] = logisticFigures.Loss;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
