// Tiled SGEMM, OpenCL C 1.2: C = alpha * op(A) * op(B) + beta * C, row-major, any transpose pair.
// CPU twin: src/Shinso/Kernels/Cpu/Sgemm.cs.
//
// Compiled once per tile shape with -D TILE_M, TILE_N, TILE_K, WORK_M, WORK_N. A work-group of
// (TILE_N/WORK_N) x (TILE_M/WORK_M) items computes a TILE_M x TILE_N block of C; each item owns a
// WORK_M x WORK_N register block whose rows and columns are strided by the group's extent, so that
// neighbouring items read neighbouring local-memory words and write neighbouring words of C.
// Tiles of op(A) and op(B) are staged through local memory as [k][m] and [k][n]; the staging loop
// walks global memory along its contiguous axis for either transpose, so loads stay coalesced.
//
// Split K: a launch with several groups along axis 2 gives group z the k range [z*kChunk, min(K, (z+1)*kChunk))
// and its own C at C + z*partStride; the host launches that way, into scratch, only for products whose C is too
// small to fill the device but whose K is long (a convolution's weight gradient), and sums the parts with
// sum_gemm_parts. kChunk is a multiple of TILE_K.

#define GROUP_N (TILE_N / WORK_N)
#define GROUP_M (TILE_M / WORK_M)
#define GROUP_SIZE (GROUP_M * GROUP_N)

__kernel __attribute__((reqd_work_group_size(GROUP_N, GROUP_M, 1)))
void sgemm(const int M, const int N, const int K, const float alpha,
           __global const float* restrict A, const int ao, const int lda, const int transA,
           __global const float* restrict B, const int bo, const int ldb, const int transB,
           const float beta, __global float* C, const int co, const int ldc, const int kChunk, const int partStride)
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

    const int kBegin = get_group_id(2) * kChunk, kEnd = min(K, kBegin + kChunk);
    A += ao;
    B += bo;
    for (int k0 = kBegin; k0 < kEnd; k0 += TILE_K) {
        for (int l = tid; l < TILE_M * TILE_K; l += GROUP_SIZE) {
            int mm, kk;
            if (transA) { mm = l % TILE_M; kk = l / TILE_M; }   // A is K x M: walk m
            else        { kk = l % TILE_K; mm = l / TILE_K; }   // A is M x K: walk k
            const int gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < kEnd) v = transA ? A[gk * lda + gm] : A[gm * lda + gk];
            As[kk][mm] = v;
        }
        for (int l = tid; l < TILE_N * TILE_K; l += GROUP_SIZE) {
            int nn, kk;
            if (transB) { kk = l % TILE_K; nn = l / TILE_K; }   // B is N x K: walk k
            else        { nn = l % TILE_N; kk = l / TILE_N; }   // B is K x N: walk n
            const int gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < kEnd) v = transB ? B[gn * ldb + gk] : B[gk * ldb + gn];
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

    C += co + get_group_id(2) * partStride;
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

#if VECTOR
// The same product with float4 traffic, for tiles whose WORK_M and WORK_N are multiples of 4. Each item owns
// (WORK_M/4) x (WORK_N/4) sub-blocks of 4 x 4, strided by the group's extent times 4, so one local-memory read
// of a float4 feeds 4 x WORK_N (or WORK_M x 4) multiply-adds: the scalar kernel's one local read per 4 fma
// left local-memory issue, not arithmetic, as the limit. Global tiles come in as float4 along each matrix's
// contiguous axis, into registers, while the group multiplies the other of two local buffers, so one barrier
// per k-slice separates loading from use. Where an operand's offset and leading dimension are multiples of 4
// (alignedA, alignedB) its float4 loads are single 16-byte loads; otherwise vload4, which needs only float
// alignment. Edges of M, N and K go through a guarded scalar path. Each C element sums its k terms in the same
// order, with fma, as the scalar kernel.

#define VECS_M (TILE_M / 4)
#define VECS_N (TILE_N / 4)
#define A_LOADS (TILE_M * TILE_K / 4 / GROUP_SIZE)
#define B_LOADS (TILE_N * TILE_K / 4 / GROUP_SIZE)

