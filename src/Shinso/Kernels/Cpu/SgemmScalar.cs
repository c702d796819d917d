using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// The scalar SGEMM path for CPUs without AVX2: plain loops, single-threaded, kept simple because
/// it exists for correctness rather than speed.
/// </summary>
internal static unsafe class SgemmScalar
{
    public static void Compute(in SgemmProblem g)
    {
        // Element strides of op(A) along (i, p) and of op(B) along (p, j).
        nint aRow = g.TransA == Transpose.None ? g.Lda : 1;
        nint aCol = g.TransA == Transpose.None ? 1 : g.Lda;
        nint bRow = g.TransB == Transpose.None ? g.Ldb : 1;
        nint bCol = g.TransB == Transpose.None ? 1 : g.Ldb;
        float alpha = g.Alpha, beta = g.Beta;
        for (int i = 0; i < g.M; i++)
        {
            float* aI = g.A + i * aRow;
            float* cI = g.C + i * g.Ldc;
            for (int j = 0; j < g.N; j++)
            {
                float* bJ = g.B + j * bCol;
                float acc = 0f;
                for (int p = 0; p < g.K; p++)
                    acc += aI[p * aCol] * bJ[p * bRow];
                // beta == 0 must not read C: 0 * NaN would be NaN.
                cI[j] = beta == 0f ? alpha * acc : alpha * acc + beta * cI[j];
            }
        }
    }
}
