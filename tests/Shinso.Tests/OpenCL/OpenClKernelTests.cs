using Shinso.Backends.KernelPairs;
using Shinso.Backends;
using Shinso.OpenCL;
using Shinso.Random;
using Shinso.Tensors;
using static Shinso.Tests.OpenCL.TwinBackends;
using Shinso.Operations;

namespace Shinso.Tests.OpenCL;

/// <summary>
/// Every OpenCL kernel against its CPU twin on shape lists chosen for each kernel's edges (tiles, vector widths, strides),
/// through the backend interface; generated shapes against the double-precision references are the harness's
/// (<see cref="BackendOperations.BackendOperationOpenClTests"/>).
/// </summary>
[Collection(OpenClCollection.Name)]
public class OpenClKernelTests(TwinBackends twins)
{
    private CpuBackend Cpu => twins.Cpu;
    private OpenClBackend Device => twins.Device;

    public static TheoryData<string> GemmTiles() => new() { "auto", "large", "large-vector", "medium", "medium-vector", "narrow-vector", "small", "small-vector" };

    private static GemmTile? Tile(string name) => name switch
    {
        "large" => GemmTile.Large, "large-vector" => GemmTile.LargeVector, "narrow-vector" => GemmTile.NarrowVector,
        "medium" => GemmTile.Medium, "medium-vector" => GemmTile.MediumVector,
        "small" => GemmTile.Small, "small-vector" => GemmTile.SmallVector, _ => null,
    };

    [Theory]
    [MemberData(nameof(GemmTiles))]
    public void Gemm_matches_the_cpu_for_every_transpose_pair_and_edge_shape(string tile)
    {
        Device.ForcedGemmTile = Tile(tile);
        try
        {
            var random = new System.Random(11);
            // Shapes whose dimensions are all multiples of 4 take sgemm_vec under a vector tile, the others sgemm:
            // partial tiles in M, N and K, several k-slices, and K shorter than one slice. The last two are one
            // block of C over a long K, which every device splits into k-ranges (the second with a ragged last range).
            int[][] shapes = [[1, 1, 1], [7, 5, 3], [33, 17, 65], [100, 20, 784], [129, 130, 31], [64, 128, 16],
                              [132, 260, 36], [4, 8, 4], [128, 128, 48], [200, 68, 100], [6, 24, 5000], [20, 13, 4099]];
            foreach (var s in shapes)
            foreach (var ta in new[] { Transpose.None, Transpose.Transposed })
            foreach (var tb in new[] { Transpose.None, Transpose.Transposed })
            {
                int m = s[0], n = s[1], k = s[2];
                var a = twins.Random(random, -1, 1, ta == Transpose.None ? [m, k] : [k, m]);
                var b = twins.Random(random, -1, 1, tb == Transpose.None ? [k, n] : [n, k]);
                var c = twins.Random(random, -1, 1, m, n);
                float beta = random.Next(3) == 0 ? 0f : 0.5f;
                Cpu.Gemm(ta, tb, 1.25f, a.Cpu, b.Cpu, beta, c.Cpu);
                Device.Gemm(ta, tb, 1.25f, a.Device, b.Device, beta, c.Device);
                if (Device.ForcedGemmTile is { Vector: true })
                    Assert.Equal(a.Cpu.Columns % 4 == 0 && b.Cpu.Columns % 4 == 0 ? "sgemm_vec" : "sgemm_vec (vload4)", Device.LastGemmKernel);
                Assert.Equal(k >= GemmTile.SplitKMinimum, Device.LastGemmParts > 1);
                AssertClose(c, 1e-5, 2e-5 * k, $"gemm {tile} {m}x{n}x{k} {ta}/{tb}");
            }
        }
        finally
        {
            Device.ForcedGemmTile = null;
        }
    }

    [Theory]
    [InlineData("large-vector")]
    [InlineData("medium-vector")]
    [InlineData("narrow-vector")]
    [InlineData("small-vector")]
    public void Gemm_vector_kernel_loads_aligned_views_as_float4_and_others_through_vload4(string tile)
    {
        Device.ForcedGemmTile = Tile(tile);
        try
        {
            var random = new System.Random(13);
            // Row views of A (10 x k), B and C (10 x n): when A's and B's offsets and widths are multiples of 4 the
            // kernel loads aligned float4, whatever C is (an unaligned C only changes how it stores); otherwise vload4.
            // B is stored as (rows, columns), transposed when the flag says so; every view starts at row `first`.
            (int[] A, int[] B, bool TransB, int[] C, string Kernel)[] cases =
            [
                ([12, 8, 1], [9, 12, 1], false, [12, 12, 1], "sgemm_vec"),
                ([12, 8, 2], [11, 8, 1], true, [13, 10, 3], "sgemm_vec"),
                ([12, 6, 1], [7, 12, 1], false, [12, 12, 1], "sgemm_vec (vload4)"),
                ([12, 8, 1], [9, 10, 1], false, [12, 10, 1], "sgemm_vec (vload4)"),
            ];
            foreach (var (ashape, bshape, transB, cshape, kernel) in cases)
            {
                int m = 10, k = ashape[1], n = cshape[1];
                var tb = transB ? Transpose.Transposed : Transpose.None;
                int bRows = transB ? n : k;
                var a = twins.Random(random, -1, 1, ashape[0], ashape[1]);
                var b = twins.Random(random, -1, 1, bshape[0], bshape[1]);
                var c = twins.Random(random, -1, 1, cshape[0], cshape[1]);
                Cpu.Gemm(Transpose.None, tb, 0.75f, a.Cpu.SliceRows(ashape[2], m), b.Cpu.SliceRows(bshape[2], bRows), 0.5f, c.Cpu.SliceRows(cshape[2], m));
                Device.Gemm(Transpose.None, tb, 0.75f, a.Device.SliceRows(ashape[2], m), b.Device.SliceRows(bshape[2], bRows), 0.5f, c.Device.SliceRows(cshape[2], m));
                Assert.Equal(kernel, Device.LastGemmKernel);
                AssertClose(c, 1e-5, 2e-5 * k, $"gemm {tile} view A {string.Join('x', ashape)} B {string.Join('x', bshape)} C {string.Join('x', cshape)}");
            }
        }
        finally
        {
            Device.ForcedGemmTile = null;
        }
    }

