using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Random;
using Shinso.Tests.Kernels;
using Shinso.Operations;

namespace Shinso.Tests.Convolution;

/// <summary>
/// Finite-difference checks of every image layer on random shapes, strides and paddings (FsCheck, fixed replay seed),
/// through L = sum(w * layer(x)) with fixed random w, as in <c>GradientCheckTests</c>.
/// </summary>
public class ConvolutionGradientTests
{
    private const double Epsilon = 1e-2;

    private static readonly FsCheck.Gen<(int Batch, int C, int H, int W, int K, int Stride, int Pad, bool Ceil, int Seed)> PoolShapes =
        from batch in Gen.Choose(1, 2)
        from c in Gen.Choose(1, 3)
        from h in Gen.Choose(3, 8)
        from w in Gen.Choose(3, 8)
        from k in Gen.Choose(1, 3)
        from stride in Gen.Choose(1, 3)
        from pad in Gen.Choose(0, 1)
        from ceil in Gen.Elements(true, false)
        from seed in Gen.Choose(0, 100000)
        select (batch, c, h, w, k, stride, Math.Min(pad, k / 2), ceil, seed);

    [Fact]
    public void Conv2d_gradients_match_finite_differences()
    {
        var shapes =
            from batch in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(3, 7)
            from w in Gen.Choose(3, 7)
            from f in Gen.Choose(1, 3)
            from k in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 2)
            from pad in Gen.Choose(0, 2)
            from chunked in Gen.Elements(true, false)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, f, k, stride, pad, chunked, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            // A chunk of one float holds one image: every image is its own chunk and its own group of the weight gradient.
            var backend = s.chunked ? new CpuBackend { ColumnChunkFloats = 1 } : new CpuBackend();
            var layer = new Conv2d(backend, s.c, s.h, s.w, s.f, s.k, s.stride, s.pad);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)s.seed, 1), s.c * s.k * s.k, s.f * s.k * s.k);
            backend.SampleGaussian(new RandomStream((ulong)s.seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
            Check(backend, layer, s.batch, s.c * s.h * s.w, (ulong)s.seed, _ => _ => false);
        }, maxTests: 25);
    }

    [Fact]
    public void TiledConv2d_gradients_match_finite_differences()
    {
        var shapes =
            from batch in Gen.Choose(1, 3)
            from c in Gen.Choose(1, 2)
            from h in Gen.Choose(3, 7)
            from w in Gen.Choose(3, 7)
            from f in Gen.Choose(1, 3)
            from k in Gen.Choose(1, 3)
            from stride in Gen.Choose(1, 2)
            from pad in Gen.Choose(0, 1)
            from tile in Gen.Choose(1, 4)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, f, k, stride, pad, tile, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var g = new TiledConvolutionGeometry(new ConvolutionGeometry(s.c, s.h, s.w, s.k, s.k, s.stride, s.stride, s.pad, s.pad), s.tile);
            if (s.tile > Math.Max(g.Convolution.OutputHeight, g.Convolution.OutputWidth)) return;
            var backend = new CpuBackend();
            var layer = new TiledConv2d(backend, s.c, s.h, s.w, s.f, s.k, s.tile, s.stride, s.pad);
            WeightInitializer.Initialize(layer.Weight.Value, WeightInit.GlorotNormal, new RandomStream((ulong)s.seed, 1), s.c * s.k * s.k, s.f * s.k * s.k);
            backend.SampleGaussian(new RandomStream((ulong)s.seed, 2), 0, 0f, 0.5f, layer.Bias.Value);
            Check(backend, layer, s.batch, s.c * s.h * s.w, (ulong)s.seed, _ => _ => false);
        }, maxTests: 25);
    }

    [Fact]
    public void Probabilistic_pooling_gradients_match_finite_differences()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from blocks in Gen.Choose(1, 3)
            from block in Gen.Choose(1, 3)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, side: blocks * block, block, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var backend = new CpuBackend();
            var layer = new ProbabilisticMaxPool(backend, s.c, s.side, s.side, s.block);
            Check(backend, layer, s.batch, s.c * s.side * s.side, (ulong)s.seed, _ => _ => false);
        }, maxTests: 25);
    }

    [Theory]
    [InlineData(PoolingKind.Max)]
    [InlineData(PoolingKind.Average)]
    [InlineData(PoolingKind.Lp)]
    public void Pooling_gradients_match_finite_differences(PoolingKind kind)
    {
        int skipped = 0, total = 0;
        PropertyCheck.ForAll(PoolShapes, s =>
        {
            var backend = new CpuBackend();
            var g = new PoolingGeometry(s.C, s.H, s.W, s.K, s.K, s.Stride, s.Stride, s.Pad, s.Pad, s.Ceil);
            if (s.H + 2 * s.Pad < s.K || s.W + 2 * s.Pad < s.K) return;
            var layer = new Pool2d(backend, kind, g, kind == PoolingKind.Lp ? 3f : 2f);
            var (c, k) = Check(backend, layer, s.Batch, g.InputLength, (ulong)s.Seed,
                (x) => kind == PoolingKind.Max ? (i => NearMaxTie(x, i, g)) : (kind == PoolingKind.Lp ? (i => NearLpKink(x, i, g, 3)) : (_ => false)));
            total += c + k;
            skipped += k;
        }, maxTests: 30);
        Assert.True(skipped * 10 < total, $"skipped {skipped} of {total} points near a max-pool tie or a small Lp window");
    }

    [Fact]
    public void Lrn_gradients_match_finite_differences()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 7)
            from hw in Gen.Choose(1, 6)
            from size in Gen.Choose(1, 5)
            from alpha in Gen.Choose(1, 20)
            from beta in Gen.Elements(0.75f, 0.5f, 1.3f)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, hw, size, alpha: alpha / 10f, beta, seed);
        PropertyCheck.ForAll(shapes, s =>
        {
            var backend = new CpuBackend();
            var layer = new LocalResponseNormalization(backend, s.c, s.hw, 1, new LrnParameters(s.size, s.alpha, s.beta, 1.5f));
            Check(backend, layer, s.batch, s.c * s.hw, (ulong)s.seed, _ => _ => false);
        }, maxTests: 30);
    }

    [Fact]
    public void Lcn_gradients_match_finite_differences()
    {
        var shapes =
            from batch in Gen.Choose(1, 2)
            from c in Gen.Choose(1, 3)
            from h in Gen.Choose(2, 6)
            from w in Gen.Choose(2, 6)
            from size in Gen.Elements(1, 3, 5)
            from sigma in Gen.Elements(0.8f, 1.5f)
            from seed in Gen.Choose(0, 100000)
            select (batch, c, h, w, size, sigma, seed);
        int skipped = 0, total = 0;
        PropertyCheck.ForAll(shapes, s =>
        {
            var backend = new CpuBackend();
            var g = new LcnGeometry(s.c, s.h, s.w, s.size, s.sigma);
            if (s.c == 1 && s.size == 1) return; // one value per window: v = 0 everywhere
            var layer = new LocalContrastNormalization(backend, g);
            // Skip the points whose +-eps perturbation moves a deviation across the image-mean floor (the max() kink), or
            // through zero: a deviation sqrt(sum w v^2) is |v| where one centred value dominates its window (size 1 with two
            // channels: |x1 - x2| / 2), and the floor, their image mean, inherits that kink. A kink crossed shows as a
            // second difference of order eps, where a smooth deviation's is of order eps^2.
            Func<int, bool> Crosses(float[] x)
            {
                var (_, dev0, floor0) = NaiveConvolution.Lcn(x, s.batch, g);
                return i =>
                {
                    var devs = new List<double[]>();
                    var signs = new List<int[]>();
                    foreach (double step in new[] { -Epsilon, Epsilon })
                    {
                        var xp = (float[])x.Clone();
                        xp[i] = (float)(xp[i] + step);
                        var (y, dev, floor) = NaiveConvolution.Lcn(xp, s.batch, g);
                        for (int k = 0; k < dev.Length; k++)
                            if (dev[k] > floor[k / g.PlaneLength] != dev0[k] > floor0[k / g.PlaneLength]) return true;
                        devs.Add([.. dev.Select(d => (double)d)]);
                        signs.Add([.. y.Select(Math.Sign)]);
                    }
                    // A 1x1 window's deviation is |v| itself (over the channels): a centred value changing sign crosses its kink.
                    if (s.size == 1 && !signs[0].AsSpan().SequenceEqual(signs[1])) return true;
                    for (int k = 0; k < dev0.Length; k++)
                        if (Math.Abs(devs[0][k] + devs[1][k] - 2.0 * dev0[k]) > 0.25 * Epsilon) return true;
                    return false;
                };
            }
            var (c, k) = Check(backend, layer, s.batch, g.ImageLength, (ulong)s.seed, Crosses, tolerance: 3e-3);
            total += c + k;
            skipped += k;
        }, maxTests: 40);
        Assert.True(skipped * 5 < total, $"skipped {skipped} of {total} LCN points near the floor kink");
    }

    [Fact]
    public void Flatten_passes_values_and_gradients_through()
    {
        var backend = new CpuBackend();
        var x = backend.Allocate(2, 3, 2, 2);
        backend.SampleGaussian(new RandomStream(1, 1), 0, 0f, 1f, x);
        var layer = new Flatten();
        Assert.Equal([12], layer.OutputShape([3, 2, 2]));
        var y = layer.Forward(x, ForwardContext.Inference);
        Assert.Equal([2, 12], y.Shape.ToArray());
        Assert.Equal(x.Span.ToArray(), y.Span.ToArray());
        var dx = layer.Backward(y, true)!;
        Assert.Equal([2, 3, 2, 2], dx.Shape.ToArray());
        Check(backend, new Flatten(), 2, 12, 3, _ => _ => false);
    }

    /// <summary>The input indices of every pooling window that holds input <paramref name="index"/> (its real inputs, not padding).</summary>
    private static IEnumerable<List<int>> WindowsHolding(int index, PoolingGeometry g)
    {
        int plane = g.Height * g.Width;
        int q = index / plane, pos = index % plane, r = pos / g.Width, c = pos % g.Width;
        for (int i = 0; i < g.OutputHeight; i++)
        for (int j = 0; j < g.OutputWidth; j++)
        {
            int h0 = i * g.StrideHeight - g.PadHeight, w0 = j * g.StrideWidth - g.PadWidth;
            if (r < h0 || r >= h0 + g.KernelHeight || c < w0 || c >= w0 + g.KernelWidth) continue;
            var window = new List<int>();
            for (int a = Math.Max(0, h0); a < Math.Min(g.Height, h0 + g.KernelHeight); a++)
            for (int b = Math.Max(0, w0); b < Math.Min(g.Width, w0 + g.KernelWidth); b++)
                window.Add(q * plane + a * g.Width + b);
            yield return window;
        }
    }

    /// <summary>
    /// Whether a window holding <paramref name="index"/> has a small Lp norm: ||w||_p is not differentiable at 0 and its
    /// third derivative grows like 1 / ||w||^2, so the central difference's truncation error (about eps^2 / 6 times that
    /// derivative) exceeds the tolerance below ||w|| of about 15 eps. A window of one real input (the rest padding) is |x|.
    /// </summary>
    private static bool NearLpKink(float[] x, int index, PoolingGeometry g, double p) =>
        WindowsHolding(index, g).Any(window => Math.Pow(window.Sum(k => Math.Pow(Math.Abs(x[k]), p)), 1 / p) < 15 * Epsilon);

    /// <summary>Whether another input of a max-pool window holding <paramref name="index"/> is within the perturbation of it (a tie).</summary>
    private static bool NearMaxTie(float[] x, int index, PoolingGeometry g) =>
        WindowsHolding(index, g).Any(window => window.Any(other => other != index && Math.Abs(x[other] - x[index]) < 2.5 * Epsilon));

    /// <summary>Checks dL/dx and dL/dparameters of L = sum(w * layer(x)) for fixed random w; returns (checked, skipped) input points. Shared with the other layers' checks.</summary>
    internal static (int Checked, int Skipped) Check(IBackend backend, ILayer layer, int batch, int inputs, ulong seed,
        Func<float[], Func<int, bool>> skipFactory, double tolerance = 2e-3)
    {
        var x = backend.Allocate(batch, inputs);
        backend.SampleGaussian(new RandomStream(seed, 10), 0, 0f, 1f, x);
        var y0 = layer.Forward(x, ForwardContext.Inference);
        int outputs = y0.Columns;
        var w = backend.Allocate(batch, outputs);
        backend.SampleGaussian(new RandomStream(seed, 11), 0, 0f, 1f, w);
        var wHost = w.Span.ToArray();
        double Objective()
        {
            var y = layer.Forward(x, ForwardContext.Inference).Span;
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += (double)y[i] * wHost[i];
            return sum;
        }
        layer.Forward(x, ForwardContext.Inference);
        var dx = layer.Backward(w.Reshape(y0.Shape.ToArray()), needInputGradient: true)!.Span.ToArray();
        var parameterGradients = layer.Parameters.Select(p => p.Gradient.Span.ToArray()).ToArray();
        var skip = skipFactory(x.Span.ToArray());
        int checkedPoints = 0, skipped = 0;
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++)
        {
            if (skip(i)) { skipped++; continue; }
            FiniteDifference.AssertClose(FiniteDifference.Central(x.Span, i, Epsilon, Objective), dx[i], $"{layer.Kind} d/dx[{i}]", tolerance);
            checkedPoints++;
        }
        for (int p = 0; p < layer.Parameters.Count; p++)
        {
            var value = layer.Parameters[p].Value;
            for (int i = 0; i < value.Length; i++)
                FiniteDifference.AssertClose(FiniteDifference.Central(value.Span, i, Epsilon, Objective), parameterGradients[p][i], $"{layer.Parameters[p].Name}[{i}]", tolerance);
        }
        return (checkedPoints, skipped);
    }
}
