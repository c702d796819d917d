using System.Globalization;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Models.Regression;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// The first lecture's prediction machine <c>v = K r + b</c> fitted to Hubble's 1929 galaxies: the closed-form least-squares
/// line, the line through the origin Hubble's law states, and gradient descent in its three forms (batch, minibatch,
/// online) on the shared training core, which should land on the closed-form line.
/// </summary>
internal sealed class HubbleExperiment : Experiment
{
    /// <summary>The embedded table, next to the executable.</summary>
    public static string EmbeddedTable => Path.Combine(AppContext.BaseDirectory, "data", "hubble-1929.csv");

    /// <summary>The plot's file name in the run folder.</summary>
    public const string PlotFile = "hubble.png";

    public override string Name => "hubble";

    public override string Paper => "Hubble, E. (1929), A relation between distance and radial velocity among extra-galactic nebulae, PNAS 15(3):168-173";

    public override string Dataset => "the paper's Table 1: 24 nebulae, distance r (Mpc) and radial velocity v (km/s)";

    public override string Claim => "radial velocity grows linearly with distance; the slope K is the expansion rate";

    public override string ExpectedTime => "1 s";

    public override string QuickVersion => "none: the full run on the paper's 24 rows already takes about a second";

    /// <summary>The gradient-descent settings: every epoch visits the 24 rows once, the inputs standardised.</summary>
    private static readonly (string Mode, int Batch, float LearningRate, int Epochs)[] Descents =
    [
        ("batch", 0, 0.1f, 500),
        ("minibatch", 6, 0.02f, 500),
        ("online", 1, 0.005f, 500),
    ];

    public override ExperimentReport Run(ExperimentContext context)
    {
        string path = context.Data ?? EmbeddedTable;
        if (!File.Exists(path))
            throw new FileNotFoundException(context.Data is null
                ? $"{path}: the embedded Hubble table is missing next to the executable; rebuild the CLI (./shinso builds it)."
                : $"--data: {path} does not exist; give a CSV with distance and velocity columns.", path);
        var table = NumericTable.Read(path);
        if (table.ColumnCount != 2)
            throw new DataFormatException(path, "columns", $"has {table.ColumnCount} columns ({string.Join(", ", table.ColumnNames)}); expected two: distance and velocity");
        var rows = RegressionTable.FromTable(table, table.HasHeader ? "velocity" : "2");
        var exact = rows.LeastSquaresFit();
        var origin = rows.LeastSquaresFit(withIntercept: false);
        var exactFigures = RegressionMetrics.Of(exact.Predict(rows.Inputs, rows.Count), rows.Targets);

        var report = new ExperimentReport(this);
        string K(double slope) => slope.ToString("F1", CultureInfo.InvariantCulture) + " km/s/Mpc";
        report.Rows.Add(new ReportRow("velocity rises linearly with distance: the slope K",
            "K = 500 km/s/Mpc, the round value the paper works with (\"with K = 500\"); its solutions are near 465 (24 nebulae one by one) and 513 (grouped)",
            "least squares with the solar-motion terms fitted too; 1929 distance scale",
            $"{K(exact.Coefficients[0])}, intercept {exact.Intercept.ToString("F1", CultureInfo.InvariantCulture)} km/s, R² {exactFigures.RSquared.ToString("F3", CultureInfo.InvariantCulture)}",
            $"closed-form least squares v = K r + b on the {rows.Count} rows (normal equations, double precision)"));
        report.Rows.Add(new ReportRow("Hubble's law has no constant term: v = K r",
            "K = 500 km/s/Mpc", "as above",
            K(origin.Coefficients[0]),
            "closed-form least squares through the origin"));

        var descents = new System.Text.Json.Nodes.JsonObject();
        foreach (var (mode, batch, rate, epochs) in Descents)
        {
            var fit = Descend(rows, batch, rate, epochs, context.Seed, context.Backend);
            double gap = Math.Abs(fit.Coefficients[0] - exact.Coefficients[0]);
            report.Rows.Add(new ReportRow($"{mode} gradient descent finds the least-squares line",
                "(the lecture: batch, minibatch and online updates)", "-",
                $"{K(fit.Coefficients[0])} (|K - K_closed form| {gap.ToString("G3", CultureInfo.InvariantCulture)}), intercept {fit.Intercept.ToString("F1", CultureInfo.InvariantCulture)} km/s",
                $"{(batch == 0 ? "full batch" : $"batch {batch}")}, SGD lr {rate.ToString(CultureInfo.InvariantCulture)}, {epochs} epochs, standardised distance, seed {context.Seed}"));
            descents[mode] = new System.Text.Json.Nodes.JsonObject
            {
                ["slope"] = fit.Coefficients[0], ["intercept"] = fit.Intercept, ["batch"] = batch, ["learning_rate"] = rate, ["epochs"] = epochs,
                ["slope_gap"] = gap,
            };
        }

        var distance = new double[rows.Count];
        for (int i = 0; i < rows.Count; i++) distance[i] = rows.Inputs[i];
        new ScatterPlot().Points(distance, rows.Targets)
            .Line(exact.Coefficients[0], exact.Intercept, 60)
            .Line(origin.Coefficients[0], 0, 140, dashed: true)
            .Write(Path.Combine(context.OutDirectory, PlotFile));
        report.Images.Add((PlotFile, $"Hubble's {rows.Count} nebulae: distance (Mpc, x) against velocity (km/s, y); solid: least squares " +
                                     $"v = {K(exact.Coefficients[0])} r {(exact.Intercept < 0 ? "-" : "+")} {Math.Abs(exact.Intercept):F1}; dashed: through the origin"));
        report.Notes.Add($"Data: {(context.Data is null ? "the embedded copy of the paper's Table 1" : path)}; no scale-down (the paper's 24 rows).");
        report.Notes.Add("Hubble's K came from a fit that also solved for the sun's motion (three more unknowns); the two lines here fit v against r alone, " +
                         "so they bracket rather than repeat his solution. Distances were later recalibrated: today's value is about 70 km/s/Mpc.");
        report.Notes.Add("Gradient descent runs on the shared training core (Trainer, SGD) on standardised distance; the standardisation is folded back " +
                         "into the weights before the slope is read, so every slope is in km/s/Mpc. Constant-rate minibatch and online updates " +
                         "hover around the line rather than settle on it.");
        report.Figures["rows"] = rows.Count;
        report.Figures["least_squares"] = new System.Text.Json.Nodes.JsonObject
        {
            ["slope"] = exact.Coefficients[0], ["intercept"] = exact.Intercept, ["mse"] = exactFigures.MeanSquaredError, ["r2"] = exactFigures.RSquared,
        };
        report.Figures["through_origin"] = new System.Text.Json.Nodes.JsonObject { ["slope"] = origin.Coefficients[0] };
        report.Figures["gradient_descent"] = descents;
        report.Figures["paper_K"] = 500;
        return report;
    }

    /// <summary>Gradient descent on the table with the <c>regression</c> preset's model, the coefficients read in the table's units.</summary>
    private static LinearFit Descend(RegressionTable rows, int batch, float rate, int epochs, ulong seed, IBackend backend)
    {
        var preset = Presets.FindForTable("regression", rows.InputCount)!;
        var config = preset with
        {
            Optimizer = preset.Optimizer with { LearningRate = rate },
            Training = preset.Training with { BatchSize = batch, Epochs = epochs, Seed = seed },
        };
        return LinearFit.FromNet(GradientDescentRegression.Fit(rows, config, backend))!;
    }
}
