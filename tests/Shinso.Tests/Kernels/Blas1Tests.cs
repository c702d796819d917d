using FsCheck.Fluent;
using Shinso.Kernels.Cpu;
using static Shinso.Tests.Kernels.KernelTestData;

namespace Shinso.Tests.Kernels;

public class Blas1Tests
{
    public static TheoryData<SimdPath> AllPaths => Paths();

    private const double Eps = 5.9604644775390625E-8; // 2^-24, half an ulp at 1

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Elementwise_kernels_match_the_twin_for_every_length(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        var random = new System.Random(1);
        for (int n = 0; n <= 256; n++)
        {
            float[] x = RandomArray(random, n, -4f, 4f);
            float[] y0 = RandomArray(random, n, -4f, 4f);
            const float alpha = 1.7f, beta = -0.3f;

            var y = Guarded(y0);
            Blas1.Axpy(alpha, x, Window(y), options);
            AssertGuards(y, "axpy");
            for (int i = 0; i < n; i++)
                AssertClose((double)alpha * x[i] + y0[i], Window(y)[i], 2 * Eps * (Math.Abs(alpha * x[i]) + Math.Abs(y0[i])), $"axpy n={n} i={i}");

            y = Guarded(y0);
            Blas1.Axpby(alpha, x, beta, Window(y), options);
            AssertGuards(y, "axpby");
            for (int i = 0; i < n; i++)
                AssertClose((double)alpha * x[i] + (double)beta * y0[i], Window(y)[i], 2 * Eps * (Math.Abs(alpha * x[i]) + 2 * Math.Abs(beta * y0[i])), $"axpby n={n} i={i}");

            var nan = new float[n];
            nan.AsSpan().Fill(float.NaN);
            Blas1.Axpby(alpha, x, 0f, nan, options);
            for (int i = 0; i < n; i++)
                AssertClose((double)alpha * x[i], nan[i], Eps * Math.Abs(alpha * x[i]), $"axpby beta=0 n={n} i={i}");

            var product = Guarded(new float[n]);
            Blas1.Multiply(x, y0, Window(product), options);
            AssertGuards(product, "multiply");
            for (int i = 0; i < n; i++)
                AssertClose((double)x[i] * y0[i], Window(product)[i], Eps * Math.Abs(x[i] * y0[i]), $"multiply n={n} i={i}");
            var inPlace = (float[])x.Clone();
            Blas1.Multiply(inPlace, y0, inPlace, options);
            AssertBitIdentical(Window(product), inPlace, "multiply in place");

            double sum = 0, squares = 0, magnitude = 0;
            foreach (float v in x)
            {
                sum += v;
                squares += (double)v * v;
                magnitude += Math.Abs(v);
            }
            AssertClose(sum, Blas1.Sum(x, options), Eps * Math.Abs(sum) + 1e-15 * magnitude, $"sum n={n}");
            AssertClose(squares, Blas1.SumOfSquares(x, options), Eps * squares, $"sum of squares n={n}");
        }
    }

    private static readonly FsCheck.Gen<(int Rows, int Columns, int Seed)> Shapes =
        from rows in Gen.Choose(0, 40)
        from columns in Gen.Choose(0, 150)
        from seed in Gen.Choose(0, int.MaxValue)
        select (rows, columns, seed);

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Matrix_kernels_match_the_twin(SimdPath path)
    {
        var options = new CpuKernelOptions(path, 1);
        PropertyCheck.ForAll(Shapes, shape =>
        {
            (int rows, int columns, int seed) = shape;
            var random = new System.Random(seed);
            float[] m = RandomArray(random, rows * columns, -3f, 3f);
            float[] row = RandomArray(random, columns, -3f, 3f);
            float[] previous = RandomArray(random, columns, -3f, 3f);
            string what = $"{rows}x{columns}";

            var added = Guarded(m);
            Blas1.AddRowVector(Window(added), rows, columns, row, options);
            AssertGuards(added, "add row " + what);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                {
                    double expected = (double)m[i * columns + j] + row[j];
                    AssertClose(expected, Window(added)[i * columns + j], Eps * Math.Abs(expected), $"add row {what} ({i},{j})");
                }

            foreach (float beta in new[] { 0f, 0.5f })
            {
                var result = Guarded(beta == 0 ? Enumerable.Repeat(float.NaN, columns).ToArray() : previous);
                Blas1.SumColumns(m, rows, columns, Window(result), beta, options);
                AssertGuards(result, "sum columns " + what);
                double[] expected = NaiveKernels.SumColumns(m, rows, columns, previous, beta);
                for (int j = 0; j < columns; j++)
                {
                    double magnitude = Math.Abs(beta * previous[j]);
                    for (int i = 0; i < rows; i++)
                        magnitude += Math.Abs(m[i * columns + j]);
                    AssertClose(expected[j], Window(result)[j], (rows + 1) * Eps * magnitude, $"sum columns {what} beta {beta} column {j}");
                }
            }

            var sums = Guarded(new float[rows]);
            Blas1.SumRows(m, rows, columns, Window(sums), options);
            AssertGuards(sums, "sum rows " + what);
            double[] expectedRows = NaiveKernels.SumRows(m, rows, columns);
            for (int i = 0; i < rows; i++)
            {
                double magnitude = 0;
                for (int j = 0; j < columns; j++)
                    magnitude += Math.Abs(m[i * columns + j]);
                // Four vector partials of at most columns/4 terms each, then a log-depth combine.
                AssertClose(expectedRows[i], Window(sums)[i], (columns / 4.0 + 8) * Eps * magnitude, $"sum rows {what} row {i}");
            }
        }, maxTests: 80);
    }

    [Fact]
    public void Sum_columns_is_bit_identical_across_paths_and_threads()
    {
        const int rows = 257, columns = 1000;
        float[] m = RandomArray(new System.Random(4), rows * columns, -1f, 1f);
        var reference = new float[columns];
        Blas1.SumColumns(m, rows, columns, reference, 0f, new CpuKernelOptions(SimdPath.Scalar, 1));
        foreach (SimdPath path in ExplicitPaths())
        {
            foreach (int threads in new[] { 1, 2 })
            {
                var result = new float[columns];
                Blas1.SumColumns(m, rows, columns, result, 0f, new CpuKernelOptions(path, threads));
                AssertBitIdentical(reference, result, $"{path} with {threads} threads");
            }
        }
    }

    [Fact]
    public void Long_sums_are_the_correctly_rounded_double_sum_on_every_path()
    {
        float[] x = RandomArray(new System.Random(8), 1_000_003, 0f, 1f);
        double exact = x.Sum(v => (double)v);
        double squares = x.Sum(v => (double)v * v);
        foreach (SimdPath path in ExplicitPaths())
        {
            var options = new CpuKernelOptions(path);
            Assert.Equal((float)exact, Blas1.Sum(x, options));
            Assert.Equal((float)squares, Blas1.SumOfSquares(x, options));
        }
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var e = Assert.Throws<ArgumentException>(() => Blas1.Axpy(1f, new float[3], new float[4]));
        Assert.Contains("x has 3 elements but y has 4", e.Message);
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Blas1.Multiply(new float[3], new float[3], new float[2]));
        Assert.Equal("result", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Blas1.AddRowVector(new float[6], 2, 3, new float[4]));
        Assert.Equal("row", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Blas1.SumColumns(new float[6], 2, 3, new float[2]));
        Assert.Equal("result", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Blas1.SumRows(new float[7], 2, 3, new float[2]));
        Assert.Equal("matrix", e.ParamName);
    }
}
