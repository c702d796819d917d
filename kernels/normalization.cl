// Local response normalization (across channels, ONNX's definition) and local contrast normalization
// (Jarrett et al. 2009). CPU twin: src/Shinso/Kernels/Cpu/Normalization.cs.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

// s^-beta with exactly rounded square roots for the common betas, as on the CPU.
inline float pow_neg_beta(const float s, const float beta)
{
    if (beta == 0.75f) { const float r = sqrt(s); return 1.0f / (r * sqrt(r)); }
    if (beta == 0.5f) return 1.0f / sqrt(s);
    return pow(s, -beta);
}

// scale = bias + alpha/size * sum_{j=c-before}^{c+after} x_j^2; y = x * scale^-beta.
__kernel void lrn_forward(__global const float* x, const int xo, __global float* y, const int yo, __global float* s, const int so,
                          const int channels, const int spatial, const int images,
                          const int before, const int after, const float alphaOverSize, const float beta, const float bias)
{
    const int p = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (p >= spatial || c >= channels || n >= images) return;
    __global const float* xi = x + xo + n * channels * spatial;
    float sum = 0.0f;
    for (int j = max(0, c - before); j <= min(channels - 1, c + after); j++) { const float v = xi[j * spatial + p]; sum = fma(v, v, sum); }
    const float scale = sum * alphaOverSize + bias;
    const int at = n * channels * spatial + c * spatial + p;
    s[so + at] = scale;
    y[yo + at] = xi[c * spatial + p] * pow_neg_beta(scale, beta);
}

// dx_i = dy_i s_i^-beta + coef * x_i * sum_{j=i-after}^{i+before} dy_j y_j / s_j, coef = -2 alpha beta / size.
__kernel void lrn_backward(__global const float* x, const int xo, __global const float* y, const int yo, __global const float* s, const int so,
                           __global const float* dy, const int dyo, __global float* dx, const int dxo,
                           const int channels, const int spatial, const int images,
                           const int before, const int after, const float coef, const float beta)
{
    const int p = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (p >= spatial || c >= channels || n >= images) return;
    const int image = n * channels * spatial;
    float acc = 0.0f;
    for (int j = max(0, c - after); j <= min(channels - 1, c + before); j++) {
        const int at = image + j * spatial + p;
        acc += dy[dyo + at] * y[yo + at] / s[so + at];
    }
    const int at = image + c * spatial + p;
    dx[dxo + at] = fma(acc * x[xo + at], coef, pow_neg_beta(s[so + at], beta) * dy[dyo + at]);
}

// ---- local contrast normalization: one work-group per image, phases separated by barriers -------------
// Per-image scratch in global memory: a, b, tmp, weight (one plane each), coverage rows, coverage columns, kernel.

#define LCN_GROUP 64
// LcnGeometry.DivisorFloor: the least divisor, so that a constant image gives 0 rather than 0/0.
#define LCN_DIVISOR_FLOOR 1e-4f

