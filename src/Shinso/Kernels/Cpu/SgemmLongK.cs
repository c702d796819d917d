using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// AVX-512 SGEMM for <c>C = alpha*A*B^T + beta*C</c> with a small C and a long K, where A's and B's rows both run
/// along K: a convolution's weight gradient, <c>dW = dY' cols^T</c> (6 x 25 over K = 78,400 for LeNet's first layer).
/// The packed path would repack a 256-deep slice of B for a single 12x32 tile per K block, mostly padding; here each
/// element of C is a dot product vectorized along K, four rows of A against four rows of B at a time.
/// </summary>
/// <remarks>
/// K runs in blocks of <see cref="KBlock"/> so a block of A's and B's rows stays in cache while every tile reads it;
/// each tile's block sums go to a float scratch in block order, and C is written once at the end. Parts split the
/// columns of C, so the result does not depend on the thread count.
/// </remarks>
internal static unsafe class SgemmLongK
{
    /// <summary>Largest M*N this path takes (the scratch of partial sums).</summary>
    public const int MaxProduct = 4096;

    /// <summary>Smallest K this path takes.</summary>
    public const int MinK = 512;

    /// <summary>Columns of C per tile; parts split C on multiples of it.</summary>
    public const int Columns = 4;

    private const int KBlock = 512;

    public static bool Applies(in SgemmProblem g, SimdPath path) =>
        path == SimdPath.Avx512 && g.TransA == Transpose.None && g.TransB == Transpose.Transposed
        && (long)g.M * g.N <= MaxProduct && g.K >= MinK;

    /// <summary>Computes columns [<paramref name="n0"/>, <paramref name="n1"/>) of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in SgemmProblem g, int n0, int n1)
    {
        int m = g.M, k = g.K, width = n1 - n0;
        float* sums = SgemmPackBuffers.ForCurrentThread.Tile(m * width);
        new Span<float>(sums, m * width).Clear();
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kc = Math.Min(KBlock, k - k0);
            for (int j = 0; j < width; j += Columns)
            {
                int cols = Math.Min(Columns, width - j);
                for (int i = 0; i < m; i += 4)
                {
                    int rows = Math.Min(4, m - i);
                    Tile(g.A + i * g.Lda + k0, g.Lda, rows, g.B + (n0 + j) * g.Ldb + k0, g.Ldb, cols, kc, sums + i * width + j, width);
                }
            }
        }
        float alpha = g.Alpha, beta = g.Beta;
        for (int i = 0; i < m; i++)
        {
            float* c = g.C + i * g.Ldc + n0;
            float* s = sums + i * width;
            for (int j = 0; j < width; j++)
                c[j] = beta == 0f ? alpha * s[j] : MathF.FusedMultiplyAdd(alpha, s[j], beta * c[j]);
        }
    }

    // sums[r, c] += dot(A row r, B row c) over kc, for up to 4 x 4 rows; missing rows reuse the last real row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* a, nint lda, int rows, float* b, nint ldb, int cols, int kc, float* sums, int sumStride)
    {
        float* a0 = a, a1 = rows > 1 ? a + lda : a0, a2 = rows > 2 ? a + 2 * lda : a1, a3 = rows > 3 ? a + 3 * lda : a2;
        float* b0 = b, b1 = cols > 1 ? b + ldb : b0, b2 = cols > 2 ? b + 2 * ldb : b1, b3 = cols > 3 ? b + 3 * ldb : b2;
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int p = 0;
        for (; p <= kc - 16; p += 16)
            Step(Vector512.Load(a0 + p), Vector512.Load(a1 + p), Vector512.Load(a2 + p), Vector512.Load(a3 + p),
                Vector512.Load(b0 + p), Vector512.Load(b1 + p), Vector512.Load(b2 + p), Vector512.Load(b3 + p),
                ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13,
                ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
        if (p < kc)
        {
            // Masked loads read nothing past the rows' ends.
            var mask = Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(kc - p)).AsSingle();
            var z = Vector512<float>.Zero;
            Step(Avx512F.MaskLoad(a0 + p, mask, z), Avx512F.MaskLoad(a1 + p, mask, z), Avx512F.MaskLoad(a2 + p, mask, z), Avx512F.MaskLoad(a3 + p, mask, z),
                Avx512F.MaskLoad(b0 + p, mask, z), Avx512F.MaskLoad(b1 + p, mask, z), Avx512F.MaskLoad(b2 + p, mask, z), Avx512F.MaskLoad(b3 + p, mask, z),
                ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13,
                ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
        }
        Add(sums, cols, s00, s01, s02, s03);
        if (rows > 1) Add(sums + sumStride, cols, s10, s11, s12, s13);
        if (rows > 2) Add(sums + 2 * sumStride, cols, s20, s21, s22, s23);
        if (rows > 3) Add(sums + 3 * sumStride, cols, s30, s31, s32, s33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3,
        ref Vector512<float> s00, ref Vector512<float> s01, ref Vector512<float> s02, ref Vector512<float> s03,
        ref Vector512<float> s10, ref Vector512<float> s11, ref Vector512<float> s12, ref Vector512<float> s13,
        ref Vector512<float> s20, ref Vector512<float> s21, ref Vector512<float> s22, ref Vector512<float> s23,
        ref Vector512<float> s30, ref Vector512<float> s31, ref Vector512<float> s32, ref Vector512<float> s33)
    {
        s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01);
        s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03);
        s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11);
        s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13);
        s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20); s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21);
        s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22); s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23);
        s30 = Avx512F.FusedMultiplyAdd(x3, y0, s30); s31 = Avx512F.FusedMultiplyAdd(x3, y1, s31);
        s32 = Avx512F.FusedMultiplyAdd(x3, y2, s32); s33 = Avx512F.FusedMultiplyAdd(x3, y3, s33);
    }

    // row[c] += the lane sum of t_c for c < cols. The four sums share one reduction tree: pairs of vectors are
    // interleaved and added until each 128-bit lane holds [t0, t1, t2, t3] partials, then the four lanes are added, where
    // four separate lane sums would each pay for a whole tree.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* row, int cols, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3)
    {
        var x01 = Avx512F.UnpackLow(t0, t1) + Avx512F.UnpackHigh(t0, t1);
        var x23 = Avx512F.UnpackLow(t2, t3) + Avx512F.UnpackHigh(t2, t3);
        var y = Avx512F.Shuffle(x01, x23, 0b01_00_01_00) + Avx512F.Shuffle(x01, x23, 0b11_10_11_10);
        var half = y.GetLower() + y.GetUpper();
        var sums = half.GetLower() + half.GetUpper();
        if (cols == 4)
        {
            (Vector128.Load(row) + sums).Store(row);
            return;
        }
        row[0] += sums.GetElement(0);
        if (cols > 1) row[1] += sums.GetElement(1);
        if (cols > 2) row[2] += sums.GetElement(2);
    }
}
