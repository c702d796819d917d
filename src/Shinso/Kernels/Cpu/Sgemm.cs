using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>Single-precision general matrix multiply on the CPU (row-major, BLAS SGEMM semantics).</summary>
/// <remarks>
/// The SIMD paths pack op(A) and op(B) into cache-sized panels and run a register-blocked
/// micro-kernel (12x32 on AVX-512, 6x16 on AVX2); on AVX-512 a call with at most 16 rows and an
/// untransposed B skips the packing (<see cref="SgemmSmallM"/>), and so does a small A*B^T over a long K
/// (<see cref="SgemmLongK"/>); the scalar path is a plain loop for CPUs without
/// AVX2. Work is split over rows or columns of C only, so the result is bit-identical for any thread
/// count on a given path.
/// </remarks>
public static class Sgemm
{
    // Below this many flops a call runs on the calling thread: waking a worker costs more than it saves.
    private const double ParallelFlopThreshold = 2e6;

    /// <summary>C = alpha*op(A)*op(B) + beta*C, row-major, op(A) is m x k, op(B) is k x n, C is m x n.</summary>
    /// <param name="transA">Whether A is stored as op(A) (m x k, row stride <paramref name="lda"/> &gt;= k) or transposed (k x m, <paramref name="lda"/> &gt;= m).</param>
    /// <param name="transB">Whether B is stored as op(B) (k x n, row stride <paramref name="ldb"/> &gt;= n) or transposed (n x k, <paramref name="ldb"/> &gt;= k).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B); 0 makes the call C = beta*C.</param>
    /// <param name="alpha">Scale of the product; 0 skips the product (A and B are not read).</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="lda">Row stride of A's storage.</param>
    /// <param name="b">Storage of B.</param>
    /// <param name="ldb">Row stride of B's storage.</param>
    /// <param name="beta">Scale of the old C; 0 means C is not read, so NaN or garbage there does not propagate.</param>
    /// <param name="c">Storage of C (m x n, row stride <paramref name="ldc"/> &gt;= n).</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is too small, or a span is shorter than its matrix needs.</exception>
    /// <exception cref="PlatformNotSupportedException">A path was forced that this CPU lacks.</exception>
    public static unsafe void Compute(Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, CpuKernelOptions options = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        bool aTransposed = transA == Transpose.Transposed;
        bool bTransposed = transB == Transpose.Transposed;
        CheckOperand(a.Length, nameof(a), nameof(lda), lda, aTransposed ? k : m, aTransposed ? m : k, transA, "transA", m, n, k, 'A');
        CheckOperand(b.Length, nameof(b), nameof(ldb), ldb, bTransposed ? n : k, bTransposed ? k : n, transB, "transB", m, n, k, 'B');
        CheckOperand(c.Length, nameof(c), nameof(ldc), ldc, m, n, Transpose.None, null, m, n, k, 'C');
        SimdPath path = options.ResolvedPath;

        if (m == 0 || n == 0)
            return;
        fixed (float* pc = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(pc, m, n, ldc, beta);
                return;
            }
            SgemmCallLog.Record(transA, transB, m, n, k, lda, ldb, ldc, beta, options);
            fixed (float* pa = a)
            fixed (float* pb = b)
            {
                var problem = new SgemmProblem
                {
                    TransA = transA,
                    TransB = transB,
                    M = m,
                    N = n,
                    K = k,
                    Alpha = alpha,
                    Beta = beta,
                    A = pa,
                    B = pb,
                    C = pc,
                    Lda = lda,
                    Ldb = ldb,
                    Ldc = ldc,
                };
                if (path == SimdPath.Scalar)
                {
                    SgemmScalar.Compute(in problem);
                    return;
                }
                int threads = options.ResolvedThreads;
                SgemmSplit split;
                int parts;
                if (SgemmLongK.Applies(in problem, path))
                    (split, parts) = (SgemmSplit.LongK, ColumnParts(m, n, k, SgemmLongK.Columns, threads));
                else if (SgemmSmallM.Applies(in problem, path))
                    (split, parts) = (SgemmSplit.SmallM, ColumnParts(m, n, k, SgemmSmallM.Columns, threads));
                else
                    (split, parts) = BlockedSplit(path, m, n, k, threads);
                var work = SgemmWork.ForCurrentThread;
                work.Problem = problem;
                work.Path = path;
                work.Split = split;
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
        }
    }

    /// <summary>Parts of a call split over column blocks of <paramref name="block"/>, one part per thread at most.</summary>
    internal static int ColumnParts(int m, int n, int k, int block, int threads)
    {
        if (threads <= 1 || 2.0 * m * n * k < ParallelFlopThreshold)
            return 1;
        return Math.Min(threads, (n + block - 1) / block);
    }

    /// <summary>How the blocked driver's call splits between parts on <paramref name="path"/> (AVX-512 or AVX2), by its micro-kernel's tile.</summary>
    internal static (SgemmSplit Split, int Parts) BlockedSplit(SimdPath path, int m, int n, int k, int threads)
    {
        int mr = path == SimdPath.Avx512 ? SgemmAvx512Kernel.MR : SgemmAvx2Kernel.MR;
        int nr = path == SimdPath.Avx512 ? SgemmAvx512Kernel.NR : SgemmAvx2Kernel.NR;
        int parts = ChooseParts(m, n, k, mr, nr, threads, out bool splitRows);
        return (splitRows ? SgemmSplit.Rows : SgemmSplit.Columns, parts);
    }

    /// <summary>How many parts to split the call into and whether to split rows (M) or columns (N) of C.</summary>
    internal static int ChooseParts(int m, int n, int k, int mr, int nr, int threads, out bool splitRows)
    {
        int rowTiles = (m + mr - 1) / mr;
        int colTiles = (n + nr - 1) / nr;
        splitRows = true;
        if (threads <= 1 || 2.0 * m * n * k < ParallelFlopThreshold)
            return 1;
        // The busiest part's tile count decides the wall time; on a tie, split the side whose other
        // operand is cheaper to pack twice (splitting rows repacks B, k x n, in every part).
        long rowCost = (long)((rowTiles + threads - 1) / threads) * colTiles;
        long colCost = (long)((colTiles + threads - 1) / threads) * rowTiles;
        splitRows = rowCost < colCost || (rowCost == colCost && n <= m);
        return Math.Min(threads, splitRows ? rowTiles : colTiles);
    }

    private static unsafe void ScaleC(float* c, int m, int n, nint ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f)
                row.Clear();
            else if (beta != 1f)
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private static void CheckOperand(int length, string spanName, string ldName, int ld, int rows, int cols,
        Transpose trans, string? transName, int m, int n, int k, char matrix)
    {
        if (ld < cols)
            throw new ArgumentOutOfRangeException(ldName, ld,
                $"{ldName}={ld} is less than the {cols} columns of {matrix} as stored ({rows} x {cols}; {Layout(transName, trans, m, n, k)}).");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException(
                $"{spanName} has {length} elements but {Layout(transName, trans, m, n, k)}, {ldName}={ld} needs {needed} ({matrix} stored {rows} x {cols}).",
                spanName);
    }

    private static string Layout(string? transName, Transpose trans, int m, int n, int k) =>
        transName is null ? $"m={m}, n={n}" : $"{transName}={trans}, m={m}, n={n}, k={k}";
}
