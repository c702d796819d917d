using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

public class Im2ColTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private static readonly FsCheck.Gen<ConvolutionGeometry> Geometries =
        (from c in Gen.Choose(1, 3)
         from h in Gen.Choose(1, 11)
         from w in Gen.Choose(1, 23)
         from kh in Gen.Choose(1, 5)
         from kw in Gen.Choose(1, 5)
         from sh in Gen.Choose(1, 3)
         from sw in Gen.Choose(1, 3)
         from ph in Gen.Choose(0, 2)
         from pw in Gen.Choose(0, 2)
         select new ConvolutionGeometry(c, h, w, kh, kw, sh, sw, ph, pw))
        .Where(g => g.Height + 2 * g.PadHeight >= g.KernelHeight && g.Width + 2 * g.PadWidth >= g.KernelWidth);

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Unfold_matches_the_twin_exactly(SimdPath path)
    {
        PropertyCheck.ForAll(Geometries, g =>
        {
            float[] image = RandomArray(new System.Random(g.GetHashCode()), g.ImageLength, -2f, 2f);
            float[] expected = NaiveKernels.Unfold(image, g);
            var columns = Guarded(Enumerable.Repeat(float.NaN, expected.Length).ToArray());
            Im2Col.Unfold(image, g, Window(columns), new CpuKernelOptions(path, 1));
            AssertGuards(columns, g.ToString());
            AssertBitIdentical(expected, Window(columns), g.ToString());
        }, maxTests: 150);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Fold_matches_the_twin(SimdPath path)
    {
        PropertyCheck.ForAll(Geometries, g =>
        {
            float[] columns = RandomArray(new System.Random(g.GetHashCode()), g.ColumnRows * g.ColumnCount, -2f, 2f);
            (double[] expected, double[] magnitude) = NaiveKernels.Fold(columns, g);
            var image = Guarded(Enumerable.Repeat(float.NaN, g.ImageLength).ToArray());
            Im2Col.Fold(columns, g, Window(image), new CpuKernelOptions(path, 1));
            AssertGuards(image, g.ToString());
            int contributions = g.KernelHeight * g.KernelWidth;
            for (int i = 0; i < g.ImageLength; i++)
                AssertClose(expected[i], Window(image)[i], contributions * 6e-8 * magnitude[i], $"{g} pixel {i}");
        }, maxTests: 150);
    }

    /// <summary>
    /// Planes whose zero-bordered copy is too large for the stack (102x102 here) and wide ones with several vector
    /// blocks per row take other stride-1 routes than the small generated shapes.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Large_and_wide_padded_planes_unfold_and_fold_like_the_twin(SimdPath path)
    {
        foreach (var g in new[] { new ConvolutionGeometry(1, 100, 100, 3, 3, 1, 1, 1, 1), new ConvolutionGeometry(2, 9, 70, 5, 5, 1, 1, 2, 2), new ConvolutionGeometry(1, 40, 37, 4, 3, 1, 1, 2, 1) })
        {
            float[] image = RandomArray(new System.Random(g.Width), g.ImageLength, -2f, 2f);
            float[] expected = NaiveKernels.Unfold(image, g);
            var columns = Guarded(Enumerable.Repeat(float.NaN, expected.Length).ToArray());
            Im2Col.Unfold(image, g, Window(columns), new CpuKernelOptions(path, 1));
            AssertGuards(columns, g.ToString());
            AssertBitIdentical(expected, Window(columns), g.ToString());

            (double[] folded, double[] magnitude) = NaiveKernels.Fold(expected, g);
            var back = Guarded(Enumerable.Repeat(float.NaN, g.ImageLength).ToArray());
            Im2Col.Fold(expected, g, Window(back), new CpuKernelOptions(path, 1));
            AssertGuards(back, g.ToString());
            for (int i = 0; i < g.ImageLength; i++)
                AssertClose(folded[i], Window(back)[i], g.KernelHeight * g.KernelWidth * 6e-8 * magnitude[i], $"{g} pixel {i}");
        }
    }

    [Fact]
    public void The_backend_lays_a_batch_side_by_side_in_one_column_matrix_and_folds_it_back()
    {
        PropertyCheck.ForAll(Geometries, g =>
        {
            const int n = 3;
            var random = new System.Random(g.GetHashCode());
            var cpu = new CpuBackend(new CpuKernelOptions(Threads: 1));
            float[] images = RandomArray(random, n * g.ImageLength, -2f, 2f);
            var x = cpu.Allocate(n, g.ImageLength);
            cpu.Upload(images, x);
            int rows = g.ColumnRows, count = g.ColumnCount;
            var columns = cpu.Allocate(rows, n * count);
            cpu.Im2Col(x, g, columns);
            var batch = new float[rows * n * count];
            cpu.Download(columns, batch);
            for (int i = 0; i < n; i++)
            {
                float[] expected = NaiveKernels.Unfold(images.AsSpan(i * g.ImageLength, g.ImageLength).ToArray(), g);
                for (int r = 0; r < rows; r++)
                    AssertBitIdentical(expected.AsSpan(r * count, count).ToArray(), batch.AsSpan((r * n + i) * count, count), $"{g} image {i} row {r}");
            }
            var folded = cpu.Allocate(n, g.ImageLength);
            cpu.Col2Im(columns, g, folded);
            var back = new float[n * g.ImageLength];
            cpu.Download(folded, back);
            for (int i = 0; i < n; i++)
            {
                var (expected, magnitude) = NaiveKernels.Fold(NaiveKernels.Unfold(images.AsSpan(i * g.ImageLength, g.ImageLength).ToArray(), g), g);
                for (int p = 0; p < g.ImageLength; p++)
                    AssertClose(expected[p], back[i * g.ImageLength + p], g.KernelHeight * g.KernelWidth * 6e-8 * magnitude[p], $"{g} image {i} pixel {p}");
            }
        }, maxTests: 60);
    }

    [Fact]
    public void Swapping_leading_axes_moves_every_run_to_its_transposed_place()
    {
        var cpu = new CpuBackend(new CpuKernelOptions(Threads: 1));
        const int outer = 3, inner = 4, rest = 5;
        var values = Enumerable.Range(0, outer * inner * rest).Select(v => (float)v).ToArray();
        var input = cpu.Allocate(outer, inner, rest);
        cpu.Upload(values, input);
        var output = cpu.Allocate(inner, outer, rest);
        cpu.SwapLeadingAxes(input, outer, inner, output);
        var got = new float[values.Length];
        cpu.Download(output, got);
        for (int i = 0; i < outer; i++)
            for (int j = 0; j < inner; j++)
                for (int e = 0; e < rest; e++)
                    Assert.Equal(values[(i * inner + j) * rest + e], got[(j * outer + i) * rest + e]);
        Assert.Throws<ArgumentException>(() => cpu.SwapLeadingAxes(input, 7, inner, output));
        Assert.Throws<ArgumentException>(() => cpu.SwapLeadingAxes(input, outer, inner, cpu.Allocate(2, 2)));
    }

    [Fact]
    public void Fold_is_the_adjoint_of_unfold()
    {
        // <unfold(x), c> == <x, fold(c)> for any x and c.
        PropertyCheck.ForAll(Geometries, g =>
        {
            var random = new System.Random(g.GetHashCode() ^ 0x55);
            float[] x = RandomArray(random, g.ImageLength, -1f, 1f);
            float[] c = RandomArray(random, g.ColumnRows * g.ColumnCount, -1f, 1f);
            var unfolded = new float[c.Length];
            var folded = new float[x.Length];
            Im2Col.Unfold(x, g, unfolded);
            Im2Col.Fold(c, g, folded);
            double left = 0, right = 0;
            for (int i = 0; i < c.Length; i++)
                left += (double)unfolded[i] * c[i];
            for (int i = 0; i < x.Length; i++)
                right += (double)x[i] * folded[i];
            Assert.True(Math.Abs(left - right) < 1e-4 * (1 + Math.Abs(left)), $"{g}: {left} vs {right}");
        }, maxTests: 50);
    }

    [Fact]
    public void Threads_do_not_change_the_result()
    {
        var g = new ConvolutionGeometry(16, 28, 28, 5, 5, 1, 1, 2, 2);
        float[] image = RandomArray(new System.Random(1), g.ImageLength, -1f, 1f);
        var one = new float[g.ColumnRows * g.ColumnCount];
        var two = new float[one.Length];
        Im2Col.Unfold(image, g, one, new CpuKernelOptions(Threads: 1));
        Im2Col.Unfold(image, g, two, new CpuKernelOptions(Threads: 2));
        AssertBitIdentical(one, two, "unfold");
        var back1 = new float[g.ImageLength];
        var back2 = new float[g.ImageLength];
        Im2Col.Fold(one, g, back1, new CpuKernelOptions(Threads: 1));
        Im2Col.Fold(one, g, back2, new CpuKernelOptions(Threads: 2));
        AssertBitIdentical(back1, back2, "fold");
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var g = new ConvolutionGeometry(2, 5, 5, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => Im2Col.Unfold(new float[49], g, new float[g.ColumnRows * g.ColumnCount]));
        Assert.Equal("images", e.ParamName);
        Assert.Contains("49", e.Message);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Fold(new float[3], g, new float[50]));
        Assert.Equal("columns", e.ParamName);
        Assert.Throws<ArgumentException>(() => Im2Col.Unfold(new float[50], g with { KernelWidth = 9 }, new float[1000]));
    }
}
