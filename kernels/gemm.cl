// Tiled SGEMM, OpenCL C 1.2: C = alpha * op(A) * op(B) + beta * C, row-major, any transpose pair.
// CPU twin: src/Shinso/Kernels/Cpu/Sgemm.cs.
//
// Compiled once per tile shape with -D TILE_M, TILE_N, TILE_K, WORK_M, WORK_N. A work-group of
// (TILE_N/WORK_N) x (TILE_M/WORK_M) items computes a TILE_M x TILE_N block of C; each item owns a
// WORK_M x WORK_N register block whose rows and columns are strided by the group's extent, so that
// neighbouring items read neighbouring local-memory words and write neighbouring words of C.
// Tiles of op(A) and op(B) are staged through local memory as [k][m] and [k][n]; the staging loop
// walks global memory along its contiguous axis for either transpose, so loads stay coalesced.

#define GROUP_N (TILE_N / WORK_N)
#define GROUP_M (TILE_M / WORK_M)
#define GROUP_SIZE (GROUP_M * GROUP_N)

__kernel __attribute__((reqd_work_group_size(GROUP_N, GROUP_M, 1)))
void sgemm(const int M, const int N, const int K, const float alpha,
           __global const float* restrict A, const int ao, const int lda, const int transA,
           __global const float* restrict B, const int bo, const int ldb, const int transB,
           const float beta, __global float* C, const int co, const int ldc)
{
    __local float As[TILE_K][TILE_M + 1];
    __local float Bs[TILE_K][TILE_N + 1];

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * GROUP_N + tx;
    const int m0 = get_group_id(1) * TILE_M, n0 = get_group_id(0) * TILE_N;

    float acc[WORK_M][WORK_N];
    for (int i = 0; i < WORK_M; i++)
        for (int j = 0; j < WORK_N; j++)
            acc[i][j] = 0.0f;

    A += ao;
    B += bo;
    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        for (int l = tid; l < TILE_M * TILE_K; l += GROUP_SIZE) {
            int mm, kk;
            if (transA) { mm = l % TILE_M; kk = l / TILE_M; }   // A is K x M: walk m
            else        { kk = l % TILE_K; mm = l / TILE_K; }   // A is M x K: walk k
            const int gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K) v = transA ? A[gk * lda + gm] : A[gm * lda + gk];
            As[kk][mm] = v;
        }
        for (int l = tid; l < TILE_N * TILE_K; l += GROUP_SIZE) {
            int nn, kk;
            if (transB) { kk = l % TILE_K; nn = l / TILE_K; }   // B is N x K: walk k
            else        { nn = l % TILE_N; kk = l / TILE_N; }   // B is K x N: walk n
            const int gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K) v = transB ? B[gn * ldb + gk] : B[gk * ldb + gn];
            Bs[kk][nn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        #pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float a[WORK_M], b[WORK_N];
            #pragma unroll
            for (int i = 0; i < WORK_M; i++) a[i] = As[kk][ty + i * GROUP_M];
            #pragma unroll
            for (int j = 0; j < WORK_N; j++) b[j] = Bs[kk][tx + j * GROUP_N];
            #pragma unroll
            for (int i = 0; i < WORK_M; i++)
                #pragma unroll
                for (int j = 0; j < WORK_N; j++)
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    C += co;
    for (int i = 0; i < WORK_M; i++) {
        const int gm = m0 + ty + i * GROUP_M;
        if (gm >= M) continue;
        for (int j = 0; j < WORK_N; j++) {
            const int gn = n0 + tx + j * GROUP_N;
            if (gn >= N) continue;
            // beta == 0 must not read C, so NaNs in an uninitialised C do not propagate.
            const float old = beta == 0.0f ? 0.0f : beta * C[gm * ldc + gn];
            C[gm * ldc + gn] = fma(alpha, acc[i][j], old);
        }
    }
}
