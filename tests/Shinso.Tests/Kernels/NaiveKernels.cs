using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Random;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

/// <summary>
/// The reference twins of the CPU kernels: straightforward scalar loops in double precision, written from
/// the IBackend formulas and nothing else. Only the tests use them.
/// </summary>
internal static class NaiveKernels
{
    // ---- maxout -------------------------------------------------------------------------------

    /// <summary>
    /// <c>y[n, i] = max_j x[n, j * units + i]</c> over piece-major rows, folded from the first piece with the kernels'
    /// documented rule <c>a &gt; b ? a : b</c>, which decides between equal zeros of either sign (the later one wins).
    /// </summary>
    public static double[] Maxout(double[] x, int rows, int pieces)
    {
        int units = x.Length / rows / pieces;
        var y = new double[rows * units];
        for (int n = 0; n < rows; n++)
            for (int i = 0; i < units; i++)
            {
                double m = x[n * pieces * units + i];
                for (int j = 1; j < pieces; j++) { double v = x[(n * pieces + j) * units + i]; m = m > v ? m : v; }
                y[n * units + i] = m;
            }
        return y;
    }

    /// <summary>The gradient of <see cref="Maxout"/>: dy to the first piece that attains the max, 0 to the others.</summary>
    public static double[] MaxoutBackward(double[] x, double[] dy, int rows, int pieces)
    {
        int units = dy.Length / rows;
        var y = Maxout(x, rows, pieces);
        var dx = new double[x.Length];
        for (int n = 0; n < rows; n++)
            for (int i = 0; i < units; i++)
                for (int j = 0; j < pieces; j++)
                    if (x[(n * pieces + j) * units + i] == y[n * units + i])
                    {
                        dx[(n * pieces + j) * units + i] = dy[n * units + i];
                        break;
                    }
        return dx;
    }

    // ---- activations --------------------------------------------------------------------------

    public static double Activate(Activation f, double x) => f switch
    {
        Activation.Identity => x,
        Activation.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        Activation.Relu => x > 0 ? x : 0.0,
        Activation.AbsoluteValue => Math.Abs(x),
        Activation.Step => x >= 0 ? 1.0 : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    public static double Derivative(Activation f, double x, double y, double dy) => f switch
    {
        Activation.Identity => dy,
        Activation.Sigmoid => dy * y * (1.0 - y),
        Activation.Tanh => dy * (1.0 - y * y),
        Activation.Relu => x > 0 ? dy : 0.0,
        Activation.AbsoluteValue => x > 0 ? dy : x < 0 ? -dy : 0.0,
        Activation.Step => 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    // ---- softmax ------------------------------------------------------------------------------

    public static double[] SoftmaxRows(float[] x, int rows, int columns) => SoftmaxRows(NaiveConvolution.Double(x), rows, columns);

    /// <summary><see cref="SoftmaxRows(float[], int, int)"/> on double-precision inputs.</summary>
    public static double[] SoftmaxRows(double[] x, int rows, int columns)
    {
        var y = new double[x.Length];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < columns; j++)
                max = Math.Max(max, x[i * columns + j]);
            double sum = 0;
            for (int j = 0; j < columns; j++)
                sum += Math.Exp(x[i * columns + j] - max);
            for (int j = 0; j < columns; j++)
                y[i * columns + j] = Math.Exp(x[i * columns + j] - max) / sum;
        }
        return y;
    }

