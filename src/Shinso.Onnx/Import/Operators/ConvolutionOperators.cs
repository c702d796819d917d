using Shinso.Operations;

namespace Shinso.Onnx.Import.Operators;

/// <summary>
/// Conv, ConvTranspose (the backend's GEMM and col2im), MaxPool, AveragePool and LpPool on 1-D and 2-D images through the backend's convolution and pooling passes (3-D or dilated pooling on the host, <see cref="HostPooling"/>; 1-D images
/// run as 2-D ones of height 1), and GlobalAveragePool / GlobalMaxPool on the host. Asymmetric or SAME padding is applied on the
/// host first (zeros; minus infinity for max pooling), dilated kernels are expanded with zeros, and groups run one convolution each.
/// </summary>
internal static class ConvolutionOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Conv"] = Conv;
        map["ConvTranspose"] = ConvTranspose;
        map["MaxPool"] = n => Pool(n, PoolKind.Max);
        map["AveragePool"] = n => Pool(n, PoolKind.Average);
        map["LpPool"] = n => Pool(n, PoolKind.Lp);
        map["GlobalAveragePool"] = n => Global(n, average: true);
        map["GlobalMaxPool"] = n => Global(n, average: false);
    }

    /// <summary>An image batch as [N, C, H, W] (a 1-D batch [N, C, L] as [N, C, 1, L]).</summary>
    private readonly record struct Images(int N, int C, int H, int W, bool OneDimensional);

    private static Images ImagesOf(NodeContext n, OnnxValue x)
    {
        if (x.Rank == 4) return new Images(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], false);
        if (x.Rank == 3) return new Images(x.Shape[0], x.Shape[1], 1, x.Shape[2], true);
        throw n.Unsupported($"input {x} has {Math.Max(0, x.Rank - 2)} spatial dimensions; Shinso runs 1-D and 2-D {n.Node.OpType}.");
    }

    /// <summary>Two-element (height, width) spatial attributes from the node's (one or two) values.</summary>
    private static (int H, int W) Pair(NodeContext n, long[]? values, bool oneDimensional, int fallback, string name)
    {
        if (values is null) return (fallback, fallback);
        int expected = oneDimensional ? 1 : 2;
        if (values.Length != expected) throw n.Error($"{name} has {values.Length} values; expected {expected}.");
        return oneDimensional ? (1, checked((int)values[0])) : (checked((int)values[0]), checked((int)values[1]));
    }

    /// <summary>Padding (top, left, bottom, right) from <c>pads</c> or <c>auto_pad</c> for a window of effective size (kh, kw).</summary>
    private static (int Top, int Left, int Bottom, int Right) Padding(NodeContext n, Images x, (int H, int W) kernel, (int H, int W) stride)
    {
        string autoPad = n.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            var (top, bottom) = x.OneDimensional ? (0, 0) : Same(x.H, kernel.H, stride.H, autoPad == "SAME_UPPER");
            var (left, right) = Same(x.W, kernel.W, stride.W, autoPad == "SAME_UPPER");
            return (top, left, bottom, right);
        }
        if (autoPad == "VALID") return (0, 0, 0, 0);
        if (autoPad != "NOTSET") throw n.Error($"auto_pad is '{autoPad}'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID.");
        var pads = n.Ints("pads");
        if (pads is null) return (0, 0, 0, 0);
        if (pads.Any(p => p < 0)) throw n.Unsupported($"negative pads [{string.Join(", ", pads)}] are not supported.");
        if (x.OneDimensional)
        {
            if (pads.Length != 2) throw n.Error($"pads has {pads.Length} values; expected 2 for a 1-D image.");
            return (0, checked((int)pads[0]), 0, checked((int)pads[1]));
        }
        if (pads.Length != 4) throw n.Error($"pads has {pads.Length} values; expected 4 for a 2-D image.");
        return (checked((int)pads[0]), checked((int)pads[1]), checked((int)pads[2]), checked((int)pads[3]));
    }

    /// <summary>
    /// auto_pad SAME's split along one axis of <paramref name="size"/> cells for a window of effective size <paramref name="k"/>
    /// and stride <paramref name="s"/>: the output keeps ceil(size / s) cells, the odd cell going to the end (upper) or the start.
    /// </summary>
    internal static (int Begin, int End) Same(int size, int k, int s, bool upper)
    {
        int output = (size + s - 1) / s;
        int total = Math.Max(0, checked((output - 1) * s + k - size));
        int small = total / 2;
        return upper ? (small, total - small) : (total - small, small);
    }

    /// <summary>The batch with <paramref name="pad"/> added around each image, the new cells set to <paramref name="fill"/>.</summary>
    private static float[] PadImages(float[] x, Images s, (int Top, int Left, int Bottom, int Right) pad, float fill, out int height, out int width)
    {
        height = checked(s.H + pad.Top + pad.Bottom);
        width = checked(s.W + pad.Left + pad.Right);
        var y = new float[OnnxValue.CountOf([s.N, s.C, height, width])];
        Array.Fill(y, fill);
        for (int plane = 0; plane < s.N * s.C; plane++)
            for (int r = 0; r < s.H; r++)
                x.AsSpan((plane * s.H + r) * s.W, s.W).CopyTo(y.AsSpan((plane * height + r + pad.Top) * width + pad.Left, s.W));
        return y;
    }

    private static OnnxValue[] Conv(NodeContext n)
    {
        var x = n.Input(0);
        var w = n.Input(1);
        var s = ImagesOf(n, x);
        if (w.Rank != x.Rank) throw n.Error($"W {w} must have the rank of X {x}.");
        int groups = checked((int)n.Int("group", 1));
        int filters = w.Shape[0], perGroup = w.Shape[1];
        var kernel = s.OneDimensional ? (1, w.Shape[2]) : (w.Shape[2], w.Shape[3]);
        if (groups < 1 || s.C % groups != 0 || filters % groups != 0 || perGroup != s.C / groups)
            throw n.Error($"group {groups} does not fit X {x} and W {w} (W's second dimension must be C / group).");
        if (n.Ints("kernel_shape") is { } ks && !ks.Select(v => (int)v).SequenceEqual(s.OneDimensional ? [kernel.Item2] : [kernel.Item1, kernel.Item2]))
            throw n.Error($"kernel_shape [{string.Join(", ", ks)}] differs from W {w}.");
        var stride = Pair(n, n.Ints("strides"), s.OneDimensional, 1, "strides");
        var dilation = Pair(n, n.Ints("dilations"), s.OneDimensional, 1, "dilations");
        if (stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1) throw n.Error("strides and dilations must be positive.");
        var (kh, kw) = kernel;
        int ekh = (kh - 1) * dilation.H + 1, ekw = (kw - 1) * dilation.W + 1;
        var pad = Padding(n, s, (ekh, ekw), stride);
        var data = n.Floats(0);
        int height = s.H, width = s.W;
        if (pad != (0, 0, 0, 0)) data = PadImages(data, s, pad, 0f, out height, out width);
        if (height < ekh || width < ekw) throw n.Error($"the {ekh} x {ekw} (dilated) kernel is larger than the {height} x {width} padded image.");
        var weights = Dilate(n.Floats(1), filters * perGroup, kh, kw, dilation);
        float[] bias = n.Optional(2) is not null ? n.Floats(2) : new float[filters];
        if (bias.Length != filters) throw n.Error($"B has {bias.Length} values; W has {filters} filters.");

        int fg = filters / groups;
        var geometry = new ConvolutionGeometry(perGroup, height, width, ekh, ekw, stride.H, stride.W);
        geometry.Validate();
        int oh = geometry.OutputHeight, ow = geometry.OutputWidth, plane = oh * ow;
        var y = new float[s.N * filters * plane];
        var be = n.Backend;
        if (y.Length > 0)
        {
            var input = be.Allocate(s.N, perGroup, height, width);
            var output = be.Allocate(s.N, fg, oh, ow);
            var host = new float[s.N * perGroup * height * width];
            var result = new float[output.Length];
            for (int g = 0; g < groups; g++)
            {
                for (int i = 0; i < s.N; i++)
                    data.AsSpan((i * s.C + g * perGroup) * height * width, perGroup * height * width).CopyTo(host.AsSpan(i * perGroup * height * width));
                be.Upload(host, input);
                var wg = BackendPass.Upload(be, weights.AsSpan(g * fg * geometry.ColumnRows, fg * geometry.ColumnRows), fg, geometry.ColumnRows);
                var bg = BackendPass.Upload(be, bias.AsSpan(g * fg, fg), fg);
                be.ConvolutionForward(input, geometry, wg, bg, output);
                be.Download(output, result);
                for (int i = 0; i < s.N; i++)
                    result.AsSpan(i * fg * plane, fg * plane).CopyTo(y.AsSpan((i * filters + g * fg) * plane));
            }
        }
        return [OnnxValue.FromFloats(s.OneDimensional ? [s.N, filters, ow] : [s.N, filters, oh, ow], y)];
    }

    /// <summary>
    /// The transposed convolution: per image and group, <c>columns = W_g^T x_g</c> (GEMM) folded by col2im into the full output
    /// <c>s*(in-1) + k_eff</c> on a side, then cropped by the pads (or extended by output_padding) and the bias added.
    /// </summary>
    private static OnnxValue[] ConvTranspose(NodeContext n)
    {
        var x = n.Input(0);
        var w = n.Input(1);
        var s = ImagesOf(n, x);
        if (w.Rank != x.Rank) throw n.Error($"W {w} must have the rank of X {x}.");
        int groups = checked((int)n.Int("group", 1));
        if (groups < 1 || s.C % groups != 0 || w.Shape[0] != s.C) throw n.Error($"group {groups} does not fit X {x} and W {w} (W's first dimension must be C).");
        int cg = s.C / groups, mg = w.Shape[1], filters = mg * groups;
        var (kh, kw) = s.OneDimensional ? (1, w.Shape[2]) : (w.Shape[2], w.Shape[3]);
        var stride = Pair(n, n.Ints("strides"), s.OneDimensional, 1, "strides");
        var dilation = Pair(n, n.Ints("dilations"), s.OneDimensional, 1, "dilations");
        if (stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1) throw n.Error("strides and dilations must be positive.");
        int ekh = (kh - 1) * dilation.H + 1, ekw = (kw - 1) * dilation.W + 1;
        var extra = Pair(n, n.Ints("output_padding"), s.OneDimensional, 0, "output_padding");
        if (s.OneDimensional) extra = (0, extra.W);
        int fullH = stride.H * (s.H - 1) + ekh, fullW = stride.W * (s.W - 1) + ekw;
        // Padding: from output_shape or SAME (split as the ONNX reference does), else the pads attribute.
        int top, left, bottom, right;
        string autoPad = n.String("auto_pad", "NOTSET");
        var outputShape = n.Ints("output_shape");
        if (outputShape is not null && outputShape.Length != (s.OneDimensional ? 1 : 2))
            throw n.Error($"output_shape has {outputShape.Length} values; expected one per spatial dimension.");
        if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int targetH = s.OneDimensional ? 1 : outputShape is { } os ? checked((int)os[^2]) : s.H * stride.H;
            int targetW = outputShape is { } ow ? checked((int)ow[^1]) : s.W * stride.W;
            int totalH = fullH + extra.H - targetH, totalW = fullW + extra.W - targetW;
            bool upper = autoPad == "SAME_UPPER";
            // A target beyond the full output (negative total padding) extends it at the end, as output_padding does.
            (top, bottom) = totalH < 0 ? (0, totalH) : upper ? (totalH / 2, totalH - totalH / 2) : (totalH - totalH / 2, totalH / 2);
            (left, right) = totalW < 0 ? (0, totalW) : upper ? (totalW / 2, totalW - totalW / 2) : (totalW - totalW / 2, totalW / 2);
        }
        else (top, left, bottom, right) = Padding(n, s, (ekh, ekw), stride);
        int oh = fullH + extra.H - top - bottom, ow2 = fullW + extra.W - left - right;
        if (oh < 0 || ow2 < 0 || top < 0 || left < 0) throw n.Error($"the pads leave an output of {oh} x {ow2}.");
        var weights = Dilate(n.Floats(1), s.C * mg, kh, kw, dilation);
        float[] bias = n.Optional(2) is not null ? n.Floats(2) : new float[filters];
        if (bias.Length != filters) throw n.Error($"B has {bias.Length} values; W gives {filters} output channels.");
        var data = n.Floats(0);
        var geometry = new ConvolutionGeometry(mg, fullH, fullW, ekh, ekw, stride.H, stride.W);
        geometry.Validate();
        var y = new float[s.N * filters * oh * ow2];
        var be = n.Backend;
        int plane = s.H * s.W, rowsPerGroup = mg * ekh * ekw;
        if (plane > 0 && y.Length > 0)
        {
            var input = be.Allocate(cg, plane);
            var columns = be.Allocate(rowsPerGroup, plane);
            var full = be.Allocate(1, mg, fullH, fullW);
            var image = new float[mg * fullH * fullW];
            for (int g = 0; g < groups; g++)
            {
                var wg = BackendPass.Upload(be, weights.AsSpan(g * cg * rowsPerGroup, cg * rowsPerGroup), cg, rowsPerGroup);
                for (int i = 0; i < s.N; i++)
                {
                    be.Upload(data.AsSpan((i * s.C + g * cg) * plane, cg * plane), input);
                    be.Gemm(Transpose.Transposed, Transpose.None, 1f, wg, input, 0f, columns);
                    be.Col2Im(columns, geometry, full);
                    be.Download(full, image);
                    for (int m = 0; m < mg; m++)
                    {
                        int channel = g * mg + m;
                        for (int r = 0; r < oh; r++)
                        {
                            int source = r + top;
                            var target = y.AsSpan(((i * filters + channel) * oh + r) * ow2, ow2);
                            target.Fill(bias[channel]);
                            if (source >= fullH) continue; // output_padding rows past the full output hold the bias alone
                            for (int c = 0; c < ow2; c++)
                                if (c + left < fullW) target[c] += image[(m * fullH + source) * fullW + c + left];
                        }
                    }
                }
            }
        }
        return [OnnxValue.FromFloats(s.OneDimensional ? [s.N, filters, ow2] : [s.N, filters, oh, ow2], y)];
    }

    /// <summary>Kernels with <c>dilation - 1</c> zeros between taps: a dilated convolution is a plain one with the spread kernel.</summary>
    private static float[] Dilate(float[] w, int kernels, int kh, int kw, (int H, int W) dilation)
    {
        if (dilation == (1, 1)) return w;
        int ekh = (kh - 1) * dilation.H + 1, ekw = (kw - 1) * dilation.W + 1;
        var spread = new float[kernels * ekh * ekw];
        for (int k = 0; k < kernels; k++)
            for (int r = 0; r < kh; r++)
                for (int c = 0; c < kw; c++)
                    spread[(k * ekh + r * dilation.H) * ekw + c * dilation.W] = w[(k * kh + r) * kw + c];
        return spread;
    }

    private static OnnxValue[] Pool(NodeContext n, PoolKind kind)
    {
        var x = n.Input(0);
        // The backend pools 1-D and 2-D images with undilated windows; the host takes the other forms and MaxPool's Indices.
        if (x.Rank > 4 || kind == PoolKind.Max && n.OutputCount > 1 || n.Ints("dilations") is { } dilated && dilated.Any(v => v != 1)) return HostPooling.Run(n, kind);
        var s = ImagesOf(n, x);
        var kernel = Pair(n, n.Ints("kernel_shape") ?? throw n.Error("kernel_shape is required."), s.OneDimensional, 1, "kernel_shape");
        var stride = Pair(n, n.Ints("strides"), s.OneDimensional, 1, "strides");
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1) throw n.Error("kernel_shape and strides must be positive.");
        bool ceil = n.Int("ceil_mode", 0) != 0;
        bool includePad = n.Int("count_include_pad", 0) != 0;
        var pad = Padding(n, s, kernel, stride);
        var data = n.Floats(0);
        int height = s.H, width = s.W, padH = 0, padW = 0;
        // The backend pads symmetrically by at most half the window; other padding is added on the host first. Average pooling
        // that excludes the padding is then the average over the padded image divided by the average of its mask of real cells.
        bool fits = pad.Top == pad.Bottom && pad.Left == pad.Right && 2 * pad.Top <= kernel.H && 2 * pad.Left <= kernel.W;
        float[]? mask = null;
        if (fits) (padH, padW) = (pad.Top, pad.Left);
        else if (ceil) throw n.Unsupported($"ceil_mode with padding ({pad.Top}, {pad.Left}, {pad.Bottom}, {pad.Right}) that is asymmetric or over half the window is not supported.");
        else
        {
            if (kind == PoolKind.Average && !includePad) mask = PadImages(Enumerable.Repeat(1f, data.Length).ToArray(), s, pad, 0f, out _, out _);
            data = PadImages(data, s, pad, kind == PoolKind.Max ? float.NegativeInfinity : 0f, out height, out width);
        }
        var geometry = new PoolingGeometry(s.C, height, width, kernel.H, kernel.W, stride.H, stride.W, padH, padW, ceil);
        geometry.Validate();
        int oh = geometry.OutputHeight, ow = geometry.OutputWidth;
        var be = n.Backend;
        var y = new float[s.N * s.C * oh * ow];
        if (y.Length > 0)
        {
            var input = BackendPass.Upload(be, data, s.N, s.C, height, width);
            var output = be.Allocate(s.N, s.C, oh, ow);
            switch (kind)
            {
                case PoolKind.Max: be.MaxPoolForward(input, geometry, output, be.Allocate(s.N, s.C, oh, ow)); break;
                case PoolKind.Average: be.AvgPoolForward(input, geometry, includePad || mask is not null, output); break;
                default: be.LpPoolForward(input, geometry, n.Int("p", 2), output); break;
            }
            be.Download(output, y);
            if (mask is not null)
            {
                var cells = be.Allocate(s.N, s.C, oh, ow);
                be.AvgPoolForward(BackendPass.Upload(be, mask, s.N, s.C, height, width), geometry, true, cells);
                var share = BackendPass.Download(be, cells);
                for (int i = 0; i < y.Length; i++) y[i] /= share[i];
            }
        }
        return [OnnxValue.FromFloats(s.OneDimensional ? [s.N, s.C, ow] : [s.N, s.C, oh, ow], y)];
    }

    private static OnnxValue[] Global(NodeContext n, bool average)
    {
        var x = n.Input(0);
        if (x.Rank < 3) throw n.Error($"X {x} needs a batch, a channel and at least one spatial dimension.");
        var data = n.Floats(0);
        int planes = x.Shape[0] * x.Shape[1], size = planes == 0 ? 0 : data.Length / planes;
        var y = new float[planes];
        for (int p = 0; p < planes; p++)
        {
            var plane = data.AsSpan(p * size, size);
            if (average)
            {
                double sum = 0;
                foreach (float v in plane) sum += v;
                y[p] = (float)(sum / size);
            }
            else
            {
                float largest = float.NegativeInfinity;
                foreach (float v in plane) largest = MathF.Max(largest, v);
                y[p] = largest;
            }
        }
        var shape = new int[x.Rank];
        shape[0] = x.Shape[0];
        shape[1] = x.Shape[1];
        for (int d = 2; d < shape.Length; d++) shape[d] = 1;
        return [OnnxValue.FromFloats(shape, y)];
    }
}
