using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

public class PoolingKernelTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private static readonly FsCheck.Gen<PoolingGeometry> Geometries =
        (from c in Gen.Choose(1, 2)
         from h in Gen.Choose(1, 12)
         from w in Gen.Choose(1, 40)
         from k in Gen.Choose(1, 4)
         from stride in Gen.Choose(1, 3)
         from pad in Gen.Choose(0, 2)
         from ceil in Gen.Elements(true, false)
         select new PoolingGeometry(c, h, w, k, k, stride, stride, Math.Min(pad, k / 2), Math.Min(pad, k / 2), ceil))
        .Where(g => g.Height + 2 * g.PadHeight >= g.KernelHeight && g.Width + 2 * g.PadWidth >= g.KernelWidth);

    /// <summary>
    /// Values on a coarse grid, so most windows hold ties, with some -inf and NaN: every path must pick the same
    /// element as the scalar definition (the first strictly larger one in row-major order; NaN never wins).
    /// </summary>
    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Max_pooling_picks_the_definitions_element_on_every_path(SimdPath path)
    {
        PropertyCheck.ForAll(Geometries, g =>
        {
            const int images = 2;
            var random = new System.Random(g.GetHashCode());
            var x = new float[images * g.InputLength];
            for (int i = 0; i < x.Length; i++)
            {
                int roll = random.Next(20);
                x[i] = roll == 0 ? float.NaN : roll == 1 ? float.NegativeInfinity : random.Next(-2, 3);
            }
            (float[] expected, float[] expectedIndex) = FirstMaxima(x, images, g);
            var y = Guarded(new float[expected.Length]);
            var arg = Guarded(new float[expected.Length]);
            Pooling.MaxForward(x, images, g, Window(y), Window(arg), new CpuKernelOptions(path, 1));
            AssertGuards(y, g.ToString());
            AssertGuards(arg, g.ToString());
            AssertBitIdentical(expected, Window(y), $"{g} values");
            AssertBitIdentical(expectedIndex, Window(arg), $"{g} argmax");
        }, maxTests: 150);
    }

    private static (float[] Values, float[] Index) FirstMaxima(float[] x, int images, PoolingGeometry g)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth;
        var values = new float[images * g.Channels * oh * ow];
        var index = new float[values.Length];
        for (int plane = 0, o = 0; plane < images * g.Channels; plane++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++, o++)
        {
            int r0 = Math.Max(0, i * g.StrideHeight - g.PadHeight), r1 = Math.Min(g.Height, i * g.StrideHeight - g.PadHeight + g.KernelHeight);
            int c0 = Math.Max(0, j * g.StrideWidth - g.PadWidth), c1 = Math.Min(g.Width, j * g.StrideWidth - g.PadWidth + g.KernelWidth);
            float best = float.NegativeInfinity;
            int at = r0 * g.Width + c0;
            for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++)
            {
                float v = x[plane * g.Height * g.Width + r * g.Width + c];
                if (v > best)
                {
                    best = v;
                    at = r * g.Width + c;
                }
            }
            values[o] = best;
            index[o] = at;
        }
        return (values, index);
    }
}