    public static double[] LogSumExpRows(float[] x, int rows, int columns)
    {
        var result = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < columns; j++)
                max = Math.Max(max, x[i * columns + j]);
            double sum = 0;
            for (int j = 0; j < columns; j++)
                sum += Math.Exp(x[i * columns + j] - max);
            result[i] = max + Math.Log(sum);
        }
        return result;
    }

    // ---- BLAS 1 ---------------------------------------------------------------------------------

    public static double[] SumColumns(float[] m, int rows, int columns, float[] result, float beta)
    {
        var r = new double[columns];
        for (int j = 0; j < columns; j++)
        {
            double s = 0;
            for (int i = 0; i < rows; i++)
                s += m[i * columns + j];
            r[j] = (beta == 0 ? 0.0 : (double)beta * result[j]) + s;
        }
        return r;
    }

    public static double[] SumRows(float[] m, int rows, int columns)
    {
        var r = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < columns; j++)
                s += m[i * columns + j];
            r[i] = s;
        }
        return r;
    }

    // ---- im2col ---------------------------------------------------------------------------------

    /// <summary>The pixel read by column-matrix entry (row, column), or -1 for padding.</summary>
    public static int SourceIndex(in ConvolutionGeometry g, int row, int column)
    {
        int kw = row % g.KernelWidth;
        int kh = row / g.KernelWidth % g.KernelHeight;
        int c = row / (g.KernelWidth * g.KernelHeight);
        int ow = column % g.OutputWidth;
        int oh = column / g.OutputWidth;
        int ih = oh * g.StrideHeight - g.PadHeight + kh;
        int iw = ow * g.StrideWidth - g.PadWidth + kw;
        if (ih < 0 || ih >= g.Height || iw < 0 || iw >= g.Width)
            return -1;
        return (c * g.Height + ih) * g.Width + iw;
    }

    public static float[] Unfold(float[] image, in ConvolutionGeometry g)
    {
        var columns = new float[g.ColumnRows * g.ColumnCount];
        for (int r = 0; r < g.ColumnRows; r++)
        {
            for (int col = 0; col < g.ColumnCount; col++)
            {
                int src = SourceIndex(g, r, col);
                columns[r * g.ColumnCount + col] = src < 0 ? 0f : image[src];
            }
        }
        return columns;
    }

    /// <summary>The folded image in double, and per pixel the sum of the magnitudes that went into it.</summary>
    public static (double[] Image, double[] Magnitude) Fold(float[] columns, in ConvolutionGeometry g)
    {
        var image = new double[g.ImageLength];
        var magnitude = new double[g.ImageLength];
        for (int r = 0; r < g.ColumnRows; r++)
        {
            for (int col = 0; col < g.ColumnCount; col++)
            {
                int dst = SourceIndex(g, r, col);
                if (dst < 0)
                    continue;
                image[dst] += columns[r * g.ColumnCount + col];
                magnitude[dst] += Math.Abs(columns[r * g.ColumnCount + col]);
            }
        }
        return (image, magnitude);
    }

    // ---- random ---------------------------------------------------------------------------------

    public static uint Word(RandomStream stream, ulong counter, int i) =>
        Philox4x32.Generate(stream, counter + (ulong)(i / 4))[i % 4];

    public static float Uniform(RandomStream stream, ulong counter, int i) => (Word(stream, counter, i) >> 8) * (1f / (1 << 24));

    public static double Gaussian(RandomStream stream, ulong counter, int i)
    {
        int pair = i & ~1;
        uint w0 = Word(stream, counter, pair), w1 = Word(stream, counter, pair + 1);
        double u1 = ((w0 >> 8) + 1) / 16777216.0;
        double u2 = (w1 >> 8) / 16777216.0;
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        return (i & 1) == 0 ? r * Math.Cos(2 * Math.PI * u2) : r * Math.Sin(2 * Math.PI * u2);
    }

    // ---- probabilistic max-pooling -------------------------------------------------------------

    /// <summary>Each block's softmax over "all off" (weight 1) and its units (weights exp(I)), in double: detection and pooling probabilities.</summary>
    public static (double[] Hidden, double[] Pool) ProbabilisticPooling(float[] input, int planes, int height, int width, int block) =>
        ProbabilisticPooling(NaiveConvolution.Double(input), planes, height, width, block);

    /// <summary><see cref="ProbabilisticPooling(float[], int, int, int, int)"/> on double-precision inputs.</summary>
    public static (double[] Hidden, double[] Pool) ProbabilisticPooling(double[] input, int planes, int height, int width, int block)
    {
        int rows = height / block, columns = width / block;
        var hidden = new double[input.Length];
        var pool = new double[planes * rows * columns];
        for (int plane = 0; plane < planes; plane++)
            for (int by = 0; by < rows; by++)
                for (int bx = 0; bx < columns; bx++)
                {
                    double total = 1;
                    for (int i = 0; i < block; i++)
                        for (int j = 0; j < block; j++) total += Math.Exp(input[plane * height * width + (by * block + i) * width + bx * block + j]);
                    for (int i = 0; i < block; i++)
                        for (int j = 0; j < block; j++)
                        {
                            int at = plane * height * width + (by * block + i) * width + bx * block + j;
                            hidden[at] = Math.Exp(input[at]) / total;
                        }
                    pool[(plane * rows + by) * columns + bx] = 1 - 1 / total;
                }
        return (hidden, pool);
    }

    /// <summary>The one-hot sampler: row r takes the uniform at position <c>counter*4 + r</c> and picks the first category whose running
    /// sum exceeds it, the last category when none does.</summary>
    public static double[] SampleOneHot(RandomStream stream, ulong counter, float[] probabilities, int rows, int columns)
    {
        var samples = new double[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            float u = Uniform(stream, counter, r), running = 0f;
            int chosen = columns - 1;
            for (int c = 0; c < columns; c++)
            {
                running += probabilities[r * columns + c];
                if (u < running)
                {
                    chosen = c;
                    break;
                }
            }
            samples[r * columns + chosen] = 1;
        }
        return samples;
    }

    /// <summary>
    /// The block sampler: block b (row-major over plane, block row, block column) takes the uniform at position <c>counter*4 + b</c>
    /// and turns on the first unit, in row-major order, whose running sum of <paramref name="hidden"/> exceeds it.
    /// </summary>
    public static (float[] Samples, float[] Pool) SampleProbabilisticPooling(RandomStream stream, ulong counter, float[] hidden, int planes, int height, int width, int block)
    {
        int rows = height / block, columns = width / block;
        var samples = new float[hidden.Length];
        var pool = new float[planes * rows * columns];
        for (int plane = 0; plane < planes; plane++)
            for (int by = 0; by < rows; by++)
                for (int bx = 0; bx < columns; bx++)
                {
                    int index = (plane * rows + by) * columns + bx;
                    float u = Uniform(stream, counter, index), running = 0f;
                    for (int i = 0; i < block && pool[index] == 0; i++)
                        for (int j = 0; j < block; j++)
                        {
                            int at = plane * height * width + (by * block + i) * width + bx * block + j;
                            running += hidden[at];
                            if (u < running)
                            {
                                samples[at] = 1f;
                                pool[index] = 1f;
                                break;
                            }
                        }
                }
        return (samples, pool);
    }
}

