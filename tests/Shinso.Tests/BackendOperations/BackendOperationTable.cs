using System.Reflection;
using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tests.Kernels;

namespace Shinso.Tests.BackendOperations;

/// <summary>
/// One entry per <see cref="IBackend"/> operation, in the spirit of ggml's test-backend-ops and PyTorch's OpInfo: a
/// shape generator, the naive double-precision reference and tolerances. <see cref="BackendOperationHarnessTests"/> runs
/// every entry on every CPU path and on OpenCL, with convolutions at several column-chunk sizes, and fails when an
/// operation of the seam has no entry. The capability files (<c>BackendOperationTable.*.cs</c>) hold the entries.
/// </summary>
internal static partial class BackendOperationTable
{
    /// <summary>The seam's memory primitives, which every entry's harness run uses to stage and read its tensors.</summary>
    public static readonly IReadOnlySet<string> StagingOperations = new HashSet<string> { nameof(IBackend.Allocate), nameof(IBackend.Upload), nameof(IBackend.Download) };

    public static readonly IReadOnlyList<BackendOperation> All =
    [
        .. Memory, .. LinearAlgebra, .. ActivationsAndLosses, .. BoltzmannStatistics, .. Convolution, .. OptimizerUpdates, .. Sampling, .. SparseCoding,
    ];

    /// <summary>
    /// Every operation of the seam: the methods of <see cref="IBackend"/> and the capability interfaces it joins, with
    /// <see cref="IKernelPairs.Run{TKernel}"/> standing for every <see cref="IKernelPair"/> type of the core (by type name).
    /// </summary>
    public static IEnumerable<string> SeamOperations() =>
        new[] { typeof(IBackend) }.Concat(typeof(IBackend).GetInterfaces()).Where(t => t != typeof(IDisposable))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => !m.IsSpecialName && m.Name != nameof(IKernelPairs.Run))
            .Select(m => m.Name)
            .Concat(KernelPairs().Select(t => t.Name))
            .Distinct();

    /// <summary>The core's <see cref="IKernelPair"/> types.</summary>
    public static IEnumerable<Type> KernelPairs() =>
        typeof(IKernelPair).Assembly.GetTypes().Where(t => t.IsValueType && typeof(IKernelPair).IsAssignableFrom(t));

    public static BackendOperation Find(string name) => All.Single(o => o.Name == name);

    // ---- helpers shared by the capability files -----------------------------------------------------

    public static double[] Widen(float[] values) => NaiveConvolution.Double(values);

    internal static int Between(System.Random r, int low, int high) => r.Next(low, high + 1);

    /// <summary>Uniform values in [low, high).</summary>
    internal static float[] Values(System.Random r, long length, float low = -1f, float high = 1f)
    {
        var v = new float[length];
        for (long i = 0; i < length; i++) v[i] = (float)(low + (high - low) * r.NextDouble());
        return v;
    }

    /// <summary>Values on a grid of five levels in [-1, 1] and -0, so that equal values, and zeros of both signs, are common.</summary>
    internal static float[] Grid(System.Random r, long length)
    {
        var v = new float[length];
        for (long i = 0; i < length; i++) v[i] = r.Next(6) == 5 ? -0f : r.Next(5) * 0.5f - 1f;
        return v;
    }

    /// <summary>A length that crosses the SIMD widths and their tails: mostly short, sometimes a few hundred.</summary>
    internal static int Length(System.Random r) => r.Next(4) == 0 ? Between(r, 100, 400) : Between(r, 1, 70);

    internal static double[] Map(float[] x, Func<double, double> f) => [.. x.Select(v => f(v))];

    internal static double[] Zip(float[] a, float[] b, Func<double, double, double> f) => [.. a.Select((v, i) => f(v, b[i]))];

    internal static float[] Round(double[] values) => Array.ConvertAll(values, v => (float)v);

    internal static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    internal static ConvolutionGeometry RandomConvolution(System.Random r, int maxChannels = 3)
    {
        int k = Between(r, 1, 3), pad = Between(r, 0, k - 1), stride = Between(r, 1, 2);
        int h = Between(r, Math.Max(1, k - 2 * pad), 8), w = Between(r, Math.Max(1, k - 2 * pad), 8);
        return new ConvolutionGeometry(Between(r, 1, maxChannels), h, w, k, k, stride, stride, pad, pad);
    }

    internal static PoolingGeometry RandomPooling(System.Random r)
    {
        int k = Between(r, 1, 3), stride = Between(r, 1, 3), pad = Between(r, 0, k / 2);
        return new PoolingGeometry(Between(r, 1, 3), Between(r, k, 8), Between(r, k, 8), k, k, stride, stride, pad, pad, r.Next(2) == 0);
    }
}
