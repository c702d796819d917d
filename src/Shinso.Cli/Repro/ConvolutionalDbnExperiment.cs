using System.Globalization;
using Shinso.Models.ConvolutionalBoltzmann;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Lee et al.'s convolutional DBN against the amount of labelled data: the cdbn preset trained on every training image without
/// labels, then softmax regression on both layers' pooled maps and the fine-tuned convolutional net with 1,000, 5,000 and all
/// labelled images; the paper's MNIST errors beside.
/// </summary>
internal sealed class ConvolutionalDbnExperiment : Experiment
{
    public override string Name => "cdbn";

    public override string Paper => "Lee, H., Grosse, R., Ranganath, R. & Ng, A. Y. (2009), Convolutional deep belief networks for scalable unsupervised learning of hierarchical representations, ICML 2009:609-616";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset); the paper used MNIST";

    public override string Claim => "features a convolutional DBN learns without labels classify well from few labelled images";

    public override string ExpectedTime => "12 min (quick: 1 min)";

    public override string QuickVersion => "the first 2,000 / 500 images of the embedded subset, 1 CD epoch per layer, 200, 1,000 and 2,000 labelled images";

    /// <summary>The paper's MNIST test errors (%) for its CDBN features with a linear SVM, by labelled training images.</summary>
    private static readonly Dictionary<int, double> PaperErrors = new() { [1000] = 2.62, [5000] = 1.59, [60000] = 0.82 };

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var (train, test) = context.Quick ? (data.Train.Take(Math.Min(2000, data.Train.Count)), data.Test.Take(Math.Min(500, data.Test.Count))) : (data.Train, data.Test);
        var preset = ConvolutionalDbnPresets.Find("cdbn")!;
        if (context.Quick) preset = preset with { Epochs = 1 };
        int[] counts = [.. (context.Quick ? new[] { 200, 1000 } : [1000, 5000]).Where(n => n < train.Count), train.Count];
        void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Markup.Escape(line));
        IReadOnlyList<LabelledSubsetAccuracy> rows;
        try
        {
            var (dbn, _) = ConvolutionalDbn.TrainGreedy(context.Backend, train, preset.Layers, preset.Visible, preset.Training with { Seed = context.Seed }, preset.Epochs, context.Seed,
                (l, r) => Log(string.Create(CultureInfo.InvariantCulture, $"layer {l + 1} epoch {r.Epoch + 1}/{preset.Epochs}: reconstruction error {r.ReconstructionError:F3}, {r.Seconds:F1} s")));
            rows = ConvolutionalDbnRun.LabelledSubsets(preset, dbn, context.Backend, train, test, counts, context.Seed, Log);
        }
        catch (ArgumentException e)
        {
            throw new Commands.UsageException($"--data: {Commands.CommonOptions.WithoutParameter(e)}");
        }
        string P(double x) => x.ToString("P2", CultureInfo.InvariantCulture);
        string layers = string.Join(", then ", preset.Layers.Select(l => $"{l.Groups} groups of {l.Filter}x{l.Filter} filters in {l.Block}x{l.Block} blocks"));
        string setting = $"{layers}; {preset.Epochs} CD-1 epochs per layer on all {train.Count:N0} training images (no labels); softmax regression on both layers' standardised pooled maps, " +
                         $"and the stack as a convolutional net fine-tuned by backprop, each for as many updates as {preset.Classifier!.Training.Epochs} / {preset.FineTuning!.Training.Epochs} epochs of the full set; seed {context.Seed}; {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        string paper = string.Join("; ", PaperErrors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key:N0} labels: {e.Value:F2} % error ({100 - e.Value:F2} % accuracy)")));
        string ours = string.Join("; ", rows.Select(r => $"{r.Labelled:N0} labels: softmax {P(r.Classifier)}, fine-tuned {P(r.FineTuned)}"));
        report.Rows.Add(new ReportRow("accuracy of a convolutional DBN's features with 1,000, 5,000 and all labelled training images", paper,
            "MNIST, a two-layer CDBN with probabilistic max-pooling trained on unlabelled images, both layers' features to a linear SVM", ours, setting));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? $", its first {train.Count:N0} / {test.Count:N0} images (quick)." : "."));
        report.Notes.Add("Each labelled subset is a random draw of the training set (the stream labelled-subset), the smaller inside the larger; the convolutional DBN is trained once, on every training image.");
        report.Notes.Add("Fashion-MNIST is harder than MNIST: compare the trend with the labels, not the errors.");
        foreach (var r in rows)
        {
            report.Figures[$"labels{r.Labelled}_softmax_accuracy"] = r.Classifier;
            report.Figures[$"labels{r.Labelled}_finetuned_accuracy"] = r.FineTuned;
        }
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
