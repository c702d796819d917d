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
            KernelParallel.For(new ProbabilityRange(pi, ph, pp, height, width, block), (nint)n * channels, options.ResolvedThreads,
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
            KernelParallel.For(new SampleRange(stream, counter, ph, ps, pp, height, width, block), (nint)n * channels, options.ResolvedThreads,
                Math.Max(1, KernelParallel.ElementwiseGrain / (height * width * 8)), alignment: 1);
    }

    private readonly struct ProbabilityRange(float* input, float* hidden, float* pool, int height, int width, int block) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int rows = height / block, columns = width / block;
            for (nint plane = start; plane < start + length; plane++)
            {
                float* x = input + plane * height * width, h = hidden + plane * height * width, p = pool + plane * rows * columns;
                for (int by = 0; by < rows; by++)
                    for (int bx = 0; bx < columns; bx++)
                    {
                        float largest = 0f;
                        for (int i = 0; i < block; i++)
                            for (int j = 0; j < block; j++) largest = MathF.Max(largest, x[(by * block + i) * width + bx * block + j]);
                        float off = MathF.Exp(-largest), on = 0f;
                        for (int i = 0; i < block; i++)
                            for (int j = 0; j < block; j++)
                            {
                                int at = (by * block + i) * width + bx * block + j;
                                float e = MathF.Exp(x[at] - largest);
                                h[at] = e;
                                on += e;
                            }
                        float inverse = 1f / (off + on);
                        for (int i = 0; i < block; i++)
                            for (int j = 0; j < block; j++) h[(by * block + i) * width + bx * block + j] *= inverse;
                        p[by * columns + bx] = on * inverse;
                    }
            }
        }
    }

    private readonly struct SampleRange(RandomStream stream, ulong counter, float* hidden, float* samples, float* pool, int height, int width, int block) : IRangeKernel
    {
        public void Execute(nint start, nint length)
        {
            int rows = height / block, columns = width / block;
            for (nint plane = start; plane < start + length; plane++)
            {
                float* h = hidden + plane * height * width, s = samples + plane * height * width, p = pool + plane * rows * columns;
                for (int by = 0; by < rows; by++)
                    for (int bx = 0; bx < columns; bx++)
                    {
                        ulong index = (ulong)((plane * rows + by) * columns + bx);
                        float u = Philox4x32.Uniform(stream, counter * 4 + index), running = 0f;
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
                        p[by * columns + bx] = chosen ? 1f : 0f;
                    }
            }
        }
    }
}
