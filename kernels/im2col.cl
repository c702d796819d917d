// im2col / col2im for NCHW images with zero padding, and per-channel bias. CPU twins:
// src/Shinso/Kernels/Cpu/Im2Col.cs and Normalization.AddChannelBias / SumChannelBias.
// The column matrix is batch-wide, [C*KH*KW, N*OH*OW]: row r = (c*KH + kh)*KW + kw, column n*OH*OW + oh*OW + ow,
// as on the CPU.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

__kernel void im2col(__global const float* img, const int io, __global float* col, const int co,
                     const int C, const int H, const int W, const int KH, const int KW, const int SH, const int SW,
                     const int PH, const int PW, const int OH, const int OW, const int images)
{
    const int column = get_global_id(0);           // oh*OW + ow
    const int row = get_global_id(1);              // (c*KH + kh)*KW + kw
    const int n = get_global_id(2);
    const int columns = OH * OW, rows = C * KH * KW;
    if (column >= columns || row >= rows || n >= images) return;
    const int kw = row % KW, kh = (row / KW) % KH, c = row / (KW * KH);
    const int ow = column % OW, oh = column / OW;
    const int ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
    float v = 0.0f;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = img[io + n * C * H * W + (c * H + ih) * W + iw];
    col[co + (row * images + n) * columns + column] = v;
}

// Gather form of the fold: each image element sums the column entries that read it (deterministic, no atomics).
__kernel void col2im(__global const float* col, const int co, __global float* img, const int io,
                     const int C, const int H, const int W, const int KH, const int KW, const int SH, const int SW,
                     const int PH, const int PW, const int OH, const int OW, const int images)
{
    const int p = get_global_id(0);                // (c*H + ih)*W + iw
    const int n = get_global_id(1);
    if (p >= C * H * W || n >= images) return;
    const int iw = p % W, ih = (p / W) % H, c = p / (W * H);
    const int columns = OH * OW, rows = C * KH * KW;
    __global const float* cn = col + co + n * columns;
    const int stride = images * columns;
    float sum = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int y = ih + PH - kh;
        if (y < 0 || y % SH != 0) continue;
        const int oh = y / SH;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; kw++) {
            const int x = iw + PW - kw;
            if (x < 0 || x % SW != 0) continue;
            const int ow = x / SW;
            if (ow >= OW) continue;
            sum += cn[((c * KH + kh) * KW + kw) * stride + oh * OW + ow];
        }
    }
    img[io + n * C * H * W + p] = sum;
}

// output[j, i, :] = input[i, j, :] for input [outer, inner, rest]. CPU twin: Blas1.SwapLeadingAxes.
__kernel void swap_leading_axes(__global const float* x, const int xo, __global float* y, const int yo,
                                const int outer, const int inner, const int rest)
{
    const int e = get_global_id(0);                // element of the input row (i, j)
    const int ij = get_global_id(1);               // i*inner + j
    if (e >= rest || ij >= outer * inner) return;
    const int i = ij / inner, j = ij % inner;
    y[yo + (j * outer + i) * rest + e] = x[xo + ij * rest + e];
}

__kernel void add_channel_bias(__global float* x, const int xo, const int channels, const int spatial,
                               __global const float* bias, const int bo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) x[xo + i] += bias[bo + (i / spatial) % channels];
}

// One work-group per channel: its items stride over every image's plane, then add their sums in a tree. A single
// item per channel would leave a GPU with a handful of threads each walking up to 100,000 floats.
#define CHANNEL_SUM_GROUP 256

__kernel __attribute__((reqd_work_group_size(CHANNEL_SUM_GROUP, 1, 1)))
void sum_channel_bias(__global const float* g, const int go, const int channels, const int spatial, const int images,
                      __global float* r, const int ro)
{
    __local float partial[CHANNEL_SUM_GROUP];
    const int c = get_group_id(0), t = get_local_id(0);
    float sum = 0.0f;
    for (int n = 0; n < images; n++) {
        __global const float* plane = g + go + (n * channels + c) * spatial;
        for (int s = t; s < spatial; s += CHANNEL_SUM_GROUP) sum += plane[s];
    }
    partial[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = CHANNEL_SUM_GROUP / 2; stride > 0; stride >>= 1) {
        if (t < stride) partial[t] += partial[t + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) r[ro + c] = partial[0];
}
