using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// AVX-512 SGEMM for a few rows of C and an untransposed B (a batch-1 dense layer, a convolution with a handful
/// of filters): B is read in place instead of packed. With M &lt;= 16 each B element is used by at most 16 rows, so
/// packing it (a copy of all of B per call) costs as much as the arithmetic; packing A is skipped too, the
/// kernel broadcasts A's elements from where they are.
/// </summary>
/// <remarks>
/// The result is bit-identical to the packed path's: the same balanced K blocks, the same k-sequential FMA chain
/// per element starting from zero, and the same store of each block (<c>acc*alpha</c>, then <c>fma(acc, alpha, C)</c>).
/// A last block of fewer than 64 columns runs on a zero-padded copy of B's columns and is written through
/// <see cref="SgemmDriver.WriteEdge"/>, like the packed path's edge tiles.
/// </remarks>
internal static unsafe class SgemmSmallM
{
    /// <summary>Largest M this path takes.</summary>
    public const int MaxRows = ColumnPanels.MaxRows;

    /// <summary>Columns of C per kernel call: four zmm vectors, one panel of a B in <see cref="ColumnPanels"/>.</summary>
    public const int Columns = ColumnPanels.Width;

    public static bool Applies(in SgemmProblem g, SimdPath path) =>
        path == SimdPath.Avx512 && g.TransB == Transpose.None && g.M <= MaxRows;

