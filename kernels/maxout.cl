// Maxout (Goodfellow et al. 2013) over piece-major rows: y[n, i] = max_j x[n, j * units + i].
// CPU twin: src/Shinso/Kernels/Cpu/Maxout.cs. The max is a > b ? a : b there and here (not fmax), so NaNs and signed
// zeros come out the same; the gradient goes to the first piece equal to the max.

#pragma OPENCL FP_CONTRACT OFF

__kernel void maxout_forward(__global const float* x, const int xo, __global float* y, const int yo, const int units, const int pieces)
{
    const int i = get_global_id(0), n = get_global_id(1);
    if (i >= units) return;
    __global const float* xs = x + xo + (long)n * units * pieces + i;
    float m = xs[0];
    for (int j = 1; j < pieces; j++) { const float v = xs[(long)j * units]; m = m > v ? m : v; }
    y[yo + (long)n * units + i] = m;
}

__kernel void maxout_backward(__global const float* x, const int xo, __global const float* y, const int yo,
                              __global const float* dy, const int dyo, __global float* dx, const int dxo, const int units, const int pieces)
{
    const int i = get_global_id(0), n = get_global_id(1);
    if (i >= units) return;
    const long row = (long)n * units * pieces + i;
    const float m = y[yo + (long)n * units + i];
    float remaining = dy[dyo + (long)n * units + i];
    for (int j = 0; j < pieces; j++)
    {
        const long at = row + (long)j * units;
        const int hit = x[xo + at] == m;
        dx[dxo + at] = hit ? remaining : 0.0f;
        if (hit) remaining = 0.0f;
    }
}
