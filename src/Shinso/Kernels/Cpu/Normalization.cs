using System.Numerics;
using System.Numerics.Tensors;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Per-channel bias, local response normalization and local contrast normalization over NCHW images.
/// Images run in parallel and each image's arithmetic is in a fixed order, so results do not depend on the
/// thread count. The channel loops work on whole planes with vectorized span primitives.
/// </summary>
public static unsafe class Normalization
{
    /// <summary><c>images[n, c, :] += bias[c]</c> for <paramref name="images"/> of <c>[N, C, spatial]</c>.</summary>
    public static void AddChannelBias(Span<float> images, int channels, int spatial, ReadOnlySpan<float> bias)
    {
        CheckBias(images.Length, channels, spatial, bias.Length);
        for (int offset = 0, c = 0; offset < images.Length; offset += spatial, c = c + 1 == channels ? 0 : c + 1)
        {
            var plane = images.Slice(offset, spatial);
            TensorPrimitives.Add(plane, bias[c], plane);
        }
    }

    /// <summary><c>result[c] = sum over images and positions of gradient[n, c, :]</c>.</summary>
    public static void SumChannelBias(ReadOnlySpan<float> gradient, int channels, int spatial, Span<float> result)
    {
        CheckBias(gradient.Length, channels, spatial, result.Length);
        result.Clear();
        for (int offset = 0, c = 0; offset < gradient.Length; offset += spatial, c = c + 1 == channels ? 0 : c + 1)
            result[c] += TensorPrimitives.Sum(gradient.Slice(offset, spatial));
    }

    private static void CheckBias(int length, int channels, int spatial, int biasLength)
    {
        if (channels < 1 || spatial < 1 || length % ((long)channels * spatial) != 0)
            throw new ArgumentException($"{length} elements are not whole images of [{channels}, {spatial}].", "images");
        if (biasLength != channels) throw new ArgumentException($"The bias has {biasLength} elements but there are {channels} channels.", "bias");
    }

    /// <summary>Scratch floats <see cref="LrnBackward"/> needs: <c>N*(C+1)*spatial</c>.</summary>
    public static long LrnScratchLength(int images, int channels, int spatial) => (long)images * (channels + 1) * spatial;