// Four consecutive floats starting at row r, column c of a rows x cols row-major matrix, zeros past the matrix;
// `aligned` says the base and leading dimension are multiples of 4, so the four are one aligned float4.
inline float4 load4(__global const float* restrict p, const int ld, const int rows, const int cols, const int r, const int c,
                    const int aligned)
{
    if (r >= rows) return (float4)(0.0f);
    __global const float* q = p + r * ld + c;
    if (c + 3 < cols) return aligned ? *(__global const float4*)q : vload4(0, q);
    float4 v = (float4)(0.0f);
    if (c < cols) v.s0 = q[0];
    if (c + 1 < cols) v.s1 = q[1];
    if (c + 2 < cols) v.s2 = q[2];
    return v;
}

// Loads this item's share of the k-slice starting at k0 (zeros from kEnd on): a tile of op(X) holding TILE rows of X's outer axis
// (m for A, n for B). With X stored outer-major (A plain, B transposed) each float4 runs along k; with X stored
// k-major it runs along the outer axis.
#define LOAD_SLICE(X, ld, aligned, trans, outer0, OUTER, TILE, LOADS, regs)                                        \
    for (int i = 0; i < LOADS; i++) {                                                                            \
        const int l = tid + i * GROUP_SIZE;                                                                      \
        if (trans) regs[i] = load4(X, ld, kEnd, OUTER, k0 + l / (TILE / 4), outer0 + (l % (TILE / 4)) * 4, aligned); \
        else       regs[i] = load4(X, ld, OUTER, kEnd, outer0 + l / (TILE_K / 4), k0 + (l % (TILE_K / 4)) * 4, aligned); \
    }

// Stores the loaded share into local buffer `slice` as [k][outer]: k-major loads go in whole, outer-major
// loads are transposed on the way.
#define STORE_SLICE(Xs, trans, TILE, LOADS, regs)                                                        \
    for (int i = 0; i < LOADS; i++) {                                                                  \
        const int l = tid + i * GROUP_SIZE;                                                            \
        if (trans) Xs[l / (TILE / 4)][l % (TILE / 4)] = regs[i];                                       \
        else {                                                                                         \
            const int o = l / (TILE_K / 4), k = (l % (TILE_K / 4)) * 4;                                \
            ((__local float*)Xs[k])[o] = regs[i].s0;                                                   \
            ((__local float*)Xs[k + 1])[o] = regs[i].s1;                                               \
            ((__local float*)Xs[k + 2])[o] = regs[i].s2;                                               \
            ((__local float*)Xs[k + 3])[o] = regs[i].s3;                                               \
        }                                                                                              \
    }

