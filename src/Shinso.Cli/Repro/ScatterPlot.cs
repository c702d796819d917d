using System.Globalization;
using Shinso.IO;

namespace Shinso.Cli.Repro;

/// <summary>
/// A scatter plot with straight lines over it, rasterised for a PNG (greyscale, or in colour when its points have classes): axes with 1-2-5 ticks labelled in a
/// built-in 3x5 digit font (the axis names go in the caption beside the picture), points as filled discs, lines solid
/// or dashed in a grey level of their own.
/// </summary>
internal sealed class ScatterPlot(int width = 640, int height = 440)
{
    private const int Left = 70, Right = 20, Top = 20, Bottom = 40, FontScale = 2;
    private readonly List<(double X, double Y)> _points = [];
    private readonly List<int> _classes = [];
    private readonly List<(double Slope, double Intercept, byte Grey, bool Dashed)> _lines = [];

    /// <summary>Adds the points to plot.</summary>
    public ScatterPlot Points(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"{x.Length} x values but {y.Length} y values.", nameof(y));
        if (_classes.Count > 0) throw new InvalidOperationException("A plot of classed points takes classed points only.");
        for (int i = 0; i < x.Length; i++) _points.Add((x[i], y[i]));
        return this;
    }

    /// <summary>Adds points coloured by class (small dots, as for thousands of codes); the plot is then written in colour.</summary>
    public ScatterPlot Points(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<int> classes)
    {
        if (x.Length != y.Length || x.Length != classes.Length) throw new ArgumentException($"{x.Length} x values, {y.Length} y values and {classes.Length} classes.", nameof(classes));
        if (_points.Count > _classes.Count) throw new InvalidOperationException("A plot of plain points takes plain points only.");
        for (int i = 0; i < x.Length; i++)
        {
            _points.Add((x[i], y[i]));
            _classes.Add(classes[i]);
        }
        return this;
    }

    /// <summary>Ten distinguishable colours (Tableau's), one per class, repeating after ten.</summary>
    public static readonly (byte R, byte G, byte B)[] Palette =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    /// <summary>The plot in colour, row-major RGB: axes and lines in grey, each classed point a dot of its class's colour.</summary>
    public byte[] RenderRgb()
    {
        var grey = Render();
        var rgb = new byte[grey.Length * 3];
        for (int i = 0; i < grey.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
        if (_classes.Count == 0) return rgb;
        var (_, xMin, xMax) = Ticks(_points.Min(p => p.X), _points.Max(p => p.X), includeZero: true);
        var (_, yMin, yMax) = Ticks(_points.Min(p => p.Y), _points.Max(p => p.Y), includeZero: true);
        int plotWidth = width - Left - Right, plotHeight = height - Top - Bottom;
        for (int k = 0; k < _points.Count; k++)
        {
            var (r, g, b) = Palette[((_classes[k] % Palette.Length) + Palette.Length) % Palette.Length];
            int cx = (int)Math.Round(Left + (_points[k].X - xMin) / (xMax - xMin) * plotWidth);
            int cy = (int)Math.Round(Top + plotHeight - (_points[k].Y - yMin) / (yMax - yMin) * plotHeight);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int px = cx + dx, py = cy + dy;
                    if (px < 0 || px >= width || py < 0 || py >= height) continue;
                    int o = 3 * (py * width + px);
                    (rgb[o], rgb[o + 1], rgb[o + 2]) = (r, g, b);
                }
        }
        return rgb;
    }

    /// <summary>The plot's width and height in pixels.</summary>
    public (int Width, int Height) Size => (width, height);

    /// <summary>Adds the line <c>y = slope x + intercept</c> across the plot.</summary>
    public ScatterPlot Line(double slope, double intercept, byte grey, bool dashed = false)
    {
        _lines.Add((slope, intercept, grey, dashed));
        return this;
    }

    /// <summary>Writes the plot to <paramref name="path"/> as PNG (atomically).</summary>
    public void Write(string path) => AtomicFile.WriteAllBytes(path,
        _classes.Count > 0 ? PngImage.EncodeRgb(RenderRgb(), width, height) : PngImage.Encode(Render(), width, height));

    /// <summary>The plot's pixels, row-major, 0 = black.</summary>
    public byte[] Render()
    {
        if (_points.Count == 0) throw new InvalidOperationException("A scatter plot needs at least one point.");
        var pixels = new byte[width * height];
        Array.Fill(pixels, (byte)255);
        var (xTicks, xMin, xMax) = Ticks(_points.Min(p => p.X), _points.Max(p => p.X), includeZero: true);
        var (yTicks, yMin, yMax) = Ticks(_points.Min(p => p.Y), _points.Max(p => p.Y), includeZero: true);
        int plotWidth = width - Left - Right, plotHeight = height - Top - Bottom;
        double Px(double x) => Left + (x - xMin) / (xMax - xMin) * plotWidth;
        double Py(double y) => Top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight;

        void Set(int x, int y, byte grey)
        {
            if (x >= 0 && x < width && y >= 0 && y < height && grey < pixels[y * width + x]) pixels[y * width + x] = grey;
        }

        // Faint grid at every tick, a darker line at zero, then the axes.
        foreach (double t in xTicks)
            for (int y = Top; y <= Top + plotHeight; y++) Set((int)Math.Round(Px(t)), y, t == 0 ? (byte)170 : (byte)225);
        foreach (double t in yTicks)
            for (int x = Left; x <= Left + plotWidth; x++) Set(x, (int)Math.Round(Py(t)), t == 0 ? (byte)170 : (byte)225);
        for (int x = Left; x <= Left + plotWidth; x++) Set(x, Top + plotHeight, 0);
        for (int y = Top; y <= Top + plotHeight; y++) Set(Left, y, 0);
        foreach (double t in xTicks)
        {
            int px = (int)Math.Round(Px(t));
            for (int d = 1; d <= 5; d++) Set(px, Top + plotHeight + d, 0);
            string label = Label(t);
            DrawText(label, px - TextWidth(label) / 2, Top + plotHeight + 10, Set);
        }
        foreach (double t in yTicks)
        {
            int py = (int)Math.Round(Py(t));
            for (int d = 1; d <= 5; d++) Set(Left - d, py, 0);
            string label = Label(t);
            DrawText(label, Left - 10 - TextWidth(label), py - 5 * FontScale / 2, Set);
        }

        // Lines, clipped to the plot area; dashes of 8 pixels on, 6 off along x.
        foreach (var (slope, intercept, grey, dashed) in _lines)
        {
            for (int px = Left; px <= Left + plotWidth; px++)
            {
                if (dashed && (px - Left) % 14 >= 8) continue;
                double x0 = xMin + (px - 0.5 - Left) / plotWidth * (xMax - xMin), x1 = xMin + (px + 0.5 - Left) / plotWidth * (xMax - xMin);
                int y0 = (int)Math.Round(Py(slope * x0 + intercept)), y1 = (int)Math.Round(Py(slope * x1 + intercept));
                for (int py = Math.Min(y0, y1) - 1; py <= Math.Max(y0, y1) + 1; py++)
                    if (py >= Top && py <= Top + plotHeight) Set(px, py, grey);
            }
        }

        // Classed points are drawn in colour by RenderRgb.
        foreach (var (x, y) in _classes.Count > 0 ? [] : _points)
        {
            double cx = Px(x), cy = Py(y);
            for (int dy = -4; dy <= 4; dy++)
                for (int dx = -4; dx <= 4; dx++)
                    if (dx * dx + dy * dy <= 16) Set((int)Math.Round(cx) + dx, (int)Math.Round(cy) + dy, 0);
        }
        return pixels;
    }

    /// <summary>Tick values on a 1-2-5 step covering [min, max] (and 0 when asked), with the axis range they span.</summary>
    public static (double[] Ticks, double Low, double High) Ticks(double min, double max, bool includeZero)
    {
        if (includeZero) (min, max) = (Math.Min(min, 0), Math.Max(max, 0));
        // A flat series gets a range around it relative to its size: +-1 would vanish next to 1e16.
        if (max <= min)
        {
            double half = Math.Max(1, Math.Abs(min) * 1e-3);
            (min, max) = (min - half, max + half);
        }
        double raw = (max - min) / 6, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * magnitude).First(s => s >= raw);
        double low = Math.Floor(min / step) * step, high = Math.Ceiling(max / step) * step;
        int count = (int)Math.Round((high - low) / step) + 1;
        var ticks = new double[count];
        for (int i = 0; i < count; i++) ticks[i] = Math.Round(low + i * step, 10);
        return (ticks, low, high);
    }

    private static string Label(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The width in pixels of <paramref name="text"/> in the built-in digit font.</summary>
    internal static int TextWidth(string text) => text.Length * 4 * FontScale - FontScale;

    /// <summary>The height in pixels of a line of the built-in digit font.</summary>
    internal const int TextHeight = 5 * FontScale;

    /// <summary>Draws <paramref name="text"/> (digits, minus and point; other characters leave a gap) with its top left at
    /// (<paramref name="x"/>, <paramref name="y"/>), calling <paramref name="set"/> for each ink pixel with grey 0.</summary>
    internal static void DrawText(string text, int x, int y, Action<int, int, byte> set)
    {
        foreach (char c in text)
        {
            if (Glyphs.TryGetValue(c, out var rows))
            {
                for (int r = 0; r < 5; r++)
                    for (int col = 0; col < 3; col++)
                        if ((rows[r] >> (2 - col) & 1) != 0)
                            for (int sy = 0; sy < FontScale; sy++)
                                for (int sx = 0; sx < FontScale; sx++) set(x + col * FontScale + sx, y + r * FontScale + sy, 0);
            }
            x += 4 * FontScale;
        }
    }

    /// <summary>3x5 glyphs, one 3-bit row each, top row first.</summary>
    private static readonly Dictionary<char, byte[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['-'] = [0, 0, 7, 0, 0], ['.'] = [0, 0, 0, 0, 2],
    };
}