    [Fact]
    public void Gemm_tile_choice_follows_the_shape_of_c_and_the_compute_units()
    {
        Assert.Equal(GemmTile.LargeVector, GemmTile.For(4096, 4096, 132));
        Assert.Equal(GemmTile.MediumVector, GemmTile.For(2048, 1024, 132));
        Assert.Equal(GemmTile.SmallVector, GemmTile.For(100, 500, 132));
        // LeNet's first convolution, 6 channels by 100 x 28 x 28 pixels: 32-row blocks, not 128-row ones.
        Assert.Equal(GemmTile.NarrowVector, GemmTile.For(6, 78_400, 132));
        Assert.Equal(GemmTile.LargeVector, GemmTile.For(33, 78_400, 132));
    }

    [Fact]
    public void Gemm_splits_k_only_for_small_products_over_a_long_k()
    {
        // LeNet's first-layer weight gradient on a 132-unit GPU: one block, cut into ranges for about 264 groups.
        int chunk = GemmTile.SplitKChunk(6, 25, 78_400, GemmTile.SmallVector, 132);
        Assert.Equal(0, chunk % GemmTile.SmallVector.TileK);
        Assert.InRange((78_400 + chunk - 1) / chunk, 150, 264);
        Assert.True(chunk >= GemmTile.SplitKMinimumChunk);
        // Ranges never shorter than the minimum, and a ragged last range still covers K.
        int few = GemmTile.SplitKChunk(6, 25, 2_100, GemmTile.SmallVector, 132);
        Assert.True(few >= GemmTile.SplitKMinimumChunk && (2_100 + few - 1) / few * few >= 2_100);
        // No split for short K, or when C already has a block for every compute unit.
        Assert.Equal(2_000, GemmTile.SplitKChunk(6, 25, 2_000, GemmTile.SmallVector, 132));
        Assert.Equal(50_000, GemmTile.SplitKChunk(4096, 4096, 50_000, GemmTile.LargeVector, 132));
        Assert.Equal(50_000, GemmTile.SplitKChunk(100, 500, 50_000, GemmTile.SmallVector, 2));
    }

    [Fact]
    public void Kernel_profile_counts_every_launch_by_kernel()
    {
        Assert.Throws<InvalidOperationException>(() => Device.KernelProfile());
        using var profiled = new OpenClBackend(Device.DeviceInfo.Index, profileKernels: true);
        var a = profiled.Allocate(64, 32);           // Allocate fills with zeros: one fill launch each
        var b = profiled.Allocate(32, 48);
        var c = profiled.Allocate(64, 48);
        for (int i = 0; i < 3; i++) profiled.Gemm(Transpose.None, Transpose.None, 1f, a, b, 0f, c);
        string report = profiled.KernelProfile();
        string[] lines = report.Split('\n');
        string Row(string kernel) => Assert.Single(lines, l => l.TrimStart().StartsWith(kernel + " ", StringComparison.Ordinal));
        Assert.Equal("3", Row(profiled.LastGemmKernel!).Split(' ', StringSplitOptions.RemoveEmptyEntries)[^4]);
        Assert.Equal("3", Row("fill").Split(' ', StringSplitOptions.RemoveEmptyEntries)[^4]);
        Assert.Contains("6 launches", lines[0]);
    }

    [Fact]
    public void Gemm_tile_knob_reads_scalar_and_vector_shapes_and_rejects_bad_ones()
    {
        Assert.Null(GemmTile.Parse(" "));
        Assert.Equal(GemmTile.Large, GemmTile.Parse("128,128,32,8,8"));
        Assert.Equal(GemmTile.Large, GemmTile.Parse("128, 128, 32, 8, 8, scalar"));
        Assert.Equal(GemmTile.LargeVector, GemmTile.Parse("128,128,16,8,8,vector"));
        // The built-in vector shapes meet the rules the knob checks (float4 loads divide evenly among the items).
        foreach (var t in new[] { GemmTile.LargeVector, GemmTile.MediumVector, GemmTile.NarrowVector, GemmTile.SmallVector })
            Assert.Equal(t, GemmTile.Parse($"{t.TileM},{t.TileN},{t.TileK},{t.WorkM},{t.WorkN},vector"));
        Assert.Contains("five positive integers", Assert.Throws<ArgumentException>(() => GemmTile.Parse("128,128,16,8")).Message);
        Assert.Contains("five positive integers", Assert.Throws<ArgumentException>(() => GemmTile.Parse("128,128,16,8,8,wide")).Message);
        Assert.Contains("divisible by 4", Assert.Throws<ArgumentException>(() => GemmTile.Parse("32,32,16,2,2,vector")).Message);
        Assert.Contains("at most 1024 items", Assert.Throws<ArgumentException>(() => GemmTile.Parse("128,128,16,3,8")).Message);
    }

    [Fact]
    public void Gemm_with_beta_zero_ignores_nans_in_c_and_reads_row_views()
    {
        var random = new System.Random(3);
        var a = twins.Random(random, -1, 1, 10, 8);
        var b = twins.Random(random, -1, 1, 8, 6);
        var nan = new float[9 * 6];
        Array.Fill(nan, float.NaN);
        var c = twins.Pair(nan, 9, 6);
        // Rows 2..8 of a and rows 3..8 of c: views at an offset into their buffers.
        Cpu.Gemm(Transpose.None, Transpose.None, 1f, a.Cpu.SliceRows(2, 6), b.Cpu, 0f, c.Cpu.SliceRows(3, 6));
        Device.Gemm(Transpose.None, Transpose.None, 1f, a.Device.SliceRows(2, 6), b.Device, 0f, c.Device.SliceRows(3, 6));
        AssertClose(c, 1e-5, 1e-5, "gemm view");
        Assert.True(float.IsNaN(Read(c.Device)[0]), "rows outside the view stay untouched");
    }

