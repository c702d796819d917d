using Shinso.Operations;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Random;
using Shinso.Numerics;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Counter-based sampling kernels on <see cref="Philox4x32"/>: element i of every kernel uses stream position
/// <c>counter*4 + i</c>, i.e. word <c>i % 4</c> of block <c>counter + i/4</c>, so results do not depend on the
/// path or the thread count.
/// </summary>
/// <remarks>
/// The Avx512 path generates four blocks (16 words) per step and the Avx2 path two blocks, with the
/// 32x32-to-64-bit multiplies of vpmuludq; the words are bit-identical to the scalar generator. Uniform,
/// Bernoulli, dropout and the samples of <see cref="SigmoidBernoulli"/> are therefore bit-identical across
/// paths; Gaussian deviates and sigmoid probabilities are too, because the float ln, sin/cos and exp are
/// evaluated with the same operation sequence on every path (see <see cref="Philox4x32"/> for Box-Muller).
/// </remarks>
public static unsafe class RandomKernels
{
    private const int UniformGrain = 16 * 1024;
    private const int GaussianGrain = 4 * 1024;

    /// <summary><c>destination[i]</c> = the uniform [0, 1) number at position <c>counter*4 + i</c> of <paramref name="stream"/>.</summary>
    public static void Uniform(RandomStream stream, ulong counter, Span<float> destination, CpuKernelOptions options = default)
    {
        fixed (float* d = destination)
            Run(new UniformOperator(d), stream, counter, destination.Length, options, UniformGrain);
    }

    /// <summary>
    /// <c>destination[i] = mean + standardDeviation * z_i</c> with z_i the standard normal deviate at position
    /// <c>counter*4 + i</c> (Box-Muller on word pairs; the multiply-add is fused).
    /// </summary>
    public static void Gaussian(RandomStream stream, ulong counter, float mean, float standardDeviation, Span<float> destination,
        CpuKernelOptions options = default)
    {
        fixed (float* d = destination)
            Run(new GaussianOperator(d, mean, standardDeviation), stream, counter, destination.Length, options, GaussianGrain);
    }

    /// <summary>
    /// <c>samples[i] = u_i &lt; probabilities[i] ? 1 : 0</c> with u_i the uniform at position <c>counter*4 + i</c>.
    /// <paramref name="samples"/> may be <paramref name="probabilities"/> itself.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap other than exactly.</exception>
    public static void Bernoulli(RandomStream stream, ulong counter, ReadOnlySpan<float> probabilities, Span<float> samples,
        CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(probabilities.Length, nameof(probabilities), samples.Length, nameof(samples));
        KernelChecks.NoPartialOverlap(probabilities, nameof(probabilities), samples, nameof(samples));
        fixed (float* p = probabilities)
        fixed (float* s = samples)
            Run(new BernoulliOperator(p, s), stream, counter, samples.Length, options, UniformGrain);
    }

    /// <summary>
    /// The RBM inner step in one pass: <c>probabilities[i] = sigmoid(preActivation[i])</c> and
    /// <c>samples[i] = u_i &lt; probabilities[i] ? 1 : 0</c>, u_i as in <see cref="Bernoulli"/>.
    /// Either output may be <paramref name="preActivation"/> itself (if both are, the samples win).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap other than exactly.</exception>
    public static void SigmoidBernoulli(RandomStream stream, ulong counter, ReadOnlySpan<float> preActivation,
        Span<float> probabilities, Span<float> samples, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(preActivation.Length, nameof(preActivation), probabilities.Length, nameof(probabilities));
        KernelChecks.SameLength(preActivation.Length, nameof(preActivation), samples.Length, nameof(samples));
        KernelChecks.NoPartialOverlap(preActivation, nameof(preActivation), probabilities, nameof(probabilities));
        KernelChecks.NoPartialOverlap(preActivation, nameof(preActivation), samples, nameof(samples));
        KernelChecks.NoPartialOverlap(probabilities, nameof(probabilities), samples, nameof(samples));
        fixed (float* x = preActivation)
        fixed (float* p = probabilities)
        fixed (float* s = samples)
            Run(new SigmoidBernoulliOperator(x, p, s), stream, counter, samples.Length, options, GaussianGrain);
    }