/// <summary>Shared data and assertions for the kernel tests.</summary>
internal static class KernelTestData
{
    public const float Guard = 12345.678f;
    public const int GuardLength = 19;

    /// <summary>Every path this CPU can run, Auto included (SimdCoverageTests reports, as skipped, the paths it lacks).</summary>
    public static TheoryData<SimdPath> Paths()
    {
        var data = new TheoryData<SimdPath>();
        foreach (SimdPath path in new[] { SimdPath.Auto, SimdPath.Avx512, SimdPath.Avx2, SimdPath.Scalar })
        {
            if (CpuKernelOptions.IsSupported(path))
                data.Add(path);
        }
        return data;
    }

    /// <summary>The explicit paths this CPU can run (no Auto).</summary>
    public static SimdPath[] ExplicitPaths() =>
        new[] { SimdPath.Avx512, SimdPath.Avx2, SimdPath.Scalar }.Where(CpuKernelOptions.IsSupported).ToArray();

    public static float[] RandomArray(System.Random random, int length, float low, float high)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++)
            a[i] = (float)(low + (high - low) * random.NextDouble());
        return a;
    }

    /// <summary>A buffer with guard elements around a window of <paramref name="length"/> holding <paramref name="values"/>.</summary>
    public static float[] Guarded(ReadOnlySpan<float> values)
    {
        var buffer = new float[values.Length + 2 * GuardLength];
        buffer.AsSpan().Fill(Guard);
        values.CopyTo(buffer.AsSpan(GuardLength));
        return buffer;
    }

    public static Span<float> Window(float[] guarded) => guarded.AsSpan(GuardLength, guarded.Length - 2 * GuardLength);

    public static void AssertGuards(float[] guarded, string what)
    {
        for (int i = 0; i < GuardLength; i++)
        {
            Assert.True(guarded[i] == Guard, $"{what}: wrote before the span at {i - GuardLength}");
            Assert.True(guarded[^(i + 1)] == Guard, $"{what}: wrote after the span at +{i}");
        }
    }

    public static void AssertClose(double expected, float actual, double tolerance, string what)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"{what}: expected NaN, got {actual}");
            return;
        }
        if (double.IsInfinity(expected))
        {
            Assert.True(actual == expected, $"{what}: expected {expected}, got {actual}");
            return;
        }
        double error = Math.Abs(actual - expected);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (error {error:E3} > tolerance {tolerance:E3})");
    }

    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}");
        }
    }
}
