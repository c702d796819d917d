using System.Globalization;
using Shinso.Models.ConvolutionalBoltzmann;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Jarrett et al.'s table of random against learned filters: two-stage and one-stage convolutional nets with tanh and average
/// pooling, with and without absolute-value rectification, whose filters are random and frozen, learned by backprop, or
/// pretrained as a convolutional DBN and fine-tuned; the paper's Caltech-101 figures beside.
/// </summary>
internal sealed class RandomFiltersExperiment : Experiment
{
    public override string Name => "random-filters";

    public override string Paper => "Jarrett, K., Kavukcuoglu, K., Ranzato, M. & LeCun, Y. (2009), What is the best multi-stage architecture for object recognition?, ICCV 2009:2146-2153";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset); the paper used Caltech-101";

    public override string Claim => "with rectification and pooling, random frozen filters give most of a convolutional net's accuracy; without rectification they give far less";

    public override string ExpectedTime => "12 min (quick: 1 min)";

    public override string QuickVersion => "the first 2,000 / 500 images of the embedded subset, 1 pretraining and 1 backprop epoch";

    /// <summary>Jarrett's Caltech-101 accuracies (random and frozen, learned by backprop) for the rows of the default preset.</summary>
    private static readonly Dictionary<(int Stages, bool Rectified), (double Random, double Learned)> PaperFigures = new()
    {
        [(2, true)] = (62.9, 64.7),
        [(2, false)] = (19.6, 31.0),
        [(1, true)] = (53.3, 54.8),
    };

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var (train, test) = context.Quick ? (data.Train.Take(Math.Min(2000, data.Train.Count)), data.Test.Take(Math.Min(500, data.Test.Count))) : (data.Train, data.Test);
        var preset = RandomFilterStudy.Default;
        if (context.Quick) preset = preset with { PretrainEpochs = 1, Training = preset.Training with { Training = preset.Training.Training with { Epochs = 1 } } };
        void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line));
        FilterStudyResult result;
        try
        {
            result = RandomFilterStudy.Run(preset, context.Backend, train, test, context.Seed, Log);
        }
        catch (ArgumentException e)
        {
            throw new Commands.UsageException($"--data: {Commands.CommonOptions.WithoutParameter(e)}");
        }
        string P(double x) => x.ToString("P2", CultureInfo.InvariantCulture);
        string stages = string.Join(", ", preset.Stages.Select((s, i) => $"stage {i + 1}: {s.Groups} filters {s.Filter}x{s.Filter}, {s.Block}x{s.Block} average pooling"));
        var t = preset.Training;
        string rates = preset.RandomFiltersLearningRate is float r ? $" ({r.ToString(CultureInfo.InvariantCulture)} for the classifier on random filters)" : "";
        string setting = $"{stages}; tanh units; backprop {t.Optimizer.Name} at {t.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}{rates}, {t.Training.Epochs} epochs of batch {t.Training.BatchSize}; " +
                         $"pretraining: {preset.PretrainEpochs} CD-1 epochs per layer with the cdbn preset's settings; seed {context.Seed}; {train.Count:N0} training / {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        foreach (var architecture in preset.Architectures)
        {
            var row = result.Cells.Where(c => c.Architecture == architecture).ToDictionary(c => c.Filters);
            string ours = $"random {P(row[FilterSource.Random].Accuracy)}, learned {P(row[FilterSource.Learned].Accuracy)}, pretrained + fine-tuned {P(row[FilterSource.Pretrained].Accuracy)}";
            string paper = PaperFigures.TryGetValue((architecture.Stages, architecture.Rectified), out var f)
                ? string.Create(CultureInfo.InvariantCulture, $"random {f.Random:F1} %, learned {f.Learned:F1} % (Caltech-101, 30 training images per class)")
                : "not in the paper's table";
            report.Rows.Add(new ReportRow($"{architecture.Name}: what random filters give against learned ones", paper,
                "Caltech-101 at 143x143, 64 then 256 filters 9x9, tanh with gains, average pooling (abs rows: rectification before pooling), multinomial logistic regression on top",
                ours, setting));
            string key = $"{architecture.Stages}stage_{(architecture.Rectified ? "abs" : "avg")}";
            foreach (var cell in row.Values) report.Figures[$"{key}_{cell.Filters.ToString().ToLowerInvariant()}_accuracy"] = cell.Accuracy;
        }
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? $", its first {train.Count:N0} / {test.Count:N0} images (quick)." : "."));
        report.Notes.Add("Random: he-normal filters frozen (the trainer leaves their layers out and backpropagates only into the classifier). Learned: the same start, every layer trained. " +
                         "Pretrained: the filters of a convolutional DBN with these stages, each less its mean and rescaled to the random start's norm, biases centring each map on the training images, then every layer fine-tuned.");
        report.Notes.Add("No local contrast normalisation (Jarrett's N layers), so the rows compare with the paper's rows without it.");
        report.Figures["pretrain_seconds"] = result.PretrainSeconds;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
