using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

/// <summary>The chunked convolution passes against the definition, and the same bits on every thread count.</summary>
public class BatchConvolutionTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private static readonly FsCheck.Gen<(ConvolutionGeometry G, int Images, int Filters, int ChunkFloats, int Seed)> Problems =
        (from c in Gen.Choose(1, 3)
         from h in Gen.Choose(1, 9)
         from w in Gen.Choose(1, 11)
         from k in Gen.Choose(1, 4)
         from stride in Gen.Choose(1, 2)
         from pad in Gen.Choose(0, 2)
         // Past MaxGroups chunks of one image, each group sums several chunks.
         from many in Gen.Elements(false, false, true)
         from images in many ? Gen.Choose(BatchConvolution.MaxGroups + 1, 80) : Gen.Choose(1, 9)
         from filters in Gen.Choose(1, 5)
         // One float: a chunk per image (several groups); a few images; the whole batch in one chunk.
         from chunkFloats in Gen.Elements(1, 400, 1 << 17)
         from seed in Gen.Choose(0, 100000)
         select (new ConvolutionGeometry(c, h, w, k, k, stride, stride, Math.Min(pad, k / 2), Math.Min(pad, k / 2)), images, filters, chunkFloats, seed))
        .Where(p => p.Item1.Height + 2 * p.Item1.PadHeight >= p.Item1.KernelHeight && p.Item1.Width + 2 * p.Item1.PadWidth >= p.Item1.KernelWidth);

    private sealed record Result(float[] Y, float[] Dx, float[] Dw, float[] Db);

    private static Result Run(ConvolutionGeometry g, int images, int filters, int chunkFloats, float[] x, float[] w, float[] b, float[] dy,
        CpuKernelOptions options, ConvolutionWorkspace workspace)
    {
        var y = new float[images * filters * g.ColumnCount];
        Array.Fill(y, float.NaN);
        BatchConvolution.Forward(x, images, g, w, b, y, chunkFloats, workspace, options);
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        var db = new float[filters];
        Array.Fill(dx, float.NaN);
        Array.Fill(dw, float.NaN);
        BatchConvolution.Backward(x, images, g, w, dy, dw, db, dx, chunkFloats, workspace, options);
        return new Result(y, dx, dw, db);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Forward_and_backward_match_the_definition_and_give_the_same_bits_on_1_2_and_3_threads(SimdPath path)
    {
        // One workspace for every call, as a backend keeps it: buffers grown by one shape must serve the next.
        var workspace = new ConvolutionWorkspace();
        PropertyCheck.ForAll(Problems, p =>
        {
            var random = new System.Random(p.Seed);
            var x = RandomArray(random, p.Images * p.G.ImageLength, -1f, 1f);
            var w = RandomArray(random, p.Filters * p.G.ColumnRows, -1f, 1f);
            var b = RandomArray(random, p.Filters, -1f, 1f);
            var dy = RandomArray(random, p.Images * p.Filters * p.G.ColumnCount, -1f, 1f);
            string what = $"{p.G} N={p.Images} F={p.Filters} chunk floats {p.ChunkFloats}";

            var one = Run(p.G, p.Images, p.Filters, p.ChunkFloats, x, w, b, dy, new CpuKernelOptions(path, 1), workspace);
            var expectedY = NaiveConvolution.Convolve(x, p.Images, p.G, w, b, p.Filters);
            var (expectedDx, expectedDw, expectedDb) = NaiveConvolution.ConvolveBackward(x, p.Images, p.G, w, dy, p.Filters);
            AssertAllClose(expectedY, one.Y, p.G.ColumnRows, what + " y");
            AssertAllClose(expectedDx, one.Dx, p.Filters * p.G.KernelHeight * p.G.KernelWidth, what + " dx");
            AssertAllClose(expectedDw, one.Dw, p.Images * p.G.ColumnCount, what + " dW");
            AssertAllClose(expectedDb, one.Db, p.Images * p.G.ColumnCount, what + " db");

            foreach (int threads in new[] { 2, 3 })
            {
                var many = Run(p.G, p.Images, p.Filters, p.ChunkFloats, x, w, b, dy, new CpuKernelOptions(path, threads), workspace);
                AssertBitIdentical(one.Y, many.Y, $"{what} y, {threads} threads");
                AssertBitIdentical(one.Dx, many.Dx, $"{what} dx, {threads} threads");
                AssertBitIdentical(one.Dw, many.Dw, $"{what} dW, {threads} threads");
                AssertBitIdentical(one.Db, many.Db, $"{what} db, {threads} threads");
            }
        }, maxTests: 60);
    }

    [Fact]
    public void Backward_without_an_input_gradient_leaves_the_weight_and_bias_gradients_unchanged()
    {
        var g = new ConvolutionGeometry(2, 7, 6, 3, 3, 1, 1, 1, 1);
        var random = new System.Random(5);
        var x = RandomArray(random, 11 * g.ImageLength, -1f, 1f);
        var w = RandomArray(random, 4 * g.ColumnRows, -1f, 1f);
        var dy = RandomArray(random, 11 * 4 * g.ColumnCount, -1f, 1f);
        var workspace = new ConvolutionWorkspace();
        var options = new CpuKernelOptions(Threads: 2);
        float[] dw = new float[w.Length], db = new float[4], dx = new float[x.Length];
        BatchConvolution.Backward(x, 11, g, w, dy, dw, db, dx, 1, workspace, options);
        float[] dwAlone = new float[w.Length], dbAlone = new float[4];
        BatchConvolution.Backward(x, 11, g, w, dy, dwAlone, dbAlone, Span<float>.Empty, 1, workspace, options);
        AssertBitIdentical(dw, dwAlone, "dW");
        AssertBitIdentical(db, dbAlone, "db");
    }

    [Fact]
    public void Weight_gradients_are_summed_in_groups_fixed_by_the_shapes()
    {
        var lenetFirst = new ConvolutionGeometry(1, 28, 28, 5, 5, 1, 1, 2, 2);
        // 100 images in chunks of 6 (512 KB of columns): 17 chunks, one group each.
        Assert.Equal(6, lenetFirst.ChunkImages(100, 1 << 17));
        Assert.Equal(17, BatchConvolution.Groups(17, 6, lenetFirst));
        // Never more than MaxGroups, and every group gets a chunk: 100 chunks in runs of 4 make 25 groups.
        Assert.Equal(25, BatchConvolution.Groups(100, 6, lenetFirst));
        Assert.Equal(BatchConvolution.MaxGroups, BatchConvolution.Groups(1000, 6, lenetFirst));
        // A filter bank of 512 x 4608 floats leaves room in the partial budget for one group only.
        var wide = new ConvolutionGeometry(512, 14, 14, 3, 3, 1, 1, 1, 1);
        Assert.Equal(1, BatchConvolution.Groups(64, 512, wide));
    }

    [Fact]
    public void Wrong_sizes_are_rejected_with_the_argument_named()
    {
        var g = new ConvolutionGeometry(2, 5, 5, 3, 3);
        var workspace = new ConvolutionWorkspace();
        var x = new float[3 * g.ImageLength];
        var w = new float[4 * g.ColumnRows];
        var b = new float[4];
        var y = new float[3 * 4 * g.ColumnCount];
        Assert.Contains("input", Assert.Throws<ArgumentException>(() => BatchConvolution.Forward(x.AsSpan(1), 3, g, w, b, y, 1 << 17, workspace)).Message);
        Assert.Contains("weight", Assert.Throws<ArgumentException>(() => BatchConvolution.Forward(x, 3, g, w.AsSpan(1), b, y, 1 << 17, workspace)).Message);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => BatchConvolution.Forward(x, 3, g, w, b, y.AsSpan(1), 1 << 17, workspace)).ParamName);
        Assert.Equal("weightGradient", Assert.Throws<ArgumentException>(() =>
            BatchConvolution.Backward(x, 3, g, w, y, new float[w.Length - 1], b, x.AsSpan().ToArray(), 1 << 17, workspace)).ParamName);
        Assert.Equal("inputGradient", Assert.Throws<ArgumentException>(() =>
            BatchConvolution.Backward(x, 3, g, w, y, new float[w.Length], b, new float[x.Length + 1], 1 << 17, workspace)).ParamName);
    }

    [Fact]
    public void Backend_convolution_checks_name_the_tensor_and_the_expected_shape()
    {
        var backend = new CpuBackend();
        var g = new ConvolutionGeometry(3, 8, 8, 5, 5);
        var x = backend.Allocate(2, 3, 8, 8);
        var w = backend.Allocate(6, 75);
        var b = backend.Allocate(6);
        var e = Assert.Throws<ArgumentException>(() => backend.ConvolutionForward(x, g, backend.Allocate(6, 74), b, backend.Allocate(2, 6, 4, 4)));
        Assert.Equal("weight", e.ParamName);
        Assert.Contains("[F, C*KH*KW = 75]", e.Message);
        e = Assert.Throws<ArgumentException>(() => backend.ConvolutionForward(x, g, w, b, backend.Allocate(2, 6, 5, 5)));
        Assert.Equal("output", e.ParamName);
        Assert.Contains("[2, 6, 4, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => backend.ConvolutionBackward(x, g, w, backend.Allocate(2, 6, 4, 4), backend.Allocate(6, 75), backend.Allocate(5), null));
        Assert.Equal("biasGradient", e.ParamName);
    }

    /// <summary>Each value within 1e-6 times its term count of the double-precision definition, relative to its size.</summary>
    private static void AssertAllClose(float[] expected, float[] actual, int terms, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double tolerance = 1e-6 * Math.Max(1, terms);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
