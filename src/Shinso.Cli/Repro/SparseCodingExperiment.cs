using System.Globalization;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.SparseCoding;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Olshausen &amp; Field's sparse coding on image patches: the sparse-coding preset's dictionary, how local its atoms are against random
/// unit-norm atoms, how few of them code a patch, and the codes as features for a linear classifier against the pixels.
/// </summary>
internal sealed class SparseCodingExperiment : Experiment
{
    /// <summary>The picture of the learned atoms.</summary>
    public const string PictureFile = "atoms.png";

    public override string Name => "sparse-coding";

    public override string Paper => "Olshausen, B. A. & Field, D. J. (1996), Emergence of simple-cell receptive field properties by learning a sparse code for natural images, Nature 381:607-609; " +
                                    "features: Coates, A., Lee, H. & Ng, A. Y. (2011), An analysis of single-layer networks in unsupervised feature learning, AISTATS";

    public override string Dataset => "Fashion-MNIST 8x8 patches (Debian's dataset-fashion-mnist if installed, else the embedded subset); the papers used natural images and CIFAR-10";

    public override string Claim => "a sparse code learned on image patches has localized atoms, codes each patch with few of them, and its pooled codes beat the pixels as features for a linear classifier";

    public override string ExpectedTime => "6 min (quick: 25 s)";

    public override string QuickVersion => "the first 2,000 / 500 images of the embedded subset, 10,000 patches, 2 passes, 5 classifier epochs";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var (train, test) = context.Quick ? (data.Train.Take(Math.Min(2000, data.Train.Count)), data.Test.Take(Math.Min(500, data.Test.Count))) : (data.Train, data.Test);
        var preset = SparseCodingPresets.Find("sparse-coding")!;
        if (context.Quick)
            preset = preset with
            {
                PatchCount = 10_000, Learning = preset.Learning with { Epochs = 2 },
                Classifier = preset.Classifier! with { Training = preset.Classifier!.Training with { Epochs = 5 } },
            };
        SparseCodingResult result;
        try
        {
            result = SparseCodingRun.Run(preset, context.Backend, train, test, context.Seed, line => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line)));
        }
        catch (ArgumentException e)
        {
            throw new Commands.UsageException($"--data: {Commands.CommonOptions.WithoutParameter(e)}");
        }
        var model = result.Model;
        int n = model.Patches.Size, k = model.AtomCount;
        double learned = MeanLocalization(model.Dictionary, k, model.Channels, n);
        var random = RandomAtoms(k, model.FeatureCount, RandomStream.Root(context.Seed).Derive("repro-random-atoms"));
        double baseline = MeanLocalization(random, k, model.Channels, n);
        PngImage.WriteGrid(Path.Combine(context.OutDirectory, PictureFile), model.Dictionary, k, model.Channels * n, n, (int)Math.Ceiling(Math.Sqrt(k)), true);

        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        string F(double x) => x.ToString("F4", CultureInfo.InvariantCulture);
        string size = $"{train.Count:N0} training / {test.Count:N0} test images";
        string setting = $"{k} atoms for centred unit-norm {n}x{n} patches ({result.Passes.Count} passes of online dictionary learning, lambda {model.Lambda.ToString(CultureInfo.InvariantCulture)}), seed {context.Seed}; {size}";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("learning a sparse code makes the atoms local",
            "a complete family of localized, oriented, bandpass basis functions",
            "whitened natural images; sparseness prior on the coefficients, gradient learning of the basis",
            $"{P(learned)} of an atom's energy in its best {Window(n)}x{Window(n)} window, against {P(baseline)} for random unit-norm atoms",
            setting));
        report.Rows.Add(new ReportRow("few atoms code each patch",
            "most coefficients near zero: the code is sparse, its outputs nearly independent",
            "as above",
            $"{result.TestNonZeros.ToString("F1", CultureInfo.InvariantCulture)} of {k} codes non-zero per test patch; mean objective {F(result.TestObjective)} (an all-zero code: 0.5)",
            "FISTA to a relative objective change of 1e-5"));
        report.Rows.Add(new ReportRow("pooled codes beat the pixels as features for a linear classifier",
            "79.6 % on CIFAR-10 (single-layer features, K-means, 4,000 features, linear SVM)",
            "CIFAR-10, 6x6 patches, whitened, features pooled over 4 quadrants",
            double.IsFinite(result.CodeAccuracy) ? $"{P(result.CodeAccuracy)} with the codes against {P(result.PixelAccuracy)} with the pixels" : "not run",
            $"every 8x8 patch at stride 4, positive and negative code parts summed over a 3x3 split ({result.FeatureCount} features); softmax regression, " +
            $"{preset.Classifier!.Training.Epochs} epochs of momentum SGD, the same for the pixels"));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? $", its first {train.Count:N0} / {test.Count:N0} images (quick)." : "."));
        report.Notes.Add($"Localization: the share of an atom's squared values inside the {Window(n)}x{Window(n)} window that holds the most of them; a localized atom puts most of its energy in one place, " +
                         "a random one spreads it (the papers' images are natural scenes; Fashion-MNIST's atoms are strokes and edges of clothing).");
        report.Notes.Add("The classifier recipe (rate 0.001, positive and negative parts pooled 3x3) was chosen on a validation split of the training images out of eight; the test images were used once.");
        report.Images.Add((PictureFile, $"the {k} learned atoms, each scaled to its own range"));
        report.Figures["atom_localization"] = learned;
        report.Figures["random_atom_localization"] = baseline;
        report.Figures["test_mean_nonzeros"] = result.TestNonZeros;
        report.Figures["test_mean_objective"] = result.TestObjective;
        report.Figures["code_accuracy"] = double.IsFinite(result.CodeAccuracy) ? result.CodeAccuracy : null;
        report.Figures["pixel_accuracy"] = double.IsFinite(result.PixelAccuracy) ? result.PixelAccuracy : null;
        report.Figures["atoms"] = k;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }

    /// <summary>The side of the window <see cref="MeanLocalization"/> looks through: half the patch.</summary>
    private static int Window(int size) => Math.Max(1, size / 2);

    /// <summary>The mean over atoms of the largest share of an atom's energy inside one window of half the patch's side (all channels together).</summary>
    internal static double MeanLocalization(ReadOnlySpan<float> atoms, int count, int channels, int size)
    {
        int w = Window(size), length = channels * size * size;
        double sum = 0;
        for (int a = 0; a < count; a++)
        {
            var atom = atoms.Slice(a * length, length);
            double total = 0, best = 0;
            foreach (float v in atom) total += (double)v * v;
            for (int r = 0; r + w <= size; r++)
                for (int c = 0; c + w <= size; c++)
                {
                    double inside = 0;
                    for (int ch = 0; ch < channels; ch++)
                        for (int i = 0; i < w; i++)
                            for (int j = 0; j < w; j++)
                            {
                                double v = atom[(ch * size + r + i) * size + c + j];
                                inside += v * v;
                            }
                    best = Math.Max(best, inside);
                }
            sum += total > 0 ? best / total : 0;
        }
        return count == 0 ? 0 : sum / count;
    }

    private static float[] RandomAtoms(int count, int length, RandomStream stream)
    {
        var atoms = new float[count * length];
        for (int i = 0; i < atoms.Length; i++) atoms[i] = Philox4x32.Gaussian(stream, (ulong)i);
        return atoms;
    }
}
