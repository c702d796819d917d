using System.Globalization;
using System.Net;
using System.Text;

namespace Shinso.Cli.Reports;

/// <summary>
/// A <see cref="Chart"/> as inline SVG: grid, axes with tick labels and names, a legend, one polyline per series and a
/// marker per point (so that a one-epoch run shows its point), each marker titled with its epoch and value.
/// </summary>
internal static class SvgChart
{
    private const int Left = 64, Right = 16, Top = 46, Bottom = 44;

    /// <summary>The chart's <c>svg</c> element, <paramref name="width"/> x <paramref name="height"/> CSS pixels.</summary>
    public static string Render(Chart chart, int width = 520, int height = 300)
    {
        var (xTicks, xLow, xHigh) = chart.XAxis;
        var (yTicks, yLow, yHigh) = chart.YAxis;
        int plotWidth = width - Left - Right, plotHeight = height - Top - Bottom;
        double Px(double x) => Left + (x - xLow) / (xHigh - xLow) * plotWidth;
        double Py(double y) => Top + plotHeight - (y - yLow) / (yHigh - yLow) * plotHeight;
        static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        static string E(string s) => WebUtility.HtmlEncode(s);

        var svg = new StringBuilder();
        svg.Append($"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{E(chart.Title)}\">");
        svg.Append($"<title>{E(chart.Title)}</title>");
        svg.Append($"<text class=\"chart-title\" x=\"{Left}\" y=\"18\">{E(chart.Title)}</text>");
        foreach (double t in xTicks)
        {
            string x = N(Px(t));
            svg.Append($"<line class=\"grid\" x1=\"{x}\" y1=\"{Top}\" x2=\"{x}\" y2=\"{Top + plotHeight}\"/>");
            svg.Append($"<text class=\"tick\" x=\"{x}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\">{Chart.TickLabel(t, xTicks)}</text>");
        }
        foreach (double t in yTicks)
        {
            string y = N(Py(t));
            svg.Append($"<line class=\"grid\" x1=\"{Left}\" y1=\"{y}\" x2=\"{Left + plotWidth}\" y2=\"{y}\"/>");
            svg.Append($"<text class=\"tick\" x=\"{Left - 6}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">{Chart.TickLabel(t, yTicks)}</text>");
        }
        svg.Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Left + plotWidth}\" y2=\"{Top + plotHeight}\"/>");
        svg.Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\"/>");
        svg.Append($"<text class=\"axis-name\" x=\"{Left + plotWidth / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">epoch</text>");
        svg.Append($"<text class=\"axis-name\" transform=\"translate(14 {Top + plotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{E(chart.YLabel)}</text>");
        if (chart.Series.Count == 0)
            svg.Append($"<text class=\"tick\" x=\"{Left + plotWidth / 2}\" y=\"{Top + plotHeight / 2}\" text-anchor=\"middle\">no epochs recorded</text>");
        int legendX = Left + plotWidth;
        for (int s = chart.Series.Count - 1; s >= 0; s--)
        {
            // Right-aligned legend entries under the title, the first series leftmost.
            var series = chart.Series[s];
            legendX -= 18 + 7 * series.Name.Length + 12;
            svg.Append($"<line x1=\"{legendX}\" y1=\"30\" x2=\"{legendX + 14}\" y2=\"30\" stroke=\"{series.Css}\" stroke-width=\"3\"/>");
            svg.Append($"<text class=\"legend\" x=\"{legendX + 18}\" y=\"34\">{E(series.Name)}</text>");
        }
        foreach (var series in chart.Series)
        {
            string points = string.Join(" ", series.Points.Select(p => $"{N(Px(p.X))},{N(Py(p.Y))}"));
            svg.Append($"<polyline class=\"series\" data-series=\"{E(series.Name)}\" points=\"{points}\" fill=\"none\" stroke=\"{series.Css}\" stroke-width=\"2\"/>");
            foreach (var (x, y) in series.Points)
                svg.Append($"<circle cx=\"{N(Px(x))}\" cy=\"{N(Py(y))}\" r=\"3\" fill=\"{series.Css}\"><title>{E(series.Name)}, epoch {x.ToString(CultureInfo.InvariantCulture)}: {y.ToString("G6", CultureInfo.InvariantCulture)}</title></circle>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }
}
