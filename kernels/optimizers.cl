// Optimizer updates, one fused pass per parameter tensor. CPU twin: src/Shinso/Kernels/Cpu/OptimizerKernels.cs.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

__kernel void momentum_update(__global float* p, const int po, __global const float* g, const int go, __global float* v, const int vo,
                              const float eta, const float mu, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float nv = fma(mu, v[vo + i], -eta * g[go + i]);
    v[vo + i] = nv;
    p[po + i] += nv;
}

// Nesterov in the look-ahead form: v = mu v - eta g; theta += mu v - eta g.
__kernel void nesterov_update(__global float* p, const int po, __global const float* g, const int go, __global float* v, const int vo,
                              const float eta, const float mu, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float eg = -eta * g[go + i];
    const float nv = fma(mu, v[vo + i], eg);
    v[vo + i] = nv;
    p[po + i] += fma(mu, nv, eg);
}

__kernel void adagrad_update(__global float* p, const int po, __global const float* g, const int go, __global float* h, const int ho,
                             const float eta, const float eps, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[go + i];
    const float nh = fma(gi, gi, h[ho + i]);
    h[ho + i] = nh;
    p[po + i] -= eta * gi / (sqrt(nh) + eps);
}

__kernel void rmsprop_update(__global float* p, const int po, __global const float* g, const int go, __global float* ms, const int mso,
                             const float eta, const float rho, const float eps, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[go + i];
    const float nms = fma(rho, ms[mso + i], (1.0f - rho) * (gi * gi));
    ms[mso + i] = nms;
    p[po + i] -= eta * gi / (sqrt(nms) + eps);
}

__kernel void adadelta_update(__global float* p, const int po, __global const float* g, const int go,
                              __global float* eg, const int ego, __global float* ed, const int edo,
                              const float rho, const float eps, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[go + i];
    const float neg = fma(rho, eg[ego + i], (1.0f - rho) * (gi * gi));
    eg[ego + i] = neg;
    const float d = -(sqrt(ed[edo + i] + eps) / sqrt(neg + eps)) * gi;
    ed[edo + i] = fma(rho, ed[edo + i], (1.0f - rho) * (d * d));
    p[po + i] += d;
}

// correction1 = 1/(1-beta1^t), correction2 = 1/(1-beta2^t), computed once on the host in double.
__kernel void adam_update(__global float* p, const int po, __global const float* g, const int go,
                          __global float* m, const int mo, __global float* v, const int vo,
                          const float eta, const float beta1, const float beta2, const float eps,
                          const float correction1, const float correction2, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[go + i];
    const float nm = fma(beta1, m[mo + i], (1.0f - beta1) * gi);
    const float nv = fma(beta2, v[vo + i], (1.0f - beta2) * (gi * gi));
    m[mo + i] = nm;
    v[vo + i] = nv;
    p[po + i] -= eta * (nm * correction1) / (sqrt(nv * correction2) + eps);
}
