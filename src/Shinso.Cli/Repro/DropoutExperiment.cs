using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Dropout and the max-norm constraint on the 784-800-800-10 ReLU net of the <c>mlp-dropout</c> preset: the same net trained
/// the same way without dropout, with dropout (0.2 on the inputs, 0.5 on the hidden units), and with dropout and max-norm.
/// </summary>
internal sealed class DropoutExperiment : Experiment
{
    public override string Name => "dropout";

    public override string Paper => "Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. & Salakhutdinov, R. (2014), Dropout: a simple way to prevent neural networks from overfitting, JMLR 15:1929-1958 " +
                                    "(first as Hinton et al. 2012, arXiv:1207.0580)";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "dropout lowers a fully connected net's test error, and a max-norm constraint on the incoming weights lowers it further";

    public override string ExpectedTime => "4 min (quick: 20 s)";

    public override string QuickVersion => "the embedded subset and 2 epochs per net instead of 20";

    /// <summary>The largest L2 norm of a unit's incoming weights (a column of a dense layer's [inputs, units] weight) in <paramref name="net"/>.</summary>
    private static double LargestIncomingNorm(FeedForwardNet net)
    {
        double largest = 0;
        foreach (var dense in net.Layers.OfType<Shinso.Layers.Dense>())
        {
            var w = new float[dense.Weight.Value.Length];
            net.Backend.Download(dense.Weight.Value, w);
            for (int j = 0; j < dense.Units; j++)
            {
                double sum = 0;
                for (int i = 0; i < dense.Inputs; i++) sum += (double)w[i * dense.Units + j] * w[i * dense.Units + j];
                largest = Math.Max(largest, Math.Sqrt(sum));
            }
        }
        return largest;
    }

    /// <summary>Epochs per net in the full run: a third of the preset's 60, so the three nets train in minutes.</summary>
    private const int Epochs = 20;

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = SupervisedData.FromDataset(data.Train.WithClassCount(classes));
        var test = SupervisedData.FromDataset(data.Test.WithClassCount(classes));
        var preset = Presets.Find("mlp-dropout")!;
        if (preset.Architecture.OutputLength != classes)
            throw new UsageException($"--data: {classes} classes; the 784-800-800-10 net has 10 outputs.");
        int epochs = context.Quick ? 2 : Epochs;
        var withDropout = preset with { Training = preset.Training with { Epochs = epochs, Seed = context.Seed } };
        var variants = new (string Key, string Label, TrainingConfig Config, string PaperFigure, string PaperSetting)[]
        {
            ("plain", "the net without dropout or max-norm",
                withDropout with { Architecture = withDropout.Architecture with { Layers = [.. withDropout.Architecture.Layers.Where(l => l is not DropoutSpec)] }, MaxNorm = 0f },
                "1.60 % test error", "MNIST, standard net of Simard et al. 2003 (2 layers of 800 logistic units), Table 2"),
            ("dropout", "the same net with dropout",
                withDropout with { MaxNorm = 0f },
                "1.25 % test error", "MNIST, dropout net, 3 layers of 1024 ReLUs, Table 2"),
            ("dropout_maxnorm", "the same net with dropout and max-norm",
                withDropout,
                "1.06 % test error", "MNIST, dropout net with max-norm, 3 layers of 1024 ReLUs, Table 2"),
        };
        var results = new Dictionary<string, (Evaluation Test, Evaluation Train, double LargestNorm)>();
        foreach (var (key, _, config, _, _) in variants)
        {
            var net = new FeedForwardNet(context.Backend, config.Architecture, context.Seed);
            new Trainer(net, config.CreateOptimizer(), config.Training).Fit(train);
            results[key] = (Trainer.Evaluate(net, test), Trainer.Evaluate(net, train), LargestIncomingNorm(net));
        }

        static string P(double? x) => (x ?? double.NaN).ToString("P2", CultureInfo.InvariantCulture);
        string common = $"784-800-800-10 ReLU, {preset.Optimizer.Name} (lr {preset.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                        $"decay {preset.Optimizer.DecayFactor.ToString(CultureInfo.InvariantCulture)} per epoch), batch {preset.Training.BatchSize}, {epochs} epochs, seed {context.Seed}; " +
                        $"{train.Count:N0} training / {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        foreach (var (key, label, config, paperFigure, paperSetting) in variants)
        {
            var (t, tr, norm) = results[key];
            string regularization = key switch
            {
                "plain" => "no dropout, no max-norm",
                "dropout" => "dropout 0.2 on the inputs and 0.5 on the hidden units, no max-norm",
                _ => $"dropout 0.2 / 0.5, max-norm {config.MaxNorm.ToString(CultureInfo.InvariantCulture)} on each unit's incoming weights",
            };
            report.Rows.Add(new ReportRow(label, paperFigure, paperSetting,
                $"{P(t.Accuracy)} test accuracy ({P(1 - t.Accuracy)} error); train {P(tr.Accuracy)}", $"{regularization}; {common}"));
            report.Figures[$"{key}_test_accuracy"] = t.Accuracy;
            report.Figures[$"{key}_train_accuracy"] = tr.Accuracy;
            report.Figures[$"{key}_largest_incoming_norm"] = Math.Round(norm, 3);
        }
        // Max-norm only acts on a unit whose incoming weights outgrow the bound: say whether the unconstrained dropout net's did.
        double free = results["dropout"].LargestNorm;
        report.Notes.Add(free > withDropout.MaxNorm
            ? $"Without the constraint the dropout net's largest incoming weight norm grew to {free:F2}, past the bound {withDropout.MaxNorm.ToString(CultureInfo.InvariantCulture)}: max-norm was active."
            : $"Without the constraint the dropout net's largest incoming weight norm stayed at {free:F2}, below the bound {withDropout.MaxNorm.ToString(CultureInfo.InvariantCulture)}: in this run max-norm never bound, so the two dropout nets are the same net.");
        report.Notes.Add($"Data: {data.Description}." + (context.Quick ? " Quick: the embedded subset, 2 epochs per net." : ""));
        report.Notes.Add("The paper's figures are MNIST errors of somewhat different nets (the rows say which), beside ours for their order. " +
                         "No recipe was tuned for this experiment: every net is the mlp-dropout preset's (Adam instead of the paper's momentum SGD, " +
                         $"as its comment explains), with only the dropout layers or max-norm taken away, and {epochs} epochs instead of its 60.");
        report.Figures["epochs"] = epochs;
        report.Figures["max_norm"] = withDropout.MaxNorm;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
