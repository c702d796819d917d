using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.Convolution;

/// <summary>The tiled convolution against its direct definition, its special cases, and the adjointness of its index passes.</summary>
public sealed class TiledConvolutionTests
{
    private static readonly FsCheck.Gen<(int Batch, int C, int H, int W, int F, int K, int Stride, int Pad, int Tile, int Seed)> Shapes =
        from batch in Gen.Choose(1, 3)
        from c in Gen.Choose(1, 3)
        from h in Gen.Choose(3, 9)
        from w in Gen.Choose(3, 9)
        from f in Gen.Choose(1, 4)
        from k in Gen.Choose(1, 4)
        from stride in Gen.Choose(1, 2)
        from pad in Gen.Choose(0, 2)
        from tile in Gen.Choose(1, 5)
        from seed in Gen.Choose(0, 100000)
        select (batch, c, h, w, f, k, stride, pad, tile, seed);

    private static bool Valid(in TiledConvolutionGeometry g) =>
        g.Convolution.Height + 2 * g.Convolution.PadHeight >= g.Convolution.KernelHeight
        && g.Convolution.Width + 2 * g.Convolution.PadWidth >= g.Convolution.KernelWidth
        && g.Tile <= Math.Max(g.Convolution.OutputHeight, g.Convolution.OutputWidth);

    private static float[] Gaussian(CpuBackend backend, int length, ulong seed, ulong stream)
    {
        var t = backend.Allocate(length);
        backend.SampleGaussian(new RandomStream(seed, stream), 0, 0f, 1f, t);
        return t.Span.ToArray();
    }

