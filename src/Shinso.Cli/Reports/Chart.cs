using System.Globalization;
using Shinso.Cli.Repro;
using Shinso.Training;

namespace Shinso.Cli.Reports;

/// <summary>One line of a chart: its name for the legend, its points (epoch, value) and its colour.</summary>
/// <param name="Name">The legend's text, e.g. <c>training</c>.</param>
/// <param name="Points">The finite values in epoch order.</param>
/// <param name="Colour">Red, green and blue.</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, (byte R, byte G, byte B) Colour)
{
    /// <summary>The colour as CSS, e.g. <c>#1f77b4</c>.</summary>
    public string Css => $"#{Colour.R:x2}{Colour.G:x2}{Colour.B:x2}";
}

/// <summary>
/// A line chart of a run's figures by epoch (a phase's loss or accuracy, training and validation), with the axes' ranges
/// and ticks worked out once, so that the report's SVG and <c>curves.png</c> draw the same chart.
/// </summary>
/// <param name="Title">What the chart shows, e.g. <c>backprop: softmax-cross-entropy</c>.</param>
/// <param name="YLabel">The vertical axis's name.</param>
/// <param name="Series">Its lines (empty: an empty frame).</param>
internal sealed record Chart(string Title, string YLabel, IReadOnlyList<ChartSeries> Series)
{
    /// <summary>The colour of the training figures.</summary>
    public static readonly (byte R, byte G, byte B) TrainingColour = ScatterPlot.Palette[0];

    /// <summary>The colour of the validation figures.</summary>
    public static readonly (byte R, byte G, byte B) ValidationColour = ScatterPlot.Palette[1];

    /// <summary>The horizontal axis: whole epochs.</summary>
    public (double[] Ticks, double Low, double High) XAxis { get; } = EpochAxis(Series);

    /// <summary>The vertical axis: 1-2-5 ticks over the values.</summary>
    public (double[] Ticks, double Low, double High) YAxis { get; } = ValueAxis(Series);

    /// <summary>
    /// The charts of a run: for each phase with epochs, its loss (training and, where measured, validation) and, where
    /// measured, its accuracy. A series whose every value is missing (an RBM epoch that does not track its error) is left out.
    /// </summary>
    public static IReadOnlyList<Chart> Of(RunRecord record)
    {
        var charts = new List<Chart>();
        foreach (var phase in record.Phases)
        {
            if (phase.Epochs.Count == 0) continue;
            var loss = Lines(phase.Epochs, m => m.TrainLoss, m => m.ValidationLoss);
            if (loss.Count > 0) charts.Add(new Chart($"{phase.Name}: {phase.LossName}", phase.LossName, loss));
            var accuracy = Lines(phase.Epochs, m => m.TrainAccuracy, m => m.ValidationAccuracy);
            if (accuracy.Count > 0) charts.Add(new Chart($"{phase.Name}: accuracy", "accuracy", accuracy));
        }
        return charts;
    }

    private static List<ChartSeries> Lines(IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double?> training, Func<EpochMetrics, double?> validation)
    {
        var lines = new List<ChartSeries>();
        foreach (var (name, figure, colour) in new[] { ("training", training, TrainingColour), ("validation", validation, ValidationColour) })
        {
            var points = epochs.Where(m => figure(m) is { } v && double.IsFinite(v)).Select(m => ((double)m.Epoch, figure(m)!.Value)).ToArray();
            if (points.Length > 0) lines.Add(new ChartSeries(name, points, colour));
        }
        return lines;
    }

    private static (double[] Ticks, double Low, double High) EpochAxis(IReadOnlyList<ChartSeries> series)
    {
        var xs = series.SelectMany(s => s.Points).Select(p => p.X).ToArray();
        double first = xs.Length == 0 ? 1 : xs.Min(), last = xs.Length == 0 ? 1 : xs.Max();
        // A single epoch sits in the middle of a span of two.
        if (last <= first) (first, last) = (Math.Max(0, first - 1), first + 1);
        var (ticks, low, high) = ScatterPlot.Ticks(first, last, includeZero: false);
        // Epochs are whole: a fractional step becomes 1.
        if (ticks.Length > 1 && ticks[1] - ticks[0] < 1)
        {
            (low, high) = (Math.Floor(first), Math.Ceiling(last));
            ticks = [.. Enumerable.Range((int)low, (int)(high - low) + 1).Select(i => (double)i)];
        }
        return (ticks, low, high);
    }

    private static (double[] Ticks, double Low, double High) ValueAxis(IReadOnlyList<ChartSeries> series)
    {
        var ys = series.SelectMany(s => s.Points).Select(p => p.Y).ToArray();
        return ys.Length == 0 ? ScatterPlot.Ticks(0, 1, includeZero: true) : ScatterPlot.Ticks(ys.Min(), ys.Max(), includeZero: false);
    }

    /// <summary>A tick's label with as many decimals as the step between ticks needs.</summary>
    public static string TickLabel(double value, double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Clamp((int)-Math.Floor(Math.Log10(step)), 0, 8);
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }
}
