using FsCheck.Fluent;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;

namespace Shinso.Tests.Kernels;

public class SoftmaxTests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private static readonly FsCheck.Gen<(int Rows, int Columns, float Shift, int Seed)> Shapes =
        from rows in Gen.Choose(1, 6)
        from columns in Gen.Choose(1, 150)
        from shift in Gen.Elements(0f, 1000f, -1000f, 50f)
        from seed in Gen.Choose(0, int.MaxValue)
        select (rows, columns, shift, seed);

    /// <summary>
    /// exp(x - max) is conditioned by |x - max|: rounding the float difference costs up to |x - max| * 2^-24
    /// relative, on top of a few ulp for exp, the row sum and the scaling.
    /// </summary>
    private static double Tolerance(float[] x, int columns, int index, double expected)
    {
        int row = index / columns;
        float max = float.NegativeInfinity;
        for (int j = 0; j < columns; j++)
            max = Math.Max(max, x[row * columns + j]);
        double d = float.IsNegativeInfinity(x[index]) ? 0 : Math.Abs((double)x[index] - max);
        return 6e-8 * (12 + d) * expected + 1e-37;
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Rows_match_the_twin(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        PropertyCheck.ForAll(Shapes, shape =>
        {
            (int rows, int columns, float shift, int seed) = shape;
            float[] x = RandomArray(new System.Random(seed), rows * columns, -20f, 20f);
            for (int i = 0; i < x.Length; i++)
                x[i] += shift;
            double[] expected = NaiveKernels.SoftmaxRows(x, rows, columns);
            var y = Guarded(new float[x.Length]);
            Softmax.Rows(x, rows, columns, Window(y), options);
            AssertGuards(y, "softmax");
            for (int i = 0; i < x.Length; i++)
                AssertClose(expected[i], Window(y)[i], Tolerance(x, columns, i, expected[i]), $"{rows}x{columns} shift {shift} at {i}");
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int j = 0; j < columns; j++)
                    sum += Window(y)[r * columns + j];
                Assert.True(Math.Abs(sum - 1) < 1e-5, $"row {r} sums to {sum}");
            }

            var inPlace = (float[])x.Clone();
            Softmax.Rows(inPlace, rows, columns, inPlace, options);
            AssertBitIdentical(Window(y), inPlace, "in place");
        }, maxTests: 60);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Log_sum_exp_matches_the_twin(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        PropertyCheck.ForAll(Shapes, shape =>
        {
            (int rows, int columns, float shift, int seed) = shape;
            float[] x = RandomArray(new System.Random(seed), rows * columns, -20f, 20f);
            for (int i = 0; i < x.Length; i++)
                x[i] += shift;
            double[] expected = NaiveKernels.LogSumExpRows(x, rows, columns);
            var result = Guarded(new float[rows]);
            Softmax.LogSumExpRows(x, rows, columns, Window(result), options);
            AssertGuards(result, "logsumexp");
            for (int r = 0; r < rows; r++)
                AssertClose(expected[r], Window(result)[r], 2.4e-7 * Math.Abs(expected[r]) + 1e-6, $"{rows}x{columns} shift {shift} row {r}");
        }, maxTests: 60);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Extreme_rows_are_stable(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        const int columns = 37;
        float ninf = float.NegativeInfinity;
        float[][] rows =
        {
            Enumerable.Range(0, columns).Select(j => 1000f - j * 0.25f).ToArray(),
            Enumerable.Range(0, columns).Select(j => -1000f + j * 0.25f).ToArray(),
            Enumerable.Range(0, columns).Select(j => j % 3 == 0 ? ninf : j * 0.1f).ToArray(),
            Enumerable.Range(0, columns).Select(j => j == 17 ? 5f : ninf).ToArray(),
            Enumerable.Range(0, columns).Select(j => j % 2 == 0 ? 1000f : -1000f).ToArray(),
        };
        float[] x = rows.SelectMany(r => r).ToArray();
        var y = new float[x.Length];
        Softmax.Rows(x, rows.Length, columns, y, options);
        Assert.All(y, v => Assert.True(float.IsFinite(v) && v >= 0f, $"softmax gave {v}"));
        double[] expected = NaiveKernels.SoftmaxRows(x, rows.Length, columns);
        for (int i = 0; i < x.Length; i++)
            AssertClose(expected[i], y[i], Tolerance(x, columns, i, expected[i]), $"element {i}");
        for (int j = 0; j < columns; j++)
        {
            Assert.Equal(j == 17 ? 1f : 0f, y[3 * columns + j]);
            if (j % 3 == 0)
                Assert.Equal(0f, y[2 * columns + j]);
        }

        var lse = new float[rows.Length];
        Softmax.LogSumExpRows(x, rows.Length, columns, lse, options);
        double[] expectedLse = NaiveKernels.LogSumExpRows(x, rows.Length, columns);
        for (int r = 0; r < rows.Length; r++)
            AssertClose(expectedLse[r], lse[r], 2.4e-7 * Math.Abs(expectedLse[r]) + 1e-6, $"lse row {r}");

        var allMinusInfinity = new float[] { ninf, ninf, ninf };
        var one = new float[1];
        Softmax.LogSumExpRows(allMinusInfinity, 1, 3, one, options);
        Assert.Equal(ninf, one[0]);
    }

    [Fact]
    public void Paths_and_thread_counts_agree()
    {
        const int rows = 300, columns = 129;
        float[] x = RandomArray(new System.Random(9), rows * columns, -30f, 30f);
        var reference = new float[x.Length];
        Softmax.Rows(x, rows, columns, reference, new CpuKernelOptions(SimdPath.Scalar, 1));
        foreach (SimdPath path in ExplicitPaths())
        {
            var one = new float[x.Length];
            var two = new float[x.Length];
            Softmax.Rows(x, rows, columns, one, new CpuKernelOptions(path, 1));
            Softmax.Rows(x, rows, columns, two, new CpuKernelOptions(path, 2));
            AssertBitIdentical(one, two, $"threads on {path}");
            for (int i = 0; i < x.Length; i++)
                AssertClose(reference[i], one[i], 1e-6 * reference[i] + 1e-37, $"{path} vs scalar at {i}");
        }
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var e = Assert.Throws<ArgumentException>(() => Softmax.Rows(new float[6], 2, 4, new float[6]));
        Assert.Equal("x", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Softmax.Rows(new float[6], 2, 3, new float[5]));
        Assert.Contains("x has 6 elements but y has 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Softmax.LogSumExpRows(new float[6], 2, 3, new float[3]));
        Assert.Equal("result", e.ParamName);
    }
}
