using Shinso.Backends;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

/// <summary>Direct, loop-per-definition twins of the convolution, pooling and normalization kernels (double accumulation).</summary>
internal static class NaiveConvolution
{
    /// <summary>
    /// Direct tiled cross-correlation (Le et al. 2010): output (i, j) of map f uses filter row <c>t*F + f</c> and bias
    /// <c>b[t*F + f]</c>, t = (i % k)*k + j % k; <paramref name="w"/> is <c>[k*k*F, C*KH*KW]</c>.
    /// </summary>
    public static float[] TiledConvolve(float[] x, int n, TiledConvolutionGeometry tiled, float[] w, float[] b, int filters) =>
        Single(TiledConvolve(Double(x), n, tiled, Double(w), Double(b), filters));

    /// <summary><see cref="TiledConvolve(float[], int, TiledConvolutionGeometry, float[], float[], int)"/> in double precision throughout.</summary>
    public static double[] TiledConvolve(double[] x, int n, TiledConvolutionGeometry tiled, double[] w, double[] b, int filters)
    {
        var g = tiled.Convolution;
        int oh = g.OutputHeight, ow = g.OutputWidth, k = tiled.Tile, rows = g.ColumnRows;
        var y = new double[n * filters * oh * ow];
        for (int s = 0; s < n; s++)
        for (int f = 0; f < filters; f++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int filter = ((i % k) * k + j % k) * filters + f;
            double sum = b[filter];
            for (int c = 0; c < g.Channels; c++)
            for (int p = 0; p < g.KernelHeight; p++)
            for (int q = 0; q < g.KernelWidth; q++)
            {
                int r = i * g.StrideHeight - g.PadHeight + p, col = j * g.StrideWidth - g.PadWidth + q;
                if (r < 0 || r >= g.Height || col < 0 || col >= g.Width) continue;
                sum += w[filter * rows + (c * g.KernelHeight + p) * g.KernelWidth + q] * x[((s * g.Channels + c) * g.Height + r) * g.Width + col];
            }
            y[((s * filters + f) * oh + i) * ow + j] = sum;
        }
        return y;
    }

    /// <summary>Direct cross-correlation: y[n,f,i,j] = b[f] + sum_{c,p,q} W[f,c,p,q] x[n,c,i*s-pad+p,j*s-pad+q].</summary>
    public static float[] Convolve(float[] x, int n, ConvolutionGeometry g, float[] w, float[] b, int filters) =>
        Single(Convolve(Double(x), n, g, Double(w), Double(b), filters));