inline float group_sum(float v, __local float* buffer)
{
    const int lid = get_local_id(0);
    buffer[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = LCN_GROUP / 2; step > 0; step >>= 1) {
        if (lid < step) buffer[lid] += buffer[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = buffer[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// Separable Gaussian blur with zero padding; destination may be source.
inline void blur(__global const float* src, __global float* tmp, __global float* dst, __global const float* kern,
                 const int H, const int W, const int r)
{
    const int lid = get_local_id(0);
    for (int p = lid; p < H * W; p += LCN_GROUP) {
        const int i = p / W, j = p % W;
        const int q0 = max(0, r - j), q1 = min(2 * r, W - 1 - j + r);
        float sum = 0.0f;
        for (int q = q0; q <= q1; q++) sum += kern[q] * src[i * W + j + q - r];
        tmp[p] = sum;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (int p = lid; p < H * W; p += LCN_GROUP) {
        const int i = p / W, j = p % W;
        const int p0 = max(0, r - i), p1 = min(2 * r, H - 1 - i + r);
        float sum = 0.0f;
        for (int q = p0; q <= p1; q++) sum = fma(tmp[(i + q - r) * W + j], kern[q], sum);
        dst[p] = sum;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
}

inline void lcn_setup(__global float* t, const int C, const int H, const int W, const int size, const float sigma)
{
    const int lid = get_local_id(0), plane = H * W, r = size / 2;
    __global float* weight = t + 3 * plane;
    __global float* covH = t + 4 * plane;
    __global float* covW = covH + H;
    __global float* kern = covW + W;
    if (lid == 0) {
        float sum = 0.0f;
        for (int i = 0; i < size; i++) { kern[i] = exp(-(float)((i - r) * (i - r)) / (2.0f * sigma * sigma)); sum += kern[i]; }
        for (int i = 0; i < size; i++) kern[i] /= sum;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (int i = lid; i < H + W; i += LCN_GROUP) {
        const int len = i < H ? H : W, at = i < H ? i : i - H;
        float sum = 0.0f;
        for (int q = -r; q <= r; q++) if (at + q >= 0 && at + q < len) sum += kern[q + r];
        covH[i] = sum;   // covW follows covH contiguously
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (int p = lid; p < plane; p += LCN_GROUP) weight[p] = 1.0f / (C * covH[p / W] * covW[p % W]);
    barrier(CLK_GLOBAL_MEM_FENCE);
}

__kernel __attribute__((reqd_work_group_size(LCN_GROUP, 1, 1)))
void lcn_forward(__global const float* x, const int xo, __global float* y, const int yo, __global float* dev, const int devo,
                 __global float* scratch, const int C, const int H, const int W, const int size, const float sigma)
{
    __local float buffer[LCN_GROUP];
    const int n = get_group_id(0), lid = get_local_id(0), plane = H * W, r = size / 2;
    __global float* t = scratch + n * (4 * plane + H + W + size);
    __global float* a = t;
    __global float* b = t + plane;
    __global float* tmp = t + 2 * plane;
    __global const float* weight = t + 3 * plane;
    __global const float* kern = t + 4 * plane + H + W;
    __global const float* xs = x + xo + n * C * plane;
    __global float* ys = y + yo + n * C * plane;
    __global float* s = dev + devo + n * plane;
    lcn_setup(t, C, H, W, size, sigma);

    // m = L(sum_c x); v = x - m (into y).
    for (int p = lid; p < plane; p += LCN_GROUP) {
        float sum = 0.0f;
        for (int k = 0; k < C; k++) sum += xs[k * plane + p];
        a[p] = sum;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    blur(a, tmp, b, kern, H, W, r);
    for (int p = lid; p < plane; p += LCN_GROUP) {
        const float m = b[p] * weight[p];
        float sq = 0.0f;
        for (int k = 0; k < C; k++) { const float v = xs[k * plane + p] - m; ys[k * plane + p] = v; sq = fma(v, v, sq); }
        a[p] = sq;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    // s = sqrt(L(sum_c v^2)); y = v / max(mean(s), s, eps) (LcnGeometry.DivisorFloor: a constant image gives 0, not 0/0).
    blur(a, tmp, b, kern, H, W, r);
    float part = 0.0f;
    for (int p = lid; p < plane; p += LCN_GROUP) { const float sv = sqrt(b[p] * weight[p]); s[p] = sv; part += sv; }
    const float floorValue = fmax(group_sum(part, buffer) / plane, LCN_DIVISOR_FLOOR);
    for (int p = lid; p < plane; p += LCN_GROUP) {
        const float d = fmax(s[p], floorValue);
        for (int k = 0; k < C; k++) ys[k * plane + p] /= d;
    }
}

__kernel __attribute__((reqd_work_group_size(LCN_GROUP, 1, 1)))
void lcn_backward(__global const float* y, const int yo, __global const float* dev, const int devo,
                  __global const float* dy, const int dyo, __global float* dx, const int dxo,
                  __global float* scratch, const int C, const int H, const int W, const int size, const float sigma)
{
    __local float buffer[LCN_GROUP];
    const int n = get_group_id(0), lid = get_local_id(0), plane = H * W, r = size / 2;
    __global float* t = scratch + n * (4 * plane + H + W + size);
    __global float* a = t;
    __global float* b = t + plane;
    __global float* tmp = t + 2 * plane;
    __global const float* weight = t + 3 * plane;
    __global const float* kern = t + 4 * plane + H + W;
    __global const float* ys = y + yo + n * C * plane;
    __global const float* dys = dy + dyo + n * C * plane;
    __global float* dxs = dx + dxo + n * C * plane;
    __global const float* s = dev + devo + n * plane;
    lcn_setup(t, C, H, W, size, sigma);

    float part = 0.0f;
    for (int p = lid; p < plane; p += LCN_GROUP) part += s[p];
    const float meanValue = group_sum(part, buffer) / plane;
    // Below eps the divisor is the constant eps and nothing flows back to the mean of s.
    const int floorIsMean = meanValue > LCN_DIVISOR_FLOOR;
    const float floorValue = floorIsMean ? meanValue : LCN_DIVISOR_FLOOR;
    // dd = -sum_c dy*y / d; it flows to s where s exceeds the floor, else to the floor (the mean of s).
    float dFloorPart = 0.0f;
    for (int p = lid; p < plane; p += LCN_GROUP) {
        const float d = fmax(s[p], floorValue);
        float dot = 0.0f;
        for (int k = 0; k < C; k++) dot = fma(dys[k * plane + p], ys[k * plane + p], dot);
        const float dd = -dot / d;
        if (s[p] > floorValue) a[p] = dd;
        else { if (floorIsMean) dFloorPart += dd; a[p] = 0.0f; }
    }
    const float dFloor = group_sum(dFloorPart, buffer);
    // dvar = dsigma / (2 s); dQ = L^T(dvar) (the blur is symmetric).
    for (int p = lid; p < plane; p += LCN_GROUP) {
        const float ds = a[p] + dFloor / plane;
        a[p] = s[p] > 0.0f ? ds / (2.0f * s[p]) * weight[p] : 0.0f;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    blur(a, tmp, a, kern, H, W, r);
    // dv = dy/d + 2 y d dQ (into dx); dm = -sum_c dv, weighted, into b.
    for (int p = lid; p < plane; p += LCN_GROUP) {
        const float d = fmax(s[p], floorValue);
        const float q = a[p] * d * 2.0f;
        float dm = 0.0f;
        for (int k = 0; k < C; k++) {
            const float v = fma(ys[k * plane + p], q, dys[k * plane + p] / d);
            dxs[k * plane + p] = v;
            dm -= v;
        }
        b[p] = dm * weight[p];
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    // dx = dv + L^T(dm).
    blur(b, a, b, kern, H, W, r);
    for (int p = lid; p < plane; p += LCN_GROUP)
        for (int k = 0; k < C; k++) dxs[k * plane + p] += b[p];
}
