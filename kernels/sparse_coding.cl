// Batch FISTA for lasso codes (sparse coding): the shrinkage step from the extrapolated point and the per-row monotone
// acceptance; topographic ICA's square-root pooling. CPU twin: src/Shinso/Kernels/Cpu/SparseCodingKernels.cs (same operations in the same order, no fused
// multiply-adds, so one step from the same inputs agrees bit for bit; sqrt and division in the acceptance are not correctly
// rounded on every device, so t and momentum may differ by an ulp).
#pragma OPENCL FP_CONTRACT OFF

// One item per element: y = h + m (h - h'), g = (P + m (P - P')) - B, previous = soft(y - step g, threshold).
__kernel void shrinkage_step(__global const float* h, const int ho, __global float* hp, const int hpo,
                             __global const float* p, const int po, __global const float* pp, const int ppo,
                             __global const float* b, const int bo, __global const float* momentum, const int mo,
                             const int rows, const int columns, const float step, const float threshold)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= columns || i >= rows) return;
    const int e = i * columns + j;
    const float m = momentum[mo + i];
    const float hv = h[ho + e], pv = p[po + e];
    const float y = hv + m * (hv - hp[hpo + e]);
    const float g = (pv + m * (pv - pp[ppo + e])) - b[bo + e];
    const float u = y - step * g;
    hp[hpo + e] = u - fmin(fmax(u, -threshold), threshold);
}

// One row's decision: accept the candidate's objective f up to rounding noise in the sums (AcceptanceSlack on the CPU) and
// advance FISTA's t and momentum, or restart the row (t = 1, no momentum); the caller copies the current row back on a restart.
inline bool accept_or_restart(const float f, __global float* objective, __global float* t, __global float* momentum)
{
    const float current = *objective;
    if (f - current <= 1e-6f * fabs(current)) {
        *objective = f;
        const float ti = *t;
        const float next = 0.5f * (1.0f + sqrt(1.0f + 4.0f * ti * ti));
        *momentum = (ti - 1.0f) / next;
        *t = next;
        return true;
    }
    *t = 1.0f;
    *momentum = 0.0f;
    return false;
}

// One item per row: the candidate's objective z.(p/2 - b) + lambda |z|, summed in order; accept and advance FISTA's t, or
// restart the row from the current iterate with no momentum.
__kernel void accept_descent(__global float* z, const int zo, __global float* pz, const int pzo,
                             __global const float* h, const int ho, __global const float* p, const int po,
                             __global const float* b, const int bo, const float lambda,
                             __global float* objective, const int oo, __global float* t, const int to,
                             __global float* momentum, const int mo, const int rows, const int columns)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    const int r = i * columns;
    float f = 0.0f;
    for (int j = 0; j < columns; j++) {
        const float zj = z[zo + r + j];
        if (zj != 0.0f) f += zj * (0.5f * pz[pzo + r + j] - b[bo + r + j]) + lambda * fabs(zj);
    }
    if (!accept_or_restart(f, objective + oo + i, t + to + i, momentum + mo + i))
        for (int j = 0; j < columns; j++) {
            z[zo + r + j] = h[ho + r + j];
            pz[pzo + r + j] = p[po + r + j];
        }
}

// Topographic ICA's square-root pooling: roots = sqrt(epsilon + pooled), inverseRoots = 1 / roots.
__kernel void pooling_roots(__global const float* q, const int qo, const float epsilon, __global float* r, const int ro,
                            __global float* ir, const int iro, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float root = sqrt(epsilon + q[qo + i]);
    r[ro + i] = root;
    ir[iro + i] = 1.0f / root;
}

// The factored form (R = H D): residual = (r + m (r - r')) - x at the extrapolated point, one item per element.
__kernel void extrapolated_residual(__global const float* r, const int ro, __global const float* rp, const int rpo,
                                    __global const float* x, const int xo, __global const float* momentum, const int mo,
                                    __global float* e, const int eo, const int rows, const int columns)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= columns || i >= rows) return;
    const int k = i * columns + j;
    const float m = momentum[mo + i];
    const float rv = r[ro + k];
    e[eo + k] = (rv + m * (rv - rp[rpo + k])) - x[xo + k];
}

// The factored form's step given the gradient: previous = soft((h + m (h - h')) - step g, threshold).
__kernel void proximal_step(__global const float* h, const int ho, __global float* hp, const int hpo,
                            __global const float* g, const int go, __global const float* momentum, const int mo,
                            const int rows, const int columns, const float step, const float threshold)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= columns || i >= rows) return;
    const int k = i * columns + j;
    const float m = momentum[mo + i];
    const float hv = h[ho + k];
    const float u = (hv + m * (hv - hp[hpo + k])) - step * g[go + k];
    hp[hpo + k] = u - fmin(fmax(u, -threshold), threshold);
}

// The factored form's acceptance, one item per row: f = |r_z - x|^2 / 2 + lambda |z|_1 from the candidate's reconstruction.
__kernel void accept_reconstruction(__global float* z, const int zo, __global float* rz, const int rzo,
                                    __global const float* h, const int ho, __global const float* r, const int ro,
                                    __global const float* x, const int xo, const float lambda,
                                    __global float* objective, const int oo, __global float* t, const int to,
                                    __global float* momentum, const int mo, const int rows, const int atoms, const int features)
{
    const int i = get_global_id(0);
    if (i >= rows) return;
    float squares = 0.0f, l1 = 0.0f;
    for (int j = 0; j < features; j++) {
        const float d = rz[rzo + i * features + j] - x[xo + i * features + j];
        squares += d * d;
    }
    for (int j = 0; j < atoms; j++) l1 += fabs(z[zo + i * atoms + j]);
    const float f = 0.5f * squares + lambda * l1;
    if (!accept_or_restart(f, objective + oo + i, t + to + i, momentum + mo + i)) {
        for (int j = 0; j < atoms; j++) z[zo + i * atoms + j] = h[ho + i * atoms + j];
        for (int j = 0; j < features; j++) rz[rzo + i * features + j] = r[ro + i * features + j];
    }
}