    /// <summary>
    /// Inverted-dropout mask: <c>mask[i] = u_i &lt; keepProbability ? 1/keepProbability : 0</c>, u_i as in <see cref="Bernoulli"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepProbability"/> is not in (0, 1].</exception>
    public static void DropoutMask(RandomStream stream, ulong counter, float keepProbability, Span<float> mask, CpuKernelOptions options = default)
    {
        OperationArguments.KeepProbability(keepProbability);
        fixed (float* m = mask)
            Run(new DropoutOperator(m, keepProbability, 1f / keepProbability), stream, counter, mask.Length, options, UniformGrain);
    }

    /// <summary>
    /// One category per row of <paramref name="probabilities"/> (rows of <paramref name="columns"/> values): row r takes the uniform
    /// u_r at position <c>counter*4 + r</c> and becomes, in <paramref name="samples"/>, the one-hot vector of the first category whose
    /// running sum exceeds u_r, or of the last category when rounding leaves the row's sum at or below u_r.
    /// <paramref name="samples"/> may be <paramref name="probabilities"/> itself.
    /// </summary>
    /// <remarks>One row's work is a few additions, and the rows are the softmax groups of a batch (hundreds): one thread, scalar.</remarks>
    /// <exception cref="ArgumentException">The lengths differ, the spans overlap other than exactly, or the length is not whole rows.</exception>
    public static void OneHot(RandomStream stream, ulong counter, ReadOnlySpan<float> probabilities, Span<float> samples, int columns)
    {
        KernelChecks.SameLength(probabilities.Length, nameof(probabilities), samples.Length, nameof(samples));
        KernelChecks.NoPartialOverlap(probabilities, nameof(probabilities), samples, nameof(samples));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (probabilities.Length % columns != 0)
            throw new ArgumentException($"{probabilities.Length} values are not whole rows of {columns} categories.", nameof(probabilities));
        int rows = probabilities.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            float u = Philox4x32.Uniform(stream, counter * 4 + (ulong)r), running = 0f;
            var row = probabilities.Slice(r * columns, columns);
            int chosen = columns - 1;
            for (int c = 0; c < columns; c++)
            {
                running += row[c];
                if (u < running)
                {
                    chosen = c;
                    break;
                }
            }
            var output = samples.Slice(r * columns, columns);
            output.Clear();
            output[chosen] = 1f;
        }
    }

    /// <summary>
    /// <c>destination[k]</c> = the uniform at position <c>counter*4 + first + k</c> of <paramref name="stream"/>, on the calling thread
    /// (for kernels that draw inside their own parallel loop); <paramref name="first"/> need not be a multiple of 4, and at most
    /// <see cref="UniformAtMaxLength"/> values are drawn per call.
    /// </summary>
    internal static void UniformAt(RandomStream stream, ulong counter, long first, Span<float> destination, SimdPath path)
    {
        if (destination.Length > UniformAtMaxLength) throw new ArgumentException($"At most {UniformAtMaxLength} values per call, got {destination.Length}.", nameof(destination));
        long aligned = first & ~3L;
        int skip = (int)(first - aligned);
        Span<float> words = stackalloc float[UniformAtMaxLength + 4];
        words = words[..(destination.Length + skip)];
        fixed (float* w = words)
            Generate(new UniformOperator(w - aligned), stream, counter, (nint)aligned, (nint)(first + destination.Length), path);
        words[skip..].CopyTo(destination);
    }

    /// <summary>The most values one <see cref="UniformAt"/> call draws (its buffer is on the stack).</summary>
    internal const int UniformAtMaxLength = 256;

    // ---------------------------------------------------------------------------------------------

    private static void Run<TOp>(TOp op, RandomStream stream, ulong counter, int length, in CpuKernelOptions options, int grain)
        where TOp : struct, IRandomOperator
    {
        SimdPath path = options.ResolvedPath;
        // Parts start at multiples of 64 elements, i.e. on block boundaries.
        KernelParallel.For(new RandomRange<TOp>(op, stream, counter, path), length, options.ResolvedThreads, grain, alignment: 64);
    }

    private readonly struct RandomRange<TOp>(TOp op, RandomStream stream, ulong counter, SimdPath path) : IRangeKernel
        where TOp : struct, IRandomOperator
    {
        public void Execute(nint start, nint length) => Generate(op, stream, counter, start, start + length, path);
    }

    /// <summary>Runs <paramref name="op"/> on elements [start, end); start must be a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Generate<TOp>(TOp op, RandomStream stream, ulong counter, nint start, nint end, SimdPath path)
        where TOp : struct, IRandomOperator
    {
        uint key0 = (uint)stream.Seed, key1 = (uint)(stream.Seed >> 32);
        ulong block = counter + (ulong)(start / 4);
        ulong s = stream.Stream;
        nint i = start;
        if (path == SimdPath.Avx512)
        {
            Vector512<ulong> ctr = Vector512.Create(block, s, block + 1, s, block + 2, s, block + 3, s);
            Vector512<ulong> step = Vector512.Create(4ul, 0ul, 4ul, 0ul, 4ul, 0ul, 4ul, 0ul);
            for (; i <= end - 16; i += 16)
            {
                op.Invoke(Philox4x32.Generate4(ctr, key0, key1), i);
                ctr = Avx512F.Add(ctr, step);
            }
            block += (ulong)((i - start) / 4);
        }
        else if (path == SimdPath.Avx2)
        {
            Vector256<ulong> ctr = Vector256.Create(block, s, block + 1, s);
            Vector256<ulong> step = Vector256.Create(2ul, 0ul, 2ul, 0ul);
            for (; i <= end - 8; i += 8)
            {
                op.Invoke(Philox4x32.Generate2(ctr, key0, key1), i);
                ctr = Avx2.Add(ctr, step);
            }
            block += (ulong)((i - start) / 4);
        }
        for (; i < end; i += 4, block++)
            op.Invoke(Philox4x32.Generate(stream, block), i, (int)Math.Min(4, end - i));
    }

    private static Vector512<float> ToUniform(Vector512<uint> words) =>
        Avx512F.ConvertToVector512Single(Avx512F.ShiftRightLogical(words, 8).AsInt32()) * Vector512.Create(Philox4x32.UniformScale);

    private static Vector256<float> ToUniform(Vector256<uint> words) =>
        Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(words, 8).AsInt32()) * Vector256.Create(Philox4x32.UniformScale);

    /// <summary>What a sampler does with the words for its elements.</summary>
    private interface IRandomOperator
    {
        /// <summary>Elements [i, i+16) from four consecutive blocks.</summary>
        void Invoke(Vector512<uint> words, nint i);
        /// <summary>Elements [i, i+8) from two consecutive blocks.</summary>
        void Invoke(Vector256<uint> words, nint i);
        /// <summary>Elements [i, i+count), count 1..4, from one block.</summary>
        void Invoke(PhiloxBlock block, nint i, int count);
    }

    private readonly struct UniformOperator(float* destination) : IRandomOperator
    {
        public void Invoke(Vector512<uint> words, nint i) => ToUniform(words).Store(destination + i);
        public void Invoke(Vector256<uint> words, nint i) => ToUniform(words).Store(destination + i);
        public void Invoke(PhiloxBlock block, nint i, int count)
        {
            for (int j = 0; j < count; j++)
                destination[i + j] = Philox4x32.ToUniform(block[j]);
        }
    }

    private readonly struct GaussianOperator(float* destination, float mean, float standardDeviation) : IRandomOperator
    {
        public void Invoke(Vector512<uint> words, nint i)
        {
            // Each lane pair (w_even, w_odd) is one Box-Muller pair: the radius comes from the even word,
            // the angle from the odd one; the even lane takes the cosine, the odd lane the sine.
            Vector512<int> even = Avx512F.Shuffle(words, 0xA0).AsInt32();
            Vector512<int> odd = Avx512F.Shuffle(words, 0xF5).AsInt32();
            Vector512<float> scale = Vector512.Create(Philox4x32.UniformScale);
            Vector512<float> u1 = Avx512F.ConvertToVector512Single(Avx512F.ShiftRightLogical(even, 8) + Vector512<int>.One) * scale;
            Vector512<float> u2 = Avx512F.ConvertToVector512Single(Avx512F.ShiftRightLogical(odd, 8)) * scale;
            Vector512<float> r = Avx512F.Sqrt(Vector512.Create(-2f) * SimdMath.LogPositive(u1));
            SimdMath.SinCosTurns(u2, out Vector512<float> sin, out Vector512<float> cos);
            Vector512<float> oddLanes = Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
            Vector512<float> z = r * Vector512.ConditionalSelect(oddLanes, sin, cos);
            Avx512F.FusedMultiplyAdd(Vector512.Create(standardDeviation), z, Vector512.Create(mean)).Store(destination + i);
        }

        public void Invoke(Vector256<uint> words, nint i)
        {
            Vector256<int> even = Avx2.Shuffle(words, 0xA0).AsInt32();
            Vector256<int> odd = Avx2.Shuffle(words, 0xF5).AsInt32();
            Vector256<float> scale = Vector256.Create(Philox4x32.UniformScale);
            Vector256<float> u1 = Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(even, 8) + Vector256<int>.One) * scale;
            Vector256<float> u2 = Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(odd, 8)) * scale;
            Vector256<float> r = Avx.Sqrt(Vector256.Create(-2f) * SimdMath.LogPositive(u1));
            SimdMath.SinCosTurns(u2, out Vector256<float> sin, out Vector256<float> cos);
            Vector256<float> oddLanes = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
            Vector256<float> z = r * Avx.BlendVariable(cos, sin, oddLanes);
            Fma.MultiplyAdd(Vector256.Create(standardDeviation), z, Vector256.Create(mean)).Store(destination + i);
        }

        public void Invoke(PhiloxBlock block, nint i, int count)
        {
            (float z0, float z1) = Philox4x32.BoxMuller(block.X0, block.X1);
            (float z2, float z3) = count > 2 ? Philox4x32.BoxMuller(block.X2, block.X3) : (0f, 0f);
            destination[i] = MathF.FusedMultiplyAdd(standardDeviation, z0, mean);
            if (count > 1)
                destination[i + 1] = MathF.FusedMultiplyAdd(standardDeviation, z1, mean);
            if (count > 2)
                destination[i + 2] = MathF.FusedMultiplyAdd(standardDeviation, z2, mean);
            if (count > 3)
                destination[i + 3] = MathF.FusedMultiplyAdd(standardDeviation, z3, mean);
        }
    }

    private readonly struct BernoulliOperator(float* probabilities, float* samples) : IRandomOperator
    {
        public void Invoke(Vector512<uint> words, nint i)
        {
            Vector512<float> p = Vector512.Load(probabilities + i);
            Vector512<float> hit = Avx512F.CompareLessThan(ToUniform(words), p);
            Avx512F.And(hit.AsUInt32(), Vector512<float>.One.AsUInt32()).AsSingle().Store(samples + i);
        }

        public void Invoke(Vector256<uint> words, nint i)
        {
            Vector256<float> p = Vector256.Load(probabilities + i);
            Avx.And(Avx.CompareLessThan(ToUniform(words), p), Vector256<float>.One).Store(samples + i);
        }

        public void Invoke(PhiloxBlock block, nint i, int count)
        {
            for (int j = 0; j < count; j++)
                samples[i + j] = Philox4x32.ToUniform(block[j]) < probabilities[i + j] ? 1f : 0f;
        }
    }

    private readonly struct SigmoidBernoulliOperator(float* preActivation, float* probabilities, float* samples) : IRandomOperator
    {
        public void Invoke(Vector512<uint> words, nint i)
        {
            Vector512<float> p = SimdMath.Sigmoid(Vector512.Load(preActivation + i));
            Vector512<float> hit = Avx512F.CompareLessThan(ToUniform(words), p);
            p.Store(probabilities + i);
            Avx512F.And(hit.AsUInt32(), Vector512<float>.One.AsUInt32()).AsSingle().Store(samples + i);
        }

        public void Invoke(Vector256<uint> words, nint i)
        {
            Vector256<float> p = SimdMath.Sigmoid(Vector256.Load(preActivation + i));
            Vector256<float> hit = Avx.CompareLessThan(ToUniform(words), p);
            p.Store(probabilities + i);
            Avx.And(hit, Vector256<float>.One).Store(samples + i);
        }

        public void Invoke(PhiloxBlock block, nint i, int count)
        {
            for (int j = 0; j < count; j++)
            {
                float p = SimdMath.Sigmoid(preActivation[i + j]);
                probabilities[i + j] = p;
                samples[i + j] = Philox4x32.ToUniform(block[j]) < p ? 1f : 0f;
            }
        }
    }

    private readonly struct DropoutOperator(float* mask, float keep, float scale) : IRandomOperator
    {
        public void Invoke(Vector512<uint> words, nint i)
        {
            Vector512<float> hit = Avx512F.CompareLessThan(ToUniform(words), Vector512.Create(keep));
            Avx512F.And(hit.AsUInt32(), Vector512.Create(scale).AsUInt32()).AsSingle().Store(mask + i);
        }

        public void Invoke(Vector256<uint> words, nint i) =>
            Avx.And(Avx.CompareLessThan(ToUniform(words), Vector256.Create(keep)), Vector256.Create(scale)).Store(mask + i);

        public void Invoke(PhiloxBlock block, nint i, int count)
        {
            for (int j = 0; j < count; j++)
                mask[i + j] = Philox4x32.ToUniform(block[j]) < keep ? scale : 0f;
        }
    }
}
