using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// AVX2 + FMA SGEMM micro-kernel: a 6x16 tile of C in 12 ymm accumulators, which with the two
/// B vectors and the broadcast fills the 16 ymm registers without spilling.
/// </summary>
internal readonly unsafe struct SgemmAvx2Kernel : ISgemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    // The 16-wide B micro-panel at KC=256 is 16 KB: half the L1, the A micro-panel streams beside it.
    public static int KcMax => 256;
    public static int McMax => 480;
    public static int NcMax => 4096;

    // No narrower form: a 6x8 kernel would wait on its six FMA chains, so the full 6x16 tile runs.
    public static void RunNarrow(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc) => RunRows(rows, kc, a, b, bStride, c, ldc, 1f, 0f);

    public static void RunRows(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        => Run(kc, a, b, bStride, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c0x0 = Vector256<float>.Zero, c0x1 = Vector256<float>.Zero;
        Vector256<float> c1x0 = Vector256<float>.Zero, c1x1 = Vector256<float>.Zero;
        Vector256<float> c2x0 = Vector256<float>.Zero, c2x1 = Vector256<float>.Zero;
        Vector256<float> c3x0 = Vector256<float>.Zero, c3x1 = Vector256<float>.Zero;
        Vector256<float> c4x0 = Vector256<float>.Zero, c4x1 = Vector256<float>.Zero;
        Vector256<float> c5x0 = Vector256<float>.Zero, c5x1 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ai;
            ai = Vector256.Create(a[0]);
            c0x0 = Fma.MultiplyAdd(ai, b0, c0x0);
            c0x1 = Fma.MultiplyAdd(ai, b1, c0x1);
            ai = Vector256.Create(a[1]);
            c1x0 = Fma.MultiplyAdd(ai, b0, c1x0);
            c1x1 = Fma.MultiplyAdd(ai, b1, c1x1);
            ai = Vector256.Create(a[2]);
            c2x0 = Fma.MultiplyAdd(ai, b0, c2x0);
            c2x1 = Fma.MultiplyAdd(ai, b1, c2x1);
            ai = Vector256.Create(a[3]);
            c3x0 = Fma.MultiplyAdd(ai, b0, c3x0);
            c3x1 = Fma.MultiplyAdd(ai, b1, c3x1);
            ai = Vector256.Create(a[4]);
            c4x0 = Fma.MultiplyAdd(ai, b0, c4x0);
            c4x1 = Fma.MultiplyAdd(ai, b1, c4x1);
            ai = Vector256.Create(a[5]);
            c5x0 = Fma.MultiplyAdd(ai, b0, c5x0);
            c5x1 = Fma.MultiplyAdd(ai, b1, c5x1);
            a += 6;
            b += bStride;
        }
        var vAlpha = Vector256.Create(alpha);
        var vBeta = Vector256.Create(beta);
        int mode = beta == 0f ? 0 : beta == 1f ? 1 : 2;
        StoreRow(c + 0 * ldc, c0x0, c0x1, vAlpha, vBeta, mode);
        StoreRow(c + 1 * ldc, c1x0, c1x1, vAlpha, vBeta, mode);
        StoreRow(c + 2 * ldc, c2x0, c2x1, vAlpha, vBeta, mode);
        StoreRow(c + 3 * ldc, c3x0, c3x1, vAlpha, vBeta, mode);
        StoreRow(c + 4 * ldc, c4x0, c4x1, vAlpha, vBeta, mode);
        StoreRow(c + 5 * ldc, c5x0, c5x1, vAlpha, vBeta, mode);
    }

    // Same three store modes as the AVX-512 kernel (mode 0 never reads C).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> alpha, Vector256<float> beta, int mode)
    {
        if (mode == 0)
        {
            Vector256.Store(acc0 * alpha, c);
            Vector256.Store(acc1 * alpha, c + 8);
        }
        else if (mode == 1)
        {
            Vector256.Store(Fma.MultiplyAdd(acc0, alpha, Vector256.Load(c)), c);
            Vector256.Store(Fma.MultiplyAdd(acc1, alpha, Vector256.Load(c + 8)), c + 8);
        }
        else
        {
            Vector256.Store(Fma.MultiplyAdd(acc0, alpha, Vector256.Load(c) * beta), c);
            Vector256.Store(Fma.MultiplyAdd(acc1, alpha, Vector256.Load(c + 8) * beta), c + 8);
        }
    }
}
