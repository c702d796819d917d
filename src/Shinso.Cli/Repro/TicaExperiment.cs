using System.Globalization;
using Shinso.IO;
using Shinso.Models.Topographic;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Hyvärinen &amp; Hoyer's topographic ICA against plain ICA on the same whitened patches: the tica preset, and the same run with
/// 1x1 pools (each filter alone: ICA with a smooth L1 contrast), whose arrangement on the torus is arbitrary.
/// </summary>
internal sealed class TicaExperiment : Experiment
{
    /// <summary>The picture of the TICA filters on their torus.</summary>
    public const string PictureFile = "filters.png";

    public override string Name => "tica";

    public override string Paper => "Hyvärinen, A., Hoyer, P. O. & Inki, M. (2001), Topographic independent component analysis, Neural Computation 13(7):1527-1558; " +
                                    "Hyvärinen, A. & Hoyer, P. O. (2001), A two-layer sparse coding model learns simple and complex cell receptive fields and topography from natural images, Vision Research 41(18):2413-2423";

    public override string Dataset => "Fashion-MNIST 8x8 patches (Debian's dataset-fashion-mnist if installed, else the embedded subset); the papers used natural images";

    public override string Claim => "pooling filter energies over a topography orders the filters: neighbours' energies correlate, while plain ICA's arrangement carries no order";

    public override string ExpectedTime => "1 min (quick: 10 s)";

    public override string QuickVersion => "the first 2,000 / 500 images of the embedded subset, 10,000 patches, 5 epochs";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        var (train, test) = context.Quick ? (data.Train.Take(Math.Min(2000, data.Train.Count)), data.Test.Take(Math.Min(500, data.Test.Count))) : (data.Train, data.Test);
        var preset = TicaPresets.Find("tica")!;
        if (context.Quick) preset = preset with { PatchCount = 10_000, Training = preset.Training with { Epochs = 5 } };
        var ica = preset with { Training = preset.Training with { Neighbourhood = 1 } };
        TicaResult topographic, plain;
        try
        {
            void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line));
            topographic = TicaRun.Run(preset, context.Backend, train, test, context.Seed, Log);
            plain = TicaRun.Run(ica, context.Backend, train, test, context.Seed, Log);
        }
        catch (ArgumentException e)
        {
            throw new Commands.UsageException($"--data: {Commands.CommonOptions.WithoutParameter(e)}");
        }
        var bank = topographic.Model.Bank;
        int n = topographic.Model.Patches.Size;
        PngImage.WriteGrid(Path.Combine(context.OutDirectory, PictureFile), topographic.Model.PixelFilters(), bank.FilterCount, topographic.Model.Channels * n, n, bank.Side, true);

        string F(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
        string size = $"{train.Count:N0} training / {test.Count:N0} test images";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("neighbouring filters on the topography respond together",
            "a topographic map: neighbouring filters share location, orientation and frequency; their energies are correlated",
            "whitened natural-image patches (dimension reduced by PCA), a 2-D torus with square neighbourhoods",
            $"energy correlation of torus neighbours {F(topographic.NeighbourCorrelation)} against {F(topographic.DistantCorrelation)} for filters half the torus apart; " +
            $"plain ICA: {F(plain.NeighbourCorrelation)} against {F(plain.DistantCorrelation)}",
            $"{bank.FilterCount} filters on a {bank.Side}x{bank.Side} torus, {bank.Neighbourhood}x{bank.Neighbourhood} pools (ICA: 1x1), ZCA-whitened centred {n}x{n} patches, " +
            $"{preset.Training.Epochs} epochs of gradient steps with symmetric orthonormalisation, seed {context.Seed}; {size}"));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? $", its first {train.Count:N0} / {test.Count:N0} images (quick)." : "."));
        report.Notes.Add("Energy correlation: the correlation over test patches of the squared responses (w·x)² of two filters, averaged over all pairs of right and lower torus neighbours, " +
                         "and over each filter with the one diagonally opposite on the torus.");
        report.Notes.Add($"Both banks stay orthonormal: |W Wᵀ - I| = {topographic.Epochs[^1].Orthonormality.ToString("0.0e+0", CultureInfo.InvariantCulture)} (TICA), " +
                         $"{plain.Epochs[^1].Orthonormality.ToString("0.0e+0", CultureInfo.InvariantCulture)} (ICA) after the last step.");
        report.Images.Add((PictureFile, "the TICA filters in pixel space, laid out on their torus"));
        report.Figures["tica_neighbour_energy_correlation"] = topographic.NeighbourCorrelation;
        report.Figures["tica_distant_energy_correlation"] = topographic.DistantCorrelation;
        report.Figures["ica_neighbour_energy_correlation"] = plain.NeighbourCorrelation;
        report.Figures["ica_distant_energy_correlation"] = plain.DistantCorrelation;
        report.Figures["tica_test_objective"] = topographic.TestObjective;
        report.Figures["train_samples"] = train.Count;
        report.Figures["test_samples"] = test.Count;
        return report;
    }
}