    /// <summary>LRN forward (see the kernel pair <c>Backends.KernelPairs.LrnForward</c>) on <paramref name="images"/> images of <c>[C, spatial]</c>.</summary>
    public static void LrnForward(ReadOnlySpan<float> input, int images, int channels, int spatial, LrnParameters p,
        Span<float> output, Span<float> scale, CpuKernelOptions options = default)
    {
        CheckLrn(input.Length, images, channels, spatial, p);
        if (output.Length != input.Length || scale.Length != input.Length)
            throw new ArgumentException($"output ({output.Length}) and scale ({scale.Length}) must have the input's {input.Length} elements.", nameof(output));
        fixed (float* x = input) fixed (float* y = output) fixed (float* s = scale)
            KernelParallel.For(new LrnRange(x, y, s, null, null, null, channels, spatial, p), images, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, channels * spatial * p.Size)), alignment: 1);
    }

    /// <summary>LRN backward (see the kernel pair <c>Backends.KernelPairs.LrnBackward</c>); <paramref name="scratch"/> holds at least <see cref="LrnScratchLength"/> floats.</summary>
    public static void LrnBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> scale, ReadOnlySpan<float> outputGradient,
        int images, int channels, int spatial, LrnParameters p, Span<float> inputGradient, Span<float> scratch, CpuKernelOptions options = default)
    {
        CheckLrn(input.Length, images, channels, spatial, p);
        if (output.Length != input.Length || scale.Length != input.Length || outputGradient.Length != input.Length || inputGradient.Length != input.Length)
            throw new ArgumentException($"output, scale and the gradients must have the input's {input.Length} elements.", nameof(output));
        if (scratch.Length < LrnScratchLength(images, channels, spatial))
            throw new ArgumentException($"scratch needs {LrnScratchLength(images, channels, spatial)} floats.", nameof(scratch));
        fixed (float* x = input) fixed (float* y = output) fixed (float* s = scale) fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient) fixed (float* t = scratch)
            KernelParallel.For(new LrnRange(x, y, s, dy, dx, t, channels, spatial, p), images, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / Math.Max(1, channels * spatial * p.Size)), alignment: 1);
    }

    private static void CheckLrn(int length, int images, int channels, int spatial, LrnParameters p)
    {
        p.Validate();
        if (images < 0 || channels < 1 || spatial < 1 || length != (long)images * channels * spatial)
            throw new ArgumentException($"The input has {length} elements, not {images} images of [{channels}, {spatial}].", "input");
    }

    private readonly struct LrnRange(float* x, float* y, float* s, float* dy, float* dx, float* t, int channels, int spatial, LrnParameters p) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            nint image = (nint)channels * spatial;
            float k = p.Alpha / p.Size;
            for (nint n = start; n < start + length; n++)
            {
                var xs = new ReadOnlySpan<float>(x + n * image, (int)image);
                var ss = new Span<float>(s + n * image, (int)image);
                if (dy == null)
                {
                    var ys = new Span<float>(y + n * image, (int)image);
                    for (int c = 0; c < channels; c++)
                    {
                        var plane = ss.Slice(c * spatial, spatial);
                        plane.Clear();
                        int lo = Math.Max(0, c - p.Before), hi = Math.Min(channels - 1, c + p.After);
                        for (int j = lo; j <= hi; j++)
                        {
                            var xj = xs.Slice(j * spatial, spatial);
                            TensorPrimitives.MultiplyAdd(xj, xj, plane, plane);
                        }
                        TensorPrimitives.Multiply(plane, k, plane);
                        TensorPrimitives.Add(plane, p.Bias, plane);
                    }
                    PowNegBeta(ss, ys);
                    TensorPrimitives.Multiply(ys, xs, ys);
                }
                else
                {
                    var ys = new ReadOnlySpan<float>(y + n * image, (int)image);
                    var dys = new ReadOnlySpan<float>(dy + n * image, (int)image);
                    var dxs = new Span<float>(dx + n * image, (int)image);
                    var ts = new Span<float>(t + n * (image + spatial), (int)image);
                    var acc = new Span<float>(t + n * (image + spatial) + image, spatial);
                    // t = dy * y / s; dx = dy * s^-beta.
                    TensorPrimitives.Multiply(dys, ys, ts);
                    TensorPrimitives.Divide(ts, ss, ts);
                    PowNegBeta(ss, dxs);
                    TensorPrimitives.Multiply(dxs, dys, dxs);
                    float coef = -2f * p.Alpha * p.Beta / p.Size;
                    for (int i = 0; i < channels; i++)
                    {
                        acc.Clear();
                        int lo = Math.Max(0, i - p.After), hi = Math.Min(channels - 1, i + p.Before);
                        for (int j = lo; j <= hi; j++) TensorPrimitives.Add(acc, ts.Slice(j * spatial, spatial), acc);
                        TensorPrimitives.Multiply(acc, xs.Slice(i * spatial, spatial), acc);
                        var dxi = dxs.Slice(i * spatial, spatial);
                        TensorPrimitives.MultiplyAdd(acc, coef, dxi, dxi);
                    }
                }
            }
        }

        private void PowNegBeta(ReadOnlySpan<float> scale, Span<float> result)
        {
            if (p.Beta == 0.75f)
            {
                // s^-0.75 = 1 / (sqrt(s) * sqrt(sqrt(s))): exact-rounding square roots instead of exp/log.
                int i = 0;
                fixed (float* ps = scale) fixed (float* pr = result)
                {
                    for (; i + Vector<float>.Count <= result.Length; i += Vector<float>.Count)
                    {
                        var r = Vector.SquareRoot(Vector.Load(ps + i));
                        (Vector<float>.One / (r * Vector.SquareRoot(r))).Store(pr + i);
                    }
                }
                for (; i < result.Length; i++)
                {
                    float r = MathF.Sqrt(scale[i]);
                    result[i] = 1f / (r * MathF.Sqrt(r));
                }
            }
            else if (p.Beta == 0.5f)
            {
                TensorPrimitives.Sqrt(scale, result);
                TensorPrimitives.Reciprocal(result, result);
            }
            else
            {
                TensorPrimitives.Pow(scale, -p.Beta, result);
            }
        }
    }

    /// <summary>Scratch floats <see cref="LcnForward"/> and <see cref="LcnBackward"/> need: per image <c>4*H*W + H + W + Size</c>.</summary>
    public static long LcnScratchLength(int images, in LcnGeometry g) => (long)images * LcnImageScratch(g);

    private static int LcnImageScratch(in LcnGeometry g) => 4 * g.PlaneLength + g.Height + g.Width + g.Size;

    /// <summary>LCN forward (see <see cref="LcnGeometry"/>): <paramref name="deviation"/> (<c>N*H*W</c>) gets the local deviations.</summary>
    public static void LcnForward(ReadOnlySpan<float> input, int images, in LcnGeometry g, Span<float> output, Span<float> deviation,
        Span<float> scratch, CpuKernelOptions options = default)
    {
        CheckLcn(input.Length, output.Length, deviation.Length, scratch.Length, images, g);
        fixed (float* x = input) fixed (float* y = output) fixed (float* s = deviation) fixed (float* t = scratch)
            KernelParallel.For(new LcnRange(x, y, s, null, null, t, g), images, options.ResolvedThreads, 1, alignment: 1);
    }

    /// <summary>LCN backward from the forward's output and deviations; <paramref name="inputGradient"/> is overwritten.</summary>
    public static void LcnBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> deviation, ReadOnlySpan<float> outputGradient, int images,
        in LcnGeometry g, Span<float> inputGradient, Span<float> scratch, CpuKernelOptions options = default)
    {
        CheckLcn(output.Length, inputGradient.Length, deviation.Length, scratch.Length, images, g);
        if (outputGradient.Length != output.Length)
            throw new ArgumentException($"outputGradient has {outputGradient.Length} elements but the output has {output.Length}.", nameof(outputGradient));
        fixed (float* y = output) fixed (float* s = deviation) fixed (float* dy = outputGradient) fixed (float* dx = inputGradient) fixed (float* t = scratch)
            KernelParallel.For(new LcnRange(null, y, s, dy, dx, t, g), images, options.ResolvedThreads, 1, alignment: 1);
    }

    private static void CheckLcn(int inputLength, int outputLength, int deviationLength, int scratchLength, int images, in LcnGeometry g)
    {
        g.Validate();
        if (images < 0 || inputLength != (long)images * g.ImageLength || outputLength != inputLength)
            throw new ArgumentException($"Input ({inputLength}) and output ({outputLength}) must hold {images} images of [{g.Channels}, {g.Height}, {g.Width}].", "input");
        if (deviationLength != (long)images * g.PlaneLength)
            throw new ArgumentException($"deviation has {deviationLength} elements but needs {images} x {g.PlaneLength}.", "deviation");
        if (scratchLength < LcnScratchLength(images, g))
            throw new ArgumentException($"scratch needs {LcnScratchLength(images, g)} floats.", "scratch");
    }

    private readonly struct LcnRange(float* x, float* y, float* dev, float* dy, float* dx, float* t, LcnGeometry g) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int c = g.Channels, h = g.Height, w = g.Width, plane = g.PlaneLength, r = g.Size / 2;
            nint image = g.ImageLength;
            for (nint n = start; n < start + length; n++)
            {
                float* scratch = t + n * LcnImageScratch(g);
                var a = new Span<float>(scratch, plane);
                var b = new Span<float>(scratch + plane, plane);
                var tmp = new Span<float>(scratch + 2 * plane, plane);
                var weight = new Span<float>(scratch + 3 * plane, plane);
                var covH = new Span<float>(scratch + 4 * plane, h);
                var covW = new Span<float>(scratch + 4 * plane + h, w);
                var kernel = new Span<float>(scratch + 4 * plane + h + w, g.Size);
                // Gaussian weights (normalized to sum 1) and 1/(C * coverage) per position.
                float sum = 0f;
                for (int i = 0; i < g.Size; i++) sum += kernel[i] = MathF.Exp(-(i - r) * (i - r) / (2f * g.Sigma * g.Sigma));
                for (int i = 0; i < g.Size; i++) kernel[i] /= sum;
                Coverage(kernel, covH, r);
                Coverage(kernel, covW, r);
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++) weight[i * w + j] = 1f / (c * covH[i] * covW[j]);
                var s = new Span<float>(dev + n * plane, plane);
                var ys = new Span<float>(y + n * image, (int)image);
                if (dy == null)
                {
                    var xs = new ReadOnlySpan<float>(x + n * image, (int)image);
                    // m = L(sum_c x); v = x - m (into y).
                    ChannelSum(xs, a, c, plane);
                    Blur(a, tmp, b, kernel, h, w, r);
                    TensorPrimitives.Multiply(b, weight, b);
                    for (int k = 0; k < c; k++) TensorPrimitives.Subtract(xs.Slice(k * plane, plane), b, ys.Slice(k * plane, plane));
                    // s = sqrt(L(sum_c v^2)).
                    a.Clear();
                    for (int k = 0; k < c; k++)
                    {
                        var v = ys.Slice(k * plane, plane);
                        TensorPrimitives.MultiplyAdd(v, v, a, a);
                    }
                    Blur(a, tmp, b, kernel, h, w, r);
                    TensorPrimitives.Multiply(b, weight, b);
                    TensorPrimitives.Sqrt(b, s);
                    // y = v / max(mean(s), s, eps).
                    float floor = MathF.Max(TensorPrimitives.Sum(s) / plane, LcnGeometry.DivisorFloor);
                    TensorPrimitives.Max(s, floor, b);
                    for (int k = 0; k < c; k++)
                    {
                        var v = ys.Slice(k * plane, plane);
                        TensorPrimitives.Divide(v, b, v);
                    }
                }
                else
                {
                    var dys = new ReadOnlySpan<float>(dy + n * image, (int)image);
                    var dxs = new Span<float>(dx + n * image, (int)image);
                    float mean = TensorPrimitives.Sum(s) / plane;
                    // Below eps the divisor is the constant eps: nothing flows back to the mean of s.
                    bool floorIsMean = mean > LcnGeometry.DivisorFloor;
                    float floor = floorIsMean ? mean : LcnGeometry.DivisorFloor;
                    var d = b;
                    TensorPrimitives.Max(s, floor, d);
                    // dd = -sum_c dy*y / d  (since v = y*d).
                    a.Clear();
                    for (int k = 0; k < c; k++) TensorPrimitives.MultiplyAdd(dys.Slice(k * plane, plane), ys.Slice(k * plane, plane), a, a);
                    float dFloor = 0f;
                    for (int i = 0; i < plane; i++)
                    {
                        float dd = -a[i] / d[i];
                        if (s[i] > floor) a[i] = dd;
                        else { if (floorIsMean) dFloor += dd; a[i] = 0f; }
                    }
                    // dvar = dsigma / (2 s); dQ = L^T(dvar) into a.
                    for (int i = 0; i < plane; i++)
                    {
                        float ds = a[i] + dFloor / plane;
                        a[i] = s[i] > 0f ? ds / (2f * s[i]) * weight[i] : 0f;
                    }
                    Blur(a, tmp, a, kernel, h, w, r);
                    // dv = dy/d + 2 v dQ = dy/d + 2 y d dQ  (into dx); dm = -sum_c dv.
                    TensorPrimitives.Multiply(a, d, a);
                    TensorPrimitives.Multiply(a, 2f, a);
                    var dm = tmp;
                    dm.Clear();
                    for (int k = 0; k < c; k++)
                    {
                        var dxk = dxs.Slice(k * plane, plane);
                        TensorPrimitives.Divide(dys.Slice(k * plane, plane), d, dxk);
                        TensorPrimitives.MultiplyAdd(ys.Slice(k * plane, plane), a, dxk, dxk);
                        TensorPrimitives.Subtract(dm, dxk, dm);
                    }
                    // dx = dv + L^T(dm).
                    TensorPrimitives.Multiply(dm, weight, dm);
                    Blur(dm, a, dm, kernel, h, w, r);
                    for (int k = 0; k < c; k++)
                    {
                        var dxk = dxs.Slice(k * plane, plane);
                        TensorPrimitives.Add(dxk, dm, dxk);
                    }
                }
            }
        }

        private static void Coverage(ReadOnlySpan<float> kernel, Span<float> coverage, int r)
        {
            for (int i = 0; i < coverage.Length; i++)
            {
                float sum = 0f;
                for (int q = -r; q <= r; q++)
                    if (i + q >= 0 && i + q < coverage.Length) sum += kernel[q + r];
                coverage[i] = sum;
            }
        }

        private static void ChannelSum(ReadOnlySpan<float> images, Span<float> result, int channels, int plane)
        {
            images[..plane].CopyTo(result);
            for (int k = 1; k < channels; k++) TensorPrimitives.Add(result, images.Slice(k * plane, plane), result);
        }

        /// <summary>
        /// Separable zero-padded "same" Gaussian blur of <paramref name="source"/> into <paramref name="destination"/> through
        /// <paramref name="temporary"/> (self-adjoint, as the kernel is symmetric); source and destination may be the same span.
        /// </summary>
        private static void Blur(ReadOnlySpan<float> source, Span<float> temporary, Span<float> destination, ReadOnlySpan<float> kernel, int h, int w, int r)
        {
            // Horizontal pass: temporary[i, j] = sum_q g[q] source[i, j + q - r].
            for (int i = 0; i < h; i++)
            {
                var row = source.Slice(i * w, w);
                var dst = temporary.Slice(i * w, w);
                for (int j = 0; j < w; j++)
                {
                    float sum = 0f;
                    int q0 = Math.Max(0, r - j), q1 = Math.Min(2 * r, w - 1 - j + r);
                    for (int q = q0; q <= q1; q++) sum += kernel[q] * row[j + q - r];
                    dst[j] = sum;
                }
            }
            // Vertical pass: destination[i, :] = sum_p g[p] temporary[i + p - r, :].
            destination.Clear();
            for (int i = 0; i < h; i++)
            {
                var dst = destination.Slice(i * w, w);
                int p0 = Math.Max(0, r - i), p1 = Math.Min(2 * r, h - 1 - i + r);
                for (int p = p0; p <= p1; p++) TensorPrimitives.MultiplyAdd(temporary.Slice((i + p - r) * w, w), kernel[p], dst, dst);
            }
        }
    }
}
