using Shinso.Kernels.Cpu;
using Shinso.Random;
using static Shinso.Tests.Kernels.KernelTestData;

namespace Shinso.Tests.Kernels;

/// <summary>
/// The probabilistic max-pooling kernels on every SIMD path against the double-precision reference: the 2x2 vector paths
/// (widths that are multiples of 16 and of 8, and widths the scalar loop finishes), other block sizes, planes longer than one
/// draw of uniforms, and bit-identical results across paths and thread counts.
/// </summary>
public class ProbabilisticPoolingKernelTests
{
    private static readonly RandomStream Stream = RandomStream.Root(21).Derive("probabilistic-pooling-kernel");

    public static TheoryData<SimdPath> AllPaths => Paths();

    /// <summary>(planes, height, width, block): 16+8 and 8 columns, a width the vector loop cannot take, 3x3 blocks, one block per plane, and planes of 288 and 300 blocks (more than one draw of uniforms, and block rows longer than a draw).</summary>
    private static readonly (int Planes, int Height, int Width, int Block)[] Shapes =
    [
        (6, 24, 24, 2), (5, 8, 8, 2), (4, 6, 6, 2), (3, 4, 32, 2), (3, 9, 9, 3), (7, 2, 2, 2), (2, 48, 24, 2), (1, 2, 600, 2),
    ];

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Probabilities_match_the_double_reference(SimdPath path)
    {
        var random = new System.Random(5);
        foreach (var (planes, height, width, block) in Shapes)
        {
            // Inputs from -30 to 30: blocks fully off, fully on (the pooling unit near 1) and in between.
            var input = RandomArray(random, planes * height * width, -30f, 30f);
            var (hidden, pool) = Run(input, planes, height, width, block, new CpuKernelOptions(path, 1));
            var (expectedHidden, expectedPool) = NaiveKernels.ProbabilisticPooling(input, planes, height, width, block);
            string what = $"{path}, {planes}x{height}x{width}, block {block}";
            for (int i = 0; i < hidden.Length; i++) AssertClose(expectedHidden[i], hidden[i], 1e-6 + 1e-5 * expectedHidden[i], $"{what}: detection {i}");
            for (int i = 0; i < pool.Length; i++) AssertClose(expectedPool[i], pool[i], 1e-6 + 1e-5 * expectedPool[i], $"{what}: pooling {i}");
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void The_sampler_draws_the_reference_walk_from_the_same_uniforms(SimdPath path)
    {
        var random = new System.Random(6);
        foreach (var (planes, height, width, block) in Shapes)
        {
            var input = RandomArray(random, planes * height * width, -3f, 3f);
            var (hidden, _) = Run(input, planes, height, width, block, new CpuKernelOptions(SimdPath.Scalar, 1));
            foreach (ulong counter in new ulong[] { 0, 7, 1001 })
            {
                var samples = new float[hidden.Length];
                var pool = new float[planes * (height / block) * (width / block)];
                ProbabilisticPooling.Sample(Stream, counter, hidden, planes, height, width, block, samples, pool, new CpuKernelOptions(path, 1));
                var (expectedSamples, expectedPool) = NaiveKernels.SampleProbabilisticPooling(Stream, counter, hidden, planes, height, width, block);
                string what = $"{path}, {planes}x{height}x{width}, block {block}, counter {counter}";
                AssertBitIdentical(expectedSamples, samples, $"{what}: detection samples");
                AssertBitIdentical(expectedPool, pool, $"{what}: pooling samples");
            }
        }
    }

    [Fact]
    public void Every_path_and_thread_count_gives_bit_identical_probabilities_and_samples()
    {
        var random = new System.Random(7);
        foreach (var (planes, height, width, block) in Shapes)
        {
            var input = RandomArray(random, planes * height * width, -10f, 10f);
            var (referenceHidden, referencePool) = Run(input, planes, height, width, block, new CpuKernelOptions(SimdPath.Scalar, 1));
            var referenceSamples = new float[input.Length];
            var referencePooled = new float[referencePool.Length];
            ProbabilisticPooling.Sample(Stream, 3, referenceHidden, planes, height, width, block, referenceSamples, referencePooled, new CpuKernelOptions(SimdPath.Scalar, 1));
            foreach (var path in ExplicitPaths())
                foreach (int threads in new[] { 1, 2 })
                {
                    var options = new CpuKernelOptions(path, threads);
                    string what = $"{path}, {threads} thread(s), {planes}x{height}x{width}, block {block}";
                    var (hidden, pool) = Run(input, planes, height, width, block, options);
                    AssertBitIdentical(referenceHidden, hidden, $"{what}: detection probabilities");
                    AssertBitIdentical(referencePool, pool, $"{what}: pooling probabilities");
                    var samples = new float[input.Length];
                    var pooled = new float[pool.Length];
                    ProbabilisticPooling.Sample(Stream, 3, referenceHidden, planes, height, width, block, samples, pooled, options);
                    AssertBitIdentical(referenceSamples, samples, $"{what}: detection samples");
                    AssertBitIdentical(referencePooled, pooled, $"{what}: pooling samples");
                }
        }
    }

    private static (float[] Hidden, float[] Pool) Run(float[] input, int planes, int height, int width, int block, CpuKernelOptions options)
    {
        var hidden = Guarded(new float[input.Length]);
        var pool = Guarded(new float[planes * (height / block) * (width / block)]);
        ProbabilisticPooling.Probabilities(input, planes, height, width, block, Window(hidden), Window(pool), options);
        AssertGuards(hidden, "detection probabilities");
        AssertGuards(pool, "pooling probabilities");
        return (Window(hidden).ToArray(), Window(pool).ToArray());
    }
}
