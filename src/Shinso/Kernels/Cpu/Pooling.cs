using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Max, average and Lp pooling over NCHW images, forward and backward. Planes (image, channel) run in
/// parallel; every output element is produced by one thread in a fixed order, so results do not depend
/// on the thread count. Window bounds are clipped once per output row and column, so the inner loops carry
/// no bounds tests. Max pooling, whose scalar loop branches on the data, is vectorised across output columns on
/// every SIMD path: non-overlapping 2x2 windows (LeNet) and horizontal strides 1-2 (cuda-convnet's 3/2) by
/// AVX-512 loads and permutes, any other window by AVX2 gathers. All of them pick the scalar loop's element.
/// </summary>
public static unsafe class Pooling
{
    private enum Op { MaxForward, MaxBackward, AvgForward, AvgBackward, LpForward, LpBackward }

    /// <summary>Max pooling of <paramref name="images"/> images; <paramref name="argmax"/> gets each maximum's index within its plane.</summary>
    public static void MaxForward(ReadOnlySpan<float> input, int images, in PoolingGeometry g, Span<float> output, Span<float> argmax, CpuKernelOptions options = default)
    {
        Check(input.Length, output.Length, images, g);
        if (argmax.Length != output.Length) throw new ArgumentException($"argmax has {argmax.Length} elements but the output has {output.Length}.", nameof(argmax));
        fixed (float* x = input) fixed (float* y = output) fixed (float* a = argmax)
            Run(new PoolRange(Op.MaxForward, g, x, y, a, null, false, 0f, options.ResolvedPath), images, g, options);
    }

