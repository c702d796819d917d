using Shinso.Backends.KernelPairs;
using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tests.Gradients;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.BackendOperations;

/// <summary>The convolution, im2col, pooling and normalization entries (<see cref="IConvolution"/>).</summary>
internal static partial class BackendOperationTable
{
    /// <summary>Input element of image n, channel c, row <paramref name="row"/>, column <paramref name="column"/>, or -1 in the zero padding.</summary>
    private static int At(ConvolutionGeometry g, int n, int c, int row, int column) =>
        row < 0 || row >= g.Height || column < 0 || column >= g.Width ? -1 : ((n * g.Channels + c) * g.Height + row) * g.Width + column;

    /// <summary>The (column-matrix index, image index) pairs of a batch-wide im2col: every tap of every output position.</summary>
    private static IEnumerable<(int Column, int Image)> Im2ColPairs(ConvolutionGeometry g, int n)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, width = n * oh * ow;
        for (int s = 0; s < n; s++)
            for (int c = 0; c < g.Channels; c++)
                for (int p = 0; p < g.KernelHeight; p++)
                    for (int q = 0; q < g.KernelWidth; q++)
                        for (int i = 0; i < oh; i++)
                            for (int j = 0; j < ow; j++)
                                yield return (((c * g.KernelHeight + p) * g.KernelWidth + q) * width + s * oh * ow + i * ow + j,
                                    At(g, s, c, i * g.StrideHeight - g.PadHeight + p, j * g.StrideWidth - g.PadWidth + q));
    }

    /// <summary>The (tiled column index, image index) pairs of <see cref="IConvolution.TiledIm2Col"/>; image index -1 for padding and for slots past the output's edge.</summary>
    private static IEnumerable<(int Column, int Image)> TiledIm2ColPairs(TiledConvolutionGeometry tg, int n)
    {
        var g = tg.Convolution;
        int k = tg.Tile, u = tg.SlotRows, v = tg.SlotColumns, width = n * u * v;
        for (int t = 0; t < tg.Tiles; t++)
            for (int c = 0; c < g.Channels; c++)
                for (int p = 0; p < g.KernelHeight; p++)
                    for (int q = 0; q < g.KernelWidth; q++)
                        for (int s = 0; s < n; s++)
                            for (int a = 0; a < u; a++)
                                for (int b = 0; b < v; b++)
                                {
                                    int oh = t / k + k * a, ow = t % k + k * b;
                                    int row = t * g.ColumnRows + (c * g.KernelHeight + p) * g.KernelWidth + q;
                                    int image = oh >= g.OutputHeight || ow >= g.OutputWidth ? -1
                                        : At(g, s, c, oh * g.StrideHeight - g.PadHeight + p, ow * g.StrideWidth - g.PadWidth + q);
                                    yield return (row * width + s * u * v + a * v + b, image);
                                }
    }

    /// <summary>The (product index, map index) pairs of <see cref="IConvolution.TileInterleave"/>; map index -1 for slots past the output's edge.</summary>
    private static IEnumerable<(int Product, int Map, int Row)> TileSlots(TiledConvolutionGeometry tg, int n, int filters)
    {
        var g = tg.Convolution;
        int k = tg.Tile, u = tg.SlotRows, v = tg.SlotColumns, oh = g.OutputHeight, ow = g.OutputWidth;
        for (int t = 0; t < tg.Tiles; t++)
            for (int f = 0; f < filters; f++)
                for (int s = 0; s < n; s++)
                    for (int a = 0; a < u; a++)
                        for (int b = 0; b < v; b++)
                        {
                            int i = t / k + k * a, j = t % k + k * b;
                            yield return (((t * filters + f) * n + s) * u * v + a * v + b, i >= oh || j >= ow ? -1 : ((s * filters + f) * oh + i) * ow + j, t * filters + f);
                        }
    }

    private static TiledConvolutionGeometry RandomTiled(System.Random r)
    {
        var g = RandomConvolution(r, maxChannels: 2);
        return new TiledConvolutionGeometry(g, Between(r, 1, Math.Max(g.OutputHeight, g.OutputWidth)));
    }

    /// <summary>The windows of output positions over one plane: for each output, its real inputs' plane indices and its divisor counting the padding.</summary>
    private static IEnumerable<(int Output, List<int> Inputs, int PaddedCount)> Windows(PoolingGeometry g)
    {
        for (int i = 0; i < g.OutputHeight; i++)
            for (int j = 0; j < g.OutputWidth; j++)
            {
                int h0 = i * g.StrideHeight - g.PadHeight, w0 = j * g.StrideWidth - g.PadWidth;
                int hend = Math.Min(h0 + g.KernelHeight, g.Height + g.PadHeight), wend = Math.Min(w0 + g.KernelWidth, g.Width + g.PadWidth);
                var inputs = new List<int>();
                for (int r = Math.Max(h0, 0); r < Math.Min(h0 + g.KernelHeight, g.Height); r++)
                    for (int c = Math.Max(w0, 0); c < Math.Min(w0 + g.KernelWidth, g.Width); c++) inputs.Add(r * g.Width + c);
                yield return (i * g.OutputWidth + j, inputs, (hend - h0) * (wend - w0));
            }
    }

    /// <summary>LRN's denominator bases <c>Bias + Alpha/Size * sum a^2</c> over each channel's window, as <see cref="LrnForward"/> writes them.</summary>
    private static double[] LrnScale(float[] x, int n, int channels, int spatial, LrnParameters settings)
    {
        var scale = new double[x.Length];
        for (int s = 0; s < n; s++)
            for (int c = 0; c < channels; c++)
                for (int k = 0; k < spatial; k++)
                {
                    double sum = 0;
                    for (int j = Math.Max(0, c - settings.Before); j <= Math.Min(channels - 1, c + settings.After); j++)
                        sum += (double)x[(s * channels + j) * spatial + k] * x[(s * channels + j) * spatial + k];
                    scale[(s * channels + c) * spatial + k] = settings.Bias + (double)settings.Alpha / settings.Size * sum;
                }
        return scale;
    }

    private static readonly float[] LpExponents = [1f, 2f, 3f, 2.5f];

    private static PoolingGeometry RandomWindowedPooling(System.Random r)
    {
        // Every window must hold at least one real input.
        while (true)
        {
            var g = RandomPooling(r);
            if (Windows(g).All(w => w.Inputs.Count > 0)) return g;
        }
    }

    private static IEnumerable<BackendOperation> Convolution =>
    [
        new(nameof(IBackend.ConvolutionForward), r =>
        {
            int n = Between(r, 1, 4), filters = Between(r, 1, 4);
            var g = RandomConvolution(r);
            var (x, w, bias) = (Values(r, n * g.ImageLength), Values(r, filters * g.ColumnRows), Values(r, filters));
            return new OperationCase($"{n} images {g} {filters} filters")
            {
                Invoke = (b, t) => { b.ConvolutionForward(t("x"), g, t("w"), t("bias"), t("y")); return null; },
                Relative = 1e-5, Absolute = 2e-6 * g.ColumnRows,
            }
            .In("x", x, n, g.ImageLength).In("w", w, filters, g.ColumnRows).In("bias", bias, filters)
            .Out("y", NaiveConvolution.Convolve(Widen(x), n, g, Widen(w), Widen(bias), filters), n, filters * g.ColumnCount);
        }),
        new(nameof(IBackend.ConvolutionBackward), r =>
        {
            int n = Between(r, 1, 4), filters = Between(r, 1, 4);
            var g = RandomConvolution(r);
            bool input = r.Next(3) != 0;
            var (x, w, dy) = (Values(r, n * g.ImageLength), Values(r, filters * g.ColumnRows), Values(r, n * filters * g.ColumnCount));
            var (dx, dw, db) = NaiveConvolution.ConvolveBackward(x, n, g, w, dy, filters);
            var @case = new OperationCase($"{n} images {g} {filters} filters{(input ? "" : ", no input gradient")}")
            {
                Invoke = (b, t) => { b.ConvolutionBackward(t("x"), g, t("w"), t("dy"), t("dw"), t("db"), input ? t("dx") : null); return null; },
                Relative = 1e-5, Absolute = 2e-6 * n * g.ColumnCount,
            }
            .In("x", x, n, g.ImageLength).In("w", w, filters, g.ColumnRows).In("dy", dy, n, filters * g.ColumnCount)
            .Out("dw", Widen(dw), filters, g.ColumnRows).Out("db", Widen(db), filters);
            // dx sums F*KH*KW terms per element, far fewer than the weight gradient's N*OH*OW.
            return input ? @case.Out("dx", Widen(dx), n, g.ImageLength).WithAbsolute("dx", 2e-6 * filters * g.KernelHeight * g.KernelWidth) : @case;
        }),
        new(nameof(IBackend.ConvolutionInputGradient), r =>
        {
            int n = Between(r, 1, 4), filters = Between(r, 1, 4);
            var g = RandomConvolution(r);
            var (x, w, dy) = (Values(r, n * g.ImageLength), Values(r, filters * g.ColumnRows), Values(r, n * filters * g.ColumnCount));
            // The reference's input gradient does not read the input: any images of the right shape give it.
            var (dx, _, _) = NaiveConvolution.ConvolveBackward(x, n, g, w, dy, filters);
            return new OperationCase($"{n} images {g} {filters} filters")
            {
                Invoke = (b, t) => { b.ConvolutionInputGradient(t("dy"), g, t("w"), t("dx")); return null; },
                Relative = 1e-5, Absolute = 2e-6 * filters * g.KernelHeight * g.KernelWidth,
            }
            .In("w", w, filters, g.ColumnRows).In("dy", dy, n, filters * g.ColumnCount)
            .Out("dx", Widen(dx), n, g.ImageLength);
        }),
        new(nameof(IBackend.Im2Col), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomConvolution(r);
            var x = Values(r, n * g.ImageLength);
            var columns = new double[g.ColumnRows * n * g.ColumnCount];
            foreach (var (column, image) in Im2ColPairs(g, n)) columns[column] = image < 0 ? 0 : x[image];
            return new OperationCase($"{n} images {g}") { Invoke = (b, t) => { b.Im2Col(t("x"), g, t("columns")); return null; } }
                .In("x", x, n, g.ImageLength).Exactly("columns", null, columns, g.ColumnRows, n * g.ColumnCount);
        }),
        new(nameof(IBackend.Col2Im), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomConvolution(r);
            var columns = Values(r, g.ColumnRows * n * g.ColumnCount);
            var images = new double[n * g.ImageLength];
            foreach (var (column, image) in Im2ColPairs(g, n)) if (image >= 0) images[image] += columns[column];
            return new OperationCase($"{n} images {g}") { Invoke = (b, t) => { b.Col2Im(t("columns"), g, t("x")); return null; }, Relative = 1e-6 }
                .In("columns", columns, g.ColumnRows, n * g.ColumnCount).Out("x", images, n, g.ImageLength);
        }),
        new(nameof(IBackend.TiledIm2Col), r =>
        {
            int n = Between(r, 1, 3);
            var tg = RandomTiled(r);
            var x = Values(r, n * tg.Convolution.ImageLength);
            var columns = new double[tg.Tiles * tg.Convolution.ColumnRows * n * tg.SlotsPerImage];
            foreach (var (column, image) in TiledIm2ColPairs(tg, n)) columns[column] = image < 0 ? 0 : x[image];
            return new OperationCase($"{n} images {tg}") { Invoke = (b, t) => { b.TiledIm2Col(t("x"), tg, t("columns")); return null; } }
                .In("x", x, n, tg.Convolution.ImageLength).Exactly("columns", null, columns, tg.Tiles * tg.Convolution.ColumnRows, n * tg.SlotsPerImage);
        }),
        new(nameof(IBackend.TiledCol2Im), r =>
        {
            int n = Between(r, 1, 3);
            var tg = RandomTiled(r);
            var columns = Values(r, tg.Tiles * tg.Convolution.ColumnRows * n * tg.SlotsPerImage);
            var images = new double[n * tg.Convolution.ImageLength];
            foreach (var (column, image) in TiledIm2ColPairs(tg, n)) if (image >= 0) images[image] += columns[column];
            return new OperationCase($"{n} images {tg}") { Invoke = (b, t) => { b.TiledCol2Im(t("columns"), tg, t("x")); return null; }, Relative = 1e-6 }
                .In("columns", columns, tg.Tiles * tg.Convolution.ColumnRows, n * tg.SlotsPerImage).Out("x", images, n, tg.Convolution.ImageLength);
        }),
        new(nameof(IBackend.TileInterleave), r =>
        {
            int n = Between(r, 1, 3), filters = Between(r, 1, 3);
            var tg = RandomTiled(r);
            int maps = filters * tg.Convolution.ColumnCount;
            var products = Values(r, tg.Tiles * filters * n * tg.SlotsPerImage);
            var bias = Values(r, tg.Tiles * filters);
            var expected = new double[n * maps];
            foreach (var (product, map, row) in TileSlots(tg, n, filters)) if (map >= 0) expected[map] = (float)(products[product] + bias[row]);
            return new OperationCase($"{n} images {tg} {filters} filters") { Invoke = (b, t) => { b.TileInterleave(t("products"), tg, filters, t("bias"), t("maps")); return null; } }
                .In("products", products, tg.Tiles * filters, n * tg.SlotsPerImage).In("bias", bias, tg.Tiles * filters).Exactly("maps", null, expected, n, maps);
        }),
        new(nameof(IBackend.TileDeinterleave), r =>
        {
            int n = Between(r, 1, 3), filters = Between(r, 1, 3);
            var tg = RandomTiled(r);
            int maps = filters * tg.Convolution.ColumnCount;
            var x = Values(r, n * maps);
            var expected = new double[tg.Tiles * filters * n * tg.SlotsPerImage];
            foreach (var (product, map, _) in TileSlots(tg, n, filters)) expected[product] = map < 0 ? 0 : x[map];
            return new OperationCase($"{n} images {tg} {filters} filters") { Invoke = (b, t) => { b.TileDeinterleave(t("maps"), tg, filters, t("products")); return null; } }
                .In("maps", x, n, maps).Exactly("products", null, expected, tg.Tiles * filters, n * tg.SlotsPerImage);
        }),
        new(nameof(IBackend.AddChannelBias), r =>
        {
            int n = Between(r, 1, 4), c = Between(r, 1, 5), spatial = Length(r);
            var (x, bias) = (Values(r, n * c * spatial), Values(r, c));
            return new OperationCase($"[{n}, {c}, {spatial}]") { Invoke = (b, t) => { b.AddChannelBias(t("x"), c, t("bias")); return null; } }
                .InOut("x", x, [.. x.Select((v, i) => (double)v + bias[i / spatial % c])], n, c * spatial).In("bias", bias, c);
        }),
        new(nameof(IBackend.SumChannelBias), r =>
        {
            int n = Between(r, 1, 4), c = Between(r, 1, 5), spatial = Length(r);
            var dy = Values(r, n * c * spatial);
            var expected = new double[c];
            for (int i = 0; i < dy.Length; i++) expected[i / spatial % c] += dy[i];
            return new OperationCase($"[{n}, {c}, {spatial}]") { Invoke = (b, t) => { b.SumChannelBias(t("dy"), c, t("result")); return null; }, Absolute = 1e-6 * n * spatial }
                .In("dy", dy, n, c * spatial).Out("result", expected, c);
        }),
        new(nameof(IBackend.MaxPoolForward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            int planes = n * g.Channels, plane = g.Height * g.Width, outputs = g.OutputHeight * g.OutputWidth;
            // Values drawn from a few levels, so windows hold ties: the first in row-major order wins.
            var x = Array.ConvertAll(Values(r, planes * plane), v => MathF.Round(v * 3) / 3);
            var (y, argmax) = (new double[planes * outputs], new double[planes * outputs]);
            for (int p = 0; p < planes; p++)
                foreach (var (output, inputs, _) in Windows(g))
                {
                    int best = inputs.Aggregate((a, b) => x[p * plane + b] > x[p * plane + a] ? b : a);
                    (y[p * outputs + output], argmax[p * outputs + output]) = (x[p * plane + best], best);
                }
            return new OperationCase($"{n} images {g}") { Invoke = (b, t) => { b.MaxPoolForward(t("x"), g, t("y"), t("argmax")); return null; } }
                .In("x", x, n, g.Channels * plane).Exactly("y", null, y, n, g.Channels * outputs).Exactly("argmax", null, argmax, n, g.Channels * outputs);
        }),
        new(nameof(IBackend.MaxPoolBackward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            int planes = n * g.Channels, plane = g.Height * g.Width, outputs = g.OutputHeight * g.OutputWidth;
            var windows = Windows(g).ToArray();
            var argmax = new float[planes * outputs];
            for (int p = 0; p < planes; p++)
                foreach (var (output, inputs, _) in windows) argmax[p * outputs + output] = inputs[r.Next(inputs.Count)];
            var dy = Values(r, planes * outputs);
            var dx = new double[planes * plane];
            for (int i = 0; i < dy.Length; i++) dx[i / outputs * plane + (int)argmax[i]] += dy[i];
            return new OperationCase($"{n} images {g}") { Invoke = (b, t) => { b.MaxPoolBackward(t("dy"), t("argmax"), g, t("dx")); return null; } }
                .In("dy", dy, n, g.Channels * outputs).In("argmax", argmax, n, g.Channels * outputs).Out("dx", dx, n, g.Channels * plane);
        }),
        new(nameof(IBackend.AvgPoolForward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            bool includePad = r.Next(2) == 0;
            int planes = n * g.Channels, plane = g.Height * g.Width, outputs = g.OutputHeight * g.OutputWidth;
            var x = Values(r, planes * plane);
            var y = new double[planes * outputs];
            for (int p = 0; p < planes; p++)
                foreach (var (output, inputs, padded) in Windows(g))
                    y[p * outputs + output] = inputs.Sum(i => (double)x[p * plane + i]) / (includePad ? padded : inputs.Count);
            return new OperationCase($"{n} images {g} count_include_pad {includePad}") { Invoke = (b, t) => { b.AvgPoolForward(t("x"), g, includePad, t("y")); return null; } }
                .In("x", x, n, g.Channels * plane).Out("y", y, n, g.Channels * outputs);
        }),
        new(nameof(IBackend.AvgPoolBackward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            bool includePad = r.Next(2) == 0;
            int planes = n * g.Channels, plane = g.Height * g.Width, outputs = g.OutputHeight * g.OutputWidth;
            var dy = Values(r, planes * outputs);
            var dx = new double[planes * plane];
            for (int p = 0; p < planes; p++)
                foreach (var (output, inputs, padded) in Windows(g))
                    foreach (int i in inputs) dx[p * plane + i] += dy[p * outputs + output] / (includePad ? padded : inputs.Count);
            return new OperationCase($"{n} images {g} count_include_pad {includePad}") { Invoke = (b, t) => { b.AvgPoolBackward(t("dy"), g, includePad, t("dx")); return null; } }
                .In("dy", dy, n, g.Channels * outputs).Out("dx", dx, n, g.Channels * plane);
        }),
        // Every exponent in every case: p = 1 (|x|), 2, 3 and a fractional one.
        new(nameof(IBackend.LpPoolForward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            var x = Values(r, n * g.InputLength);
            var @case = new OperationCase($"{n} images {g}, p = {string.Join(", ", LpExponents)}")
            {
                Invoke = (b, t) => { foreach (float p in LpExponents) b.LpPoolForward(t("x"), g, p, t($"y {p}")); return null; }, Relative = 1e-5,
            }.In("x", x, n, g.InputLength);
            foreach (float p in LpExponents) @case.Out($"y {p}", NaiveConvolution.Pool(Widen(x), n, g, 2, p), n, g.Channels * g.OutputHeight * g.OutputWidth);
            return @case;
        }),
        new(nameof(IBackend.LpPoolBackward), r =>
        {
            int n = Between(r, 1, 3);
            var g = RandomWindowedPooling(r);
            int planes = n * g.Channels, plane = g.Height * g.Width, outputs = g.OutputHeight * g.OutputWidth;
            var x = Values(r, planes * plane);
            var dy = Values(r, planes * outputs);
            var @case = new OperationCase($"{n} images {g}, p = {string.Join(", ", LpExponents)}")
            {
                Invoke = (b, t) => { foreach (float p in LpExponents) b.LpPoolBackward(t("x"), t($"y {p}"), t("dy"), g, p, t($"dx {p}")); return null; },
                Relative = 1e-5, Absolute = 1e-6,
            }.In("x", x, n, g.InputLength).In("dy", dy, n, g.Channels * outputs);
            foreach (float p in LpExponents)
            {
                var y = Round(NaiveConvolution.Pool(Widen(x), n, g, 2, p));
                var dx = new double[planes * plane];
                for (int q = 0; q < planes; q++)
                    foreach (var (output, inputs, _) in Windows(g))
                    {
                        double yo = y[q * outputs + output];
                        if (yo == 0) continue;
                        foreach (int i in inputs)
                        {
                            double v = x[q * plane + i];
                            dx[q * plane + i] += dy[q * outputs + output] * Math.Pow(Math.Abs(v), p - 1) * Math.Sign(v) / Math.Pow(yo, p - 1);
                        }
                    }
                @case.In($"y {p}", y, n, g.Channels * outputs).Out($"dx {p}", dx, n, g.InputLength);
            }
            return @case;
        }),
        new(nameof(LrnForward), r =>
        {
            int n = Between(r, 1, 3), c = Between(r, 1, 8), spatial = Between(r, 1, 40);
            var settings = new LrnParameters(Between(r, 1, 6), Values(r, 1, 0.1f, 2f)[0], new[] { 0.75f, 0.5f, 1.3f }[r.Next(3)], Values(r, 1, 1f, 2f)[0]);
            var x = Values(r, n * c * spatial, -2, 2);
            var scale = LrnScale(x, n, c, spatial, settings);
            return new OperationCase($"[{n}, {c}, {spatial}] {settings}") { Invoke = (b, t) => { b.Run(new LrnForward(t("x"), c, settings, t("y"), t("scale"))); return null; }, Relative = 1e-5 }
                .In("x", x, n, c * spatial).Out("y", [.. x.Select((v, i) => v * Math.Pow(scale[i], -settings.Beta))], n, c * spatial).Out("scale", scale, n, c * spatial);
        }),
        new(nameof(LrnBackward), r =>
        {
            int n = Between(r, 1, 3), c = Between(r, 1, 8), spatial = Between(r, 1, 40);
            var settings = new LrnParameters(Between(r, 1, 6), Values(r, 1, 0.1f, 2f)[0], new[] { 0.75f, 0.5f, 1.3f }[r.Next(3)], Values(r, 1, 1f, 2f)[0]);
            var x = Values(r, n * c * spatial, -2, 2);
            var scale = Round(LrnScale(x, n, c, spatial, settings));
            var y = Round([.. x.Select((v, i) => v * Math.Pow(scale[i], -settings.Beta))]);
            var dy = Values(r, x.Length);
            var dx = new double[x.Length];
            for (int s = 0; s < n; s++)
                for (int i = 0; i < c; i++)
                    for (int k = 0; k < spatial; k++)
                    {
                        int at = (s * c + i) * spatial + k;
                        double sum = 0;
                        for (int j = Math.Max(0, i - settings.After); j <= Math.Min(c - 1, i + settings.Before); j++)
                        {
                            int other = (s * c + j) * spatial + k;
                            sum += (double)dy[other] * y[other] / scale[other];
                        }
                        dx[at] = dy[at] * Math.Pow(scale[at], -settings.Beta) - 2.0 * settings.Alpha * settings.Beta / settings.Size * x[at] * sum;
                    }
            return new OperationCase($"[{n}, {c}, {spatial}] {settings}")
            {
                Invoke = (b, t) => { b.Run(new LrnBackward(t("x"), t("y"), t("scale"), t("dy"), c, settings, t("dx"))); return null; },
                Relative = 1e-5, Absolute = 1e-6,
            }
            .In("x", x, n, c * spatial).In("y", y, n, c * spatial).In("scale", scale, n, c * spatial).In("dy", dy, n, c * spatial).Out("dx", dx, n, c * spatial);
        }),
        new(nameof(IBackend.LcnForward), r =>
        {
            int n = Between(r, 1, 3);
            var g = new LcnGeometry(Between(r, 1, 3), Between(r, 2, 7), Between(r, 2, 7), new[] { 1, 3, 5 }[r.Next(3)], new[] { 0.8f, 1.5f }[r.Next(2)]);
            var x = Values(r, n * g.ImageLength, -2, 2);
            var (y, deviation, _) = NaiveConvolution.Lcn(Widen(x), n, g);
            return new OperationCase($"{n} images {g}") { Invoke = (b, t) => { b.LcnForward(t("x"), g, t("y"), t("deviation")); return null; }, Relative = 1e-4, Absolute = 1e-5 }
                .In("x", x, n, g.ImageLength).Out("y", y, n, g.ImageLength).Out("deviation", deviation, n, g.PlaneLength);
        }),
        new(nameof(IBackend.LcnBackward), r =>
        {
            int n = Between(r, 1, 3);
            var g = new LcnGeometry(Between(r, 1, 3), Between(r, 2, 7), Between(r, 2, 7), new[] { 3, 5 }[r.Next(2)], new[] { 0.8f, 1.5f }[r.Next(2)]);
            var x = Widen(Values(r, n * g.ImageLength, -2, 2));
            var (y, deviation, _) = NaiveConvolution.Lcn(x, n, g);
            var dy = Values(r, x.Length);
            // The reference dx = Jᵀ dy, differenced from the double-precision forward (NaN where a kink lies within the step: not compared).
            var dx = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
                dx[i] = ReferenceGradient.Derivative(x, i, () => NaiveConvolution.Lcn(x, n, g).Output.Select((v, k) => v * dy[k]).Sum()) ?? double.NaN;
            return new OperationCase($"{n} images {g}")
            {
                Invoke = (b, t) => { b.LcnBackward(t("y"), t("deviation"), t("dy"), g, t("dx")); return null; },
                Relative = 1e-4, Absolute = 1e-4,
            }
            .In("y", Round(y), n, g.ImageLength).In("deviation", Round(deviation), n, g.PlaneLength).In("dy", dy, n, g.ImageLength).Out("dx", dx, n, g.ImageLength);
        }),
    ];
}