    /// <summary><see cref="Convolve(float[], int, ConvolutionGeometry, float[], float[], int)"/> in double precision throughout.</summary>
    public static double[] Convolve(double[] x, int n, ConvolutionGeometry g, double[] w, double[] b, int filters)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth;
        var y = new double[n * filters * oh * ow];
        for (int s = 0; s < n; s++)
        for (int f = 0; f < filters; f++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double sum = b[f];
            for (int c = 0; c < g.Channels; c++)
            for (int p = 0; p < g.KernelHeight; p++)
            for (int q = 0; q < g.KernelWidth; q++)
            {
                int r = i * g.StrideHeight - g.PadHeight + p, col = j * g.StrideWidth - g.PadWidth + q;
                if (r < 0 || r >= g.Height || col < 0 || col >= g.Width) continue;
                sum += w[((f * g.Channels + c) * g.KernelHeight + p) * g.KernelWidth + q] * x[((s * g.Channels + c) * g.Height + r) * g.Width + col];
            }
            y[((s * filters + f) * oh + i) * ow + j] = sum;
        }
        return y;
    }

    /// <summary>
    /// The gradients of <see cref="Convolve"/> by definition: every (image, filter, output position, input tap) term adds
    /// dY times the input to dW, dY times the weight to dX, and dY to db.
    /// </summary>
    public static (float[] Dx, float[] Dw, float[] Db) ConvolveBackward(float[] x, int n, ConvolutionGeometry g, float[] w, float[] dy, int filters)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth;
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[filters];
        for (int s = 0; s < n; s++)
        for (int f = 0; f < filters; f++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double d = dy[((s * filters + f) * oh + i) * ow + j];
            db[f] += d;
            for (int c = 0; c < g.Channels; c++)
            for (int p = 0; p < g.KernelHeight; p++)
            for (int q = 0; q < g.KernelWidth; q++)
            {
                int r = i * g.StrideHeight - g.PadHeight + p, col = j * g.StrideWidth - g.PadWidth + q;
                if (r < 0 || r >= g.Height || col < 0 || col >= g.Width) continue;
                int wi = ((f * g.Channels + c) * g.KernelHeight + p) * g.KernelWidth + q, xi = ((s * g.Channels + c) * g.Height + r) * g.Width + col;
                dw[wi] += d * x[xi];
                dx[xi] += d * w[wi];
            }
        }
        return (Array.ConvertAll(dx, v => (float)v), Array.ConvertAll(dw, v => (float)v), Array.ConvertAll(db, v => (float)v));
    }

    /// <summary>Pooling by definition; kind 0 max, 1 average (count_include_pad as PyTorch), 2 Lp.</summary>
    public static float[] Pool(float[] x, int n, PoolingGeometry g, int kind, float p = 2f) => Single(Pool(Double(x), n, g, kind, p));

    /// <summary><see cref="Pool(float[], int, PoolingGeometry, int, float)"/> in double precision throughout.</summary>
    public static double[] Pool(double[] x, int n, PoolingGeometry g, int kind, double p)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth;
        var y = new double[n * g.Channels * oh * ow];
        for (int s = 0; s < n * g.Channels; s++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int h0 = i * g.StrideHeight - g.PadHeight, w0 = j * g.StrideWidth - g.PadWidth;
            int hend = Math.Min(h0 + g.KernelHeight, g.Height + g.PadHeight), wend = Math.Min(w0 + g.KernelWidth, g.Width + g.PadWidth);
            int padCount = (hend - h0) * (wend - w0);
            double max = double.NegativeInfinity, sum = 0;
            for (int r = h0; r < h0 + g.KernelHeight; r++)
            for (int c = w0; c < w0 + g.KernelWidth; c++)
            {
                if (r < 0 || r >= g.Height || c < 0 || c >= g.Width) continue;
                double v = x[(s * g.Height + r) * g.Width + c];
                max = Math.Max(max, v);
                sum += kind == 2 ? Math.Pow(Math.Abs(v), p) : v;
            }
            y[(s * oh + i) * ow + j] = kind switch { 0 => max, 1 => sum / padCount, _ => Math.Pow(sum, 1.0 / p) };
        }
        return y;
    }

    /// <summary>ONNX LRN by its formula.</summary>
    public static float[] Lrn(float[] x, int n, int channels, int spatial, LrnParameters p) => Single(Lrn(Double(x), n, channels, spatial, p));

    /// <summary><see cref="Lrn(float[], int, int, int, LrnParameters)"/> in double precision throughout.</summary>
    public static double[] Lrn(double[] x, int n, int channels, int spatial, LrnParameters p)
    {
        var y = new double[x.Length];
        for (int s = 0; s < n; s++)
        for (int c = 0; c < channels; c++)
        for (int k = 0; k < spatial; k++)
        {
            double sum = 0;
            for (int j = Math.Max(0, c - (p.Size - 1) / 2); j <= Math.Min(channels - 1, c + (int)Math.Ceiling((p.Size - 1) / 2.0)); j++)
            {
                double v = x[(s * channels + j) * spatial + k];
                sum += v * v;
            }
            int idx = (s * channels + c) * spatial + k;
            y[idx] = x[idx] / Math.Pow(p.Bias + p.Alpha / p.Size * sum, p.Beta);
        }
        return y;
    }

    /// <summary>LCN by its definition (2-D Gaussian window, coverage-normalized at the borders); also returns the deviations and their image means.</summary>
    public static (float[] Output, double[] Deviation, double[] Floor) Lcn(float[] x, int n, LcnGeometry g)
    {
        var (y, deviation, floor) = Lcn(Double(x), n, g);
        return (Single(y), deviation, floor);
    }

    /// <summary><see cref="Lcn(float[], int, LcnGeometry)"/> in double precision throughout.</summary>
    public static (double[] Output, double[] Deviation, double[] Floor) Lcn(double[] x, int n, LcnGeometry g)
    {
        int c = g.Channels, h = g.Height, w = g.Width, r = g.Size / 2;
        var kernel = new double[g.Size, g.Size];
        for (int p = 0; p < g.Size; p++)
            for (int q = 0; q < g.Size; q++)
                kernel[p, q] = Math.Exp(-((p - r) * (p - r) + (q - r) * (q - r)) / (2.0 * g.Sigma * g.Sigma));
        double Mean(Func<int, int, int, double> f, int i, int j)
        {
            double sum = 0, weight = 0;
            for (int p = -r; p <= r; p++)
            for (int q = -r; q <= r; q++)
            {
                if (i + p < 0 || i + p >= h || j + q < 0 || j + q >= w) continue;
                weight += kernel[p + r, q + r];
                for (int k = 0; k < c; k++) sum += kernel[p + r, q + r] * f(k, i + p, j + q);
            }
            return sum / (weight * c);
        }
        var y = new double[x.Length];
        var dev = new double[n * h * w];
        var floors = new double[n];
        for (int s = 0; s < n; s++)
        {
            int off = s * c * h * w;
            var v = new double[c * h * w];
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                double m = Mean((k, a, b) => x[off + (k * h + a) * w + b], i, j);
                for (int k = 0; k < c; k++) v[(k * h + i) * w + j] = x[off + (k * h + i) * w + j] - m;
            }
            double floor = 0;
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                dev[s * h * w + i * w + j] = Math.Sqrt(Mean((k, a, b) => v[(k * h + a) * w + b] * v[(k * h + a) * w + b], i, j));
                floor += dev[s * h * w + i * w + j];
            }
            floor /= h * w;
            floor = Math.Max(floor, Shinso.Operations.LcnGeometry.DivisorFloor);
            floors[s] = floor;
            for (int k = 0; k < c; k++)
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                y[off + (k * h + i) * w + j] = v[(k * h + i) * w + j] / Math.Max(floor, dev[s * h * w + i * w + j]);
        }
        return (y, dev, floors);
    }

    /// <summary>Exact widening: the double twins then see the very values the float kernels saw.</summary>
    public static double[] Double(float[] values) => Array.ConvertAll(values, v => (double)v);

    private static float[] Single(double[] values) => Array.ConvertAll(values, v => (float)v);
}
