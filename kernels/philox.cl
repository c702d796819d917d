// Philox4x32-10 (Salmon et al. 2011) and the samplers built on it. CPU twins:
// src/Shinso/Random/Philox4x32.cs and src/Shinso/Kernels/Cpu/RandomKernels.cs.
// Element i of every sampler uses stream position counter*4 + i: word i % 4 of block counter + i/4,
// with key (seed lo, seed hi) and counter words (block lo, block hi, stream lo, stream hi), so a
// seed gives the same words, uniforms and Bernoulli samples on every backend.

// Multiply-adds are fused only where written as fma(), exactly where the CPU twin fuses them.
#pragma OPENCL FP_CONTRACT OFF

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define UNIFORM_SCALE 5.9604644775390625E-8f

inline uint4 philox_block(const ulong seed, const ulong stream, const ulong block)
{
    uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
    uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = (uint)stream, c3 = (uint)(stream >> 32);
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        const uint lo0 = PHILOX_M0 * c0, hi0 = mul_hi(PHILOX_M0, c0);
        const uint lo1 = PHILOX_M1 * c2, hi1 = mul_hi(PHILOX_M1, c2);
        const uint n0 = hi1 ^ c1 ^ k0;
        const uint n2 = hi0 ^ c3 ^ k1;
        c1 = lo1; c3 = lo0; c0 = n0; c2 = n2;
    }
    return (uint4)(c0, c1, c2, c3);
}

inline uint philox_word(const uint4 block, const int word)
{
    return word == 0 ? block.x : word == 1 ? block.y : word == 2 ? block.z : block.w;
}

inline float philox_uniform(const ulong seed, const ulong stream, const ulong counter, const int i)
{
    const uint4 block = philox_block(seed, stream, counter + (ulong)(i >> 2));
    return (float)(philox_word(block, i & 3) >> 8) * UNIFORM_SCALE;
}

__kernel void philox_words(const ulong seed, const ulong stream, const ulong counter, __global uint* out, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    out[i] = philox_word(philox_block(seed, stream, counter + (ulong)(i >> 2)), i & 3);
}

__kernel void sample_uniform(const ulong seed, const ulong stream, const ulong counter, __global float* d, const int dof, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    d[dof + i] = philox_uniform(seed, stream, counter, i);
}

// Box-Muller on the word pairs (0,1) and (2,3) of a block: even elements take the cosine, odd the sine.
__kernel void sample_gaussian(const ulong seed, const ulong stream, const ulong counter, const float mean, const float sd,
                              __global float* d, const int dof, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const uint4 block = philox_block(seed, stream, counter + (ulong)(i >> 2));
    const uint w0 = (i & 2) ? block.z : block.x;
    const uint w1 = (i & 2) ? block.w : block.y;
    const float u1 = (float)((w0 >> 8) + 1u) * UNIFORM_SCALE;
    const float u2 = (float)(w1 >> 8) * UNIFORM_SCALE;
    const float r = sqrt(-2.0f * log(u1));
    float c;
    const float s = sincos(6.283185307179586f * u2, &c);
    d[dof + i] = fma(sd, (i & 1) ? r * s : r * c, mean);
}

__kernel void sample_bernoulli(const ulong seed, const ulong stream, const ulong counter,
                               __global const float* p, const int pof, __global float* s, const int sof, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    s[sof + i] = philox_uniform(seed, stream, counter, i) < p[pof + i] ? 1.0f : 0.0f;
}

__kernel void sigmoid_bernoulli(const ulong seed, const ulong stream, const ulong counter, __global const float* x, const int xo,
                                __global float* p, const int po, __global float* s, const int so, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float prob = 1.0f / (1.0f + exp(-x[xo + i]));
    const float u = philox_uniform(seed, stream, counter, i);
    p[po + i] = prob;
    s[so + i] = u < prob ? 1.0f : 0.0f;
}

// One category per row: the first whose running sum exceeds the row's uniform, the last when rounding leaves the sum below it.
// One work item a row; the additions run in the CPU twin's order, so both pick the same category.
__kernel void sample_one_hot(const ulong seed, const ulong stream, const ulong counter, __global const float* p, const int po,
                             __global float* s, const int so, const int rows, const int columns)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    const float u = philox_uniform(seed, stream, counter, r);
    float running = 0.0f;
    int chosen = columns - 1;
    for (int c = 0; c < columns; c++)
    {
        running += p[po + r * columns + c];
        if (u < running) { chosen = c; break; }
    }
    for (int c = 0; c < columns; c++) s[so + r * columns + c] = c == chosen ? 1.0f : 0.0f;
}

__kernel void dropout_mask(const ulong seed, const ulong stream, const ulong counter, const float keep, const float scale,
                           __global float* m, const int mo, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    m[mo + i] = philox_uniform(seed, stream, counter, i) < keep ? scale : 0.0f;
}
