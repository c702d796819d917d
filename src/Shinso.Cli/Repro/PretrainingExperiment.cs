using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Models.Autoencoders;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Greedy layer-wise pretraining makes a deep sigmoid net trainable by backprop: the 784-500-500-2000-10 net of
/// mlp-dbn-shape trained the same way from random weights and after each hidden layer is pretrained as a tied autoencoder
/// or as a CD-1 RBM (the greedy stack of a deep belief net, without its labelled top).
/// </summary>
internal sealed class PretrainingExperiment : Experiment
{
    public override string Name => "pretraining";

    public override string Paper => "Bengio, Y., Lamblin, P., Popovici, D. & Larochelle, H. (2007), Greedy layer-wise training of deep networks, NIPS 19:153-160";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "pretraining each layer as an autoencoder or an RBM lets backprop train a deep sigmoid net that it cannot train from random weights";

    public override string ExpectedTime => "4 min (quick: 30 s)";

    public override string QuickVersion => "the embedded subset, 1 pretraining epoch a layer and 2 fine-tuning epochs instead of 5 and 10";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = SupervisedData.FromDataset(data.Train.WithClassCount(classes));
        var test = SupervisedData.FromDataset(data.Test.WithClassCount(classes));
        var preset = AutoencoderPresets.Find("stacked-autoencoder", train.InputLength)!;
        if (preset.Config.Architecture.OutputLength != classes)
            throw new UsageException($"--data: {classes} classes; the 784-500-500-2000-10 net has 10 outputs.");
        var config = preset.Config with { Training = preset.Config.Training with { Seed = context.Seed, Epochs = context.Quick ? 2 : preset.Config.Training.Epochs } };
        var pretraining = preset.Pretraining! with { Seed = context.Seed, Epochs = context.Quick ? 1 : preset.Pretraining!.Epochs };

        Evaluation Fit(Pretrainer? method)
        {
            var net = new FeedForwardNet(context.Backend, config.Architecture, context.Seed);
            if (method is { } m) LayerwisePretraining.Run(net, train.Inputs, pretraining with { Method = m });
            new Trainer(net, config.CreateOptimizer(), config.Training).Fit(train);
            return Trainer.Evaluate(net, test);
        }
        var random = Fit(null);
        var pretrained = Fit(Pretrainer.Autoencoder);
        var rbmPretrained = Fit(Pretrainer.Rbm);

        string P(double? x) => (x ?? double.NaN).ToString("P2", CultureInfo.InvariantCulture);
        string Ours(Evaluation e) => $"{P(e.Accuracy)} test accuracy ({P(1 - e.Accuracy)} error)";
        string setting = $"784-500-500-2000-10 sigmoid, momentum 0.9, lr {config.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch " +
                         $"{config.Training.BatchSize}, {config.Training.Epochs} epochs, seed {context.Seed}; {train.Count:N0} training / {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("pretraining each layer as an autoencoder, then backprop",
            "1.40 % test error (stacked autoassociators, Table 1)", "MNIST, 3 hidden layers, greedy autoassociator pretraining, supervised fine-tuning",
            Ours(pretrained), $"{pretraining.Epochs} epoch{(pretraining.Epochs == 1 ? "" : "s")} a layer of a tied autoencoder (Adam), then {setting}"));
        report.Rows.Add(new ReportRow("pretraining each layer as an RBM (a DBN's greedy stack), then backprop",
            "1.20 % test error (DBN, unsupervised pre-training, Table 1)", "MNIST, 3 hidden layers, greedy CD-1 RBMs, supervised fine-tuning",
            Ours(rbmPretrained), $"{pretraining.Epochs} CD-1 epoch{(pretraining.Epochs == 1 ? "" : "s")} a layer (lr 0.1, momentum 0.5 then 0.9), then {setting}"));
        report.Rows.Add(new ReportRow("the same net and backprop from random weights",
            "2.40 % test error (deep network without pretraining)", "MNIST, the same depth, random initial weights",
            Ours(random), $"small Gaussian initial weights (sigma 0.01), {setting}"));
        report.Notes.Add($"Data: {data.Description}." + (context.Quick ? " Quick: the embedded subset and far fewer epochs." : ""));
        double chance = 1.0 / classes;
        report.Notes.Add(random.Accuracy < 2 * chance
            ? "The paper's random-weight net still learned (2.4 % error) with its tuned schedule; here plain momentum SGD from small random weights " +
              $"leaves this sigmoid net near chance ({P(random.Accuracy)} against {P(chance)}), the seeds' observation, so pretraining's effect is stark " +
              "rather than measured at the paper's scale."
            : $"From random weights the net learned ({P(random.Accuracy)}); pretraining changed the test accuracy by " +
              $"{((pretrained.Accuracy ?? 0) - (random.Accuracy ?? 0)) * 100:F2} points (autoencoders) and {((rbmPretrained.Accuracy ?? 0) - (random.Accuracy ?? 0)) * 100:F2} (RBMs).");
        report.Notes.Add("No recipe was tuned for this experiment: the backprop settings are mlp-dbn-shape's, the pretraining the stacked-autoencoder preset's.");
        report.Figures["pretrained_accuracy"] = pretrained.Accuracy;
        report.Figures["rbm_pretrained_accuracy"] = rbmPretrained.Accuracy;
        report.Figures["random_init_accuracy"] = random.Accuracy;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