    /// <summary>Scatters <paramref name="outputGradient"/> to the recorded maxima; <paramref name="inputGradient"/> is overwritten.</summary>
    public static void MaxBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> argmax, int images, in PoolingGeometry g, Span<float> inputGradient, CpuKernelOptions options = default)
    {
        Check(inputGradient.Length, outputGradient.Length, images, g);
        if (argmax.Length != outputGradient.Length) throw new ArgumentException($"argmax has {argmax.Length} elements but the output gradient has {outputGradient.Length}.", nameof(argmax));
        fixed (float* dy = outputGradient) fixed (float* a = argmax) fixed (float* dx = inputGradient)
            Run(new PoolRange(Op.MaxBackward, g, null, dy, a, dx, false, 0f, SimdPath.Scalar), images, g, options);
    }

    /// <summary>Average pooling (see <c>IBackend.AvgPoolForward</c> for the divisor).</summary>
    public static void AvgForward(ReadOnlySpan<float> input, int images, in PoolingGeometry g, bool countIncludePad, Span<float> output, CpuKernelOptions options = default)
    {
        Check(input.Length, output.Length, images, g);
        fixed (float* x = input) fixed (float* y = output)
            Run(new PoolRange(Op.AvgForward, g, x, y, null, null, countIncludePad, 0f, SimdPath.Scalar), images, g, options);
    }

    /// <summary>The gradient of <see cref="AvgForward"/>; <paramref name="inputGradient"/> is overwritten.</summary>
    public static void AvgBackward(ReadOnlySpan<float> outputGradient, int images, in PoolingGeometry g, bool countIncludePad, Span<float> inputGradient, CpuKernelOptions options = default)
    {
        Check(inputGradient.Length, outputGradient.Length, images, g);
        fixed (float* dy = outputGradient) fixed (float* dx = inputGradient)
            Run(new PoolRange(Op.AvgBackward, g, null, dy, null, dx, countIncludePad, 0f, SimdPath.Scalar), images, g, options);
    }

    /// <summary>Lp pooling, <c>(sum |x|^p)^(1/p)</c> over each window.</summary>
    public static void LpForward(ReadOnlySpan<float> input, int images, in PoolingGeometry g, float p, Span<float> output, CpuKernelOptions options = default)
    {
        Check(input.Length, output.Length, images, g);
        CheckP(p);
        fixed (float* x = input) fixed (float* y = output)
            Run(new PoolRange(Op.LpForward, g, x, y, null, null, false, p, SimdPath.Scalar), images, g, options);
    }

    /// <summary>The gradient of <see cref="LpForward"/>; <paramref name="inputGradient"/> is overwritten.</summary>
    public static void LpBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, int images,
        in PoolingGeometry g, float p, Span<float> inputGradient, CpuKernelOptions options = default)
    {
        Check(input.Length, output.Length, images, g);
        Check(inputGradient.Length, outputGradient.Length, images, g);
        CheckP(p);
        fixed (float* x = input) fixed (float* y = output) fixed (float* dy = outputGradient) fixed (float* dx = inputGradient)
            Run(new PoolRange(Op.LpBackward, g, x, dy, y, dx, false, p, SimdPath.Scalar), images, g, options);
    }

    private static void CheckP(float p) => OperationArguments.LpExponent(p);

    private static void Check(int inputLength, int outputLength, int images, in PoolingGeometry g) =>
        OperationArguments.Pooling(inputLength, outputLength, images, g);

    private static void Run(in PoolRange kernel, int images, in PoolingGeometry g, CpuKernelOptions options)
    {
        long planeWork = Math.Max(1L, (long)g.OutputHeight * g.OutputWidth * g.KernelHeight * g.KernelWidth);
        nint grain = (nint)Math.Max(1, KernelParallel.ElementwiseGrain / planeWork);
        KernelParallel.For(kernel, (nint)images * g.Channels, options.ResolvedThreads, grain, alignment: 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi, int PadHi) Window(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        int end = start + kernel;
        int padEnd = Math.Min(end, size + pad);
        return (Math.Max(start, 0), Math.Min(end, size), padEnd - start);
    }

    private readonly struct PoolRange(Op op, PoolingGeometry g, float* x, float* y, float* aux, float* dx, bool includePad, float p, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int h = g.Height, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            nint inPlane = (nint)h * w, outPlane = (nint)oh * ow;
            for (nint plane = start; plane < start + length; plane++)
            {
                float* xi = x + plane * inPlane;
                float* yo = y + plane * outPlane;
                float* ao = aux + plane * outPlane;
                float* dxi = dx + plane * inPlane;
                switch (op)
                {
                    case Op.MaxForward: MaxPlane(xi, yo, ao); break;
                    case Op.MaxBackward: MaxBackPlane(yo, ao, dxi, inPlane, outPlane); break;
                    case Op.AvgForward: AvgPlane(xi, yo); break;
                    case Op.AvgBackward: AvgBackPlane(yo, dxi, inPlane); break;
                    case Op.LpForward: LpPlane(xi, yo); break;
                    default: LpBackPlane(xi, ao, yo, dxi, inPlane); break;
                }
            }
        }

        private void MaxPlane(float* x, float* y, float* arg)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            if (path == SimdPath.Avx512 && g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2
                && g.PadHeight == 0 && g.PadWidth == 0 && 2 * oh <= g.Height && 2 * ow <= w)
            {
                Max2x2(x, y, arg);
                return;
            }
            if (path == SimdPath.Avx512 && g.StrideWidth <= 2)
            {
                MaxStrided512(x, y, arg);
                return;
            }
            if (path != SimdPath.Scalar)
            {
                MaxGathered(x, y, arg);
                return;
            }
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, _) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, _) = Window(j, g.StrideWidth, g.PadWidth, g.KernelWidth, w);
                    float best = float.NegativeInfinity;
                    int index = h0 * w + w0;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = x + (nint)r * w;
                        for (int c = w0; c < w1; c++)
                        {
                            if (row[c] > best)
                            {
                                best = row[c];
                                index = r * w + c;
                            }
                        }
                    }
                    y[i * ow + j] = best;
                    arg[i * ow + j] = index;
                }
            }
        }

        // Non-overlapping 2x2 windows: 16 outputs at a time from two 32-wide row loads, de-interleaved by permutes.
        // A last block of fewer than 16 outputs (all of a 14-wide LeNet row) uses masked loads and stores, which never
        // touch memory outside the mask: a scalar loop there mispredicts about three branches per output.
        private void Max2x2(float* x, float* y, float* arg)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            var evenIdx = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var oddIdx = evenIdx + Vector512<int>.One;
            var twos = Vector512.Create(2f);
            var lane = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var laneIndex = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var right = Vector512.Create((float)w);
            var diagonal = Vector512.Create((float)(w + 1));
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            for (int i = 0; i < oh; i++)
            {
                float* r0 = x + (nint)(2 * i) * w;
                float* r1 = r0 + w;
                float* yo = y + (nint)i * ow;
                float* ao = arg + (nint)i * ow;
                for (int j = 0; j < ow; j += 16)
                {
                    int outputs = Math.Min(16, ow - j);
                    Vector512<float> a0, a1, b0, b1, outMask = default;
                    if (outputs == 16)
                    {
                        a0 = Vector512.Load(r0 + 2 * j); a1 = Vector512.Load(r0 + 2 * j + 16);
                        b0 = Vector512.Load(r1 + 2 * j); b1 = Vector512.Load(r1 + 2 * j + 16);
                    }
                    else
                    {
                        var lowMask = Vector512.LessThan(laneIndex, Vector512.Create(2 * outputs)).AsSingle();
                        var highMask = Vector512.LessThan(laneIndex, Vector512.Create(2 * outputs - 16)).AsSingle();
                        outMask = Vector512.LessThan(laneIndex, Vector512.Create(outputs)).AsSingle();
                        a0 = Avx512F.MaskLoad(r0 + 2 * j, lowMask, Vector512<float>.Zero);
                        a1 = Avx512F.MaskLoad(r0 + 2 * j + 16, highMask, Vector512<float>.Zero);
                        b0 = Avx512F.MaskLoad(r1 + 2 * j, lowMask, Vector512<float>.Zero);
                        b1 = Avx512F.MaskLoad(r1 + 2 * j + 16, highMask, Vector512<float>.Zero);
                    }
                    var e0 = Avx512F.PermuteVar16x32x2(a0, evenIdx, a1);
                    var o0 = Avx512F.PermuteVar16x32x2(a0, oddIdx, a1);
                    var e1 = Avx512F.PermuteVar16x32x2(b0, evenIdx, b1);
                    var o1 = Avx512F.PermuteVar16x32x2(b0, oddIdx, b1);
                    // Same tie order as the scalar loop: (0,0), (0,1), (1,0), (1,1); a later one wins only if strictly larger.
                    // Starting from -inf rather than e0 keeps the scalar loop's rule that NaN never wins.
                    var best = Vector512.ConditionalSelect(Vector512.GreaterThan(e0, negativeInfinity), e0, negativeInfinity);
                    var offset = Vector512<float>.Zero;
                    var m = Vector512.GreaterThan(o0, best); best = Vector512.ConditionalSelect(m, o0, best); offset = Vector512.ConditionalSelect(m, Vector512<float>.One, offset);
                    m = Vector512.GreaterThan(e1, best); best = Vector512.ConditionalSelect(m, e1, best); offset = Vector512.ConditionalSelect(m, right, offset);
                    m = Vector512.GreaterThan(o1, best); best = Vector512.ConditionalSelect(m, o1, best); offset = Vector512.ConditionalSelect(m, diagonal, offset);
                    var index = Vector512.Create((float)(2 * i * w + 2 * j)) + lane * twos + offset;
                    if (outputs == 16)
                    {
                        best.Store(yo + j);
                        index.Store(ao + j);
                    }
                    else
                    {
                        Avx512F.MaskStore(yo + j, outMask, best);
                        Avx512F.MaskStore(ao + j, outMask, index);
                    }
                }
            }
        }

        // Any window, stride and padding: 8 outputs of a row at a time, each window element fetched for all 8 by one
        // masked gather (columns in the padding read as -inf and touch no memory). Elements are visited in the scalar
        // loop's row-major order with the same strict comparison, so values and argmax indices match it exactly; the
        // scalar loop's data-dependent branch mispredicts on about every other element of random data (21 ms of a
        // 107 ms cuda-convnet CIFAR step went to its 3/2 max-pool).
        private void MaxGathered(float* x, float* y, float* arg)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth, kw = g.KernelWidth;
            var lanes = Vector256<int>.Indices;
            var negativeInfinity = Vector256.Create(float.NegativeInfinity);
            var width = Vector256.Create(w);
            for (int j0 = 0; j0 < ow; j0 += 8)
            {
                int outputs = Math.Min(8, ow - j0);
                var active = Vector256.LessThan(lanes, Vector256.Create(outputs));
                var start = (lanes + Vector256.Create(j0)) * Vector256.Create(g.StrideWidth) - Vector256.Create(g.PadWidth);
                var firstColumn = Vector256.ConvertToSingle(Vector256.Max(start, Vector256<int>.Zero));
                for (int i = 0; i < oh; i++)
                {
                    var (h0, h1, _) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                    var best = negativeInfinity;
                    var index = Vector256.Create((float)(h0 * w)) + firstColumn;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = x + (nint)r * w;
                        var rowStart = Vector256.Create((float)(r * w));
                        for (int kc = 0; kc < kw; kc++)
                        {
                            var column = start + Vector256.Create(kc);
                            var inside = active & Vector256.GreaterThanOrEqual(column, Vector256<int>.Zero) & Vector256.LessThan(column, width);
                            var value = Avx2.GatherMaskVector256(negativeInfinity, row, column, inside.AsSingle(), 4);
                            var larger = Vector256.GreaterThan(value, best);
                            best = Vector256.ConditionalSelect(larger, value, best);
                            index = Vector256.ConditionalSelect(larger, rowStart + Vector256.ConvertToSingle(column), index);
                        }
                    }
                    float* yo = y + (nint)i * ow + j0, ao = arg + (nint)i * ow + j0;
                    if (outputs == 8)
                    {
                        best.Store(yo);
                        index.Store(ao);
                    }
                    else
                    {
                        Avx.MaskStore(yo, active.AsSingle(), best);
                        Avx.MaskStore(ao, active.AsSingle(), index);
                    }
                }
            }
        }

        // Horizontal stride 1 or 2 on AVX-512: 16 outputs of a row at a time. For each window element the 16 (or 32)
        // consecutive input columns it needs are two masked loads (columns in the padding read as -inf and touch no
        // memory), de-interleaved by one permute for stride 2. Same visiting order and comparison as the scalar loop.
        private void MaxStrided512(float* x, float* y, float* arg)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth, kw = g.KernelWidth, sw = g.StrideWidth;
            var lanes = Vector512<int>.Indices;
            var pick = lanes * Vector512.Create(sw);
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var width = Vector512.Create(w);
            for (int j0 = 0; j0 < ow; j0 += 16)
            {
                int outputs = Math.Min(16, ow - j0);
                var active = Vector512.LessThan(lanes, Vector512.Create(outputs));
                int first = j0 * sw - g.PadWidth;
                var start = Vector512.ConvertToSingle(pick + Vector512.Create(first));
                var firstColumn = Vector512.Max(start, Vector512<float>.Zero);
                for (int i = 0; i < oh; i++)
                {
                    var (h0, h1, _) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                    var best = negativeInfinity;
                    var index = Vector512.Create((float)(h0 * w)) + firstColumn;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = x + (nint)r * w;
                        var rowStart = Vector512.Create((float)(r * w)) + start;
                        for (int kc = 0; kc < kw; kc++)
                        {
                            int column = first + kc;
                            var low = lanes + Vector512.Create(column);
                            var lowInside = Vector512.GreaterThanOrEqual(low, Vector512<int>.Zero) & Vector512.LessThan(low, width);
                            var value = Avx512F.MaskLoad(row + column, lowInside.AsSingle(), negativeInfinity);
                            if (sw == 2)
                            {
                                var high = low + Vector512.Create(16);
                                var highInside = Vector512.GreaterThanOrEqual(high, Vector512<int>.Zero) & Vector512.LessThan(high, width);
                                var upper = Avx512F.MaskLoad(row + column + 16, highInside.AsSingle(), negativeInfinity);
                                value = Avx512F.PermuteVar16x32x2(value, pick, upper);
                            }
                            var larger = Vector512.GreaterThan(value, best);
                            best = Vector512.ConditionalSelect(larger, value, best);
                            index = Vector512.ConditionalSelect(larger, rowStart + Vector512.Create((float)kc), index);
                        }
                    }
                    float* yo = y + (nint)i * ow + j0, ao = arg + (nint)i * ow + j0;
                    if (outputs == 16)
                    {
                        best.Store(yo);
                        index.Store(ao);
                    }
                    else
                    {
                        Avx512F.MaskStore(yo, active.AsSingle(), best);
                        Avx512F.MaskStore(ao, active.AsSingle(), index);
                    }
                }
            }
        }

        private static void MaxBackPlane(float* dy, float* arg, float* dx, nint inPlane, nint outPlane)
        {
            new Span<float>(dx, (int)inPlane).Clear();
            for (nint o = 0; o < outPlane; o++)
                dx[(int)arg[o]] += dy[o];
        }

        private void AvgPlane(float* x, float* y)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, hp) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, wp) = Window(j, g.StrideWidth, g.PadWidth, g.KernelWidth, w);
                    float sum = 0f;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = x + (nint)r * w;
                        for (int c = w0; c < w1; c++) sum += row[c];
                    }
                    int count = includePad ? hp * wp : (h1 - h0) * (w1 - w0);
                    y[i * ow + j] = sum / count;
                }
            }
        }

        private void AvgBackPlane(float* dy, float* dx, nint inPlane)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            new Span<float>(dx, (int)inPlane).Clear();
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, hp) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, wp) = Window(j, g.StrideWidth, g.PadWidth, g.KernelWidth, w);
                    int count = includePad ? hp * wp : (h1 - h0) * (w1 - w0);
                    float share = dy[i * ow + j] / count;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = dx + (nint)r * w;
                        for (int c = w0; c < w1; c++) row[c] += share;
                    }
                }
            }
        }

        private void LpPlane(float* x, float* y)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            bool two = p == 2f;
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, _) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, _) = Window(j, g.StrideWidth, g.PadWidth, g.KernelWidth, w);
                    float sum = 0f;
                    for (int r = h0; r < h1; r++)
                    {
                        float* row = x + (nint)r * w;
                        if (two)
                            for (int c = w0; c < w1; c++) sum += row[c] * row[c];
                        else
                            for (int c = w0; c < w1; c++) sum += MathF.Pow(MathF.Abs(row[c]), p);
                    }
                    y[i * ow + j] = two ? MathF.Sqrt(sum) : MathF.Pow(sum, 1f / p);
                }
            }
        }

        private void LpBackPlane(float* x, float* y, float* dy, float* dx, nint inPlane)
        {
            int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
            new Span<float>(dx, (int)inPlane).Clear();
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, _) = Window(i, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, _) = Window(j, g.StrideWidth, g.PadWidth, g.KernelWidth, w);
                    float yv = y[i * ow + j];
                    if (yv == 0f) continue;
                    float coef = dy[i * ow + j] / (p == 2f ? yv : MathF.Pow(yv, p - 1f));
                    for (int r = h0; r < h1; r++)
                    {
                        float* xr = x + (nint)r * w;
                        float* dr = dx + (nint)r * w;
                        if (p == 2f)
                            for (int c = w0; c < w1; c++) dr[c] += coef * xr[c];
                        else
                            for (int c = w0; c < w1; c++) dr[c] += coef * MathF.CopySign(MathF.Pow(MathF.Abs(xr[c]), p - 1f), xr[c]) * (xr[c] == 0f ? 0f : 1f);
                    }
                }
            }
        }
    }
}