    [Fact]
    public void Blas1_and_reductions_match_the_cpu()
    {
        var random = new System.Random(5);
        foreach (int length in new[] { 1, 63, 64, 1000, 4097 })
        {
            var x = twins.Random(random, -2, 2, length);
            var y = twins.Random(random, -2, 2, length);
            Cpu.Axpy(0.7f, x.Cpu, y.Cpu); Device.Axpy(0.7f, x.Device, y.Device);
            AssertClose(y, 1e-6, 1e-6, "axpy");
            Cpu.Axpby(0.3f, x.Cpu, -1.5f, y.Cpu); Device.Axpby(0.3f, x.Device, -1.5f, y.Device);
            AssertClose(y, 1e-6, 1e-6, "axpby");
            var nan = twins.Pair(Enumerable.Repeat(float.NaN, length).ToArray(), length);
            Cpu.Axpby(2f, x.Cpu, 0f, nan.Cpu); Device.Axpby(2f, x.Device, 0f, nan.Device);
            AssertClose(nan, 0, 0, "axpby beta 0");
            Cpu.ScaleShift(x.Cpu, 3f, -1f, y.Cpu); Device.ScaleShift(x.Device, 3f, -1f, y.Device);
            AssertClose(y, 1e-6, 1e-6, "scale-shift");
            var r = twins.Pair(new float[length], length);
            Cpu.Multiply(x.Cpu, y.Cpu, r.Cpu); Device.Multiply(x.Device, y.Device, r.Device);
            AssertClose(r, 1e-6, 0, "multiply");
            Assert.Equal(Cpu.Sum(x.Cpu), Device.Sum(x.Device), 1e-4 * Math.Sqrt(length));
            Assert.Equal(Cpu.SumOfSquares(x.Cpu), Device.SumOfSquares(x.Device), 1e-5 * length);
            Cpu.Fill(r.Cpu, 2.5f); Device.Fill(r.Device, 2.5f);
            AssertClose(r, 0, 0, "fill");
            Cpu.Copy(x.Cpu, r.Cpu); Device.Copy(x.Device, r.Device);
            AssertClose(r, 0, 0, "copy");
        }
        foreach (var (rows, columns) in new[] { (1, 1), (100, 500), (37, 65) })
        {
            var m = twins.Random(random, -1, 1, rows, columns);
            var row = twins.Random(random, -1, 1, columns);
            Cpu.AddRowVector(m.Cpu, row.Cpu); Device.AddRowVector(m.Device, row.Device);
            AssertClose(m, 1e-6, 1e-6, "add-row-vector");
            var sums = twins.Random(random, -1, 1, columns);
            Cpu.SumColumns(m.Cpu, sums.Cpu, 0.9f); Device.SumColumns(m.Device, sums.Device, 0.9f);
            AssertClose(sums, 1e-5, 1e-5 * rows, "sum-columns");
            var rowSums = twins.Pair(new float[rows], rows);
            Cpu.SumRows(m.Cpu, rowSums.Cpu); Device.SumRows(m.Device, rowSums.Device);
            AssertClose(rowSums, 1e-5, 1e-5 * columns, "sum-rows");
            Cpu.ClipColumnNorms(m.Cpu, 1.5f); Device.ClipColumnNorms(m.Device, 1.5f);
            AssertClose(m, 1e-5, 1e-6, "max-norm");
        }
    }

