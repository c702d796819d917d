using System.Numerics.Tensors;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// A weight matrix in <see cref="ColumnPanels"/> and the affine product <c>C = A B + bias</c> on it: a dense layer whose
/// weights stay fixed, packed once.
/// </summary>
/// <remarks>
/// Up to <see cref="ColumnPanels.MaxRows"/> rows on AVX-512 the product is <see cref="SgemmSmallM"/>'s kernel streaming the
/// panels; more rows, and AVX2, run the blocked driver with the panels in place of a packed B (each K block of a panel
/// is already contiguous rows), which saves packing B on every call. Either way the sums are the ones
/// <see cref="Sgemm.Compute"/> forms on the unpacked B, so the result is bit for bit a GEMM followed by an added bias row.
/// The scalar path runs one <see cref="Sgemm.Compute"/> call per panel.
/// </remarks>
public static class SgemmColumnPanels
{
    // A product that streams fewer panel floats than this runs on the calling thread. The flop threshold of a GEMM does
    // not fit a product bound by the bandwidth it streams at: a batch-1 784x800 layer (1.25 Mflop, 2.5 MB of panels,
    // about 30 us) gains from a second core's share of the cache bandwidth, where waking it costs a few microseconds.
    private const long ParallelPanelFloats = 1 << 16;

    /// <summary>Parts of a product over <paramref name="n"/> columns: whole panels, one part per thread at most.</summary>
    internal static int Parts(int n, int k, int threads)
    {
        int panels = (n + ColumnPanels.Width - 1) / ColumnPanels.Width;
        return threads <= 1 || (long)panels * ColumnPanels.Width * k < ParallelPanelFloats ? 1 : Math.Min(threads, panels);
    }

    /// <summary>Writes B [<paramref name="k"/>, <paramref name="n"/>] (row-major) into <paramref name="panels"/> (<see cref="ColumnPanels.Shape"/>).</summary>
    /// <exception cref="ArgumentException">A span's length does not fit the sizes.</exception>
    public static void Pack(ReadOnlySpan<float> b, int k, int n, Span<float> panels)
    {
        KernelChecks.Matrix(b.Length, nameof(b), k, n);
        int count = (n + ColumnPanels.Width - 1) / ColumnPanels.Width;
        KernelChecks.Matrix(panels.Length, nameof(panels), count * k, ColumnPanels.Width);
        for (int j = 0; j < count; j++)
        {
            int first = j * ColumnPanels.Width, cols = Math.Min(ColumnPanels.Width, n - first);
            var panel = panels.Slice(first * k, k * ColumnPanels.Width);
            for (int p = 0; p < k; p++)
            {
                var row = panel.Slice(p * ColumnPanels.Width, ColumnPanels.Width);
                b.Slice(p * n + first, cols).CopyTo(row);
                row[cols..].Clear();
            }
        }
    }

    /// <summary>
    /// <c>C = A B + bias</c>: A is [<paramref name="m"/>, <paramref name="k"/>] (row stride <paramref name="lda"/>), B
    /// [<paramref name="k"/>, <paramref name="n"/>] is given as <paramref name="panels"/>, C is [m, n] (row stride
    /// <paramref name="ldc"/>) and is not read.
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative or a span's length does not fit the sizes.</exception>
    public static unsafe void Compute(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> panels,
        ReadOnlySpan<float> bias, Span<float> c, int ldc, CpuKernelOptions options = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (lda < k || m > 0 && a.Length < (long)(m - 1) * lda + k)
            throw new ArgumentException($"a has {a.Length} elements, row stride {lda}: too few for {m} x {k}.", nameof(a));
        int count = (n + ColumnPanels.Width - 1) / ColumnPanels.Width;
        KernelChecks.Matrix(panels.Length, nameof(panels), count * k, ColumnPanels.Width);
        if (bias.Length != n)
            throw new ArgumentException($"bias has {bias.Length} elements but C has {n} columns.", nameof(bias));
        if (ldc < n || m > 0 && c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"c has {c.Length} elements, row stride {ldc}: too few for {m} x {n}.", nameof(c));
        if (m == 0 || n == 0)
            return;
        SimdPath path = options.ResolvedPath;
        if (path == SimdPath.Scalar || k == 0)
        {
            for (int j = 0; j < count; j++)
            {
                int first = j * ColumnPanels.Width, cols = Math.Min(ColumnPanels.Width, n - first);
                var block = c[first..];
                Sgemm.Compute(Transpose.None, Transpose.None, m, cols, k, 1f, a, lda, panels.Slice(first * k, k * ColumnPanels.Width),
                    ColumnPanels.Width, 0f, block, ldc, options);
                for (int i = 0; i < m; i++)
                {
                    var row = block.Slice(i * ldc, cols);
                    TensorPrimitives.Add(row, bias.Slice(first, cols), row);
                }
            }
            return;
        }
        // Few rows on AVX-512 stream the panels (SgemmSmallM, which adds the bias itself); more rows, or AVX2, run the
        // blocked driver on the panels in place of a packed B, then add the bias.
        bool stream = path == SimdPath.Avx512 && m <= SgemmSmallM.MaxRows;
        fixed (float* pa = a)
        fixed (float* pb = panels)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        {
            var work = SgemmWork.ForCurrentThread;
            work.Problem = new SgemmProblem
            {
                TransA = Transpose.None, TransB = Transpose.None,
                M = m, N = n, K = k, Alpha = 1f, Beta = 0f,
                A = pa, B = pb, C = pc, Lda = lda, Ldc = ldc,
                BInColumnPanels = true, Bias = stream ? pbias : null,
            };
            work.Path = path;
            (work.Split, int parts) = stream
                ? (SgemmSplit.SmallM, Parts(n, k, options.ResolvedThreads))
                : Sgemm.BlockedSplit(path, m, n, k, options.ResolvedThreads);
            try
            {
                KernelThreadPool.Run(work, parts);
            }
            finally
            {
                // The work item outlives the call; drop the pointers into the caller's (unpinned) memory.
                work.Problem = default;
            }
        }
        if (!stream)
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                TensorPrimitives.Add(row, bias, row);
            }
    }
}
