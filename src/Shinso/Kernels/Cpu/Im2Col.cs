using System.Runtime.CompilerServices;
using Shinso.Backends;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Im2col and col2im for one CHW image: the column matrix has <c>C*KH*KW</c> rows (row
/// <c>c*KH*KW + kh*KW + kw</c>) and <c>OH*OW</c> columns (column <c>oh*OW + ow</c>), and entry (row, column) is
/// <c>image[c, oh*SH - PH + kh, ow*SW - PW + kw]</c>, or 0 where that falls in the zero padding.
/// </summary>
/// <remarks>
/// For each (c, kh, kw) the range of output columns that reads inside the image is computed once, so
/// the inner loops carry no bounds tests: padding is written as zero runs around a contiguous copy
/// (stride 1) or a strided gather. Channels run in parallel; each output element is written by one
/// thread in a fixed order, so results do not depend on the thread count.
/// </remarks>
public static unsafe class Im2Col
{
    /// <summary>Unfolds <paramref name="image"/> (C*H*W) into <paramref name="columns"/> ((C*KH*KW) x (OH*OW)).</summary>
    /// <param name="image">One image, C*H*W.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="columns">The column matrix; row r starts at <c>r * columnStride</c> and only its first OH*OW entries are written.</param>
    /// <param name="options">Thread count.</param>
    /// <param name="columnStride">Distance between the starts of column-matrix rows (0: OH*OW, a dense matrix); a batch-wide matrix
    /// <c>[C*KH*KW, N*OH*OW]</c> takes image n at offset <c>n*OH*OW</c> with stride <c>N*OH*OW</c>.</param>
    /// <exception cref="ArgumentException">The geometry is invalid, a span has the wrong length, or they overlap.</exception>
    public static void Unfold(ReadOnlySpan<float> image, in ConvolutionGeometry geometry, Span<float> columns, CpuKernelOptions options = default, int columnStride = 0)
    {
        columnStride = Check(image.Length, nameof(image), geometry, columns.Length, nameof(columns), columnStride);
        if (image.Overlaps(columns))
            throw new ArgumentException("columns must not overlap image.", nameof(columns));
        fixed (float* pi = image)
        fixed (float* pc = columns)
            KernelParallel.For(new UnfoldRange(pi, pc, geometry, columnStride), geometry.Channels, options.ResolvedThreads, Grain(geometry), alignment: 1);
    }

    /// <summary>
    /// Folds <paramref name="columns"/> back into <paramref name="image"/>, which is overwritten: every image element
    /// becomes the sum of the column entries that read it (in column-row order, then column order).
    /// </summary>
    /// <param name="columns">The column matrix, laid out as <see cref="Unfold"/> writes it.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="image">One image, C*H*W, overwritten.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <param name="columnStride">Distance between the starts of column-matrix rows (0: OH*OW); see <see cref="Unfold"/>.</param>
    /// <exception cref="ArgumentException">The geometry is invalid, a span has the wrong length, or they overlap.</exception>
    public static void Fold(ReadOnlySpan<float> columns, in ConvolutionGeometry geometry, Span<float> image, CpuKernelOptions options = default, int columnStride = 0)
    {
        columnStride = Check(image.Length, nameof(image), geometry, columns.Length, nameof(columns), columnStride);
        if (image.Overlaps(columns))
            throw new ArgumentException("image must not overlap columns.", nameof(image));
        SimdPath path = options.ResolvedPath;
        fixed (float* pi = image)
        fixed (float* pc = columns)
            KernelParallel.For(new FoldRange(pc, pi, geometry, path, columnStride), geometry.Channels, options.ResolvedThreads, Grain(geometry), alignment: 1);
    }

    private static int Check(int imageLength, string imageName, in ConvolutionGeometry g, int columnsLength, string columnsName, int columnStride)
    {
        g.Validate();
        if (imageLength != g.ImageLength)
            throw new ArgumentException(
                $"{imageName} has {imageLength} elements but the geometry needs C*H*W = {g.ImageLength}.", imageName);
        if (columnStride == 0)
        {
            long dense = (long)g.ColumnRows * g.ColumnCount;
            if (columnsLength != dense)
                throw new ArgumentException(
                    $"{columnsName} has {columnsLength} elements but the geometry needs (C*KH*KW)*(OH*OW) = {dense}.", columnsName);
            return g.ColumnCount;
        }
        if (columnStride < g.ColumnCount)
            throw new ArgumentOutOfRangeException(nameof(columnStride), columnStride, $"must be 0 or at least OH*OW = {g.ColumnCount}.");
        long needed = (long)(g.ColumnRows - 1) * columnStride + g.ColumnCount;
        if (columnsLength < needed)
            throw new ArgumentException(
                $"{columnsName} has {columnsLength} elements but {g.ColumnRows} rows of {g.ColumnCount} with stride {columnStride} need {needed}.", columnsName);
        return columnStride;
    }

    private static int Grain(in ConvolutionGeometry g) =>
        (int)Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1L, (long)g.KernelHeight * g.KernelWidth * g.ColumnCount));

    /// <summary>The output columns [lo, hi) whose input column ow*SW - PW + kw lies inside [0, W).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) ValidRange(int kernelOffset, int pad, int stride, int size, int outputs)
    {
        // ow*stride + kernelOffset - pad >= 0  <=>  ow >= ceil((pad - kernelOffset) / stride)
        int first = pad - kernelOffset;
        int lo = first <= 0 ? 0 : (first + stride - 1) / stride;
        // ow*stride + kernelOffset - pad <= size - 1  <=>  ow <= floor((size - 1 + pad - kernelOffset) / stride)
        int last = size - 1 + pad - kernelOffset;
        int hi = last < 0 ? 0 : Math.Min(outputs, last / stride + 1);
        lo = Math.Min(lo, outputs);
        return (lo, Math.Max(lo, hi));
    }

    private readonly struct UnfoldRange(float* image, float* columns, ConvolutionGeometry g, nint stride) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PadHeight, pw = g.PadWidth;
            for (nint c = start; c < start + length; c++)
            {
                float* plane = image + c * h * w;
                for (int ki = 0; ki < kh; ki++)
                {
                    (int rowLo, int rowHi) = ValidRange(ki, ph, sh, h, oh);
                    for (int kj = 0; kj < kw; kj++)
                    {
                        float* dst = columns + ((c * kh + ki) * kw + kj) * stride;
                        (int lo, int hi) = ValidRange(kj, pw, sw, w, ow);
                        new Span<float>(dst, rowLo * ow).Clear();
                        for (int y = rowLo; y < rowHi; y++)
                        {
                            float* d = dst + (nint)y * ow;
                            float* src = plane + (nint)(y * sh - ph + ki) * w + (kj - pw);
                            if (lo > 0)
                                new Span<float>(d, lo).Clear();
                            if (sw == 1)
                            {
                                new ReadOnlySpan<float>(src + lo, hi - lo).CopyTo(new Span<float>(d + lo, hi - lo));
                            }
                            else
                            {
                                float* s = src + (nint)lo * sw;
                                for (int x = lo; x < hi; x++, s += sw)
                                    d[x] = *s;
                            }
                            if (hi < ow)
                                new Span<float>(d + hi, ow - hi).Clear();
                        }
                        new Span<float>(dst + (nint)rowHi * ow, (oh - rowHi) * ow).Clear();
                    }
                }
            }
        }
    }

    private readonly struct FoldRange(float* columns, float* image, ConvolutionGeometry g, SimdPath path, nint stride) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PadHeight, pw = g.PadWidth;
            for (nint c = start; c < start + length; c++)
            {
                float* plane = image + c * h * w;
                new Span<float>(plane, h * w).Clear();
                for (int ki = 0; ki < kh; ki++)
                {
                    (int rowLo, int rowHi) = ValidRange(ki, ph, sh, h, oh);
                    for (int kj = 0; kj < kw; kj++)
                    {
                        float* src = columns + ((c * kh + ki) * kw + kj) * stride;
                        (int lo, int hi) = ValidRange(kj, pw, sw, w, ow);
                        if (hi <= lo)
                            continue;
                        for (int y = rowLo; y < rowHi; y++)
                        {
                            float* s = src + (nint)y * ow;
                            float* dst = plane + (nint)(y * sh - ph + ki) * w + (kj - pw);
                            if (sw == 1)
                            {
                                Elementwise.Binary(default(AddOperator), dst + lo, s + lo, dst + lo, hi - lo, path);
                            }
                            else
                            {
                                float* d = dst + (nint)lo * sw;
                                for (int x = lo; x < hi; x++, d += sw)
                                    *d += s[x];
                            }
                        }
                    }
                }
            }
        }
    }
}
