using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// The index passes of a tiled convolution (see <see cref="TiledConvolutionGeometry"/>): unfolding a batch into one dense
/// column block per tile, folding such blocks back, and moving per-tile products to and from NCHW output maps. The GEMMs
/// between them are the backend's. Tile t = a*k + b owns the output positions (a + k*u, b + k*v); its block holds rows
/// <c>t*C*KH*KW + (c*KH + kh)*KW + kw</c> and columns <c>n*U*V + u*V + v</c>, zero for slots past the output's edge.
/// </summary>
/// <remarks>
/// Every element is written by one thread in a fixed order, so results do not depend on the thread count. The passes move
/// data with strided gathers (a tile's slots are k positions apart), so they are plain loops: no vector piece spans more
/// than one slot. The OpenCL twin is <c>kernels/tiled_convolution.cl</c>.
/// </remarks>
public static unsafe class TiledConvolution
{
    /// <summary>Unfolds <paramref name="images"/> <c>[N, C, H, W]</c> into <paramref name="columns"/> <c>[k*k*C*KH*KW, N*U*V]</c> (overwritten).</summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a span has the wrong length.</exception>
    public static void Unfold(ReadOnlySpan<float> images, in TiledConvolutionGeometry geometry, Span<float> columns, CpuKernelOptions options = default)
    {
        int n = OperationArguments.TiledColumns(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        var c = geometry.Convolution;
        fixed (float* pi = images)
        fixed (float* pc = columns)
            KernelParallel.For(new UnfoldRange(pi, pc, geometry, n), (nint)geometry.Tiles * c.ColumnRows, options.ResolvedThreads, Grain(n, geometry), alignment: 1);
    }

    /// <summary>
    /// Folds <paramref name="columns"/> laid out as <see cref="Unfold"/> writes them into <paramref name="images"/>
    /// (overwritten): each image element becomes the sum of the entries that read it, in (kh, kw) order.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a span has the wrong length.</exception>
    public static void Fold(ReadOnlySpan<float> columns, in TiledConvolutionGeometry geometry, Span<float> images, CpuKernelOptions options = default)
    {
        int n = OperationArguments.TiledColumns(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        var c = geometry.Convolution;
        fixed (float* pi = images)
        fixed (float* pc = columns)
            KernelParallel.For(new FoldRange(pc, pi, geometry, n), (nint)n * c.Channels, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, c.Height * c.Width * c.KernelHeight * c.KernelWidth)), alignment: 1);
    }

