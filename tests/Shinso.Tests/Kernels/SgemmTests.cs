using FsCheck;
using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

public class SgemmTests
{
    // The paths this CPU runs; SimdCoverageTests reports the ones it cannot as skipped.
    public static TheoryData<SimdPath> Paths => Requirements.SupportedPaths(SimdPath.Avx512, SimdPath.Avx2, SimdPath.Scalar);
    public static TheoryData<SimdPath> SimdPaths => Requirements.SupportedPaths(SimdPath.Avx512, SimdPath.Avx2);

    /// <summary>One generated GEMM call: shapes, transposes, leading-dimension slack and scalars.</summary>
    public sealed record Case(int M, int N, int K, Transpose TransA, Transpose TransB,
        int PadA, int PadB, int PadC, float Alpha, float Beta, int Seed)
    {
        public override string ToString() =>
            $"m={M} n={N} k={K} {TransA}/{TransB} pads={PadA},{PadB},{PadC} alpha={Alpha} beta={Beta} seed={Seed}";
    }

    private static Gen<Case> CaseGen(int maxDim) =>
        from m in Gen.Choose(1, maxDim)
        from n in Gen.Choose(1, maxDim)
        from k in Gen.Choose(1, maxDim)
        from ta in Gen.Elements(Transpose.None, Transpose.Transposed)
        from tb in Gen.Elements(Transpose.None, Transpose.Transposed)
        from padA in Gen.Choose(0, 3)
        from padB in Gen.Choose(0, 3)
        from padC in Gen.Choose(0, 3)
        from alpha in Gen.Elements(1f, -1f, 0.75f, 0f, -2.5f)
        from beta in Gen.Elements(0f, 0f, 1f, -0.5f, 2f)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(m, n, k, ta, tb, padA, padB, padC, alpha, beta, seed);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Matches_naive_gemm_on_random_small_shapes(SimdPath path)
    {
        PropertyCheck.ForAll(CaseGen(67), c => CheckAgainstNaive(c, new CpuKernelOptions(path)), maxTests: 150);
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Matches_naive_gemm_across_cache_block_boundaries(SimdPath path)
    {
        var options = new CpuKernelOptions(path);
        // 300x517x600 crosses the K blocks and partial tiles on both sides; 523 rows cross an M block;
        // 4133 columns cross an N block.
        CheckAgainstNaive(new Case(300, 517, 600, Transpose.None, Transpose.None, 0, 0, 0, 1f, 0f, 1), options);
        CheckAgainstNaive(new Case(300, 517, 600, Transpose.Transposed, Transpose.Transposed, 3, 1, 2, -0.5f, 1f, 2), options);
        CheckAgainstNaive(new Case(523, 45, 531, Transpose.None, Transpose.Transposed, 1, 0, 5, 1.5f, -2f, 3), options);
        CheckAgainstNaive(new Case(523, 45, 531, Transpose.Transposed, Transpose.None, 0, 2, 0, 1f, 0f, 4), options);
        CheckAgainstNaive(new Case(14, 4133, 19, Transpose.None, Transpose.None, 2, 0, 1, 1f, 0.5f, 5), options);
        // One M block packs B a panel at a time: across K blocks and into the next N block, from both layouts of B (on
        // one thread, so the columns are not split below one N block).
        var oneThread = options with { Threads = 1 };
        CheckAgainstNaive(new Case(40, 4133, 300, Transpose.None, Transpose.Transposed, 0, 1, 0, 1f, 0f, 9), oneThread);
        CheckAgainstNaive(new Case(29, 4110, 270, Transpose.Transposed, Transpose.None, 1, 0, 2, -1f, 0.5f, 10), oneThread);
        // A small C over a long K (a convolution's weight gradient): crosses the long-K path's K blocks and its masked tail.
        CheckAgainstNaive(new Case(6, 25, 5003, Transpose.None, Transpose.Transposed, 1, 3, 2, 1f, 0f, 6), options);
        CheckAgainstNaive(new Case(17, 70, 2051, Transpose.None, Transpose.Transposed, 0, 0, 1, -0.5f, 1.5f, 7), options);
        // A last column tile of three (the four-way reduction's partial store).
        CheckAgainstNaive(new Case(9, 27, 700, Transpose.None, Transpose.Transposed, 0, 0, 0, 1f, 0f, 8), options);
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void A_product_of_one_m_block_equals_the_same_rows_of_a_product_of_several_bit_for_bit(SimdPath path)
    {
        // 600 rows are two M blocks, whose B block is packed whole; 40 rows are one, packed a panel at a time.
        var options = new CpuKernelOptions(path, 1);
        foreach (var (tb, beta) in new[] { (Transpose.None, 0f), (Transpose.Transposed, 1f) })
        {
            const int tall = 600, rows = 40, n = 4133, k = 300;
            var (a, b, c0) = Operands(new Case(tall, n, k, Transpose.None, tb, 1, 2, 3, 0.75f, beta, 11));
            int lda = k + 1, ldb = (tb == Transpose.None ? n : k) + 2, ldc = n + 3;
            var full = (float[])c0.Clone();
            Sgemm.Compute(Transpose.None, tb, tall, n, k, 0.75f, a, lda, b, ldb, beta, full, ldc, options);
            var few = (float[])c0.Clone();
            Sgemm.Compute(Transpose.None, tb, rows, n, k, 0.75f, a, lda, b, ldb, beta, few, ldc, options);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(full[i * ldc + j]), BitConverter.SingleToInt32Bits(few[i * ldc + j]));
        }
    }

    [RequiresAvx512Fact]
    public void A_few_rows_multiply_bit_identically_to_the_same_rows_of_a_taller_product()
    {
        // Up to 16 rows with an untransposed B skip packing on AVX-512; those rows must equal the packed path's.
        foreach (var options in new[] { new CpuKernelOptions(SimdPath.Avx512, 1), new CpuKernelOptions(SimdPath.Avx512, 2) })
        foreach (var (rows, n, k, ta, beta) in new[]
        {
            (1, 120, 400, Transpose.None, 0f), (6, 784, 25, Transpose.None, 0f), (16, 100, 150, Transpose.Transposed, 1f),
            (5, 2003, 600, Transpose.None, -0.5f), (3, 63, 257, Transpose.Transposed, 2f), (16, 64, 1, Transpose.None, 0f),
        })
        {
            const int tall = 40;
            var (a, b, c0) = Operands(new Case(tall, n, k, ta, Transpose.None, 1, 2, 3, 0.75f, beta, rows * 31 + n));
            int lda = (ta == Transpose.None ? k : tall) + 1, ldb = n + 2, ldc = n + 3;
            var full = (float[])c0.Clone();
            Sgemm.Compute(ta, Transpose.None, tall, n, k, 0.75f, a, lda, b, ldb, beta, full, ldc, options);
            // The same product restricted to the first rows: A's first rows (or first columns when transposed).
            var few = (float[])c0.Clone();
            Sgemm.Compute(ta, Transpose.None, rows, n, k, 0.75f, a, lda, b, ldb, beta, few, ldc, options);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(full[i * ldc + j]), BitConverter.SingleToInt32Bits(few[i * ldc + j]));
            for (int j = 0; j < n; j++) // the row after the last one stays untouched
                Assert.Equal(c0[rows * ldc + j], few[rows * ldc + j]);
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void One_and_two_threads_give_bit_identical_results(SimdPath path)
    {
        // The first shape splits rows between threads, the second columns.
        foreach (var c in new[]
        {
            new Case(517, 389, 700, Transpose.None, Transpose.Transposed, 1, 2, 3, 0.5f, -1f, 11),
            new Case(30, 2003, 300, Transpose.Transposed, Transpose.None, 0, 0, 0, 1f, 0f, 12),
            new Case(16, 150, 4000, Transpose.None, Transpose.Transposed, 0, 1, 0, 1f, 1f, 13),
            new Case(6, 784, 25, Transpose.None, Transpose.None, 0, 0, 0, 1f, 0f, 14),
        })
        {
            var (a, b, c0) = Operands(c);
            var one = (float[])c0.Clone();
            var two = (float[])c0.Clone();
            Call(c, a, b, one, new CpuKernelOptions(path, 1));
            Call(c, a, b, two, new CpuKernelOptions(path, 2));
            Assert.Equal(one, two);
        }
    }

    /// <summary>
    /// The affine product on column panels, streamed (up to 16 rows, AVX-512) or blocked: two threads give one thread's
    /// result bit for bit, and that is the unpacked GEMM's followed by the bias.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Column_panel_products_are_bit_identical_across_threads_and_to_the_unpacked_gemm(SimdPath path)
    {
        var random = new System.Random(21);
        // Streamed shapes, then blocked ones: a row split, a column split in the middle of a panel (at column 96), and
        // an N past one 4096-column block.
        foreach (var (m, k, n) in new[] { (1, 784, 800), (5, 300, 700), (16, 1000, 130), (100, 300, 250), (37, 520, 70), (20, 300, 192), (40, 19, 4133) })
        {
            var a = KernelTestData.RandomArray(random, m * k, -1f, 1f);
            var b = KernelTestData.RandomArray(random, k * n, -1f, 1f);
            var bias = KernelTestData.RandomArray(random, n, -1f, 1f);
            var panels = new float[ColumnPanels.Shape(k, n).Aggregate(1, (x, y) => x * y)];
            SgemmColumnPanels.Pack(b, k, n, panels);
            bool streamed = path == SimdPath.Avx512 && m <= ColumnPanels.MaxRows;
            int mr = path == SimdPath.Avx512 ? SgemmAvx512Kernel.MR : SgemmAvx2Kernel.MR, nr = path == SimdPath.Avx512 ? SgemmAvx512Kernel.NR : SgemmAvx2Kernel.NR;
            int parts = streamed ? SgemmColumnPanels.Parts(n, k, 2) : Sgemm.ChooseParts(m, n, k, mr, nr, 2, out _);
            // AVX2 runs the few-row shapes blocked, below the GEMM's flop threshold for a second thread.
            if (streamed || m > ColumnPanels.MaxRows) Assert.True(parts == 2, $"{m}x{k}x{n} stays on one thread");
            var one = new float[m * n];
            var two = new float[m * n];
            SgemmColumnPanels.Compute(m, n, k, a, k, panels, bias, one, n, new CpuKernelOptions(path, 1));
            SgemmColumnPanels.Compute(m, n, k, a, k, panels, bias, two, n, new CpuKernelOptions(path, 2));
            Assert.Equal(one, two);
            var unpacked = new float[m * n];
            Sgemm.Compute(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, unpacked, n, new CpuKernelOptions(path, 1));
            Blas1.AddRowVector(unpacked, m, n, bias, new CpuKernelOptions(path, 1));
            Assert.Equal(unpacked, one);
        }
        // K = 0: the product is empty and C is the bias.
        var empty = new float[2 * 70];
        SgemmColumnPanels.Compute(2, 70, 0, [], 0, [], Enumerable.Range(0, 70).Select(j => (float)j).ToArray(), empty, 70, new CpuKernelOptions(path, 1));
        Assert.Equal(Enumerable.Range(0, 140).Select(i => (float)(i % 70)), empty);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Beta_zero_does_not_read_c_and_alpha_zero_does_not_read_a_or_b(SimdPath path)
    {
        var options = new CpuKernelOptions(path);
        const int m = 37, n = 45, k = 29;
        var (a, b, _) = Operands(new Case(m, n, k, Transpose.None, Transpose.None, 0, 0, 0, 1, 0, 7));
        var c = Filled(m * n, float.NaN);
        Sgemm.Compute(Transpose.None, Transpose.None, m, n, k, 1f, a, k, b, n, 0f, c, n, options);
        Assert.All(c, v => Assert.True(float.IsFinite(v)));

        var nanA = Filled(m * k, float.NaN);
        var nanB = Filled(k * n, float.NaN);
        var c2 = Filled(m * n, 3f);
        Sgemm.Compute(Transpose.None, Transpose.None, m, n, k, 0f, nanA, k, nanB, n, 0.5f, c2, n, options);
        Assert.All(c2, v => Assert.Equal(1.5f, v));
        Sgemm.Compute(Transpose.None, Transpose.None, m, n, k, 0f, nanA, k, nanB, n, 0f, c2, n, options);
        Assert.All(c2, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Zero_sizes_are_no_ops_and_k_zero_scales_c()
    {
        var c = Filled(6, 2f);
        Sgemm.Compute(Transpose.None, Transpose.None, 0, 3, 4, 1f, [], 4, new float[12], 3, 0f, [], 3);
        Sgemm.Compute(Transpose.None, Transpose.None, 2, 0, 4, 1f, new float[8], 4, [], 0, 0f, [], 0);
        Sgemm.Compute(Transpose.None, Transpose.None, 2, 3, 0, 1f, [], 0, [], 3, -1.5f, c, 3);
        Assert.All(c, v => Assert.Equal(-3f, v));
        var nan = Filled(6, float.NaN);
        Sgemm.Compute(Transpose.Transposed, Transpose.Transposed, 2, 3, 0, 1f, [], 2, [], 0, 0f, nan, 3);
        Assert.All(nan, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Negative_sizes_throw_naming_the_argument()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, -1, 2, 2, 1f, new float[4], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Equal("m", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 2, -2, 2, 1f, new float[4], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Equal("n", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 2, 2, -3, 1f, new float[4], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Equal("k", ex.ParamName);
    }

    [Fact]
    public void Short_leading_dimensions_throw_naming_the_argument()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 10, 10, 10, 1f, new float[100], 9, new float[100], 10, 0f, new float[100], 10));
        Assert.Equal("lda", ex.ParamName);
        Assert.Contains("lda=9", ex.Message);
        // Transposed A is stored k x m, so lda must cover m.
        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.Transposed, Transpose.None, 12, 10, 10, 1f, new float[120], 10, new float[100], 10, 0f, new float[120], 10));
        Assert.Equal("lda", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.Transposed, 10, 10, 12, 1f, new float[120], 12, new float[120], 10, 0f, new float[100], 10));
        Assert.Equal("ldb", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 10, 10, 10, 1f, new float[100], 10, new float[100], 10, 0f, new float[100], 9));
        Assert.Equal("ldc", ex.ParamName);
    }

    [Fact]
    public void Short_spans_throw_naming_the_argument_and_sizes()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 10, 10, 10, 1f, new float[99], 10, new float[100], 10, 0f, new float[100], 10));
        Assert.Equal("a", ex.ParamName);
        Assert.Contains("a has 99 elements", ex.Message);
        Assert.Contains("m=10", ex.Message);
        Assert.Contains("needs 100", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.Transposed, 10, 7, 5, 1f, new float[50], 5, new float[34], 5, 0f, new float[70], 7));
        Assert.Equal("b", ex.ParamName);
        Assert.Contains("needs 35", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Sgemm.Compute(Transpose.None, Transpose.None, 4, 3, 2, 1f, new float[8], 2, new float[6], 3, 0f, new float[12], 4));
        Assert.Equal("c", ex.ParamName);
        Assert.Contains("needs 15", ex.Message);
    }

    [Fact]
    public void Dense_layer_shapes_match_naive_gemm()
    {
        // The forward, input-gradient and weight-gradient GEMMs of a 784-500 layer at batch 100.
        var options = new CpuKernelOptions();
        CheckAgainstNaive(new Case(100, 500, 784, Transpose.None, Transpose.None, 0, 0, 0, 1f, 0f, 21), options);
        CheckAgainstNaive(new Case(100, 784, 500, Transpose.None, Transpose.Transposed, 0, 0, 0, 1f, 0f, 22), options);
        CheckAgainstNaive(new Case(784, 500, 100, Transpose.Transposed, Transpose.None, 0, 0, 0, -0.1f, 0.9f, 23), options);
    }

    [Fact]
    public void Steady_state_calls_do_not_allocate()
    {
        var c = new Case(200, 150, 130, Transpose.None, Transpose.Transposed, 0, 0, 0, 1f, 0f, 31);
        var (a, b, cc) = Operands(c);
        foreach (int threads in new[] { 1, 2 })
        {
            var options = new CpuKernelOptions(SimdPath.Auto, threads);
            Call(c, a, b, cc, options);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
                Call(c, a, b, cc, options);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Concurrent_callers_get_the_same_results_as_a_lone_caller()
    {
        // Several threads share the one worker pool; whoever finds it busy runs its parts inline.
        var c = new Case(160, 130, 150, Transpose.Transposed, Transpose.None, 1, 0, 2, 1f, 0f, 41);
        var (a, b, c0) = Operands(c);
        var expected = (float[])c0.Clone();
        Call(c, a, b, expected, new CpuKernelOptions(SimdPath.Auto, 1));
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    var mine = (float[])c0.Clone();
                    Call(c, a, b, mine, new CpuKernelOptions(SimdPath.Auto, 2));
                    if (!mine.AsSpan().SequenceEqual(expected))
                        failures.Enqueue($"call {i} differs");
                }
            });
            threads[t].Start();
        }
        foreach (var thread in threads)
            thread.Join();
        Assert.Empty(failures);
    }

    private sealed class RecordingWork : KernelWork
    {
        public readonly int[] Hits = new int[8];
        public int SeenCount = -1;
        public int ThrowAt = -1;

        public override void Execute(int index, int count)
        {
            SeenCount = count;
            Interlocked.Increment(ref Hits[index]);
            if (index == ThrowAt)
                throw new InvalidOperationException("part failed");
        }
    }

    [Fact]
    public void Thread_pool_runs_every_part_once_and_reports_failures()
    {
        for (int count = 1; count <= 5; count++)
        {
            var work = new RecordingWork();
            KernelThreadPool.Run(work, count);
            Assert.Equal(count, work.SeenCount);
            for (int i = 0; i < work.Hits.Length; i++)
                Assert.Equal(i < count ? 1 : 0, work.Hits[i]);
        }
        var failing = new RecordingWork { ThrowAt = 2 };
        Assert.Throws<InvalidOperationException>(() => KernelThreadPool.Run(failing, 3));
        Assert.Equal(new[] { 1, 1, 1 }, failing.Hits[..3]);
        // The pool still works after a failed part.
        var after = new RecordingWork();
        KernelThreadPool.Run(after, 3);
        Assert.Equal(new[] { 1, 1, 1 }, after.Hits[..3]);
    }

    private sealed class CountingWork : KernelWork
    {
        public readonly long[] Hits = new long[8];
        public int WrongCount;
        public int Expected;

        public override void Execute(int index, int count)
        {
            if (count != Expected) Interlocked.Increment(ref WrongCount);
            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Fact]
    public void Thread_pool_parts_claimed_by_late_workers_never_cross_into_another_call()
    {
        // Back-to-back calls with different work and part counts: a worker woken for one call that runs
        // late must claim only parts of the call it read the work from.
        var works = new[] { new CountingWork { Expected = 3 }, new CountingWork { Expected = 5 }, new CountingWork { Expected = 2 } };
        const int rounds = 20_000;
        for (int r = 0; r < rounds; r++)
        {
            var w = works[r % works.Length];
            KernelThreadPool.Run(w, w.Expected);
        }
        foreach (var w in works)
        {
            Assert.Equal(0, w.WrongCount);
            long calls = rounds / works.Length + (Array.IndexOf(works, w) < rounds % works.Length ? 1 : 0);
            for (int i = 0; i < w.Hits.Length; i++)
                Assert.Equal(i < w.Expected ? calls : 0, w.Hits[i]);
        }
    }

    private static void CheckAgainstNaive(Case c, CpuKernelOptions options)
    {
        var (a, b, c0) = Operands(c);
        int lda = LdA(c), ldb = LdB(c), ldc = c.N + c.PadC;
        var expected = NaiveGemm.Compute(c.TransA, c.TransB, c.M, c.N, c.K, c.Alpha, a, lda, b, ldb, c.Beta, c0, ldc, out var magnitude);
        var actual = (float[])c0.Clone();
        Call(c, a, b, actual, options);
        for (int i = 0; i < c.M; i++)
        {
            for (int j = 0; j < ldc && i * ldc + j < actual.Length; j++)
            {
                float got = actual[i * ldc + j];
                if (j >= c.N)
                {
                    // The slack between rows of C belongs to someone else.
                    Assert.True(float.IsNaN(got), $"{c}: C slack at ({i},{j}) was written");
                    continue;
                }
                double want = expected[i * c.N + j];
                double tolerance = 1e-6 * (c.K + 2) * magnitude[i * c.N + j] + 1e-30;
                if (!(Math.Abs(got - want) <= tolerance))
                    Assert.Fail($"{c} [{options.ResolvedPath}]: C[{i},{j}] = {got}, expected {want} (tolerance {tolerance})");
            }
        }
    }

    private static void Call(Case c, float[] a, float[] b, float[] cc, CpuKernelOptions options) =>
        Sgemm.Compute(c.TransA, c.TransB, c.M, c.N, c.K, c.Alpha, a, LdA(c), b, LdB(c), c.Beta, cc, c.N + c.PadC, options);

    private static int LdA(Case c) => (c.TransA == Transpose.None ? c.K : c.M) + c.PadA;
    private static int LdB(Case c) => (c.TransB == Transpose.None ? c.N : c.K) + c.PadB;

    // Exactly-sized buffers ((rows-1)*ld + cols), with NaN in the slack between rows so a kernel that
    // reads or writes the wrong element shows up. C holds NaN everywhere when beta == 0.
    private static (float[] A, float[] B, float[] C) Operands(Case c)
    {
        var random = new System.Random(c.Seed);
        int aRows = c.TransA == Transpose.None ? c.M : c.K, aCols = c.TransA == Transpose.None ? c.K : c.M;
        int bRows = c.TransB == Transpose.None ? c.K : c.N, bCols = c.TransB == Transpose.None ? c.N : c.K;
        var a = Matrix(random, aRows, aCols, LdA(c), fill: true);
        var b = Matrix(random, bRows, bCols, LdB(c), fill: true);
        var cc = Matrix(random, c.M, c.N, c.N + c.PadC, fill: c.Beta != 0f);
        return (a, b, cc);
    }

    private static float[] Matrix(System.Random random, int rows, int cols, int ld, bool fill)
    {
        var data = Filled((rows - 1) * ld + cols, float.NaN);
        if (fill)
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    data[i * ld + j] = (float)(random.NextDouble() * 2 - 1);
        }
        return data;
    }

    private static float[] Filled(int length, float value)
    {
        var data = new float[length];
        Array.Fill(data, value);
        return data;
    }
}