    [Theory]
    [InlineData(SimdPath.Scalar, 1)]
    [InlineData(SimdPath.Auto, 2)]
    public void The_layer_equals_the_direct_tiled_correlation(SimdPath path, int threads)
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var g = new TiledConvolutionGeometry(new ConvolutionGeometry(s.C, s.H, s.W, s.K, s.K, s.Stride, s.Stride, s.Pad, s.Pad), s.Tile);
            if (!Valid(g)) return;
            using var backend = new CpuBackend(new CpuKernelOptions(path, threads));
            var layer = new TiledConv2d(backend, s.C, s.H, s.W, s.F, s.K, s.Tile, s.Stride, s.Pad);
            var w = Gaussian(backend, layer.Weight.Value.Length, (ulong)s.Seed, 1);
            var b = Gaussian(backend, layer.Bias.Value.Length, (ulong)s.Seed, 2);
            var x = Gaussian(backend, s.Batch * g.Convolution.ImageLength, (ulong)s.Seed, 3);
            backend.Upload(w, layer.Weight.Value);
            backend.Upload(b, layer.Bias.Value);
            var input = backend.Allocate(s.Batch, g.Convolution.ImageLength);
            backend.Upload(x, input);
            var y = layer.Forward(input, ForwardContext.Inference).Span.ToArray();
            var expected = NaiveConvolution.TiledConvolve(x, s.Batch, g, w, b, s.F);
            Assert.Equal(expected.Length, y.Length);
            for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"y[{i}] = {y[i]}, expected {expected[i]}");
        }, maxTests: 40);
    }

    [Fact]
    public void Tile_one_is_the_ordinary_convolution_and_a_tile_as_large_as_the_output_is_locally_connected()
    {
        using var backend = new CpuBackend();
        var tiled = new TiledConv2d(backend, 2, 7, 7, 3, 3, tile: 1, pad: 1);
        var conv = new Conv2d(backend, 2, 7, 7, 3, 3, pad: 1);
        var w = Gaussian(backend, conv.Weight.Value.Length, 5, 1);
        var b = Gaussian(backend, 3, 5, 2);
        foreach (var layer in new ILayer[] { tiled, conv })
        {
            backend.Upload(w, layer.Parameters[0].Value);
            backend.Upload(b, layer.Parameters[1].Value);
        }
        var x = backend.Allocate(2, 98);
        backend.Upload(Gaussian(backend, 196, 5, 3), x);
        var yTiled = tiled.Forward(x, ForwardContext.Inference).Span.ToArray();
        var yConv = conv.Forward(x, ForwardContext.Inference).Span.ToArray();
        for (int i = 0; i < yConv.Length; i++) Assert.Equal(yConv[i], yTiled[i], 4);

        // Tile 5 on a 5x5 output: every position has its own filters, so changing one position's filter changes only that position.
        var local = new TiledConv2d(backend, 1, 7, 7, 2, 3, tile: 5);
        backend.Upload(Gaussian(backend, local.Weight.Value.Length, 6, 1), local.Weight.Value);
        var xs = backend.Allocate(1, 49);
        backend.Upload(Gaussian(backend, 49, 6, 3), xs);
        var before = local.Forward(xs, ForwardContext.Inference).Span.ToArray();
        var weights = local.Weight.Value.Span;
        int tile = 2 * 5 + 3, map = 1;
        weights[(tile * 2 + map) * 9 + 4] += 1f;
        var after = local.Forward(xs, ForwardContext.Inference).Span.ToArray();
        for (int i = 0; i < before.Length; i++)
        {
            bool changed = before[i] != after[i];
            Assert.Equal(i == map * 25 + 2 * 5 + 3, changed);
        }
    }

    [Fact]
    public void The_fold_is_the_unfolds_adjoint_and_deinterleave_is_interleaves()
    {
        PropertyCheck.ForAll(Shapes, s =>
        {
            var g = new TiledConvolutionGeometry(new ConvolutionGeometry(s.C, s.H, s.W, s.K, s.K, s.Stride, s.Stride, s.Pad, s.Pad), s.Tile);
            if (!Valid(g)) return;
            using var backend = new CpuBackend();
            int columns = g.Tiles * g.Convolution.ColumnRows * s.Batch * g.SlotsPerImage;
            var x = Gaussian(backend, s.Batch * g.Convolution.ImageLength, (ulong)s.Seed, 1);
            var c = Gaussian(backend, columns, (ulong)s.Seed, 2);
            var unfolded = new float[columns];
            var folded = new float[x.Length];
            TiledConvolution.Unfold(x, g, unfolded);
            TiledConvolution.Fold(c, g, folded);
            AssertClose(Dot(unfolded, c), Dot(x, folded));

            int products = g.Tiles * s.F * s.Batch * g.SlotsPerImage;
            var maps = Gaussian(backend, s.Batch * s.F * g.Convolution.ColumnCount, (ulong)s.Seed, 3);
            var p = Gaussian(backend, products, (ulong)s.Seed, 4);
            var interleaved = new float[maps.Length];
            var deinterleaved = new float[products];
            TiledConvolution.Interleave(p, new float[g.Tiles * s.F], g, s.F, interleaved);
            TiledConvolution.Deinterleave(maps, g, s.F, deinterleaved);
            AssertClose(Dot(interleaved, maps), Dot(p, deinterleaved));
        }, maxTests: 40);

        static double Dot(float[] a, float[] b)
        {
            double sum = 0;
            for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
            return sum;
        }

        static void AssertClose(double a, double b) => Assert.True(Math.Abs(a - b) <= 1e-4 * (1 + Math.Abs(a)), $"{a} != {b}");
    }

    [Fact]
    public void A_tile_outside_one_to_the_output_size_or_a_mis_sized_span_is_an_error_naming_it()
    {
        using var backend = new CpuBackend();
        Assert.Contains("tile size", Assert.Throws<ArgumentException>(() => new TiledConv2d(backend, 1, 6, 6, 2, 3, tile: 0)).Message);
        Assert.Contains("between 1 and the larger output side 4", Assert.Throws<ArgumentException>(() => new TiledConv2d(backend, 1, 6, 6, 2, 3, tile: 5)).Message);
        var g = new TiledConvolutionGeometry(new ConvolutionGeometry(1, 6, 6, 3, 3), 2);
        var e = Assert.Throws<ArgumentException>(() => TiledConvolution.Unfold(new float[36], g, new float[10]));
        Assert.Equal("columns", e.ParamName);
        var bias = Assert.Throws<ArgumentException>(() => TiledConvolution.Interleave(new float[4 * 2 * 4], new float[3], g, 2, new float[2 * 16]));
        Assert.Equal("bias", bias.ParamName);
    }
}
