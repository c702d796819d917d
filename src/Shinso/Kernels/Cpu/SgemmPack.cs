using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Packs op(A) and op(B) blocks into the panel layouts the SGEMM micro-kernels stream through:
/// op(A) as MR-row panels (for each k, MR consecutive values), op(B) as NR-column panels (for each k,
/// NR consecutive values). Edges are padded with zeros so a micro-kernel always runs a full tile.
/// </summary>
/// <remarks>Needs AVX (both SIMD paths have it); the scalar path does not pack. Hot methods here and in the driver are AggressiveOptimization: tier-0 vector code is an order
/// of magnitude slower, and tiered PGO was seen to leave the loop nest in slow code for seconds.</remarks>
internal static unsafe class SgemmPack
{
    /// <summary>Packs rows [i0, i0+mc) x columns [p0, p0+kc) of op(A) into ceil(mc/mr) panels of mr x kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(Transpose transA, float* a, nint lda, int i0, int mc, int p0, int kc, float* dst, int mr)
    {
        for (int ip = 0; ip < mc; ip += mr)
        {
            int rows = Math.Min(mr, mc - ip);
            float* panel = dst + (nint)ip * kc;
            if (transA == Transpose.Transposed)
            {
                // Stored k x m: each k contributes mr consecutive floats.
                float* src = a + (nint)p0 * lda + i0 + ip;
                if (rows == mr && mr == 12)
                    CopyRows12(src, lda, kc, panel);
                else if (rows == mr && mr == 6)
                    CopyRows6(src, lda, kc, panel);
                else
                    CopyRowsGeneric(src, lda, kc, panel, rows, mr);
            }
            else
            {
                // Stored m x k: the panel is a transpose of mr rows.
                float* src = a + (nint)(i0 + ip) * lda + p0;
                if (rows == mr && mr == 12)
                    TransposeRows12(src, lda, kc, panel);
                else if (rows == mr && mr == 6)
                    TransposeRows6(src, lda, kc, panel);
                else
                    TransposeGeneric(src, lda, kc, panel, rows, mr);
            }
        }
    }

    /// <summary>Packs rows [p0, p0+kc) x columns [j0, j0+nc) of op(B) into ceil(nc/nr) panels of kc x nr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(Transpose transB, float* b, nint ldb, int p0, int kc, int j0, int nc, float* dst, int nr)
    {
        if (transB == Transpose.None && nr == 32 && Avx512F.IsSupported)
        {
            PackRowsAcross32(b + (nint)p0 * ldb + j0, ldb, kc, nc, dst);
            return;
        }
        for (int jp = 0; jp < nc; jp += nr)
        {
            int cols = Math.Min(nr, nc - jp);
            float* panel = dst + (nint)jp * kc;
            if (transB == Transpose.None)
            {
                float* src = b + (nint)p0 * ldb + j0 + jp;
                if (cols == nr && (nr & 7) == 0)
                    CopyRowsWide(src, ldb, kc, panel, nr);
                else
                    CopyRowsGeneric(src, ldb, kc, panel, cols, nr);
            }
            else
            {
                // Stored n x k: column j of op(B) is row j of storage, so the panel is a transpose.
                float* src = b + (nint)(j0 + jp) * ldb + p0;
                if (cols == nr && (nr & 7) == 0)
                    TransposeWide(src, ldb, kc, panel, nr);
                else
                    TransposeGeneric(src, ldb, kc, panel, cols, nr);
            }
        }
    }

    /// <summary>
    /// Asks for part <paramref name="part"/> of <paramref name="parts"/> of the lines that
    /// <c>PackB(transB, b, ldb, p0, kc, j0, cols, ...)</c> will read to be fetched into L2, so that packing them later
    /// finds them there instead of waiting on memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchB(Transpose transB, float* b, nint ldb, int p0, int kc, int j0, int cols, int part, int parts)
    {
        if (!Sse.IsSupported) return;
        bool transposed = transB == Transpose.Transposed;
        int rows = transposed ? cols : kc, width = transposed ? kc : cols;
        float* start = transposed ? b + (nint)j0 * ldb + p0 : b + (nint)p0 * ldb + j0;
        int r0 = rows * part / parts, r1 = rows * (part + 1) / parts;
        for (int r = r0; r < r1; r++)
        {
            nint first = (nint)(start + r * ldb) & ~(nint)63, last = (nint)(start + r * ldb + width - 1);
            for (nint line = first; line <= last; line += 64) Sse.Prefetch1((void*)line);
        }
    }

