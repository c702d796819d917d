using System.Globalization;
using Shinso.Cli.Commands;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Autoencoders;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// Hinton &amp; Salakhutdinov's deep autoencoder against PCA with as many components as its code has units: the
/// deep-autoencoder preset (RBM-pretrained, unrolled, fine-tuned with cross-entropy) and Shinso's PCA on the same images.
/// </summary>
internal sealed class DeepAutoencoderExperiment : Experiment
{
    /// <summary>The picture of test images with both reconstructions.</summary>
    public const string PictureFile = "reconstructions.png";

    public override string Name => "deep-autoencoder";

    public override string Paper => "Hinton, G. E. & Salakhutdinov, R. R. (2006), Reducing the dimensionality of data with neural networks, Science 313(5786):504-507";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset; --quick: the subset); the paper used MNIST";

    public override string Claim => "a deep autoencoder's 30-unit codes reconstruct images with a fraction of the squared error of PCA's 30 components";

    public override string ExpectedTime => "7 min (quick: 15 s)";

    public override string QuickVersion => "the embedded subset, 2 pretraining epochs a layer and 5 fine-tuning epochs instead of 10 and 60";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        int features = data.Train.FeatureCount;
        var preset = AutoencoderPresets.Find("deep-autoencoder", features)!;
        var config = preset.Config with { Training = preset.Config.Training with { Seed = context.Seed, Epochs = context.Quick ? 5 : preset.Config.Training.Epochs } };
        var pretraining = preset.Pretraining! with { Seed = context.Seed, Epochs = context.Quick ? 2 : preset.Pretraining!.Epochs };
        var train = data.Train.Features;
        var test = data.Test.Features;
        if (Autoencoder.FirstOutsideUnitInterval(train) >= 0)
            throw new UsageException("--data: the deep autoencoder reconstructs with cross-entropy, which needs values in [0, 1] (byte images are scaled so).");

        var net = new FeedForwardNet(context.Backend, config.Architecture, context.Seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LayerwisePretraining.Run(net, train, pretraining);
        double pretrainSeconds = clock.Elapsed.TotalSeconds;
        new Trainer(net, config.CreateOptimizer(), config.Training).Fit(new SupervisedData(train, features, train, features));
        double error = Autoencoder.ReconstructionError(net, test);
        int code = Autoencoder.CodeLength(net);
        var pca = PrincipalComponents.Fit(context.Backend, train, features, code);
        double pcaError = pca.ReconstructionError(context.Backend, test);

        int shown = Math.Min(10, data.Test.Count);
        var originals = test.AsSpan(0, shown * features).ToArray();
        var grid = originals.Concat(Autoencoder.Predict(net, originals)).Concat(pca.Reconstruct(context.Backend, originals)).ToArray();
        int side = (int)Math.Round(Math.Sqrt(features));
        var (h, w) = side * side == features ? (side, side) : (1, features);
        PngImage.WriteGrid(Path.Combine(context.OutDirectory, PictureFile), grid, 3 * shown, h, w, shown);

        string F(double x) => x.ToString("F2", CultureInfo.InvariantCulture);
        string size = $"{data.Train.Count:N0} training / {data.Test.Count:N0} test images";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("a deep autoencoder reconstructs better than PCA with as many components",
            "3.00 against PCA's 13.87 (logistic PCA 8.01): mean squared error per test image",
            "MNIST, 784-1000-500-250-30, RBMs pretrained 50 epochs a layer (Gaussian hidden units for the code), 200 epochs of conjugate-gradient fine-tuning (the authors' code)",
            $"{F(error)} against PCA's {F(pcaError)} (ratio {(error / pcaError).ToString("F3", CultureInfo.InvariantCulture)})",
            $"the deep-autoencoder preset: {pretraining.Epochs} CD-1 epochs a sigmoid layer (the linear code layer as an autoencoder), " +
            $"{config.Training.Epochs} epochs of Adam lr {config.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, seed {context.Seed}; {size}"));
        report.Notes.Add($"Data: {data.Description}." + (context.Quick ? " Quick: the embedded subset and far fewer epochs." : ""));
        report.Notes.Add("Error: the squared error summed over each test image's pixels (values in [0, 1]), averaged over the test images, for both models; " +
                         "PCA is fitted on the same training images.");
        report.Notes.Add("The recipe (10 CD-1 epochs a layer, then Adam lr 1e-3 for 60 epochs) was chosen on a 50,000 / 10,000 validation split of Fashion-MNIST's training set out of three " +
                         "(lr 3e-4 for 30 epochs: 0.590 of PCA's error, lr 1e-3 for 30: 0.512, lr 1e-3 for 60: 0.486).");
        report.Images.Add((PictureFile, $"{shown} test images (top), the deep autoencoder's reconstructions (middle) and PCA's (bottom), {code} numbers each"));
        report.Figures["reconstruction_error"] = error;
        report.Figures["pca_reconstruction_error"] = pcaError;
        report.Figures["ratio_to_pca"] = error / pcaError;
        report.Figures["code_units"] = code;
        report.Figures["pretraining_seconds"] = pretrainSeconds;
        report.Figures["train_samples"] = data.Train.Count;
        report.Figures["test_samples"] = data.Test.Count;
        return report;
    }
}

/// <summary>The images an experiment runs on: --data, or the embedded subset for a quick run without it, or the default data set.</summary>
internal static class ExperimentData
{
    public static LoadedData Load(ExperimentContext context)
    {
        if (context.Quick && context.Data is null)
        {
            var (train, test) = FashionMnist.Load(FashionMnist.EmbeddedSubsetDirectory);
            return new LoadedData(train, test, DataFormat.Idx, "the embedded Fashion-MNIST subset (10,000 train / 2,000 test)");
        }
        return CommonOptions.LoadData(context.Data, null);
    }
}
