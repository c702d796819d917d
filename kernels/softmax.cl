// Row-wise softmax family and the fused losses. CPU twins: src/Shinso/Kernels/Cpu/{Softmax,LossKernels}.cs.
// One work-item per row: rows are samples of a batch, so there are enough of them to fill a device
// while each row (classes, hidden units) stays short enough for one item.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

__kernel void softmax_rows(__global const float* x, const int xo, const int rows, const int columns, __global float* y, const int yo)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    __global const float* xr = x + xo + i * columns;
    __global float* yr = y + yo + i * columns;
    float max = -INFINITY;
    for (int j = 0; j < columns; j++) max = fmax(max, xr[j]);
    float sum = 0.0f;
    for (int j = 0; j < columns; j++) { const float e = exp(xr[j] - max); yr[j] = e; sum += e; }
    const float inv = 1.0f / sum;
    for (int j = 0; j < columns; j++) yr[j] *= inv;
}

__kernel void log_sum_exp_rows(__global const float* x, const int xo, const int rows, const int columns, __global float* r, const int ro)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    __global const float* xr = x + xo + i * columns;
    float max = -INFINITY;
    for (int j = 0; j < columns; j++) max = fmax(max, xr[j]);
    float sum = 0.0f;
    for (int j = 0; j < columns; j++) sum += exp(xr[j] - max);
    r[ro + i] = max + log(sum);
}

__kernel void softmax_backward(__global const float* y, const int yo, __global const float* dy, const int dyo,
                               const int rows, const int columns, __global float* dx, const int dxo)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    __global const float* yr = y + yo + i * columns;
    __global const float* dyr = dy + dyo + i * columns;
    __global float* dxr = dx + dxo + i * columns;
    float dot = 0.0f;
    for (int j = 0; j < columns; j++) dot = fma(dyr[j], yr[j], dot);
    for (int j = 0; j < columns; j++) dxr[j] = (dyr[j] - dot) * yr[j];
}

// Softplus sum per row: r[i] = sum_j softplus(scale * x[i, j]), softplus(y) = max(y, 0) + log1p(exp(-|y|)).
__kernel void softplus_sum_rows(__global const float* x, const int xo, const int rows, const int columns, const float scale,
                                __global float* r, const int ro)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    __global const float* xr = x + xo + i * columns;
    float sum = 0.0f;
    for (int j = 0; j < columns; j++) {
        const float y = scale * xr[j];
        sum += fmax(y, 0.0f) + log1p(exp(-fabs(y)));
    }
    r[ro + i] = sum;
}

// Softmax + cross-entropy: P = softmax(Z), dZ = (P - T) / rows, rowLoss[i] = -sum_j T log P.
__kernel void softmax_cross_entropy(__global const float* z, const int zo, __global const float* t, const int to,
                                    const int rows, const int columns, __global float* p, const int po,
                                    __global float* g, const int go, __global float* rowLoss)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    const int base = i * columns;
    float max = -INFINITY;
    for (int j = 0; j < columns; j++) max = fmax(max, z[zo + base + j]);
    float sum = 0.0f;
    for (int j = 0; j < columns; j++) sum += exp(z[zo + base + j] - max);
    const float lse = max + log(sum);
    const float invRows = 1.0f / rows;
    float loss = 0.0f;
    for (int j = 0; j < columns; j++) {
        const float logP = z[zo + base + j] - lse;
        const float tj = t[to + base + j];
        if (tj != 0.0f) loss -= tj * logP;
        const float pj = exp(logP);
        p[po + base + j] = pj;
        g[go + base + j] = (pj - tj) * invRows;
    }
    rowLoss[i] = loss;
}

// Sigmoid + binary cross-entropy from the logits: loss = max(z,0) - z t + log1p(exp(-|z|)).
__kernel void sigmoid_cross_entropy(__global const float* z, const int zo, __global const float* t, const int to,
                                    const int rows, const int columns, __global float* p, const int po,
                                    __global float* g, const int go, __global float* rowLoss)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    const float invRows = 1.0f / rows;
    float loss = 0.0f;
    for (int j = i * columns; j < (i + 1) * columns; j++) {
        const float zj = z[zo + j], tj = t[to + j];
        loss += fmax(zj, 0.0f) - zj * tj + log1p(exp(-fabs(zj)));
        const float pj = zj >= 0.0f ? 1.0f / (1.0f + exp(-zj)) : exp(zj) / (1.0f + exp(zj));
        p[po + j] = pj;
        g[go + j] = (pj - tj) * invRows;
    }
    rowLoss[i] = loss;
}

__kernel void squared_error(__global const float* y, const int yo, __global const float* t, const int to,
                            const int rows, const int columns, __global float* g, const int go, __global float* rowLoss)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    const float invRows = 1.0f / rows;
    float loss = 0.0f;
    for (int j = i * columns; j < (i + 1) * columns; j++) {
        const float d = y[yo + j] - t[to + j];
        loss = fma(d, d, loss);
        g[go + j] = d * invRows;
    }
    rowLoss[i] = loss;
}

// Gaussian-RBM sigma statistics, one item per column:
// r[j] = beta * r[j] + sum_i (v - b)^2 / s^2 - v * drive / s.
__kernel void gaussian_scale_statistics(__global const float* v, const int vo, __global const float* d, const int dof,
                                        const int rows, const int columns, __global const float* b, const int bo,
                                        __global const float* s, const int so, __global float* r, const int ro, const float beta)
{
    const int j = get_global_id(0);
    if (j >= columns) return;
    const float sj = s[so + j], bj = b[bo + j];
    float acc = 0.0f;
    for (int i = 0; i < rows; i++) {
        const float vi = v[vo + i * columns + j];
        const float diff = vi - bj;
        acc += diff * diff / (sj * sj) - vi * d[dof + i * columns + j] / sj;
    }
    r[ro + j] = beta * r[ro + j] + acc;
}