    // The AVX-512 path's panels of an untransposed B, filled one row of B at a time: each row is read once, front to
    // back, and its 128-byte pieces go to the kc-row panels side by side. Filling one panel at a time walks B down
    // 32-float strips 4 KB apart and reads every line at a strip's edge twice, which pays only where the strip's lines
    // were prefetched during the panel before (a GEMM of one M block, SgemmDriver). The last panel's columns past nc
    // are zero (masked loads read nothing there).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRowsAcross32(float* src, nint ld, int kc, int nc, float* dst)
    {
        int full = nc & ~31, tail = nc - full;
        var lanes = Vector512<int>.Indices;
        var lowMask = Vector512.LessThan(lanes, Vector512.Create(tail)).AsSingle();
        var highMask = Vector512.LessThan(lanes, Vector512.Create(tail - 16)).AsSingle();
        nint panelStride = (nint)kc * 32;
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * 32;
            for (int jp = 0; jp < full; jp += 32, d += panelStride)
            {
                Vector512.StoreAligned(Vector512.Load(s + jp), d);
                Vector512.StoreAligned(Vector512.Load(s + jp + 16), d + 16);
            }
            if (tail > 0)
            {
                Vector512.StoreAligned(Avx512F.MaskLoad(s + full, lowMask, Vector512<float>.Zero), d);
                Vector512.StoreAligned(Avx512F.MaskLoad(s + full + 16, highMask, Vector512<float>.Zero), d + 16);
            }
        }
    }

    // dst[p*width + c] = src[p*ld + c] for c < cols, zero for cols <= c < width.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRowsGeneric(float* src, nint ld, int kc, float* dst, int cols, int width)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * width;
            int c = 0;
            for (; c < cols; c++)
                d[c] = s[c];
            for (; c < width; c++)
                d[c] = 0f;
        }
    }

    // dst[p*width + r] = src[r*ld + p] for r < rows, zero for rows <= r < width.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeGeneric(float* src, nint ld, int kc, float* dst, int rows, int width)
    {
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + (nint)p * width;
            int r = 0;
            for (; r < rows; r++)
                d[r] = src[r * ld + p];
            for (; r < width; r++)
                d[r] = 0f;
        }
    }

    // The AVX2 path's 16-wide panels (the AVX-512 path's 32-wide ones are packed by PackRowsAcross32).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRowsWide(float* src, nint ld, int kc, float* dst, int width)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * width;
            for (int c = 0; c < width; c += 8)
                Vector256.Store(Vector256.Load(s + c), d + c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows12(float* src, nint ld, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            Vector256.Store(Vector256.Load(s), dst);
            Vector128.Store(Vector128.Load(s + 8), dst + 8);
            dst += 12;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows6(float* src, nint ld, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            Vector128.Store(Vector128.Load(s), dst);
            dst[4] = s[4];
            dst[5] = s[5];
            dst += 6;
        }
    }

    // width (a multiple of 8) rows of src, each read along p, become kc rows of width in dst:
    // 8x8 register transposes turn the strided gather into contiguous loads and stores.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeWide(float* src, nint ld, int kc, float* dst, int width)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int r = 0; r < width; r += 8)
                Transpose8x8(src + r * ld + p, ld, dst + (nint)p * width + r, width);
        }
        for (; p < kc; p++)
        {
            float* d = dst + (nint)p * width;
            for (int r = 0; r < width; r++)
                d[r] = src[r * ld + p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeRows12(float* src, nint ld, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            Transpose8x8(src + p, ld, dst + (nint)p * 12, 12);
            Transpose4x8(src + 8 * ld + p, ld, dst + (nint)p * 12 + 8, 12);
        }
        for (; p < kc; p++)
        {
            float* d = dst + (nint)p * 12;
            for (int r = 0; r < 12; r++)
                d[r] = src[r * ld + p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeRows6(float* src, nint ld, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            Transpose4x8(src + p, ld, dst + (nint)p * 6, 6);
            float* s4 = src + 4 * ld + p;
            float* s5 = src + 5 * ld + p;
            float* d = dst + (nint)p * 6 + 4;
            for (int q = 0; q < 8; q++)
            {
                d[q * 6] = s4[q];
                d[q * 6 + 1] = s5[q];
            }
        }
        for (; p < kc; p++)
        {
            float* d = dst + (nint)p * 6;
            for (int r = 0; r < 6; r++)
                d[r] = src[r * ld + p];
        }
    }

    // Reads 8 rows x 8 floats at src (row stride ld); writes the transpose as 8 rows of 8 at dst (stride dstStride).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, float* dst, nint dstStride)
    {
        var r0 = Vector256.Load(src);
        var r1 = Vector256.Load(src + ld);
        var r2 = Vector256.Load(src + 2 * ld);
        var r3 = Vector256.Load(src + 3 * ld);
        var r4 = Vector256.Load(src + 4 * ld);
        var r5 = Vector256.Load(src + 5 * ld);
        var r6 = Vector256.Load(src + 6 * ld);
        var r7 = Vector256.Load(src + 7 * ld);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);

        Vector256.Store(Avx.Permute2x128(s0, s4, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(s1, s5, 0x20), dst + dstStride);
        Vector256.Store(Avx.Permute2x128(s2, s6, 0x20), dst + 2 * dstStride);
        Vector256.Store(Avx.Permute2x128(s3, s7, 0x20), dst + 3 * dstStride);
        Vector256.Store(Avx.Permute2x128(s0, s4, 0x31), dst + 4 * dstStride);
        Vector256.Store(Avx.Permute2x128(s1, s5, 0x31), dst + 5 * dstStride);
        Vector256.Store(Avx.Permute2x128(s2, s6, 0x31), dst + 6 * dstStride);
        Vector256.Store(Avx.Permute2x128(s3, s7, 0x31), dst + 7 * dstStride);
    }

    // Reads 4 rows x 8 floats at src; writes 8 rows of 4 at dst (stride dstStride).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x8(float* src, nint ld, float* dst, nint dstStride)
    {
        var r0 = Vector256.Load(src);
        var r1 = Vector256.Load(src + ld);
        var r2 = Vector256.Load(src + 2 * ld);
        var r3 = Vector256.Load(src + 3 * ld);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);

        Vector128.Store(u0.GetLower(), dst);
        Vector128.Store(u1.GetLower(), dst + dstStride);
        Vector128.Store(u2.GetLower(), dst + 2 * dstStride);
        Vector128.Store(u3.GetLower(), dst + 3 * dstStride);
        Vector128.Store(u0.GetUpper(), dst + 4 * dstStride);
        Vector128.Store(u1.GetUpper(), dst + 5 * dstStride);
        Vector128.Store(u2.GetUpper(), dst + 6 * dstStride);
        Vector128.Store(u3.GetUpper(), dst + 7 * dstStride);
    }
}
