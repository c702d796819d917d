// Elementwise kernels: BLAS-1, activations and their derivatives, per-row and per-column broadcasts.
// CPU twins: src/Shinso/Kernels/Cpu/{Blas1,Activations,LossKernels (TrainingKernels),BoltzmannKernels}.cs.
// Every tensor argument is a buffer plus an element offset, so views (row slices) need no sub-buffers.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

#define ACT_IDENTITY 0
#define ACT_SIGMOID 1
#define ACT_TANH 2
#define ACT_RELU 3
#define ACT_ABS 4
#define ACT_STEP 5

__kernel void fill(__global float* x, const int xo, const float value, const int n)
{
    const int i = get_global_id(0);
    if (i < n) x[xo + i] = value;
}

__kernel void copy(__global const float* x, const int xo, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) y[yo + i] = x[xo + i];
}

__kernel void axpy(const float alpha, __global const float* x, const int xo, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) y[yo + i] = fma(alpha, x[xo + i], y[yo + i]);
}

// beta == 0 does not read y (BLAS convention: NaNs there do not propagate).
__kernel void axpby(const float alpha, __global const float* x, const int xo, const float beta, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    y[yo + i] = beta == 0.0f ? alpha * x[xo + i] : fma(alpha, x[xo + i], beta * y[yo + i]);
}

__kernel void scale_shift(__global const float* x, const int xo, const float scale, const float shift, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) y[yo + i] = x[xo + i] * scale + shift;
}

__kernel void multiply(__global const float* a, const int ao, __global const float* b, const int bo, __global float* r, const int ro, const int n)
{
    const int i = get_global_id(0);
    if (i < n) r[ro + i] = a[ao + i] * b[bo + i];
}

__kernel void add_row_vector(__global float* m, const int mo, const int rows, const int columns, __global const float* row, const int rowo)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j < columns && i < rows) m[mo + i * columns + j] += row[rowo + j];
}

// result[j] = beta * result[j] + sum_i m[i, j]; one item per column walks the rows (coalesced across items).
__kernel void sum_columns(__global const float* m, const int mo, const int rows, const int columns, __global float* r, const int ro, const float beta)
{
    const int j = get_global_id(0);
    if (j >= columns) return;
    float sum = 0.0f;
    for (int i = 0; i < rows; i++) sum += m[mo + i * columns + j];
    r[ro + j] = beta != 0.0f ? fma(beta, r[ro + j], sum) : sum;
}

__kernel void sum_rows(__global const float* m, const int mo, const int rows, const int columns, __global float* r, const int ro)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    float sum = 0.0f;
    for (int j = 0; j < columns; j++) sum += m[mo + i * columns + j];
    r[ro + i] = sum;
}

// Partial sums (squares == 1: sum of squares) for the host to finish in double precision.
__kernel void partial_sums(__global const float* x, const int xo, const int n, const int squares, __global float* partial)
{
    const int g = get_global_id(0), stride = get_global_size(0);
    float sum = 0.0f;
    for (int i = g; i < n; i += stride) {
        const float v = x[xo + i];
        sum += squares ? v * v : v;
    }
    partial[g] = sum;
}

inline float activate(const int f, const float x)
{
    switch (f) {
        case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
        case ACT_TANH: return tanh(x);
        case ACT_RELU: return x > 0.0f ? x : 0.0f;
        case ACT_ABS: return fabs(x);
        case ACT_STEP: return x >= 0.0f ? 1.0f : 0.0f;
        default: return x;
    }
}

__kernel void activation_forward(const int f, __global const float* x, const int xo, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) y[yo + i] = activate(f, x[xo + i]);
}

// Sigmoid and tanh read the derivative from the output y; ReLU and |x| from the input x; the step has none.
__kernel void activation_backward(const int f, __global const float* x, const int xo, __global const float* y, const int yo,
                                  __global const float* dy, const int dyo, __global float* dx, const int dxo, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float g = dy[dyo + i];
    float r;
    switch (f) {
        case ACT_SIGMOID: { const float v = y[yo + i]; r = g * v * (1.0f - v); break; }
        case ACT_TANH: { const float v = y[yo + i]; r = g * fma(-v, v, 1.0f); break; }
        case ACT_RELU: r = x[xo + i] > 0.0f ? g : 0.0f; break;
        case ACT_ABS: { const float v = x[xo + i]; r = v > 0.0f ? g : v < 0.0f ? -g : 0.0f; break; }
        case ACT_STEP: r = 0.0f; break;
        default: r = g; break;
    }
    dx[dxo + i] = r;
}

__kernel void scaled_sigmoid(__global const float* x, const int xo, const float scale, __global float* y, const int yo, const int n)
{
    const int i = get_global_id(0);
    if (i < n) y[yo + i] = scale * (1.0f / (1.0f + exp(-x[xo + i])));
}

__kernel void scale_columns(__global const float* m, const int mo, const int rows, const int columns,
                            __global const float* s, const int so, __global float* r, const int ro)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j < columns && i < rows) r[ro + i * columns + j] = m[mo + i * columns + j] * s[so + j];
}

// Max-norm projection: one item per column; factor = maxNorm / norm where the norm exceeds it.
__kernel void clip_column_norms(__global float* m, const int mo, const int rows, const int columns, const float maxNorm)
{
    const int j = get_global_id(0);
    if (j >= columns) return;
    float sq = 0.0f;
    for (int i = 0; i < rows; i++) { const float v = m[mo + i * columns + j]; sq = fma(v, v, sq); }
    const float norm = sqrt(sq);
    if (!(norm > maxNorm)) return;
    const float factor = maxNorm / norm;
    for (int i = 0; i < rows; i++) m[mo + i * columns + j] *= factor;
}
