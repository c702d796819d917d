using Shinso.Cli.Repro;
using Shinso.IO;

namespace Shinso.Cli.Reports;

/// <summary>
/// <c>curves.png</c>: a run's charts drawn by hand into an RGB raster, two panels a row (a phase's loss, then its accuracy),
/// each with a grid, axes, numeric tick labels (the scatter plot's digit font) and its series in their colours
/// (training blue, validation orange). The report's SVG charts carry the titles and legends.
/// </summary>
internal static class CurvesImage
{
    /// <summary>A panel's size in pixels.</summary>
    public const int PanelWidth = 560, PanelHeight = 320;

    private const int Left = 72, Right = 20, Top = 20, Bottom = 40, Columns = 2;

    /// <summary>The PNG bytes of <paramref name="charts"/> (an empty frame when there are none).</summary>
    public static byte[] Encode(IReadOnlyList<Chart> charts)
    {
        if (charts.Count == 0) charts = [new Chart("no epochs recorded", "", [])];
        int columns = Math.Min(Columns, charts.Count), rows = (charts.Count + columns - 1) / columns;
        int width = columns * PanelWidth, height = rows * PanelHeight;
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
        for (int i = 0; i < charts.Count; i++) Draw(charts[i], rgb, width, height, i % columns * PanelWidth, i / columns * PanelHeight);
        return PngImage.EncodeRgb(rgb, width, height);
    }

    private static void Draw(Chart chart, byte[] rgb, int width, int height, int originX, int originY)
    {
        var (xTicks, xLow, xHigh) = chart.XAxis;
        var (yTicks, yLow, yHigh) = chart.YAxis;
        int left = originX + Left, top = originY + Top, plotWidth = PanelWidth - Left - Right, plotHeight = PanelHeight - Top - Bottom;
        double Px(double x) => left + (x - xLow) / (xHigh - xLow) * plotWidth;
        double Py(double y) => top + plotHeight - (y - yLow) / (yHigh - yLow) * plotHeight;
        void Set(int x, int y, (byte R, byte G, byte B) c)
        {
            if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
            int o = 3 * (y * width + x);
            (rgb[o], rgb[o + 1], rgb[o + 2]) = c;
        }
        void Grey(int x, int y, byte grey) => Set(x, y, (grey, grey, grey));
        (byte, byte, byte) grid = (228, 228, 228), black = (0, 0, 0);

        foreach (double t in xTicks)
        {
            int px = (int)Math.Round(Px(t));
            for (int y = top; y <= top + plotHeight; y++) Set(px, y, grid);
            for (int d = 1; d <= 5; d++) Set(px, top + plotHeight + d, black);
            string label = Chart.TickLabel(t, xTicks);
            ScatterPlot.DrawText(label, px - ScatterPlot.TextWidth(label) / 2, top + plotHeight + 10, Grey);
        }
        foreach (double t in yTicks)
        {
            int py = (int)Math.Round(Py(t));
            for (int x = left; x <= left + plotWidth; x++) Set(x, py, grid);
            for (int d = 1; d <= 5; d++) Set(left - d, py, black);
            string label = Chart.TickLabel(t, yTicks);
            ScatterPlot.DrawText(label, left - 10 - ScatterPlot.TextWidth(label), py - ScatterPlot.TextHeight / 2, Grey);
        }
        for (int x = left; x <= left + plotWidth; x++) Set(x, top + plotHeight, black);
        for (int y = top; y <= top + plotHeight; y++) Set(left, y, black);

        foreach (var series in chart.Series)
        {
            var points = series.Points.Select(p => ((int)Math.Round(Px(p.X)), (int)Math.Round(Py(p.Y)))).ToArray();
            for (int i = 1; i < points.Length; i++) Line(points[i - 1], points[i], c => Set(c.X, c.Y, series.Colour));
            // A square marker per epoch: a one-epoch run still shows its point.
            foreach (var (x, y) in points)
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++) Set(x + dx, y + dy, series.Colour);
        }
    }

    /// <summary>A two-pixel-thick line from <paramref name="from"/> to <paramref name="to"/> (Bresenham's steps).</summary>
    private static void Line((int X, int Y) from, (int X, int Y) to, Action<(int X, int Y)> set)
    {
        int dx = Math.Abs(to.X - from.X), dy = -Math.Abs(to.Y - from.Y), sx = from.X < to.X ? 1 : -1, sy = from.Y < to.Y ? 1 : -1, error = dx + dy;
        var (x, y) = from;
        while (true)
        {
            set((x, y));
            set((x + 1, y));
            set((x, y + 1));
            if (x == to.X && y == to.Y) return;
            int e2 = 2 * error;
            if (e2 >= dy) { error += dy; x += sx; }
            if (e2 <= dx) { error += dx; y += sy; }
        }
    }
}
