// Max / average / Lp pooling over NCHW planes, forward and backward. CPU twin: src/Shinso/Kernels/Cpu/Pooling.cs.
// Windows are clipped to the image; average pooling divides by the padded or the clipped window size.
// Backward passes gather: each input element sums the windows that contain it (no atomics, deterministic).
// Max pooling stores the arg-max as a float index within the plane, as the CPU does.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

#define POOL_ARGS const int H, const int W, const int KH, const int KW, const int SH, const int SW, \
                  const int PH, const int PW, const int OH, const int OW, const int planes

inline int window_lo(const int o, const int s, const int p) { return max(o * s - p, 0); }
inline int window_hi(const int o, const int s, const int p, const int k, const int size) { return min(o * s - p + k, size); }
inline int window_padded(const int o, const int s, const int p, const int k, const int size)
{
    const int start = o * s - p;
    return min(start + k, size + p) - start;
}

// First and last output index whose window [o*s - p, o*s - p + k) contains position x.
inline int first_window(const int x, const int s, const int p, const int k)
{
    const int num = x + p - k + 1;
    return num <= 0 ? 0 : (num + s - 1) / s;
}
inline int last_window(const int x, const int s, const int p, const int count) { return min((x + p) / s, count - 1); }

__kernel void max_pool_forward(__global const float* x, const int xo, __global float* y, const int yo, __global float* arg, const int ao, POOL_ARGS)
{
    const int o = get_global_id(0), plane = get_global_id(1);
    if (o >= OH * OW || plane >= planes) return;
    const int i = o / OW, j = o % OW;
    const int h0 = window_lo(i, SH, PH), h1 = window_hi(i, SH, PH, KH, H);
    const int w0 = window_lo(j, SW, PW), w1 = window_hi(j, SW, PW, KW, W);
    __global const float* xp = x + xo + plane * H * W;
    float best = -INFINITY;
    int index = h0 * W + w0;
    for (int r = h0; r < h1; r++)
        for (int c = w0; c < w1; c++)
            if (xp[r * W + c] > best) { best = xp[r * W + c]; index = r * W + c; }
    y[yo + plane * OH * OW + o] = best;
    arg[ao + plane * OH * OW + o] = (float)index;
}

__kernel void max_pool_backward(__global const float* dy, const int dyo, __global const float* arg, const int ao,
                                __global float* dx, const int dxo, POOL_ARGS)
{
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= H * W || plane >= planes) return;
    const int r = p / W, c = p % W;
    const int base = plane * OH * OW;
    float sum = 0.0f;
    for (int i = first_window(r, SH, PH, KH); i <= last_window(r, SH, PH, OH); i++)
        for (int j = first_window(c, SW, PW, KW); j <= last_window(c, SW, PW, OW); j++)
            if ((int)arg[ao + base + i * OW + j] == p) sum += dy[dyo + base + i * OW + j];
    dx[dxo + plane * H * W + p] = sum;
}

__kernel void avg_pool_forward(__global const float* x, const int xo, __global float* y, const int yo, const int includePad, POOL_ARGS)
{
    const int o = get_global_id(0), plane = get_global_id(1);
    if (o >= OH * OW || plane >= planes) return;
    const int i = o / OW, j = o % OW;
    const int h0 = window_lo(i, SH, PH), h1 = window_hi(i, SH, PH, KH, H);
    const int w0 = window_lo(j, SW, PW), w1 = window_hi(j, SW, PW, KW, W);
    __global const float* xp = x + xo + plane * H * W;
    float sum = 0.0f;
    for (int r = h0; r < h1; r++)
        for (int c = w0; c < w1; c++) sum += xp[r * W + c];
    const int count = includePad ? window_padded(i, SH, PH, KH, H) * window_padded(j, SW, PW, KW, W) : (h1 - h0) * (w1 - w0);
    y[yo + plane * OH * OW + o] = sum / count;
}

__kernel void avg_pool_backward(__global const float* dy, const int dyo, __global float* dx, const int dxo, const int includePad, POOL_ARGS)
{
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= H * W || plane >= planes) return;
    const int r = p / W, c = p % W;
    const int base = plane * OH * OW;
    float sum = 0.0f;
    for (int i = first_window(r, SH, PH, KH); i <= last_window(r, SH, PH, OH); i++) {
        const int hc = includePad ? window_padded(i, SH, PH, KH, H) : window_hi(i, SH, PH, KH, H) - window_lo(i, SH, PH);
        for (int j = first_window(c, SW, PW, KW); j <= last_window(c, SW, PW, OW); j++) {
            const int wc = includePad ? window_padded(j, SW, PW, KW, W) : window_hi(j, SW, PW, KW, W) - window_lo(j, SW, PW);
            sum += dy[dyo + base + i * OW + j] / (hc * wc);
        }
    }
    dx[dxo + plane * H * W + p] = sum;
}

__kernel void lp_pool_forward(__global const float* x, const int xo, __global float* y, const int yo, const float pw, POOL_ARGS)
{
    const int o = get_global_id(0), plane = get_global_id(1);
    if (o >= OH * OW || plane >= planes) return;
    const int i = o / OW, j = o % OW;
    const int h0 = window_lo(i, SH, PH), h1 = window_hi(i, SH, PH, KH, H);
    const int w0 = window_lo(j, SW, PW), w1 = window_hi(j, SW, PW, KW, W);
    __global const float* xp = x + xo + plane * H * W;
    const int two = pw == 2.0f;
    float sum = 0.0f;
    for (int r = h0; r < h1; r++)
        for (int c = w0; c < w1; c++) {
            const float v = xp[r * W + c];
            sum += two ? v * v : pow(fabs(v), pw);
        }
    y[yo + plane * OH * OW + o] = two ? sqrt(sum) : pow(sum, 1.0f / pw);
}

// d y / d x = sign(x) |x|^(p-1) / y^(p-1); windows whose output is 0 contribute nothing.
__kernel void lp_pool_backward(__global const float* x, const int xo, __global const float* y, const int yo,
                               __global const float* dy, const int dyo, __global float* dx, const int dxo, const float pw, POOL_ARGS)
{
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= H * W || plane >= planes) return;
    const int r = p / W, c = p % W;
    const int base = plane * OH * OW;
    const float xv = x[xo + plane * H * W + p];
    const int two = pw == 2.0f;
    const float factor = two ? xv : (xv == 0.0f ? 0.0f : copysign(pow(fabs(xv), pw - 1.0f), xv));
    float sum = 0.0f;
    for (int i = first_window(r, SH, PH, KH); i <= last_window(r, SH, PH, OH); i++)
        for (int j = first_window(c, SW, PW, KW); j <= last_window(c, SW, PW, OW); j++) {
            const float yv = y[yo + base + i * OW + j];
            if (yv == 0.0f) continue;
            sum += dy[dyo + base + i * OW + j] / (two ? yv : pow(yv, pw - 1.0f)) * factor;
        }
    dx[dxo + plane * H * W + p] = sum;
}