    /// <summary>Computes columns [<paramref name="n0"/>, <paramref name="n1"/>) of C (n0 a multiple of <see cref="Columns"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in SgemmProblem g, int n0, int n1)
    {
        if (g.BInColumnPanels)
        {
            RunOnPanels(in g, n0, n1);
            return;
        }
        int k = g.K;
        int kcStep = SgemmDriver.BalancedStep(k, SgemmAvx512Kernel.KcMax, 1);
        var buffers = SgemmPackBuffers.ForCurrentThread;
        float* paddedB = buffers.B(kcStep * Columns);
        float* tile = buffers.Tile(4 * Columns);
        // A(i, p) sits at a + i*rowStep + p*kStep, whichever way A is stored.
        nint rowStep = g.TransA == Transpose.None ? g.Lda : 1;
        nint kStep = g.TransA == Transpose.None ? 1 : g.Lda;
        nint ldc = g.Ldc;
        for (int pc = 0; pc < k; pc += kcStep)
        {
            int kc = Math.Min(kcStep, k - pc);
            float beta = pc == 0 ? g.Beta : 1f;
            float* aBlock = g.A + pc * kStep;
            float* bBlock = g.B + pc * g.Ldb;
            for (int j = n0; j < n1; j += Columns)
            {
                int cols = Math.Min(Columns, n1 - j);
                float* b = bBlock + j;
                nint ldb = g.Ldb;
                if (cols < Columns)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        var row = new Span<float>(paddedB + p * Columns, Columns);
                        new ReadOnlySpan<float>(bBlock + p * g.Ldb + j, cols).CopyTo(row);
                        row[cols..].Clear();
                    }
                    b = paddedB;
                    ldb = Columns;
                }
                for (int i = 0; i < g.M; i += 4)
                {
                    int rows = Math.Min(4, g.M - i);
                    float* a = aBlock + i * rowStep;
                    float* c = g.C + i * ldc + j;
                    if (cols == Columns)
                    {
                        Block(rows, kc, a, rowStep, kStep, b, ldb, c, ldc, g.Alpha, beta);
                    }
                    else
                    {
                        Block(rows, kc, a, rowStep, kStep, b, ldb, tile, Columns, 1f, 0f);
                        SgemmDriver.WriteEdge(tile, Columns, c, ldc, rows, cols, g.Alpha, beta);
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Run"/> for a B in <see cref="Operations.ColumnPanels"/> (C = A B + bias, untransposed A, beta 0): each
    /// panel's K blocks are one contiguous stream, taken whole before the next panel, so the bias is added while the
    /// block of C is still in L1. The arithmetic per element is <see cref="Run"/>'s, then the bias, as a GEMM followed by
    /// an added row vector gives it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunOnPanels(in SgemmProblem g, int n0, int n1)
    {
        int k = g.K;
        int kcStep = SgemmDriver.BalancedStep(k, SgemmAvx512Kernel.KcMax, 1);
        float* tile = SgemmPackBuffers.ForCurrentThread.Tile(4 * Columns);
        nint rowStep = g.Lda, ldc = g.Ldc;
        for (int j = n0; j < n1; j += Columns)
        {
            int cols = Math.Min(Columns, n1 - j);
            // Panel j / Columns starts at (j / Columns) * k * Columns = j * k.
            float* panel = g.B + (nint)j * k;
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                float beta = pc == 0 ? 0f : 1f;
                float* b = panel + (nint)pc * Columns;
                for (int i = 0; i < g.M; i += 4)
                {
                    int rows = Math.Min(4, g.M - i);
                    float* a = g.A + i * rowStep + pc;
                    float* c = g.C + i * ldc + j;
                    if (cols == Columns)
                    {
                        Block(rows, kc, a, rowStep, 1, b, Columns, c, ldc, 1f, beta);
                    }
                    else
                    {
                        Block(rows, kc, a, rowStep, 1, b, Columns, tile, Columns, 1f, 0f);
                        SgemmDriver.WriteEdge(tile, Columns, c, ldc, rows, cols, 1f, beta);
                    }
                }
            }
            if (g.Bias != null) AddBias(g.C + j, ldc, g.M, cols, g.Bias + j);
        }
    }

    private static void AddBias(float* c, nint ldc, int rows, int cols, float* bias)
    {
        for (int i = 0; i < rows; i++, c += ldc)
        {
            int q = 0;
            for (; q + 16 <= cols; q += 16) Vector512.Store(Vector512.Load(c + q) + Vector512.Load(bias + q), c + q);
            for (; q < cols; q++) c[q] += bias[q];
        }
    }

    // Rows 1..4 of a 64-column block. Missing rows reuse the last real row's A pointer (never read past A) and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(int rows, int kc, float* a, nint rowStep, nint kStep, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        if (rows == 1)
        {
            One(kc, a, kStep, b, ldb, c, alpha, beta);
            return;
        }
        float* a0 = a;
        float* a1 = a + rowStep;
        float* a2 = rows > 2 ? a + 2 * rowStep : a1;
        float* a3 = rows > 3 ? a + 3 * rowStep : a2;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        nint ak = 0;
        for (int p = 0; p < kc; p++, ak += kStep, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            var x = Vector512.Create(a0[ak]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(x, b2, c02); c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[ak]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            c12 = Avx512F.FusedMultiplyAdd(x, b2, c12); c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[ak]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            c22 = Avx512F.FusedMultiplyAdd(x, b2, c22); c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[ak]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            c32 = Avx512F.FusedMultiplyAdd(x, b2, c32); c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
        }
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        Store(c, c00, c01, c02, c03, va, vb, mode);
        Store(c + ldc, c10, c11, c12, c13, va, vb, mode);
        if (rows > 2) Store(c + 2 * ldc, c20, c21, c22, c23, va, vb, mode);
        if (rows > 3) Store(c + 3 * ldc, c30, c31, c32, c33, va, vb, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(int kc, float* a, nint kStep, float* b, nint ldb, float* c, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        nint ak = 0;
        for (int p = 0; p < kc; p++, ak += kStep, b += ldb)
        {
            var x = Vector512.Create(a[ak]);
            c0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
        }
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        Store(c, c0, c1, c2, c3, Vector512.Create(alpha), Vector512.Create(beta), mode);
    }

    // The packed kernel's store, four vectors wide.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> alpha, Vector512<float> beta, int mode)
    {
        if (mode == 0)
        {
            Vector512.Store(x0 * alpha, c);
            Vector512.Store(x1 * alpha, c + 16);
            Vector512.Store(x2 * alpha, c + 32);
            Vector512.Store(x3 * alpha, c + 48);
        }
        else if (mode == 1)
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(x0, alpha, Vector512.Load(c)), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x1, alpha, Vector512.Load(c + 16)), c + 16);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x2, alpha, Vector512.Load(c + 32)), c + 32);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x3, alpha, Vector512.Load(c + 48)), c + 48);
        }
        else
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(x0, alpha, Vector512.Load(c) * beta), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x1, alpha, Vector512.Load(c + 16) * beta), c + 16);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x2, alpha, Vector512.Load(c + 32) * beta), c + 32);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x3, alpha, Vector512.Load(c + 48) * beta), c + 48);
        }
    }
}