    [Theory]
    [InlineData(Activation.Identity)]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.AbsoluteValue)]
    [InlineData(Activation.Step)]
    public void Activations_and_their_derivatives_match_the_cpu(Activation function)
    {
        var random = new System.Random((int)function);
        var x = twins.Random(random, -8, 8, 77, 13);
        var y = twins.Pair(new float[77 * 13], 77, 13);
        var dy = twins.Random(random, -1, 1, 77, 13);
        var dx = twins.Pair(new float[77 * 13], 77, 13);
        Cpu.Activate(function, x.Cpu, y.Cpu); Device.Activate(function, x.Device, y.Device);
        AssertClose(y, 2e-6, 2e-7, $"{function}");
        Cpu.ActivationBackward(function, x.Cpu, y.Cpu, dy.Cpu, dx.Cpu); Device.ActivationBackward(function, x.Device, y.Device, dy.Device, dx.Device);
        AssertClose(dx, 2e-6, 2e-7, $"{function}'");
    }

    [Fact]
    public void The_step_agrees_with_the_cpu_at_its_boundary()
    {
        // No subnormals: an OpenCL 1.2 device may flush them to zero (the CPU paths are tested with them).
        float[] specials = [float.NaN, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f, 1f, -1f];
        var x = twins.Pair(specials, 1, specials.Length);
        var y = twins.Pair(new float[specials.Length], 1, specials.Length);
        Cpu.Activate(Activation.Step, x.Cpu, y.Cpu); Device.Activate(Activation.Step, x.Device, y.Device);
        var device = new float[specials.Length];
        Device.Download(y.Device, device);
        Assert.Equal(new float[] { 0, 1, 1, 1, 0, 1, 0, 1, 0 }, y.Cpu.Span.ToArray());
        Assert.Equal(y.Cpu.Span.ToArray(), device);
    }

    [Fact]
    public void Softmax_family_and_losses_match_the_cpu_and_stay_stable_for_large_inputs()
    {
        var random = new System.Random(9);
        foreach (var (rows, columns, scale) in new[] { (100, 10, 5f), (3, 2000, 1f), (4, 10, 1000f) })
        {
            var x = twins.Random(random, -scale, scale, rows, columns);
            var y = twins.Pair(new float[rows * columns], rows, columns);
            Cpu.SoftmaxRows(x.Cpu, y.Cpu); Device.SoftmaxRows(x.Device, y.Device);
            AssertClose(y, 1e-5, 1e-7, "softmax");
            var lse = twins.Pair(new float[rows], rows);
            Cpu.LogSumExpRows(x.Cpu, lse.Cpu); Device.LogSumExpRows(x.Device, lse.Device);
            AssertClose(lse, 1e-6, 1e-5, "log-sum-exp");
            var dy = twins.Random(random, -1, 1, rows, columns);
            var dx = twins.Pair(new float[rows * columns], rows, columns);
            Cpu.SoftmaxBackward(y.Cpu, dy.Cpu, dx.Cpu); Device.SoftmaxBackward(y.Device, dy.Device, dx.Device);
            AssertClose(dx, 1e-4, 1e-6, "softmax backward");
            var softplus = twins.Pair(new float[rows], rows);
            Cpu.SoftplusSumRows(x.Cpu, 0.5f, softplus.Cpu); Device.SoftplusSumRows(x.Device, 0.5f, softplus.Device);
            AssertClose(softplus, 1e-5, 1e-4, "softplus-sum");

            var targets = new float[rows * columns];
            for (int i = 0; i < rows; i++) targets[i * columns + random.Next(columns)] = 1f;
            var t = twins.Pair(targets, rows, columns);
            var p = twins.Pair(new float[rows * columns], rows, columns);
            var g = twins.Pair(new float[rows * columns], rows, columns);
            float lossCpu = Cpu.SoftmaxCrossEntropy(x.Cpu, t.Cpu, p.Cpu, g.Cpu);
            float lossDevice = Device.SoftmaxCrossEntropy(x.Device, t.Device, p.Device, g.Device);
            Assert.Equal(lossCpu, lossDevice, 1e-5 * Math.Max(1, Math.Abs(lossCpu)));
            AssertClose(p, 1e-5, 1e-7, "softmax-CE probabilities");
            AssertClose(g, 1e-5, 1e-8, "softmax-CE gradient");
            lossCpu = Cpu.SigmoidCrossEntropy(x.Cpu, t.Cpu, p.Cpu, g.Cpu);
            lossDevice = Device.SigmoidCrossEntropy(x.Device, t.Device, p.Device, g.Device);
            Assert.Equal(lossCpu, lossDevice, 1e-5 * Math.Max(1, Math.Abs(lossCpu)));
            AssertClose(p, 1e-5, 1e-7, "sigmoid-CE probabilities");
            AssertClose(g, 1e-5, 1e-8, "sigmoid-CE gradient");
            lossCpu = Cpu.SquaredError(x.Cpu, t.Cpu, g.Cpu);
            lossDevice = Device.SquaredError(x.Device, t.Device, g.Device);
            Assert.Equal(lossCpu, lossDevice, 1e-5 * Math.Max(1, Math.Abs(lossCpu)));
            AssertClose(g, 1e-6, 1e-7, "squared-error gradient");
        }
    }

    [Fact]
    public void Philox_words_uniforms_bernoulli_and_dropout_are_bit_identical_to_the_cpu()
    {
        var stream = new RandomStream(0x1234_5678_9ABC_DEF0, 77);
        const ulong counter = (1UL << 32) - 3;   // the block counter carries into its high word inside the range
        uint[] words = Device.PhiloxWords(stream, counter, 4099);
        for (int i = 0; i < words.Length; i++)
            Assert.True(words[i] == Philox4x32.Word(stream, counter * 4 + (ulong)i), $"word {i}");

        var u = twins.Pair(new float[4099], 4099);
        Cpu.SampleUniform(stream, counter, u.Cpu); Device.SampleUniform(stream, counter, u.Device);
        AssertIdentical(Read(u.Cpu), Read(u.Device), "uniform");

        var random = new System.Random(1);
        var p = twins.Random(random, 0, 1, 4099);
        var s = twins.Pair(new float[4099], 4099);
        Cpu.SampleBernoulli(stream, 5, p.Cpu, s.Cpu); Device.SampleBernoulli(stream, 5, p.Device, s.Device);
        AssertIdentical(Read(s.Cpu), Read(s.Device), "bernoulli");

        Cpu.SampleDropoutMask(stream, 9, 0.8f, s.Cpu); Device.SampleDropoutMask(stream, 9, 0.8f, s.Device);
        AssertIdentical(Read(s.Cpu), Read(s.Device), "dropout mask");

        Cpu.SampleGaussian(stream, 11, 0.5f, 2f, s.Cpu); Device.SampleGaussian(stream, 11, 0.5f, 2f, s.Device);
        AssertClose(s, 1e-5, 2e-6, "gaussian");
    }

    [Fact]
    public void Sigmoid_bernoulli_gives_the_cpu_probabilities_and_samples()
    {
        var stream = new RandomStream(42, 3);
        var random = new System.Random(2);
        var x = twins.Random(random, -6, 6, 100, 500);
        var p = twins.Pair(new float[50_000], 100, 500);
        var s = twins.Pair(new float[50_000], 100, 500);
        Cpu.SigmoidBernoulli(stream, 17, x.Cpu, p.Cpu, s.Cpu);
        Device.SigmoidBernoulli(stream, 17, x.Device, p.Device, s.Device);
        AssertClose(p, 2e-6, 1e-7, "sigmoid probabilities");
        // Samples agree wherever the uniform is not within rounding of the probability (sigmoid's last bits may differ).
        float[] sc = Read(s.Cpu), sd = Read(s.Device), pc = Read(p.Cpu), uniforms = new float[50_000];
        var u = Cpu.Allocate(100, 500);
        Cpu.SampleUniform(stream, 17, u);
        Cpu.Download(u, uniforms);
        int differing = 0;
        for (int i = 0; i < sc.Length; i++)
        {
            if (Math.Abs(uniforms[i] - pc[i]) > 1e-6) Assert.True(sc[i] == sd[i], $"sample {i}: u {uniforms[i]} p {pc[i]}");
            else if (sc[i] != sd[i]) differing++;
        }
        Assert.True(differing <= 2, $"{differing} boundary samples differ");
    }

    public static TheoryData<string> Optimizers() => new() { "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam" };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Optimizer_updates_match_the_cpu(string optimizer)
    {
        var random = new System.Random(optimizer.Length);
        var p = twins.Random(random, -1, 1, 1001);
        var g = twins.Random(random, -1, 1, 1001);
        var s1 = twins.Random(random, 0, 1, 1001);
        var s2 = twins.Random(random, 0, 1, 1001);
        for (int step = 1; step <= 3; step++)
        {
            foreach (IBackend backend in new IBackend[] { Cpu, Device })
            {
                bool cpu = backend == Cpu;
                Tensor P = cpu ? p.Cpu : p.Device, G = cpu ? g.Cpu : g.Device, A = cpu ? s1.Cpu : s1.Device, B = cpu ? s2.Cpu : s2.Device;
                switch (optimizer)
                {
                    case "momentum": backend.MomentumUpdate(P, G, A, 0.1f, 0.9f); break;
                    case "nesterov": backend.NesterovUpdate(P, G, A, 0.1f, 0.9f); break;
                    case "adagrad": backend.AdaGradUpdate(P, G, A, 0.1f, 1e-6f); break;
                    case "rmsprop": backend.RmsPropUpdate(P, G, A, 0.01f, 0.9f, 1e-6f); break;
                    case "adadelta": backend.AdaDeltaUpdate(P, G, A, B, 0.95f, 1e-6f); break;
                    default: backend.AdamUpdate(P, G, A, B, 1e-3f, 0.9f, 0.999f, 1e-8f, step); break;
                }
            }
        }
        AssertClose(p, 1e-5, 1e-6, optimizer + " parameters");
        AssertClose(s1, 1e-5, 1e-6, optimizer + " state");
        AssertClose(s2, 1e-5, 1e-6, optimizer + " second state");
    }

    [Fact]
    public void Im2col_col2im_and_channel_bias_match_the_cpu()
    {
        var random = new System.Random(4);
        ConvolutionGeometry[] geometries =
        [
            new(1, 28, 28, 5, 5, 1, 1, 2, 2),
            new(3, 13, 11, 3, 3, 2, 2, 1, 1),
            new(2, 8, 9, 2, 3, 1, 2, 0, 1),
        ];
        foreach (var g in geometries)
        {
            const int n = 3;
            var images = twins.Random(random, -1, 1, n, g.Channels, g.Height, g.Width);
            var columns = twins.Pair(new float[n * g.ColumnRows * g.ColumnCount], n, g.ColumnRows, g.ColumnCount);
            Cpu.Im2Col(images.Cpu, g, columns.Cpu); Device.Im2Col(images.Device, g, columns.Device);
            AssertClose(columns, 0, 0, "im2col");
            var back = twins.Random(random, -1, 1, n, g.Channels, g.Height, g.Width);
            Cpu.Col2Im(columns.Cpu, g, back.Cpu); Device.Col2Im(columns.Device, g, back.Device);
            AssertClose(back, 1e-6, 1e-6, "col2im");
            var bias = twins.Random(random, -1, 1, g.Channels);
            Cpu.AddChannelBias(images.Cpu, g.Channels, bias.Cpu); Device.AddChannelBias(images.Device, g.Channels, bias.Device);
            AssertClose(images, 1e-6, 1e-6, "add channel bias");
            Cpu.SumChannelBias(images.Cpu, g.Channels, bias.Cpu); Device.SumChannelBias(images.Device, g.Channels, bias.Device);
            AssertClose(bias, 1e-5, 1e-4, "sum channel bias");
            var swapped = twins.Pair(new float[images.Cpu.Length], g.Channels, n, g.Height * g.Width);
            Cpu.SwapLeadingAxes(images.Cpu, n, g.Channels, swapped.Cpu); Device.SwapLeadingAxes(images.Device, n, g.Channels, swapped.Device);
            AssertClose(swapped, 0, 0, "swap leading axes");
        }
    }

    [Fact]
    public void Tiled_im2col_col2im_and_tile_interleaving_match_the_cpu()
    {
        var random = new System.Random(5);
        TiledConvolutionGeometry[] geometries =
        [
            new(new(1, 28, 28, 8, 8), 3),
            new(new(3, 13, 11, 3, 3, 2, 2, 1, 1), 2),
            new(new(2, 8, 9, 2, 3, 1, 2, 0, 1), 7),
        ];
        foreach (var g in geometries)
        {
            const int n = 3, f = 4;
            var c = g.Convolution;
            int width = n * g.SlotsPerImage;
            var images = twins.Random(random, -1, 1, n, c.Channels, c.Height, c.Width);
            var columns = twins.Random(random, -1, 1, g.Tiles * c.ColumnRows, width);
            Cpu.TiledIm2Col(images.Cpu, g, columns.Cpu); Device.TiledIm2Col(images.Device, g, columns.Device);
            AssertClose(columns, 0, 0, "tiled im2col");
            var back = twins.Random(random, -1, 1, n, c.Channels, c.Height, c.Width);
            Cpu.TiledCol2Im(columns.Cpu, g, back.Cpu); Device.TiledCol2Im(columns.Device, g, back.Device);
            AssertClose(back, 1e-6, 1e-6, "tiled col2im");
            var products = twins.Random(random, -1, 1, g.Tiles * f, width);
            var bias = twins.Random(random, -1, 1, g.Tiles * f);
            var maps = twins.Random(random, -1, 1, n, f, c.OutputHeight, c.OutputWidth);
            Cpu.TileInterleave(products.Cpu, g, f, bias.Cpu, maps.Cpu); Device.TileInterleave(products.Device, g, f, bias.Device, maps.Device);
            AssertClose(maps, 0, 0, "tile interleave");
            Cpu.TileDeinterleave(maps.Cpu, g, f, products.Cpu); Device.TileDeinterleave(maps.Device, g, f, products.Device);
            AssertClose(products, 0, 0, "tile deinterleave");
        }
    }

    [Fact]
    public void Probabilistic_max_pooling_matches_the_cpu_and_samples_the_same_blocks()
    {
        var random = new System.Random(6);
        const int n = 3, groups = 4, side = 6, block = 3;
        var input = twins.Random(random, -8, 8, n, groups * side * side);
        var hidden = twins.Pair(new float[n * groups * side * side], n, groups * side * side);
        var pool = twins.Pair(new float[n * groups * 4], n, groups * 4);
        Cpu.ProbabilisticMaxPool(input.Cpu, groups, side, side, block, hidden.Cpu, pool.Cpu);
        Device.ProbabilisticMaxPool(input.Device, groups, side, side, block, hidden.Device, pool.Device);
        AssertClose(hidden, 1e-6, 1e-5, "detection probabilities");
        AssertClose(pool, 1e-6, 1e-5, "pooling probabilities");
        // From the same probabilities both backends draw the same uniforms and walk each block in the same order.
        var same = twins.Pair(hidden.Cpu.Span.ToArray(), n, groups * side * side);
        var samples = twins.Pair(new float[n * groups * side * side], n, groups * side * side);
        var pooled = twins.Pair(new float[n * groups * 4], n, groups * 4);
        var stream = RandomStream.Root(9).Derive("pool-sample");
        Cpu.SampleProbabilisticMaxPool(stream, 5, same.Cpu, groups, side, side, block, samples.Cpu, pooled.Cpu);
        Device.SampleProbabilisticMaxPool(stream, 5, same.Device, groups, side, side, block, samples.Device, pooled.Device);
        AssertClose(samples, 0, 0, "detection samples");
        AssertClose(pooled, 0, 0, "pooling samples");
    }

    [Fact]
    public void Convolution_forward_and_backward_passes_match_the_cpu()
    {
        var random = new System.Random(6);
        (ConvolutionGeometry Geometry, int Filters, int Images)[] cases =
        [
            (new(1, 28, 28, 5, 5, 1, 1, 2, 2), 6, 4),
            (new(3, 13, 11, 3, 3, 2, 2, 1, 1), 5, 3),
            (new(2, 8, 9, 2, 3, 1, 2, 0, 1), 7, 2),
        ];
        foreach (var (g, filters, n) in cases)
        {
            string what = $"{g.Channels}x{g.Height}x{g.Width} k{g.KernelHeight}x{g.KernelWidth} s{g.StrideHeight} -> {filters}";
            var input = twins.Random(random, -1, 1, n, g.Channels, g.Height, g.Width);
            var weight = twins.Random(random, -0.5f, 0.5f, filters, g.ColumnRows);
            var bias = twins.Random(random, -0.5f, 0.5f, filters);
            var output = twins.Pair(new float[n * filters * g.ColumnCount], n, filters, g.OutputHeight, g.OutputWidth);
            Cpu.ConvolutionForward(input.Cpu, g, weight.Cpu, bias.Cpu, output.Cpu);
            Device.ConvolutionForward(input.Device, g, weight.Device, bias.Device, output.Device);
            AssertClose(output, 1e-5, 1e-5, $"convolution forward {what}");

            var outputGradient = twins.Random(random, -1, 1, n, filters, g.OutputHeight, g.OutputWidth);
            var weightGradient = twins.Pair(new float[filters * g.ColumnRows], filters, g.ColumnRows);
            var biasGradient = twins.Pair(new float[filters], filters);
            var inputGradient = twins.Pair(new float[input.Cpu.Length], n, g.Channels, g.Height, g.Width);
            Cpu.ConvolutionBackward(input.Cpu, g, weight.Cpu, outputGradient.Cpu, weightGradient.Cpu, biasGradient.Cpu, inputGradient.Cpu);
            Device.ConvolutionBackward(input.Device, g, weight.Device, outputGradient.Device, weightGradient.Device, biasGradient.Device, inputGradient.Device);
            AssertClose(weightGradient, 1e-4, 1e-4, $"convolution weight gradient {what}");
            AssertClose(biasGradient, 1e-4, 1e-4, $"convolution bias gradient {what}");
            AssertClose(inputGradient, 1e-5, 1e-5, $"convolution input gradient {what}");

            // Without an input gradient (a first layer) the parameter gradients are the same.
            var weightOnly = twins.Pair(new float[filters * g.ColumnRows], filters, g.ColumnRows);
            Device.ConvolutionBackward(input.Device, g, weight.Device, outputGradient.Device, weightOnly.Device, biasGradient.Device, null);
            TwinBackends.AssertClose(TwinBackends.Read(weightGradient.Cpu), TwinBackends.Read(weightOnly.Device), 1e-4, 1e-4, $"first-layer weight gradient {what}");

            // The input gradient alone (no parameter gradients) is the full pass's: on the CPU bit for bit, since both run the
            // same chunks through Sgemm, whose result does not depend on how its threads split the work.
            var inputOnly = twins.Pair(new float[input.Cpu.Length], n, g.Channels, g.Height, g.Width);
            Cpu.ConvolutionInputGradient(outputGradient.Cpu, g, weight.Cpu, inputOnly.Cpu);
            Device.ConvolutionInputGradient(outputGradient.Device, g, weight.Device, inputOnly.Device);
            TwinBackends.AssertClose(TwinBackends.Read(inputGradient.Cpu), TwinBackends.Read(inputOnly.Cpu), 0, 0, $"cpu input gradient alone {what}");
            AssertClose(inputOnly, 1e-5, 1e-5, $"convolution input gradient alone {what}");
        }
    }

    public static TheoryData<int> PoolingCases() => new() { 0, 1, 2, 3 };

    [Theory]
    [MemberData(nameof(PoolingCases))]
    public void Pooling_forward_and_backward_match_the_cpu(int which)
    {
        PoolingGeometry g = which switch
        {
            0 => new(3, 24, 24, 2, 2, 2, 2),
            1 => new(2, 13, 13, 3, 3, 2, 2, 1, 1),
            2 => new(2, 13, 11, 3, 3, 2, 2, 0, 0, CeilMode: true),
            _ => new(1, 7, 9, 3, 2, 1, 1, 1, 1),
        };
        var random = new System.Random(which);
        const int n = 4;
        var x = twins.Random(random, -2, 2, n, g.Channels, g.Height, g.Width);
        var y = twins.Pair(new float[n * g.OutputLength], n, g.OutputLength);
        var arg = twins.Pair(new float[n * g.OutputLength], n, g.OutputLength);
        var dy = twins.Random(random, -1, 1, n, g.OutputLength);
        var dx = twins.Random(random, -1, 1, n, g.InputLength);
        Cpu.MaxPoolForward(x.Cpu, g, y.Cpu, arg.Cpu); Device.MaxPoolForward(x.Device, g, y.Device, arg.Device);
        AssertClose(y, 0, 0, "max pool"); AssertClose(arg, 0, 0, "max pool argmax");
        Cpu.MaxPoolBackward(dy.Cpu, arg.Cpu, g, dx.Cpu); Device.MaxPoolBackward(dy.Device, arg.Device, g, dx.Device);
        AssertClose(dx, 1e-6, 1e-6, "max pool backward");
        foreach (bool includePad in new[] { false, true })
        {
            Cpu.AvgPoolForward(x.Cpu, g, includePad, y.Cpu); Device.AvgPoolForward(x.Device, g, includePad, y.Device);
            AssertClose(y, 1e-6, 1e-6, "avg pool");
            Cpu.AvgPoolBackward(dy.Cpu, g, includePad, dx.Cpu); Device.AvgPoolBackward(dy.Device, g, includePad, dx.Device);
            AssertClose(dx, 1e-6, 1e-6, "avg pool backward");
        }
        foreach (float p in new[] { 2f, 3f })
        {
            Cpu.LpPoolForward(x.Cpu, g, p, y.Cpu); Device.LpPoolForward(x.Device, g, p, y.Device);
            AssertClose(y, 1e-5, 1e-6, $"L{p} pool");
            Cpu.LpPoolBackward(x.Cpu, y.Cpu, dy.Cpu, g, p, dx.Cpu); Device.LpPoolBackward(x.Device, y.Device, dy.Device, g, p, dx.Device);
            AssertClose(dx, 1e-4, 1e-5, $"L{p} pool backward");
        }
    }

    [Fact]
    public void A_kernel_pair_refuses_overlapping_views_and_foreign_tensors_on_both_backends_naming_the_argument()
    {
        foreach (IBackend backend in new IBackend[] { Cpu, Device })
        {
            var rows = backend.Allocate(4, 6);
            // Rows 0-1 as the input, and row 1 seen as the [2, 3] output, overlapping it.
            var overlapping = rows.SliceRows(1, 1).Reshape(2, 3);
            var e = Assert.Throws<ArgumentException>(() => backend.Run(new MaxoutForward(rows.SliceRows(0, 2), 2, overlapping)));
            Assert.Equal("Output", e.ParamName);
            var dx = backend.Allocate(2, 6);
            e = Assert.Throws<ArgumentException>(() => backend.Run(new MaxoutBackward(rows.SliceRows(0, 2), dx.SliceRows(0, 1).Reshape(2, 3), backend.Allocate(2, 3), 2, dx)));
            Assert.Equal("InputGradient", e.ParamName);
            IBackend other = ReferenceEquals(backend, Cpu) ? Device : Cpu;
            e = Assert.Throws<ArgumentException>(() => backend.Run(new MaxoutForward(other.Allocate(2, 6), 2, backend.Allocate(2, 3))));
            Assert.Equal("Input", e.ParamName);
        }
    }

    [Theory]
    [InlineData(5, 0.75f)]
    [InlineData(4, 0.5f)]
    [InlineData(3, 0.6f)]
    public void Local_response_normalization_matches_the_cpu(int size, float beta)
    {
        var random = new System.Random(size);
        const int n = 3, channels = 7, spatial = 5 * 6;
        var parameters = new LrnParameters(size, 1e-2f, beta, 2f);
        var x = twins.Random(random, -3, 3, n, channels, 5, 6);
        var y = twins.Pair(new float[n * channels * spatial], n, channels, 5, 6);
        var s = twins.Pair(new float[n * channels * spatial], n, channels, 5, 6);
        Cpu.Run(new LrnForward(x.Cpu, channels, parameters, y.Cpu, s.Cpu)); Device.Run(new LrnForward(x.Device, channels, parameters, y.Device, s.Device));
        AssertClose(y, 2e-6, 1e-7, "lrn"); AssertClose(s, 1e-6, 1e-7, "lrn scale");
        var dy = twins.Random(random, -1, 1, n, channels, 5, 6);
        var dx = twins.Pair(new float[n * channels * spatial], n, channels, 5, 6);
        Cpu.Run(new LrnBackward(x.Cpu, y.Cpu, s.Cpu, dy.Cpu, channels, parameters, dx.Cpu));
        Device.Run(new LrnBackward(x.Device, y.Device, s.Device, dy.Device, channels, parameters, dx.Device));
        AssertClose(dx, 1e-5, 1e-6, "lrn backward");
    }

    [Theory]
    [InlineData(3, 9, 9, 5, 1.5f)]
    [InlineData(1, 12, 7, 3, 1f)]
    public void Local_contrast_normalization_matches_the_cpu(int channels, int height, int width, int size, float sigma)
    {
        var random = new System.Random(height);
        const int n = 3;
        var g = new LcnGeometry(channels, height, width, size, sigma);
        var x = twins.Random(random, -1, 1, n, g.ImageLength);
        var y = twins.Pair(new float[n * g.ImageLength], n, g.ImageLength);
        var dev = twins.Pair(new float[n * g.PlaneLength], n, g.PlaneLength);
        Cpu.LcnForward(x.Cpu, g, y.Cpu, dev.Cpu); Device.LcnForward(x.Device, g, y.Device, dev.Device);
        AssertClose(y, 1e-4, 1e-5, "lcn"); AssertClose(dev, 1e-5, 1e-6, "lcn deviation");
        var dy = twins.Random(random, -1, 1, n, g.ImageLength);
        var dx = twins.Pair(new float[n * g.ImageLength], n, g.ImageLength);
        Cpu.LcnBackward(y.Cpu, dev.Cpu, dy.Cpu, g, dx.Cpu); Device.LcnBackward(y.Device, dev.Device, dy.Device, g, dx.Device);
        AssertClose(dx, 1e-4, 1e-4, "lcn backward");
    }

    [Fact]
    public void Local_contrast_normalization_of_a_constant_image_is_zero_with_a_finite_gradient_on_both_backends()
    {
        // v = 0 and s = 0 everywhere: the divisor's floor (LcnGeometry.DivisorFloor) makes it 0 / eps, not 0/0.
        var g = new LcnGeometry(2, 5, 6, 3, 1f);
        var x = twins.Pair(Enumerable.Repeat(0.7f, 2 * g.ImageLength).ToArray(), 2, g.ImageLength);
        var y = twins.Pair(new float[2 * g.ImageLength], 2, g.ImageLength);
        var dev = twins.Pair(new float[2 * g.PlaneLength], 2, g.PlaneLength);
        Cpu.LcnForward(x.Cpu, g, y.Cpu, dev.Cpu); Device.LcnForward(x.Device, g, y.Device, dev.Device);
        var dy = twins.Random(new System.Random(3), -1, 1, 2, g.ImageLength);
        var dx = twins.Pair(new float[2 * g.ImageLength], 2, g.ImageLength);
        Cpu.LcnBackward(y.Cpu, dev.Cpu, dy.Cpu, g, dx.Cpu); Device.LcnBackward(y.Device, dev.Device, dy.Device, g, dx.Device);
        foreach (var (values, what) in new[] { (TwinBackends.Read(y.Cpu), "cpu y"), (TwinBackends.Read(y.Device), "device y") })
            Assert.All(values, v => Assert.True(float.IsFinite(v) && Math.Abs(v) < 1e-2f, $"{what}: {v}"));
        foreach (var (values, what) in new[] { (TwinBackends.Read(dx.Cpu), "cpu dx"), (TwinBackends.Read(dx.Device), "device dx") })
            Assert.All(values, v => Assert.True(float.IsFinite(v), $"{what}: {v}"));
        AssertClose(dx, 1e-4, 1e-4, "lcn backward on a constant image");
    }

    [Fact]
    public void Boltzmann_kernels_match_the_cpu()
    {
        var random = new System.Random(8);
        var m = twins.Random(random, -2, 2, 31, 19);
        var scale = twins.Random(random, 0.5f, 2, 19);
        var r = twins.Pair(new float[31 * 19], 31, 19);
        Cpu.ScaleColumns(m.Cpu, scale.Cpu, r.Cpu); Device.ScaleColumns(m.Device, scale.Device, r.Device);
        AssertClose(r, 1e-6, 0, "scale columns");
        Cpu.ScaledSigmoid(m.Cpu, 0.5f, r.Cpu); Device.ScaledSigmoid(m.Device, 0.5f, r.Device);
        AssertClose(r, 2e-6, 1e-7, "scaled sigmoid");
        var drive = twins.Random(random, -1, 1, 31, 19);
        var bias = twins.Random(random, -1, 1, 19);
        var stats = twins.Random(random, -1, 1, 19);
        Cpu.GaussianScaleStatistics(m.Cpu, drive.Cpu, bias.Cpu, scale.Cpu, stats.Cpu, 0.5f);
        Device.GaussianScaleStatistics(m.Device, drive.Device, bias.Device, scale.Device, stats.Device, 0.5f);
        AssertClose(stats, 1e-5, 1e-4, "gaussian scale statistics");
    }

    [Fact]
    public void Sparse_coding_passes_match_the_cpu()
    {
        var random = new System.Random(12);
        const int rows = 37, atoms = 53;
        var h = twins.Random(random, -1, 1, rows, atoms);
        var hp = twins.Random(random, -1, 1, rows, atoms);
        var p = twins.Random(random, -2, 2, rows, atoms);
        var pp = twins.Random(random, -2, 2, rows, atoms);
        var b = twins.Random(random, -2, 2, rows, atoms);
        var momentum = twins.Random(random, 0, 1, rows);
        Cpu.ShrinkageStep(h.Cpu, hp.Cpu, p.Cpu, pp.Cpu, b.Cpu, momentum.Cpu, 0.3f, 0.25f);
        Device.ShrinkageStep(h.Device, hp.Device, p.Device, pp.Device, b.Device, momentum.Device, 0.3f, 0.25f);
        // The step performs the same operations in the same order on both: bit for bit, zeros included.
        AssertClose(hp, 0, 0, "shrinkage step");
        var cpuStep = TwinBackends.Read(hp.Cpu);
        Assert.InRange(cpuStep.Count(v => v == 0f), 1, cpuStep.Length - 1);

        // Half the rows above, half below the candidate's objective: both accept and restart run.
        var hostObjective = new float[rows];
        var z = TwinBackends.Read(hp.Cpu);
        var pz = TwinBackends.Read(pp.Cpu);
        var hostB = TwinBackends.Read(b.Cpu);
        for (int r = 0; r < rows; r++)
        {
            double f = 0;
            for (int j = 0; j < atoms; j++)
            {
                int e = r * atoms + j;
                f += z[e] * (0.5 * pz[e] - hostB[e]) + 0.1 * Math.Abs(z[e]);
            }
            hostObjective[r] = (float)(r % 2 == 0 ? f + 1 : f - 1);
        }
        var objective = twins.Pair(hostObjective, rows);
        var t = twins.Random(random, 1, 3, rows);
        Cpu.AcceptDescent(hp.Cpu, pp.Cpu, h.Cpu, p.Cpu, b.Cpu, 0.1f, objective.Cpu, t.Cpu, momentum.Cpu);
        Device.AcceptDescent(hp.Device, pp.Device, h.Device, p.Device, b.Device, 0.1f, objective.Device, t.Device, momentum.Device);
        AssertClose(hp, 0, 0, "accepted or restarted codes");
        AssertClose(pp, 0, 0, "accepted or restarted products");
        AssertClose(objective, 1e-5, 1e-5, "objective");
        AssertClose(t, 1e-6, 1e-6, "t");
        AssertClose(momentum, 1e-6, 1e-6, "momentum");
        var restarted = TwinBackends.Read(t.Cpu);
        Assert.Contains(1f, restarted);
        Assert.Contains(restarted, v => v > 1f);

        var pooled = twins.Random(random, 0, 4, rows, atoms);
        var roots = twins.Pair(new float[rows * atoms], rows, atoms);
        var inverse = twins.Pair(new float[rows * atoms], rows, atoms);
        Cpu.PoolingRoots(pooled.Cpu, 0.01f, roots.Cpu, inverse.Cpu);
        Device.PoolingRoots(pooled.Device, 0.01f, roots.Device, inverse.Device);
        AssertClose(roots, 1e-6, 0, "pooling roots");
        AssertClose(inverse, 3e-6, 0, "inverse pooling roots");
        var hostPooled = TwinBackends.Read(pooled.Cpu);
        var hostRoots = TwinBackends.Read(roots.Cpu);
        for (int i = 0; i < hostPooled.Length; i++) Assert.True(Math.Abs(hostRoots[i] - Math.Sqrt(0.01 + hostPooled[i])) < 1e-6 * hostRoots[i]);

        // The factored form: residual, step from a gradient, acceptance from reconstructions.
        const int features = 19;
        var recon = twins.Random(random, -1, 1, rows, features);
        var reconPrev = twins.Random(random, -1, 1, rows, features);
        var x = twins.Random(random, -1, 1, rows, features);
        var residual = twins.Pair(new float[rows * features], rows, features);
        Cpu.ExtrapolatedResidual(recon.Cpu, reconPrev.Cpu, x.Cpu, momentum.Cpu, residual.Cpu);
        Device.ExtrapolatedResidual(recon.Device, reconPrev.Device, x.Device, momentum.Device, residual.Device);
        AssertClose(residual, 0, 0, "extrapolated residual");
        var g = twins.Random(random, -2, 2, rows, atoms);
        Cpu.ProximalStep(h.Cpu, hp.Cpu, g.Cpu, momentum.Cpu, 0.3f, 0.25f);
        Device.ProximalStep(h.Device, hp.Device, g.Device, momentum.Device, 0.3f, 0.25f);
        AssertClose(hp, 0, 0, "proximal step");
        var hostZ = TwinBackends.Read(hp.Cpu);
        var hostR = TwinBackends.Read(reconPrev.Cpu);
        var hostX = TwinBackends.Read(x.Cpu);
        for (int i = 0; i < rows; i++)
        {
            double f = 0;
            for (int j = 0; j < features; j++) f += 0.5 * Math.Pow(hostR[i * features + j] - hostX[i * features + j], 2);
            for (int j = 0; j < atoms; j++) f += 0.1 * Math.Abs(hostZ[i * atoms + j]);
            hostObjective[i] = (float)(i % 2 == 0 ? f + 1 : f - 1);
        }
        var objective2 = twins.Pair(hostObjective, rows);
        var t2 = twins.Random(random, 1, 3, rows);
        Cpu.AcceptReconstruction(hp.Cpu, reconPrev.Cpu, h.Cpu, recon.Cpu, x.Cpu, 0.1f, objective2.Cpu, t2.Cpu, momentum.Cpu);
        Device.AcceptReconstruction(hp.Device, reconPrev.Device, h.Device, recon.Device, x.Device, 0.1f, objective2.Device, t2.Device, momentum.Device);
        AssertClose(hp, 0, 0, "accepted or restarted codes (factored)");
        AssertClose(reconPrev, 0, 0, "accepted or restarted reconstructions");
        AssertClose(objective2, 1e-5, 1e-5, "objective (factored)");
        AssertClose(t2, 1e-6, 1e-6, "t (factored)");
    }

    [Fact]
    public void Tensors_of_another_backend_and_wrong_shapes_are_rejected_with_the_argument_named()
    {
        var cpu = Cpu.Allocate(3, 4);
        var device = Device.Allocate(3, 4);
        var e = Assert.Throws<ArgumentException>(() => Device.Axpy(1f, cpu, device));
        Assert.Contains("x lives on backend 'cpu'", e.Message);
        var wrong = Device.Allocate(5);
        e = Assert.Throws<ArgumentException>(() => Device.AddRowVector(device, wrong));
        Assert.Equal("row", e.ParamName);
    }
}
