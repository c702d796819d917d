using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// AVX-512 SGEMM micro-kernel: a 12x32 tile of C in 24 zmm accumulators. Per k it loads two
/// vectors of the B panel and broadcasts 12 values of the A panel, so 24 FMAs cost 2 vector loads
/// and 12 broadcasts: the two FMA pipes stay saturated and nothing spills (24 + 3 of 32 registers).
/// </summary>
internal readonly unsafe struct SgemmAvx512Kernel : ISgemmMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;
    // A 12x32 tile with KC=256 touches a 32 KB B micro-panel and a 12 KB A micro-panel per pass.
    // (192 and 384 measured the same within noise.)
    public static int KcMax => 256;
    // The packed A block (MC x KC, 480 KB) lives in the 1 MB L2 alongside the streamed B panels.
    public static int McMax => 480;
    public static int NcMax => 4096;

    public static void Run(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        => Run12(kc, a, b, bStride, c, ldc, alpha, beta);

    // A last row tile of 1-4 or 5-8 rows runs a 4- or 8-row kernel over the same packed panel
    // (stride 12) instead of multiplying zero padding: m=100 is 8 tiles of 12 plus one of 4.
    public static void RunRows(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
    {
        if (rows <= 4)
            Run4(kc, a, b, bStride, c, ldc, alpha, beta);
        else if (rows <= 8)
            Run8(kc, a, b, bStride, c, ldc, alpha, beta);
        else
            Run12(kc, a, b, bStride, c, ldc, alpha, beta);
    }

    // The left 16 columns of a 4- or 12-row tile (5-8 rows take the 12-row form): one B vector per k, so an N = 10
    // layer's 12x32 tile of which 10 columns are real costs half the FMAs. Same k-sequential chain per element as Run12.
    public static void RunNarrow(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc)
    {
        if (rows <= 4) Narrow4(kc, a, b, bStride, c, ldc);
        else Narrow12(kc, a, b, bStride, c, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow12(int kc, float* a, float* b, nint bStride, float* c, nint ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8]), b0, c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9]), b0, c9);
            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10]), b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11]), b0, c11);
            a += 12;
            b += bStride;
        }
        c0.Store(c); c1.Store(c + ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc); c6.Store(c + 6 * ldc); c7.Store(c + 7 * ldc);
        c8.Store(c + 8 * ldc); c9.Store(c + 9 * ldc); c10.Store(c + 10 * ldc); c11.Store(c + 11 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow4(int kc, float* a, float* b, nint bStride, float* c, nint ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            a += 12;
            b += bStride;
        }
        c0.Store(c); c1.Store(c + ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run12(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0x0 = Vector512<float>.Zero, c0x1 = Vector512<float>.Zero;
        Vector512<float> c1x0 = Vector512<float>.Zero, c1x1 = Vector512<float>.Zero;
        Vector512<float> c2x0 = Vector512<float>.Zero, c2x1 = Vector512<float>.Zero;
        Vector512<float> c3x0 = Vector512<float>.Zero, c3x1 = Vector512<float>.Zero;
        Vector512<float> c4x0 = Vector512<float>.Zero, c4x1 = Vector512<float>.Zero;
        Vector512<float> c5x0 = Vector512<float>.Zero, c5x1 = Vector512<float>.Zero;
        Vector512<float> c6x0 = Vector512<float>.Zero, c6x1 = Vector512<float>.Zero;
        Vector512<float> c7x0 = Vector512<float>.Zero, c7x1 = Vector512<float>.Zero;
        Vector512<float> c8x0 = Vector512<float>.Zero, c8x1 = Vector512<float>.Zero;
        Vector512<float> c9x0 = Vector512<float>.Zero, c9x1 = Vector512<float>.Zero;
        Vector512<float> c10x0 = Vector512<float>.Zero, c10x1 = Vector512<float>.Zero;
        Vector512<float> c11x0 = Vector512<float>.Zero, c11x1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai;
            ai = Vector512.Create(a[0]);
            c0x0 = Avx512F.FusedMultiplyAdd(ai, b0, c0x0);
            c0x1 = Avx512F.FusedMultiplyAdd(ai, b1, c0x1);
            ai = Vector512.Create(a[1]);
            c1x0 = Avx512F.FusedMultiplyAdd(ai, b0, c1x0);
            c1x1 = Avx512F.FusedMultiplyAdd(ai, b1, c1x1);
            ai = Vector512.Create(a[2]);
            c2x0 = Avx512F.FusedMultiplyAdd(ai, b0, c2x0);
            c2x1 = Avx512F.FusedMultiplyAdd(ai, b1, c2x1);
            ai = Vector512.Create(a[3]);
            c3x0 = Avx512F.FusedMultiplyAdd(ai, b0, c3x0);
            c3x1 = Avx512F.FusedMultiplyAdd(ai, b1, c3x1);
            ai = Vector512.Create(a[4]);
            c4x0 = Avx512F.FusedMultiplyAdd(ai, b0, c4x0);
            c4x1 = Avx512F.FusedMultiplyAdd(ai, b1, c4x1);
            ai = Vector512.Create(a[5]);
            c5x0 = Avx512F.FusedMultiplyAdd(ai, b0, c5x0);
            c5x1 = Avx512F.FusedMultiplyAdd(ai, b1, c5x1);
            ai = Vector512.Create(a[6]);
            c6x0 = Avx512F.FusedMultiplyAdd(ai, b0, c6x0);
            c6x1 = Avx512F.FusedMultiplyAdd(ai, b1, c6x1);
            ai = Vector512.Create(a[7]);
            c7x0 = Avx512F.FusedMultiplyAdd(ai, b0, c7x0);
            c7x1 = Avx512F.FusedMultiplyAdd(ai, b1, c7x1);
            ai = Vector512.Create(a[8]);
            c8x0 = Avx512F.FusedMultiplyAdd(ai, b0, c8x0);
            c8x1 = Avx512F.FusedMultiplyAdd(ai, b1, c8x1);
            ai = Vector512.Create(a[9]);
            c9x0 = Avx512F.FusedMultiplyAdd(ai, b0, c9x0);
            c9x1 = Avx512F.FusedMultiplyAdd(ai, b1, c9x1);
            ai = Vector512.Create(a[10]);
            c10x0 = Avx512F.FusedMultiplyAdd(ai, b0, c10x0);
            c10x1 = Avx512F.FusedMultiplyAdd(ai, b1, c10x1);
            ai = Vector512.Create(a[11]);
            c11x0 = Avx512F.FusedMultiplyAdd(ai, b0, c11x0);
            c11x1 = Avx512F.FusedMultiplyAdd(ai, b1, c11x1);
            a += 12;
            b += bStride;
        }
        var vAlpha = Vector512.Create(alpha);
        var vBeta = Vector512.Create(beta);
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        StoreRow(c + 0 * ldc, c0x0, c0x1, vAlpha, vBeta, mode);
        StoreRow(c + 1 * ldc, c1x0, c1x1, vAlpha, vBeta, mode);
        StoreRow(c + 2 * ldc, c2x0, c2x1, vAlpha, vBeta, mode);
        StoreRow(c + 3 * ldc, c3x0, c3x1, vAlpha, vBeta, mode);
        StoreRow(c + 4 * ldc, c4x0, c4x1, vAlpha, vBeta, mode);
        StoreRow(c + 5 * ldc, c5x0, c5x1, vAlpha, vBeta, mode);
        StoreRow(c + 6 * ldc, c6x0, c6x1, vAlpha, vBeta, mode);
        StoreRow(c + 7 * ldc, c7x0, c7x1, vAlpha, vBeta, mode);
        StoreRow(c + 8 * ldc, c8x0, c8x1, vAlpha, vBeta, mode);
        StoreRow(c + 9 * ldc, c9x0, c9x1, vAlpha, vBeta, mode);
        StoreRow(c + 10 * ldc, c10x0, c10x1, vAlpha, vBeta, mode);
        StoreRow(c + 11 * ldc, c11x0, c11x1, vAlpha, vBeta, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run8(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0x0 = Vector512<float>.Zero, c0x1 = Vector512<float>.Zero;
        Vector512<float> c1x0 = Vector512<float>.Zero, c1x1 = Vector512<float>.Zero;
        Vector512<float> c2x0 = Vector512<float>.Zero, c2x1 = Vector512<float>.Zero;
        Vector512<float> c3x0 = Vector512<float>.Zero, c3x1 = Vector512<float>.Zero;
        Vector512<float> c4x0 = Vector512<float>.Zero, c4x1 = Vector512<float>.Zero;
        Vector512<float> c5x0 = Vector512<float>.Zero, c5x1 = Vector512<float>.Zero;
        Vector512<float> c6x0 = Vector512<float>.Zero, c6x1 = Vector512<float>.Zero;
        Vector512<float> c7x0 = Vector512<float>.Zero, c7x1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai;
            ai = Vector512.Create(a[0]);
            c0x0 = Avx512F.FusedMultiplyAdd(ai, b0, c0x0);
            c0x1 = Avx512F.FusedMultiplyAdd(ai, b1, c0x1);
            ai = Vector512.Create(a[1]);
            c1x0 = Avx512F.FusedMultiplyAdd(ai, b0, c1x0);
            c1x1 = Avx512F.FusedMultiplyAdd(ai, b1, c1x1);
            ai = Vector512.Create(a[2]);
            c2x0 = Avx512F.FusedMultiplyAdd(ai, b0, c2x0);
            c2x1 = Avx512F.FusedMultiplyAdd(ai, b1, c2x1);
            ai = Vector512.Create(a[3]);
            c3x0 = Avx512F.FusedMultiplyAdd(ai, b0, c3x0);
            c3x1 = Avx512F.FusedMultiplyAdd(ai, b1, c3x1);
            ai = Vector512.Create(a[4]);
            c4x0 = Avx512F.FusedMultiplyAdd(ai, b0, c4x0);
            c4x1 = Avx512F.FusedMultiplyAdd(ai, b1, c4x1);
            ai = Vector512.Create(a[5]);
            c5x0 = Avx512F.FusedMultiplyAdd(ai, b0, c5x0);
            c5x1 = Avx512F.FusedMultiplyAdd(ai, b1, c5x1);
            ai = Vector512.Create(a[6]);
            c6x0 = Avx512F.FusedMultiplyAdd(ai, b0, c6x0);
            c6x1 = Avx512F.FusedMultiplyAdd(ai, b1, c6x1);
            ai = Vector512.Create(a[7]);
            c7x0 = Avx512F.FusedMultiplyAdd(ai, b0, c7x0);
            c7x1 = Avx512F.FusedMultiplyAdd(ai, b1, c7x1);
            a += 12;
            b += bStride;
        }
        var vAlpha = Vector512.Create(alpha);
        var vBeta = Vector512.Create(beta);
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        StoreRow(c + 0 * ldc, c0x0, c0x1, vAlpha, vBeta, mode);
        StoreRow(c + 1 * ldc, c1x0, c1x1, vAlpha, vBeta, mode);
        StoreRow(c + 2 * ldc, c2x0, c2x1, vAlpha, vBeta, mode);
        StoreRow(c + 3 * ldc, c3x0, c3x1, vAlpha, vBeta, mode);
        StoreRow(c + 4 * ldc, c4x0, c4x1, vAlpha, vBeta, mode);
        StoreRow(c + 5 * ldc, c5x0, c5x1, vAlpha, vBeta, mode);
        StoreRow(c + 6 * ldc, c6x0, c6x1, vAlpha, vBeta, mode);
        StoreRow(c + 7 * ldc, c7x0, c7x1, vAlpha, vBeta, mode);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run4(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0x0 = Vector512<float>.Zero, c0x1 = Vector512<float>.Zero;
        Vector512<float> c1x0 = Vector512<float>.Zero, c1x1 = Vector512<float>.Zero;
        Vector512<float> c2x0 = Vector512<float>.Zero, c2x1 = Vector512<float>.Zero;
        Vector512<float> c3x0 = Vector512<float>.Zero, c3x1 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai;
            ai = Vector512.Create(a[0]);
            c0x0 = Avx512F.FusedMultiplyAdd(ai, b0, c0x0);
            c0x1 = Avx512F.FusedMultiplyAdd(ai, b1, c0x1);
            ai = Vector512.Create(a[1]);
            c1x0 = Avx512F.FusedMultiplyAdd(ai, b0, c1x0);
            c1x1 = Avx512F.FusedMultiplyAdd(ai, b1, c1x1);
            ai = Vector512.Create(a[2]);
            c2x0 = Avx512F.FusedMultiplyAdd(ai, b0, c2x0);
            c2x1 = Avx512F.FusedMultiplyAdd(ai, b1, c2x1);
            ai = Vector512.Create(a[3]);
            c3x0 = Avx512F.FusedMultiplyAdd(ai, b0, c3x0);
            c3x1 = Avx512F.FusedMultiplyAdd(ai, b1, c3x1);
            a += 12;
            b += bStride;
        }
        var vAlpha = Vector512.Create(alpha);
        var vBeta = Vector512.Create(beta);
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        StoreRow(c + 0 * ldc, c0x0, c0x1, vAlpha, vBeta, mode);
        StoreRow(c + 1 * ldc, c1x0, c1x1, vAlpha, vBeta, mode);
        StoreRow(c + 2 * ldc, c2x0, c2x1, vAlpha, vBeta, mode);
        StoreRow(c + 3 * ldc, c3x0, c3x1, vAlpha, vBeta, mode);
    }

    // mode 0: C = alpha*acc (C is not read, so NaN there cannot leak in); 1: C += alpha*acc;
    // 2: C = alpha*acc + beta*C. The scalar edge-tile writer uses the same operations, bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha, Vector512<float> beta, int mode)
    {
        if (mode == 0)
        {
            Vector512.Store(acc0 * alpha, c);
            Vector512.Store(acc1 * alpha, c + 16);
        }
        else if (mode == 1)
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(acc0, alpha, Vector512.Load(c)), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(acc1, alpha, Vector512.Load(c + 16)), c + 16);
        }
        else
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(acc0, alpha, Vector512.Load(c) * beta), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(acc1, alpha, Vector512.Load(c + 16) * beta), c + 16);
        }
    }
}
