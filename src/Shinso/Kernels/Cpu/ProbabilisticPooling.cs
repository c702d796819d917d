using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Numerics;
using Shinso.Operations;
using Shinso.Random;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Probabilistic max-pooling (Lee, Grosse, Ranganath &amp; Ng 2009): each block x block block of a detection map and its
/// pooling unit form one multinomial over "all off" and "unit i on", with weights 1 and <c>exp(I_i)</c>, so at most one
/// detection unit of a block is on and the pooling unit is on when one is. The OpenCL twin is <c>kernels/probabilistic_pooling.cl</c>.
/// </summary>
/// <remarks>
/// The probabilities subtract the block's largest input (or 0, the "off" state's) before exponentiating, so no input
/// overflows. The sampler draws one uniform per block, at position <c>4*counter + b</c> of the stream for block b in
/// row-major order over (image, map, block row, block column), and walks the block's probabilities in row-major order:
/// the first unit whose running sum exceeds the uniform is on, none if the uniform exceeds them all. Every block is one
/// thread's, so results do not depend on the thread count.
/// </remarks>
public static unsafe class ProbabilisticPooling
{
    /// <summary>
    /// <c>hidden[i] = exp(I_i) / (1 + sum_block exp(I_j))</c> for the detection inputs <paramref name="input"/> <c>[N, channels, height, width]</c>,
    /// and <c>pool = 1 − 1 / (1 + sum_block exp(I_j))</c> per block, <c>[N, channels, height/block, width/block]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The block does not tile the maps or a span has the wrong length.</exception>
    public static void Probabilities(ReadOnlySpan<float> input, int channels, int height, int width, int block, Span<float> hidden, Span<float> pool,
        CpuKernelOptions options = default)
    {
        int n = OperationArguments.ProbabilisticPooling(input.Length, pool.Length, channels, height, width, block);
        if (hidden.Length != input.Length) throw new ArgumentException($"hidden has {hidden.Length} elements but the input {input.Length}.", nameof(hidden));
        fixed (float* pi = input)
        fixed (float* ph = hidden)
        fixed (float* pp = pool)
            KernelParallel.For(new ProbabilityRange(pi, ph, pp, height, width, block, options.ResolvedPath), (nint)n * channels, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / (height * width * 8)), alignment: 1);
    }

    /// <summary>
    /// Samples each block's multinomial from the detection probabilities <paramref name="hidden"/> (as <see cref="Probabilities"/> writes
    /// them): <paramref name="hiddenSamples"/> gets the one-hot (or all-zero) block, <paramref name="poolSamples"/> 1 where a unit is on.
    /// Draws Philox blocks <c>counter .. counter + ceil(blocks / 4) − 1</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The block does not tile the maps or a span has the wrong length.</exception>
    public static void Sample(RandomStream stream, ulong counter, ReadOnlySpan<float> hidden, int channels, int height, int width, int block,
        Span<float> hiddenSamples, Span<float> poolSamples, CpuKernelOptions options = default)
    {
        int n = OperationArguments.ProbabilisticPooling(hidden.Length, poolSamples.Length, channels, height, width, block);
        if (hiddenSamples.Length != hidden.Length) throw new ArgumentException($"hiddenSamples has {hiddenSamples.Length} elements but hidden {hidden.Length}.", nameof(hiddenSamples));
        fixed (float* ph = hidden)
        fixed (float* ps = hiddenSamples)
        fixed (float* pp = poolSamples)
            KernelParallel.For(new SampleRange(stream, counter, ph, ps, pp, height, width, block, options.ResolvedPath), (nint)n * channels, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / (height * width * 8)), alignment: 1);
    }

    /// <summary>Whether the 2x2 vector paths take whole block rows: 2x2 blocks, rows a multiple of 8 wide, a vector path.</summary>
    private static bool PairPathsApply(int block, int width, SimdPath path) => block == 2 && width % 8 == 0 && path != SimdPath.Scalar;

    private readonly struct ProbabilityRange(float* input, float* hidden, float* pool, int height, int width, int block, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int rows = height / block, columns = width / block;
            bool pairs = PairPathsApply(block, width, path);
            for (nint plane = start; plane < start + length; plane++)
            {
                float* x = input + plane * height * width, h = hidden + plane * height * width, p = pool + plane * rows * columns;
                for (int by = 0; by < rows; by++)
                {
                    int column = pairs ? PairBlocks(x + by * 2 * width, h + by * 2 * width, p + by * columns, width, path) : 0;
                    for (int bx = column / block; bx < columns; bx++) AnyBlock(x, h, p, by, bx);
                }
            }
        }

        /// <summary>One block of any size; the order of operations is the vector paths' (max, exp, row-major running sum, one division).</summary>
        private void AnyBlock(float* x, float* h, float* p, int by, int bx)
        {
            int columns = width / block;
            float largest = 0f;
            for (int i = 0; i < block; i++)
                for (int j = 0; j < block; j++) largest = MathF.Max(largest, x[(by * block + i) * width + bx * block + j]);
            float off = SimdMath.Exp(-largest), on = 0f;
            for (int i = 0; i < block; i++)
                for (int j = 0; j < block; j++)
                {
                    int at = (by * block + i) * width + bx * block + j;
                    float e = SimdMath.Exp(x[at] - largest);
                    h[at] = e;
                    on += e;
                }
            float inverse = 1f / (off + on);
            for (int i = 0; i < block; i++)
                for (int j = 0; j < block; j++) h[(by * block + i) * width + bx * block + j] *= inverse;
            p[by * columns + bx] = on * inverse;
        }

        /// <summary>
        /// The 2x2 blocks of one block row (two map rows from <paramref name="x"/>), 8 blocks per 512-bit step and 4 per 256-bit one;
        /// returns the first column left to the scalar loop. Each lane holds one unit; the shuffles give it its block's partner
        /// column (0xB1), the lower row's left unit (0xA0) and its right one (0xF5), so the running sum is the scalar loop's,
        /// in its order, and the results are bit-identical.
        /// </summary>
        private static int PairBlocks(float* x, float* h, float* p, int width, SimdPath path)
        {
            float* x1 = x + width, h1 = h + width;
            int c = 0;
            if (path == SimdPath.Avx512)
            {
                var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
                for (; c + 16 <= width; c += 16)
                {
                    var top = Avx512F.LoadVector512(x + c);
                    var bottom = Avx512F.LoadVector512(x1 + c);
                    var largest = Avx512F.Max(top, bottom);
                    largest = Avx512F.Max(Avx512F.Max(largest, Avx512F.Shuffle(largest, largest, 0xB1)), Vector512<float>.Zero);
                    var e0 = SimdMath.Exp(top - largest);
                    var e1 = SimdMath.Exp(bottom - largest);
                    var on = e0 + Avx512F.Shuffle(e0, e0, 0xB1);
                    on += Avx512F.Shuffle(e1, e1, 0xA0);
                    on += Avx512F.Shuffle(e1, e1, 0xF5);
                    var inverse = Vector512<float>.One / (SimdMath.Exp(-largest) + on);
                    (e0 * inverse).Store(h + c);
                    (e1 * inverse).Store(h1 + c);
                    Avx512F.PermuteVar16x32(on * inverse, evens).GetLower().Store(p + c / 2);
                }
            }
            var evens8 = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
            for (; c + 8 <= width; c += 8)
            {
                var top = Avx.LoadVector256(x + c);
                var bottom = Avx.LoadVector256(x1 + c);
                var largest = Avx.Max(top, bottom);
                largest = Avx.Max(Avx.Max(largest, Avx.Shuffle(largest, largest, 0xB1)), Vector256<float>.Zero);
                var e0 = SimdMath.Exp(top - largest);
                var e1 = SimdMath.Exp(bottom - largest);
                var on = e0 + Avx.Shuffle(e0, e0, 0xB1);
                on += Avx.Shuffle(e1, e1, 0xA0);
                on += Avx.Shuffle(e1, e1, 0xF5);
                var inverse = Vector256<float>.One / (SimdMath.Exp(-largest) + on);
                (e0 * inverse).Store(h + c);
                (e1 * inverse).Store(h1 + c);
                Avx2.PermuteVar8x32(on * inverse, evens8).GetLower().Store(p + c / 2);
            }
            return c;
        }
    }

    private readonly struct SampleRange(RandomStream stream, ulong counter, float* hidden, float* samples, float* pool, int height, int width, int block, SimdPath path) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int rows = height / block, columns = width / block, blocks = rows * columns;
            // Whole block rows per chunk, so the 2x2 path takes each row at once.
            int chunk = columns <= RandomKernels.UniformAtMaxLength ? RandomKernels.UniformAtMaxLength / columns * columns : RandomKernels.UniformAtMaxLength;
            Span<float> uniforms = stackalloc float[chunk];
            bool pairs = PairPathsApply(block, width, path);
            for (nint plane = start; plane < start + length; plane++)
            {
                float* h = hidden + plane * height * width, s = samples + plane * height * width, p = pool + plane * blocks;
                // The plane's uniforms in chunks, drawn with the vector Philox generator (the same words as one draw per block).
                for (int first = 0; first < blocks; first += uniforms.Length)
                {
                    int count = Math.Min(uniforms.Length, blocks - first);
                    RandomKernels.UniformAt(stream, counter, (long)plane * blocks + first, uniforms[..count], path);
                    fixed (float* u = uniforms)
                        for (int k = 0; k < count;)
                        {
                            int by = (first + k) / columns, bx = (first + k) % columns;
                            int done = pairs && bx == 0 && count - k >= columns
                                ? SamplePairRow(u + k, h + by * 2 * width, s + by * 2 * width, p + first + k, width, path) / 2
                                : 0;
                            if (done == 0)
                            {
                                SampleBlock(u[k], h, s, p + first + k, by, bx);
                                done = 1;
                            }
                            k += done;
                        }
                }
            }
        }

        /// <summary>One block of any size: the first unit whose running sum (row-major) exceeds <paramref name="u"/> is on, none when none does.</summary>
        private void SampleBlock(float u, float* h, float* s, float* p, int by, int bx)
        {
            float running = 0f;
            bool chosen = false;
            for (int i = 0; i < block; i++)
                for (int j = 0; j < block; j++)
                {
                    int at = (by * block + i) * width + bx * block + j;
                    running += h[at];
                    bool on = !chosen && u < running;
                    s[at] = on ? 1f : 0f;
                    chosen |= on;
                }
            *p = chosen ? 1f : 0f;
        }

        /// <summary>
        /// The 2x2 blocks of one block row, 8 per 512-bit step and 4 per 256-bit one, with <see cref="SampleBlock"/>'s running sums in
        /// its order: a unit is on when <c>u</c> is below its running sum and not below its predecessor's (the sums never decrease,
        /// so this is the first unit that exceeds <c>u</c>). Returns the first column left to the scalar loop.
        /// </summary>
        private static int SamplePairRow(float* u, float* h, float* s, float* p, int width, SimdPath path)
        {
            float* h1 = h + width, s1 = s + width;
            int c = 0;
            if (path == SimdPath.Avx512)
            {
                var pairs = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
                var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
                var odd = Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
                for (; c + 16 <= width; c += 16)
                {
                    var uniform = Avx512F.PermuteVar16x32(Vector256.Load(u + c / 2).ToVector512Unsafe(), pairs);
                    var top = Avx512F.LoadVector512(h + c);
                    var bottom = Avx512F.LoadVector512(h1 + c);
                    var left = Avx512F.Shuffle(top, top, 0xA0);
                    var runningTop = Vector512.ConditionalSelect(odd, left + top, left);
                    var previousTop = Vector512.ConditionalSelect(odd, left, Vector512<float>.Zero);
                    var row = Avx512F.Shuffle(runningTop, runningTop, 0xF5);
                    var lowerLeft = row + Avx512F.Shuffle(bottom, bottom, 0xA0);
                    var runningBottom = Vector512.ConditionalSelect(odd, lowerLeft + bottom, lowerLeft);
                    var previousBottom = Vector512.ConditionalSelect(odd, lowerLeft, row);
                    Vector512.ConditionalSelect(Vector512.LessThan(uniform, runningTop) & ~Vector512.LessThan(uniform, previousTop), Vector512<float>.One, Vector512<float>.Zero).Store(s + c);
                    Vector512.ConditionalSelect(Vector512.LessThan(uniform, runningBottom) & ~Vector512.LessThan(uniform, previousBottom), Vector512<float>.One, Vector512<float>.Zero).Store(s1 + c);
                    var total = Avx512F.Shuffle(runningBottom, runningBottom, 0xF5);
                    Avx512F.PermuteVar16x32(Vector512.ConditionalSelect(Vector512.LessThan(uniform, total), Vector512<float>.One, Vector512<float>.Zero), evens).GetLower().Store(p + c / 2);
                }
            }
            var pairs8 = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
            var evens8 = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
            var odd8 = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
            for (; c + 8 <= width; c += 8)
            {
                var uniform = Avx2.PermuteVar8x32(Vector128.Load(u + c / 2).ToVector256Unsafe(), pairs8);
                var top = Avx.LoadVector256(h + c);
                var bottom = Avx.LoadVector256(h1 + c);
                var left = Avx.Shuffle(top, top, 0xA0);
                var runningTop = Vector256.ConditionalSelect(odd8, left + top, left);
                var previousTop = Vector256.ConditionalSelect(odd8, left, Vector256<float>.Zero);
                var row = Avx.Shuffle(runningTop, runningTop, 0xF5);
                var lowerLeft = row + Avx.Shuffle(bottom, bottom, 0xA0);
                var runningBottom = Vector256.ConditionalSelect(odd8, lowerLeft + bottom, lowerLeft);
                var previousBottom = Vector256.ConditionalSelect(odd8, lowerLeft, row);
                Vector256.ConditionalSelect(Vector256.LessThan(uniform, runningTop) & ~Vector256.LessThan(uniform, previousTop), Vector256<float>.One, Vector256<float>.Zero).Store(s + c);
                Vector256.ConditionalSelect(Vector256.LessThan(uniform, runningBottom) & ~Vector256.LessThan(uniform, previousBottom), Vector256<float>.One, Vector256<float>.Zero).Store(s1 + c);
                var total = Avx.Shuffle(runningBottom, runningBottom, 0xF5);
                Avx2.PermuteVar8x32(Vector256.ConditionalSelect(Vector256.LessThan(uniform, total), Vector256<float>.One, Vector256<float>.Zero), evens8).GetLower().Store(p + c / 2);
            }
            return c;
        }
    }
}
