using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Im2col and col2im for a batch of CHW images: the column matrix has <c>C*KH*KW</c> rows (row
/// <c>c*KH*KW + kh*KW + kw</c>) and <c>N*OH*OW</c> columns (column <c>n*OH*OW + oh*OW + ow</c>), and entry (row, column)
/// is <c>image n[c, oh*SH - PH + kh, ow*SW - PW + kw]</c>, or 0 where that falls in the zero padding.
/// </summary>
/// <remarks>
/// (Image, channel) planes run in parallel; each output element is written by one thread in a fixed order, so results
/// do not depend on the thread count. With stride 1 on a vector path, the rows of the column matrix are copied in
/// whole vector pieces (from a zero-bordered copy of the plane when there is padding), and col2im sums each vector of
/// an image row in a register over the kernel window; a run of OW floats is short (24 for LeNet's first layer, 8 for
/// its second), so per-run calls and masked stores would cost more than the data. Otherwise, for each (c, kh, kw)
/// the range of output columns that reads inside the image is computed once, so the scalar loops carry no bounds tests.
/// </remarks>
public static unsafe class Im2Col
{
    /// <summary>
    /// Unfolds a batch of images <c>[N, C, H, W]</c> into one column matrix <c>[C*KH*KW, N*OH*OW]</c>: image n fills
    /// columns <c>n*OH*OW .. (n+1)*OH*OW - 1</c> (N = 1 gives the single-image matrix <c>[C*KH*KW, OH*OW]</c>).
    /// </summary>
    /// <param name="images">N whole images, N*C*H*W floats.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="columns">The column matrix, overwritten.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">The geometry is invalid, a span has the wrong length, or they overlap.</exception>
    public static void Unfold(ReadOnlySpan<float> images, in ConvolutionGeometry geometry, Span<float> columns, CpuKernelOptions options = default)
    {
        int count = Check(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        if (images.Overlaps(columns))
            throw new ArgumentException("columns must not overlap images.", nameof(columns));
        SimdPath path = options.ResolvedPath;
        fixed (float* pi = images)
        fixed (float* pc = columns)
            KernelParallel.For(new UnfoldRange(pi, pc, geometry, path, count), (nint)count * geometry.Channels, options.ResolvedThreads, Grain(geometry), alignment: 1);
    }

    /// <summary>
    /// Folds a column matrix laid out as <see cref="Unfold"/> writes it back into <paramref name="images"/>, which are
    /// overwritten: every image element becomes the sum of the column entries that read it (in column-row order, then
    /// column order).
    /// </summary>
    /// <param name="columns">The column matrix <c>[C*KH*KW, N*OH*OW]</c>.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="images">N whole images, N*C*H*W floats, overwritten.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">The geometry is invalid, a span has the wrong length, or they overlap.</exception>
    public static void Fold(ReadOnlySpan<float> columns, in ConvolutionGeometry geometry, Span<float> images, CpuKernelOptions options = default)
    {
        int count = Check(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        if (images.Overlaps(columns))
            throw new ArgumentException("images must not overlap columns.", nameof(images));
        SimdPath path = options.ResolvedPath;
        fixed (float* pi = images)
        fixed (float* pc = columns)
            KernelParallel.For(new FoldRange(pc, pi, geometry, path, count), (nint)count * geometry.Channels, options.ResolvedThreads, Grain(geometry), alignment: 1);
    }

    /// <summary>Checks the sizes and returns the number of images N.</summary>
    private static int Check(int imagesLength, string imagesName, in ConvolutionGeometry g, int columnsLength, string columnsName)
    {
        g.Validate();
        if (imagesLength == 0 || imagesLength % g.ImageLength != 0)
            throw new ArgumentException(
                $"{imagesName} has {imagesLength} elements, not a positive whole number of C*H*W = {g.ImageLength} images.", imagesName);
        int n = imagesLength / g.ImageLength;
        long needed = (long)g.ColumnRows * n * g.ColumnCount;
        if (columnsLength != needed)
            throw new ArgumentException(
                $"{columnsName} has {columnsLength} elements but {n} image(s) need (C*KH*KW)*(N*OH*OW) = {needed}.", columnsName);
        return n;
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

    /// <summary>
    /// Copies <paramref name="rows"/> runs of <paramref name="count"/> floats, run r from <c>src + r*srcStride</c> to
    /// <c>dst + r*dstStride</c>.
    /// </summary>
    private static void CopyRows(float* src, nint srcStride, float* dst, nint dstStride, int rows, int count, SimdPath path)
    {
        if (path == SimdPath.Avx512 && dstStride == count && count % 16 != 0)
        {
            CopyRowsToContiguous(src, srcStride, dst, rows, count);
            return;
        }
        // The piece sizes are fixed for all rows, so each row is a short fixed sequence of loads and stores.
        int wide = path == SimdPath.Avx512 ? count / 16 * 16 : 0;
        int half = path == SimdPath.Scalar ? wide : wide + (count - wide) / 8 * 8;
        int quarter = path == SimdPath.Scalar ? half : half + (count - half) / 4 * 4;
        for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
        {
            int i = 0;
            for (; i < wide; i += 16)
                Vector512.Load(src + i).Store(dst + i);
            for (; i < half; i += 8)
                Vector256.Load(src + i).Store(dst + i);
            if (i < quarter)
            {
                Vector128.Load(src + i).Store(dst + i);
                i += 4;
            }
            for (; i < count; i++)
                dst[i] = src[i];
        }
    }

    /// <summary>
    /// <see cref="CopyRows"/> into back-to-back rows (a column-matrix row is OH such runs of OW), for a count that is not
    /// a multiple of 16. Each row's tail is one masked load, which reads nothing past the row, and a full-width store
    /// that runs on into the next row's place, which the next row then overwrites; only where fewer than 16 floats of the
    /// destination are left is the store masked. A LeNet layer's 10-float rows otherwise cost a 256-bit copy and two
    /// scalar ones each.
    /// </summary>
    private static void CopyRowsToContiguous(float* src, nint srcStride, float* dst, int rows, int count)
    {
        int tail = count % 16, wide = count - tail;
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(tail)).AsSingle();
        nint left = (nint)rows * count;
        for (int r = 0; r < rows; r++, src += srcStride, dst += count, left -= count)
        {
            for (int i = 0; i < wide; i += 16)
                Vector512.Load(src + i).Store(dst + i);
            var last = Avx512F.MaskLoad(src + wide, mask, Vector512<float>.Zero);
            if (left - wide >= 16) last.Store(dst + wide);
            else Avx512F.MaskStore(dst + wide, mask, last);
        }
    }

    /// <summary>
    /// Writes <paramref name="rows"/> rows of <paramref name="count"/> floats: row r is <c>src + r*srcStride</c> on
    /// [lo, hi) and zero elsewhere (the zero padding). Each piece is a masked load, which reads nothing outside
    /// [lo, hi), and a plain store: a zero run and a copy through general helpers cost several times more.
    /// </summary>
    private static void PadRows(float* src, nint srcStride, float* dst, int rows, int count, int lo, int hi, SimdPath path)
    {
        for (int r = 0; r < rows; r++, src += srcStride, dst += count)
        {
            int x = 0;
            if (path == SimdPath.Avx512)
            {
                for (; x + 16 <= count; x += 16)
                {
                    var column = Vector512<int>.Indices + Vector512.Create(x);
                    var inside = Vector512.GreaterThanOrEqual(column, Vector512.Create(lo)) & Vector512.LessThan(column, Vector512.Create(hi));
                    Avx512F.MaskLoad(src + x, inside.AsSingle(), Vector512<float>.Zero).Store(dst + x);
                }
            }
            for (; x + 8 <= count; x += 8)
            {
                var column = Vector256<int>.Indices + Vector256.Create(x);
                var inside = Vector256.GreaterThanOrEqual(column, Vector256.Create(lo)) & Vector256.LessThan(column, Vector256.Create(hi));
                Avx.MaskLoad(src + x, inside.AsSingle()).Store(dst + x);
            }
            for (; x < count; x++)
                dst[x] = x >= lo && x < hi ? src[x] : 0f;
        }
    }

    /// <summary>The largest zero-bordered plane (floats, on the stack) the stride-1 unfold copies a padded channel into.</summary>
    private const int MaxPaddedPlane = 8192;

    /// <summary>Where plane q (channel q % C of image q / C) starts in the column matrix: its image's block of columns in its channel's first row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* PlaneColumns(float* columns, in ConvolutionGeometry g, nint q, nint stride) =>
        columns + q / g.Channels * g.ColumnCount + q % g.Channels * g.KernelHeight * g.KernelWidth * stride;

    /// <summary>Unfolds planes [start, start + length) of the batch; plane q is channel q % C of image q / C.</summary>
    private readonly struct UnfoldRange(float* image, float* columns, ConvolutionGeometry g, SimdPath path, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            nint stride = (nint)images * g.ColumnCount;
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PadHeight, pw = g.PadWidth;
            int paddedWidth = w + 2 * pw, paddedLength = (h + 2 * ph) * paddedWidth;
            if (sw == 1 && sh == 1 && (ph > 0 || pw > 0) && paddedLength <= MaxPaddedPlane && path != SimdPath.Scalar)
            {
                // Each channel is first copied into a zero-bordered plane, so every column-matrix row is OH plain
                // copies of OW floats with no zero runs (per CIFAR batch: 5.6 -> 1.4 ms for the 16x16 layer, 2.7 -> 0.8
                // for the 8x8 one). One slowdown is not explained: with 32x32 planes, some placements of the column
                // matrix unfold 10x slower (seen in a microbenchmark, where shifting the matrix by 256 bytes removes it,
                // while moving this plane does not).
                float* padded = stackalloc float[paddedLength];
                new Span<float>(padded, paddedLength).Clear();
                for (nint c = start; c < start + length; c++)
                {
                    float* planeColumns = PlaneColumns(columns, g, c, stride);
                    CopyRows(image + c * h * w, w, padded + ph * paddedWidth + pw, paddedWidth, h, w, path);
                    for (int ki = 0; ki < kh; ki++)
                        for (int kj = 0; kj < kw; kj++)
                            CopyRows(padded + ki * paddedWidth + kj, paddedWidth, planeColumns + (ki * kw + kj) * stride, ow, oh, ow, path);
                }
                return;
            }
            for (nint c = start; c < start + length; c++)
            {
                float* plane = image + c * h * w;
                float* planeColumns = PlaneColumns(columns, g, c, stride);
                for (int ki = 0; ki < kh; ki++)
                {
                    (int rowLo, int rowHi) = ValidRange(ki, ph, sh, h, oh);
                    for (int kj = 0; kj < kw; kj++)
                    {
                        float* dst = planeColumns + (ki * kw + kj) * stride;
                        (int lo, int hi) = ValidRange(kj, pw, sw, w, ow);
                        new Span<float>(dst, rowLo * ow).Clear();
                        if (sw == 1 && lo == 0 && hi == ow)
                        {
                            // The common case: whole output rows read inside the image, so the row is OH*OW floats
                            // gathered from rows of the plane, with no zero runs.
                            CopyRows(plane + (nint)(rowLo * sh - ph + ki) * w + (kj - pw), (nint)sh * w, dst + (nint)rowLo * ow, ow, rowHi - rowLo, ow, path);
                            new Span<float>(dst + (nint)rowHi * ow, (oh - rowHi) * ow).Clear();
                            continue;
                        }
                        if (sw == 1 && path != SimdPath.Scalar)
                        {
                            PadRows(plane + (nint)(rowLo * sh - ph + ki) * w + (kj - pw), (nint)sh * w, dst + (nint)rowLo * ow, rowHi - rowLo, ow, lo, hi, path);
                            new Span<float>(dst + (nint)rowHi * ow, (oh - rowHi) * ow).Clear();
                            continue;
                        }
                        for (int y = rowLo; y < rowHi; y++)
                        {
                            float* d = dst + (nint)y * ow;
                            float* src = plane + (nint)(y * sh - ph + ki) * w + (kj - pw);
                            if (lo > 0)
                                new Span<float>(d, lo).Clear();
                            float* s = src + (nint)lo * sw;
                            for (int x = lo; x < hi; x++, s += sw)
                                d[x] = *s;
                            if (hi < ow)
                                new Span<float>(d + hi, ow - hi).Clear();
                        }
                        new Span<float>(dst + (nint)rowHi * ow, (oh - rowHi) * ow).Clear();
                    }
                }
            }
        }
    }

    /// <summary>The widest kernel the register-summed fold handles (its per-column masks live on the stack).</summary>
    private const int MaxGatherKernel = 64;

    /// <summary>Folds back planes [start, start + length) of the batch, numbered as in <see cref="UnfoldRange"/>.</summary>
    private readonly struct FoldRange(float* columns, float* image, ConvolutionGeometry g, SimdPath path, int images) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            nint stride = (nint)images * g.ColumnCount;
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PadHeight, pw = g.PadWidth;
            if (sw == 1 && sh == 1 && kw <= MaxGatherKernel && path != SimdPath.Scalar)
            {
                for (nint c = start; c < start + length; c++)
                {
                    if (path == SimdPath.Avx512)
                        GatherPlane512(PlaneColumns(columns, g, c, stride), image + c * h * w, stride);
                    else
                        GatherPlane256(PlaneColumns(columns, g, c, stride), image + c * h * w, stride);
                }
                return;
            }
            for (nint c = start; c < start + length; c++)
            {
                float* plane = image + c * h * w;
                float* planeColumns = PlaneColumns(columns, g, c, stride);
                new Span<float>(plane, h * w).Clear();
                for (int ki = 0; ki < kh; ki++)
                {
                    (int rowLo, int rowHi) = ValidRange(ki, ph, sh, h, oh);
                    for (int kj = 0; kj < kw; kj++)
                    {
                        float* src = planeColumns + (ki * kw + kj) * stride;
                        (int lo, int hi) = ValidRange(kj, pw, sw, w, ow);
                        if (hi <= lo)
                            continue;
                        for (int y = rowLo; y < rowHi; y++)
                        {
                            float* s = src + (nint)y * ow;
                            float* d = plane + (nint)(y * sh - ph + ki) * w + (kj - pw) + (nint)lo * sw;
                            for (int x = lo; x < hi; x++, d += sw)
                                *d += s[x];
                        }
                    }
                }
            }
        }

        // Stride 1: image[iy, ix] is the sum over (ki, kj) of cols[(ki, kj)][(iy + PH - ki)*OW + ix + PW - kj] wherever
        // that column exists. A vector of 16 (or 8) neighbouring ix is summed in a register over (ki, kj), in the same
        // order as the scatter above, and stored once: the scatter's read-add-store at one-float offsets stalls on store
        // forwarding at every step (7.2 -> 1.5 us per 6x12x12 LeNet image).
        private void GatherPlane512(float* cols, float* plane, nint stride)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, ph = g.PadHeight, pw = g.PadWidth;
            var lanes = Vector512<int>.Indices;
            Vector512<float>* masks = stackalloc Vector512<float>[MaxGatherKernel];
            for (int x0 = 0; x0 < w; x0 += 16)
            {
                var inside = Vector512.LessThan(lanes, Vector512.Create(w - x0));
                for (int kj = 0; kj < kw; kj++)
                {
                    var column = lanes + Vector512.Create(x0 + pw - kj);
                    masks[kj] = (inside & Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(ow))).AsSingle();
                }
                for (int iy = 0; iy < h; iy++)
                {
                    int kiLo = Math.Max(0, iy + ph - oh + 1), kiHi = Math.Min(kh, iy + ph + 1);
                    var sum = Vector512<float>.Zero;
                    for (int ki = kiLo; ki < kiHi; ki++)
                    {
                        float* row = cols + (nint)(ki * kw) * stride + (nint)(iy + ph - ki) * ow + x0 + pw;
                        for (int kj = 0; kj < kw; kj++, row += stride - 1)
                            sum += Avx512F.MaskLoad(row, masks[kj], Vector512<float>.Zero);
                    }
                    Avx512F.MaskStore(plane + (nint)iy * w + x0, inside.AsSingle(), sum);
                }
            }
        }

        private void GatherPlane256(float* cols, float* plane, nint stride)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutputHeight, ow = g.OutputWidth;
            int h = g.Height, w = g.Width, ph = g.PadHeight, pw = g.PadWidth;
            var lanes = Vector256<int>.Indices;
            Vector256<float>* masks = stackalloc Vector256<float>[MaxGatherKernel];
            for (int x0 = 0; x0 < w; x0 += 8)
            {
                var inside = Vector256.LessThan(lanes, Vector256.Create(w - x0));
                for (int kj = 0; kj < kw; kj++)
                {
                    var column = lanes + Vector256.Create(x0 + pw - kj);
                    masks[kj] = (inside & Vector256.GreaterThanOrEqual(column, Vector256<int>.Zero) & Vector256.LessThan(column, Vector256.Create(ow))).AsSingle();
                }
                for (int iy = 0; iy < h; iy++)
                {
                    int kiLo = Math.Max(0, iy + ph - oh + 1), kiHi = Math.Min(kh, iy + ph + 1);
                    var sum = Vector256<float>.Zero;
                    for (int ki = kiLo; ki < kiHi; ki++)
                    {
                        float* row = cols + (nint)(ki * kw) * stride + (nint)(iy + ph - ki) * ow + x0 + pw;
                        for (int kj = 0; kj < kw; kj++, row += stride - 1)
                            sum += Avx.MaskLoad(row, masks[kj]);
                    }
                    Avx.MaskStore(plane + (nint)iy * w + x0, inside.AsSingle(), sum);
                }
            }
        }
    }
}