    /// <summary>
    /// <c>output[n, f, oh, ow] = products[t*F + f, n*U*V + u*V + v] + bias[t*F + f]</c> for the tile t and slot (u, v) of
    /// (oh, ow): <paramref name="products"/> <c>[k*k*F, N*U*V]</c>, <paramref name="bias"/> <c>[k*k*F]</c>, <paramref name="output"/>
    /// <c>[N, F, OH, OW]</c> (overwritten).
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public static void Interleave(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, in TiledConvolutionGeometry geometry, int filters,
        Span<float> output, CpuKernelOptions options = default)
    {
        int n = OperationArguments.TiledMaps(output.Length, nameof(output), geometry, filters, products.Length, nameof(products));
        OperationArguments.TileBias(bias.Length, geometry, filters);
        fixed (float* pp = products)
        fixed (float* pb = bias)
        fixed (float* po = output)
            KernelParallel.For(new InterleaveRange(pp, pb, po, geometry, filters, n), (nint)n * filters, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, geometry.Convolution.ColumnCount)), alignment: 1);
    }

    /// <summary>
    /// The inverse move of <see cref="Interleave"/> without the bias: <c>products[t*F + f, n*U*V + u*V + v] = maps[n, f, oh, ow]</c>,
    /// zero for slots past the output's edge; <paramref name="products"/> is overwritten.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public static void Deinterleave(ReadOnlySpan<float> maps, in TiledConvolutionGeometry geometry, int filters, Span<float> products, CpuKernelOptions options = default)
    {
        int n = OperationArguments.TiledMaps(maps.Length, nameof(maps), geometry, filters, products.Length, nameof(products));
        fixed (float* pm = maps)
        fixed (float* pp = products)
            KernelParallel.For(new DeinterleaveRange(pm, pp, geometry, filters, n), (nint)geometry.Tiles * filters, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, n * geometry.SlotsPerImage)), alignment: 1);
    }

    private static nint Grain(int images, in TiledConvolutionGeometry g) =>
        (nint)Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1L, (long)images * g.SlotsPerImage));

    /// <summary>Rows [start, start + length) of the tiled column matrix; row q is tile q / (C*KH*KW), kernel row q % (C*KH*KW).</summary>
    private readonly struct UnfoldRange(float* image, float* columns, TiledConvolutionGeometry g, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            var c = g.Convolution;
            int k = g.Tile, rows = c.ColumnRows, su = g.SlotRows, sv = g.SlotColumns, oh = c.OutputHeight, ow = c.OutputWidth;
            int h = c.Height, w = c.Width, kh = c.KernelHeight, kw = c.KernelWidth;
            nint width = (nint)images * g.SlotsPerImage;
            for (nint q = start; q < start + length; q++)
            {
                int t = (int)(q / rows), r = (int)(q % rows);
                int a = t / k, b = t % k, j = r % kw, i = r / kw % kh, channel = r / (kw * kh);
                float* dst = columns + q * width;
                for (int n = 0; n < images; n++)
                {
                    float* plane = image + ((nint)n * c.Channels + channel) * h * w;
                    for (int u = 0; u < su; u++)
                    {
                        int y = a + k * u, iy = y * c.StrideHeight - c.PadHeight + i;
                        bool rowInside = y < oh && iy >= 0 && iy < h;
                        for (int v = 0; v < sv; v++, dst++)
                        {
                            int x = b + k * v, ix = x * c.StrideWidth - c.PadWidth + j;
                            *dst = rowInside && x < ow && ix >= 0 && ix < w ? plane[(nint)iy * w + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Planes [start, start + length) of the batch; plane q is channel q % C of image q / C.</summary>
    private readonly struct FoldRange(float* columns, float* image, TiledConvolutionGeometry g, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            var c = g.Convolution;
            int k = g.Tile, rows = c.ColumnRows, sv = g.SlotColumns, oh = c.OutputHeight, ow = c.OutputWidth;
            int h = c.Height, w = c.Width, kh = c.KernelHeight, kw = c.KernelWidth, sh = c.StrideHeight, sw = c.StrideWidth;
            nint width = (nint)images * g.SlotsPerImage;
            for (nint q = start; q < start + length; q++)
            {
                int n = (int)(q / c.Channels), channel = (int)(q % c.Channels);
                float* plane = image + q * h * w;
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < w; ix++)
                    {
                        float sum = 0f;
                        for (int i = 0; i < kh; i++)
                        {
                            int y = iy + c.PadHeight - i;
                            if (y < 0 || y % sh != 0 || y / sh >= oh) continue;
                            int oy = y / sh;
                            for (int j = 0; j < kw; j++)
                            {
                                int x = ix + c.PadWidth - j;
                                if (x < 0 || x % sw != 0 || x / sw >= ow) continue;
                                int ox = x / sw;
                                int t = oy % k * k + ox % k;
                                nint row = (nint)t * rows + (channel * kh + i) * kw + j;
                                sum += columns[row * width + (nint)n * g.SlotsPerImage + oy / k * sv + ox / k];
                            }
                        }
                        plane[(nint)iy * w + ix] = sum;
                    }
            }
        }
    }

    /// <summary>Output planes [start, start + length); plane q is map q % F of image q / F.</summary>
    private readonly struct InterleaveRange(float* products, float* bias, float* output, TiledConvolutionGeometry g, int filters, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            var c = g.Convolution;
            int k = g.Tile, sv = g.SlotColumns, oh = c.OutputHeight, ow = c.OutputWidth;
            nint width = (nint)images * g.SlotsPerImage;
            for (nint q = start; q < start + length; q++)
            {
                int n = (int)(q / filters), f = (int)(q % filters);
                float* dst = output + q * oh * ow;
                float* slots = products + (nint)n * g.SlotsPerImage;
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++)
                    {
                        int row = (y % k * k + x % k) * filters + f;
                        dst[y * ow + x] = slots[row * width + y / k * sv + x / k] + bias[row];
                    }
            }
        }
    }

    /// <summary>Product rows [start, start + length); row q is map q % F of tile q / F.</summary>
    private readonly struct DeinterleaveRange(float* maps, float* products, TiledConvolutionGeometry g, int filters, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            var c = g.Convolution;
            int k = g.Tile, su = g.SlotRows, sv = g.SlotColumns, oh = c.OutputHeight, ow = c.OutputWidth;
            nint width = (nint)images * g.SlotsPerImage;
            for (nint q = start; q < start + length; q++)
            {
                int t = (int)(q / filters), f = (int)(q % filters), a = t / k, b = t % k;
                float* dst = products + q * width;
                for (int n = 0; n < images; n++)
                {
                    float* plane = maps + ((nint)n * filters + f) * oh * ow;
                    for (int u = 0; u < su; u++)
                    {
                        int y = a + k * u;
                        for (int v = 0; v < sv; v++, dst++)
                        {
                            int x = b + k * v;
                            *dst = y < oh && x < ow ? plane[y * ow + x] : 0f;
                        }
                    }
                }
            }
        }
    }
}
