// The index passes of a tiled convolution (Le et al. 2010). CPU twin: src/Shinso/Kernels/Cpu/TiledConvolution.cs.
// Tile t = a*K + b owns the output positions (a + K*u, b + K*v), u < U, v < V; its column block holds rows
// t*C*KH*KW + (c*KH + kh)*KW + kw and columns n*U*V + u*V + v, zero for slots past the output's edge. The GEMMs between
// these passes are the backend's.

#pragma OPENCL FP_CONTRACT OFF

__kernel void tiled_im2col(__global const float* img, const int io, __global float* col, const int co,
                           const int C, const int H, const int W, const int KH, const int KW, const int SH, const int SW,
                           const int PH, const int PW, const int OH, const int OW, const int K, const int U, const int V,
                           const int images)
{
    const int column = get_global_id(0);           // n*U*V + u*V + v
    const int q = get_global_id(1);                // t*C*KH*KW + (c*KH + kh)*KW + kw
    const int rows = C * KH * KW, width = images * U * V;
    if (column >= width || q >= K * K * rows) return;
    const int t = q / rows, r = q % rows;
    const int kw = r % KW, kh = (r / KW) % KH, c = r / (KW * KH);
    const int n = column / (U * V), s = column % (U * V);
    const int y = t / K + K * (s / V), x = t % K + K * (s % V);
    const int ih = y * SH - PH + kh, iw = x * SW - PW + kw;
    float value = 0.0f;
    if (y < OH && x < OW && ih >= 0 && ih < H && iw >= 0 && iw < W) value = img[io + ((n * C + c) * H + ih) * W + iw];
    col[co + q * width + column] = value;
}

// Gather form of the fold, summing in the CPU twin's (kh, kw) order: deterministic, no atomics.
__kernel void tiled_col2im(__global const float* col, const int co, __global float* img, const int io,
                           const int C, const int H, const int W, const int KH, const int KW, const int SH, const int SW,
                           const int PH, const int PW, const int OH, const int OW, const int K, const int U, const int V,
                           const int images)
{
    const int p = get_global_id(0);                // (c*H + ih)*W + iw
    const int n = get_global_id(1);
    if (p >= C * H * W || n >= images) return;
    const int iw = p % W, ih = (p / W) % H, c = p / (W * H);
    const int rows = C * KH * KW, width = images * U * V;
    float sum = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int y = ih + PH - kh;
        if (y < 0 || y % SH != 0 || y / SH >= OH) continue;
        const int oh = y / SH;
        for (int kw = 0; kw < KW; kw++) {
            const int x = iw + PW - kw;
            if (x < 0 || x % SW != 0 || x / SW >= OW) continue;
            const int ow = x / SW;
            const int t = (oh % K) * K + ow % K;
            sum += col[co + (t * rows + (c * KH + kh) * KW + kw) * width + n * U * V + (oh / K) * V + ow / K];
        }
    }
    img[io + n * C * H * W + p] = sum;
}

__kernel void tile_interleave(__global const float* products, const int po, __global const float* bias, const int bo,
                              __global float* maps, const int mo, const int F, const int OH, const int OW, const int K,
                              const int U, const int V, const int images)
{
    const int position = get_global_id(0);         // oh*OW + ow
    const int plane = get_global_id(1);            // n*F + f
    if (position >= OH * OW || plane >= images * F) return;
    const int n = plane / F, f = plane % F, y = position / OW, x = position % OW;
    const int row = ((y % K) * K + x % K) * F + f;
    maps[mo + plane * OH * OW + position] = products[po + row * images * U * V + n * U * V + (y / K) * V + x / K] + bias[bo + row];
}

__kernel void tile_deinterleave(__global const float* maps, const int mo, __global float* products, const int po,
                                const int F, const int OH, const int OW, const int K, const int U, const int V, const int images)
{
    const int column = get_global_id(0);           // n*U*V + u*V + v
    const int q = get_global_id(1);                // t*F + f
    const int width = images * U * V;
    if (column >= width || q >= K * K * F) return;
    const int t = q / F, f = q % F, n = column / (U * V), s = column % (U * V);
    const int y = t / K + K * (s / V), x = t % K + K * (s % V);
    products[po + q * width + column] = y < OH && x < OW ? maps[mo + (n * F + f) * OH * OW + y * OW + x] : 0.0f;
}
