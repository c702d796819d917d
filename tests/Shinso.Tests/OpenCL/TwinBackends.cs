using Shinso.Backends;
using Shinso.OpenCL;
using Shinso.OpenCL.Native;
using Shinso.Tensors;

namespace Shinso.Tests.OpenCL;

/// <summary>
/// The CPU backend and the first OpenCL device side by side, shared by the OpenCL tests. On a
/// machine without OpenCL every test that uses it fails with the error that says what to install
/// (the suite's test command installs POCL, so CI always has a device).
/// </summary>
public sealed class TwinBackends : IDisposable
{
    private readonly Lazy<OpenClBackend> _device = new(Open);

    public CpuBackend Cpu { get; } = new();

    public OpenClBackend Device => _device.Value;

    private readonly Dictionary<int, OpenClBackend> _chunked = [];

    /// <summary>A second backend on the same device whose convolutions unfold at most <paramref name="chunkFloats"/> column floats at once.</summary>
    public OpenClBackend Chunked(int chunkFloats)
    {
        lock (_chunked)
        {
            if (!_chunked.TryGetValue(chunkFloats, out var backend)) _chunked[chunkFloats] = backend = Open(chunkFloats);
            return backend;
        }
    }

    private static OpenClBackend Open() => Open(0);

    private static OpenClBackend Open(int chunkFloats)
    {
        int index = int.TryParse(Environment.GetEnvironmentVariable("SHINSO_TEST_OPENCL_DEVICE"), out int i) ? i : 0;
        try
        {
            return chunkFloats == 0 ? new OpenClBackend(index) : new OpenClBackend(index) { ColumnChunkFloats = chunkFloats };
        }
        catch (OpenClException e)
        {
            throw new InvalidOperationException(
                $"The OpenCL tests need an OpenCL device{(Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: they fail rather than skip)" : "")}: {e.Message}", e);
        }
    }

    /// <summary>The same values as a tensor on each backend.</summary>
    public (Tensor Cpu, Tensor Device) Pair(float[] values, params int[] shape)
    {
        var c = Cpu.Allocate(shape);
        var d = Device.Allocate(shape);
        Cpu.Upload(values, c);
        Device.Upload(values, d);
        return (c, d);
    }

    /// <summary>A pair of uniform random tensors in [low, high).</summary>
    public (Tensor Cpu, Tensor Device) Random(System.Random random, float low, float high, params int[] shape)
    {
        long n = 1;
        foreach (int s in shape) n *= s;
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return Pair(values, shape);
    }

    public static float[] Read(Tensor t)
    {
        var values = new float[t.Length];
        t.Backend.Download(t, values);
        return values;
    }

    /// <summary>Asserts |cpu - device| &lt;= absolute + relative * |cpu| element by element.</summary>
    public static void AssertClose((Tensor Cpu, Tensor Device) pair, double relative, double absolute, string what) =>
        AssertClose(Read(pair.Cpu), Read(pair.Device), relative, absolute, what);

    public static void AssertClose(float[] expected, float[] actual, double relative, double absolute, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                Assert.True(double.IsNaN(e) && double.IsNaN(a), $"{what}[{i}]: CPU {e:R}, device {a:R}");
                continue;
            }
            double tolerance = absolute + relative * Math.Abs(e);
            Assert.True(Math.Abs(e - a) <= tolerance, $"{what}[{i}]: CPU {e:R}, device {a:R} (difference {Math.Abs(e - a):E3} > {tolerance:E3})");
        }
    }

    public static void AssertIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: CPU {expected[i]:R}, device {actual[i]:R}");
    }

    public void Dispose()
    {
        if (_device.IsValueCreated) _device.Value.Dispose();
        foreach (var backend in _chunked.Values) backend.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class OpenClCollection : ICollectionFixture<TwinBackends>
{
    public const string Name = "OpenCL";
}
