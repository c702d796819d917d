// Probabilistic max-pooling (Lee, Grosse, Ranganath & Ng 2009). CPU twin: src/Shinso/Kernels/Cpu/ProbabilisticPooling.cs.
// Each BxB block of a detection map and its pooling unit form one multinomial over "all off" (weight 1) and "unit i on"
// (weight exp(I_i)). One work-item per block; blocks numbered row-major over (image, map, block row, block column).

#pragma OPENCL FP_CONTRACT OFF

__kernel void probabilistic_pool(__global const float* x, const int xo, __global float* h, const int ho, __global float* p, const int po,
                                 const int H, const int W, const int B, const int blocks)
{
    const int b = get_global_id(0);
    if (b >= blocks) return;
    const int rows = H / B, columns = W / B;
    const int plane = b / (rows * columns), by = (b / columns) % rows, bx = b % columns;
    __global const float* xp = x + xo + plane * H * W;
    __global float* hp = h + ho + plane * H * W;
    float largest = 0.0f;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) largest = fmax(largest, xp[(by * B + i) * W + bx * B + j]);
    const float off = exp(-largest);
    float on = 0.0f;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) {
            const int at = (by * B + i) * W + bx * B + j;
            const float e = exp(xp[at] - largest);
            hp[at] = e;
            on += e;
        }
    const float inverse = 1.0f / (off + on);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) hp[(by * B + i) * W + bx * B + j] *= inverse;
    p[po + b] = on * inverse;
}

__kernel void probabilistic_pool_sample(const ulong seed, const ulong stream, const ulong counter, __global const float* h, const int ho,
                                        __global float* s, const int so, __global float* p, const int po,
                                        const int H, const int W, const int B, const int blocks)
{
    const int b = get_global_id(0);
    if (b >= blocks) return;
    const int rows = H / B, columns = W / B;
    const int plane = b / (rows * columns), by = (b / columns) % rows, bx = b % columns;
    __global const float* hp = h + ho + plane * H * W;
    __global float* sp = s + so + plane * H * W;
    const float u = philox_uniform(seed, stream, counter, b);
    float running = 0.0f;
    int chosen = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) {
            const int at = (by * B + i) * W + bx * B + j;
            running += hp[at];
            const int on = !chosen && u < running;
            sp[at] = on ? 1.0f : 0.0f;
            chosen |= on;
        }
    p[po + b] = chosen ? 1.0f : 0.0f;
}
