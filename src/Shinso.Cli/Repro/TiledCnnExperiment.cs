using System.Globalization;
using Shinso.Models.TiledNetworks;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Le et al.'s tiled CNN: the tiled-cnn preset at tile sizes 1 (a convolution), 2 and 3, each TICA-pretrained, and tile 2
/// with its random orthonormal start and no pretraining, the control that shows what TICA adds; the paper's NORB figure beside.
/// </summary>
internal sealed class TiledCnnExperiment : Experiment
{
    public override string Name => "tiled-cnn";

    public override string Paper => "Le, Q. V., Ngiam, J., Chen, Z., Chia, D., Koh, P. W. & Ng, A. Y. (2010), Tiled convolutional neural networks, NIPS 23:1279-1287";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset); the paper used NORB and CIFAR-10";

    public override string Claim => "untying the filters within a tile and pooling over neighbouring units, pretrained by TICA, learns features a linear classifier separates well";

    public override string ExpectedTime => "5 min (quick: 30 s)";

    public override string QuickVersion => "the first 2,000 / 500 images of the embedded subset, 2 TICA passes, 10 classifier epochs";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var (train, test) = context.Quick ? (data.Train.Take(Math.Min(2000, data.Train.Count)), data.Test.Take(Math.Min(500, data.Test.Count))) : (data.Train, data.Test);
        var preset = TiledCnnPresets.Find("tiled-cnn")!;
        if (context.Quick)
            preset = preset with
            {
                Layer = preset.Layer with { Epochs = 2 }, WhiteningPatches = 20_000,
                Classifier = preset.Classifier with { Training = preset.Classifier.Training with { Epochs = 10 } },
            };
        void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line));
        var results = new List<(int Tile, bool Pretrained, TiledCnnResult Result)>();
        try
        {
            foreach (var (tile, pretrained) in new[] { (1, true), (2, true), (3, true), (2, false) })
            {
                var layer = preset.Layer with { Tile = tile, Epochs = pretrained ? preset.Layer.Epochs : 0 };
                results.Add((tile, pretrained, TiledCnnRun.Run(preset with { Layer = layer }, context.Backend, train, test, context.Seed, Log)));
            }
        }
        catch (ArgumentException e)
        {
            throw new Commands.UsageException($"--data: {Commands.CommonOptions.WithoutParameter(e)}");
        }
        string P(double x) => x.ToString("P2", CultureInfo.InvariantCulture);
        var l = preset.Layer;
        string size = $"{train.Count:N0} training / {test.Count:N0} test images";
        string setting = $"{l.Maps} maps of {l.Kernel}x{l.Kernel} fields, {l.PoolSize}x{l.PoolSize} square-root pooling at stride {l.PoolStride}, fields PCA-whitened to {preset.WhitenedComponents} dimensions, " +
                         $"{l.Epochs} TICA passes of {l.BatchImages} images, softmax on the standardised pooled maps ({preset.Classifier.Training.Epochs} epochs), seed {context.Seed}; {size}";
        var report = new ExperimentReport(this);
        var table = string.Join("; ", results.Select(r => $"tile {r.Tile}{(r.Pretrained ? "" : " untrained")}: {P(r.Result.NetAccuracy)}"));
        report.Rows.Add(new ReportRow("a TICA-pretrained tiled CNN classifies well with a linear classifier on its pooled units",
            "NORB test accuracy 96.1 % (tile 2, the best of the tile sizes tried); CIFAR-10 73.1 % with more maps",
            "NORB images downsampled to 32x32, 8x8 fields, 16 maps, tile 2, 3x3 pooling, TICA with local orthogonalisation, linear SVM",
            table, setting));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? $", its first {train.Count:N0} / {test.Count:N0} images (quick)." : "."));
        report.Notes.Add("Untrained: the random orthonormal whitened filters TICA starts from, with the same pooling and classifier; the gap is what pretraining adds.");
        report.Notes.Add("Tile 1 is an ordinary convolution. Each net is one feed-forward net on raw images (the classifier's standardisation folded into its dense layer), exportable to ONNX.");
        foreach (var (tile, pretrained, result) in results)
        {
            string key = pretrained ? $"tile{tile}_accuracy" : $"tile{tile}_untrained_accuracy";
            report.Figures[key] = result.NetAccuracy;
        }
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