__kernel __attribute__((reqd_work_group_size(GROUP_N, GROUP_M, 1)))
void sgemm_vec(const int M, const int N, const int K, const float alpha,
               __global const float* restrict A, const int ao, const int lda, const int transA,
               __global const float* restrict B, const int bo, const int ldb, const int transB,
               const float beta, __global float* C, const int co, const int ldc, const int kChunk, const int partStride,
               const int alignedA, const int alignedB)
{
    __local float4 As[2][TILE_K][VECS_M];
    __local float4 Bs[2][TILE_K][VECS_N];

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * GROUP_N + tx;
    const int m0 = get_group_id(1) * TILE_M, n0 = get_group_id(0) * TILE_N;

    // Every loop over acc is unrolled, so the accumulators live in registers.
    float4 acc[WORK_M][WORK_N / 4];
    #pragma unroll
    for (int i = 0; i < WORK_M; i++)
        #pragma unroll
        for (int j = 0; j < WORK_N / 4; j++)
            acc[i][j] = (float4)(0.0f);

    A += ao;
    B += bo;
    // op(A) rows are A's rows (m) unless transposed; op(B) columns are B's columns (n) unless transposed,
    // so B is "outer-major" exactly when it is transposed.
    const int kEnd = min(K, (int)get_group_id(2) * kChunk + kChunk);
    float4 ra[A_LOADS], rb[B_LOADS];
    int k0 = get_group_id(2) * kChunk;
    LOAD_SLICE(A, lda, alignedA, transA, m0, M, TILE_M, A_LOADS, ra)
    LOAD_SLICE(B, ldb, alignedB, !transB, n0, N, TILE_N, B_LOADS, rb)
    STORE_SLICE(As[0], transA, TILE_M, A_LOADS, ra)
    STORE_SLICE(Bs[0], !transB, TILE_N, B_LOADS, rb)
    barrier(CLK_LOCAL_MEM_FENCE);

    for (int slice = 0; k0 < kEnd; slice ^= 1) {
        const int next = k0 + TILE_K;
        if (next < kEnd) {
            k0 = next;
            LOAD_SLICE(A, lda, alignedA, transA, m0, M, TILE_M, A_LOADS, ra)
            LOAD_SLICE(B, ldb, alignedB, !transB, n0, N, TILE_N, B_LOADS, rb)
        }

        #pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float4 a[WORK_M / 4], b[WORK_N / 4];
            #pragma unroll
            for (int i = 0; i < WORK_M / 4; i++) a[i] = As[slice][kk][ty + i * GROUP_M];
            #pragma unroll
            for (int j = 0; j < WORK_N / 4; j++) b[j] = Bs[slice][kk][tx + j * GROUP_N];
            #pragma unroll
            for (int i = 0; i < WORK_M / 4; i++)
                #pragma unroll
                for (int j = 0; j < WORK_N / 4; j++) {
                    acc[4 * i][j]     = fma((float4)(a[i].s0), b[j], acc[4 * i][j]);
                    acc[4 * i + 1][j] = fma((float4)(a[i].s1), b[j], acc[4 * i + 1][j]);
                    acc[4 * i + 2][j] = fma((float4)(a[i].s2), b[j], acc[4 * i + 2][j]);
                    acc[4 * i + 3][j] = fma((float4)(a[i].s3), b[j], acc[4 * i + 3][j]);
                }
        }

        if (next < kEnd) {
            STORE_SLICE(As[slice ^ 1], transA, TILE_M, A_LOADS, ra)
            STORE_SLICE(Bs[slice ^ 1], !transB, TILE_N, B_LOADS, rb)
        } else {
            k0 = kEnd;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    C += co + get_group_id(2) * partStride;
    const bool aligned = ((co + get_group_id(2) * partStride) & 3) == 0 && (ldc & 3) == 0;
    #pragma unroll
    for (int i = 0; i < WORK_M; i++) {
        const int gm = m0 + (ty + (i / 4) * GROUP_M) * 4 + (i % 4);
        if (gm >= M) continue;
        #pragma unroll
        for (int j = 0; j < WORK_N / 4; j++) {
            const int gn = n0 + (tx + j * GROUP_N) * 4;
            if (gn >= N) continue;
            __global float* c = C + gm * ldc + gn;
            const float4 v = acc[i][j];
            // beta == 0 must not read C, so NaNs in an uninitialised C do not propagate.
            if (aligned && gn + 3 < N) {
                __global float4* c4 = (__global float4*)c;
                const float4 old = beta == 0.0f ? (float4)(0.0f) : beta * *c4;
                *c4 = fma((float4)(alpha), v, old);
            } else {
                // Element by element, written out so no component is indexed at run time (which could put v in memory).
                c[0] = fma(alpha, v.s0, beta == 0.0f ? 0.0f : beta * c[0]);
                if (gn + 1 < N) c[1] = fma(alpha, v.s1, beta == 0.0f ? 0.0f : beta * c[1]);
                if (gn + 2 < N) c[2] = fma(alpha, v.s2, beta == 0.0f ? 0.0f : beta * c[2]);
                if (gn + 3 < N) c[3] = fma(alpha, v.s3, beta == 0.0f ? 0.0f : beta * c[3]);
            }
        }
    }
}
#endif

// C = alpha * (sum of the split-K parts) + beta * C, the parts summed in order; one item per element of C.
__kernel void sum_gemm_parts(__global const float* parts, const int parts_count, const int M, const int N,
                             const float alpha, const float beta, __global float* C, const int co, const int ldc)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (i >= M || j >= N) return;
    float sum = 0.0f;
    for (int p = 0; p < parts_count; p++) sum += parts[(p * M + i) * N + j];
    __global float* c = C + co + i * ldc + j;
    *c = fma(alpha, sum, beta == 0.0f ? 0.0f : beta * *c);
}
