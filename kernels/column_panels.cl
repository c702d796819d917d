// A weight matrix in column panels (panels[j][p][c] = B[p][j*64 + c], zero past N) and the affine product on it,
// y = x B + bias: a dense layer whose weights are packed once, at any batch size. CPU twin:
// src/Shinso/Kernels/Cpu/SgemmColumnPanels.cs. Each element sums its k terms in order with fma, then adds the bias; the
// CPU sums K in blocks of up to 256 and adds the blocks, so the two agree to rounding, not bit for bit, past K = 256.
#pragma OPENCL FP_CONTRACT OFF

#define PANEL 64

// One item per element of the panels: (lane + panel * 64, p).
__kernel void pack_column_panels(__global const float* b, const int bo, const int k, const int n, __global float* panels, const int po)
{
    const int c = get_global_id(0), p = get_global_id(1);
    const int padded = (n + PANEL - 1) / PANEL * PANEL;
    if (c >= padded || p >= k) return;
    const int panel = c / PANEL, lane = c % PANEL;
    panels[po + (panel * k + p) * PANEL + lane] = c < n ? b[bo + p * n + c] : 0.0f;
}

// One item per element of y; neighbouring items read neighbouring words of a panel row.
__kernel void affine_column_panels(__global const float* x, const int xo, __global const float* panels, const int po,
                                   __global const float* bias, const int biaso, __global float* y, const int yo,
                                   const int rows, const int k, const int n)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= n || i >= rows) return;
    __global const float* w = panels + po + (j / PANEL) * k * PANEL + j % PANEL;
    __global const float* xi = x + xo + i * k;
    float sum = 0.0f;
    for (int p = 0; p < k; p++) sum = fma(xi[p], w[p * PANEL], sum);
    y[yo + i * n + j] = sum + bias[biaso + j];
}
