using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Batch FISTA's passes for lasso codes (see <see cref="Backends.ISparseCoding"/>): the shrinkage step from the extrapolated
/// point and the per-row monotone acceptance. The vector bodies and the scalar tails perform the same IEEE operations in
/// the same order (no fused multiply-adds), so every path, and the OpenCL twin in <c>kernels/sparse_coding.cl</c>, gives the
/// same bits for one step from the same inputs. The acceptance's square root and division are correctly rounded here but not
/// necessarily on a device, so FISTA's t and momentum may differ by an ulp or two and whole runs agree to rounding, not bits.
/// </summary>
public static class SparseCodingKernels
{
    /// <summary>
    /// A candidate whose objective exceeds the current one by at most this share of it is still accepted: single-precision sums
    /// carry noise of about this size, and rejecting on noise would stall FISTA short of float accuracy on the codes.
    /// </summary>
    public const float AcceptanceSlack = 1e-6f;

    /// <summary>
    /// <c>previous[i, j] = soft(y − step·g, threshold)</c> with <c>y = h + m (h − h')</c>, <c>g = (P + m (P − P')) − B</c>, m = momentum[i].
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit <paramref name="rows"/> x <paramref name="columns"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ShrinkageStep(ReadOnlySpan<float> current, Span<float> previous, ReadOnlySpan<float> product, ReadOnlySpan<float> previousProduct,
        ReadOnlySpan<float> correlation, ReadOnlySpan<float> momentum, int rows, int columns, float step, float threshold, CpuKernelOptions options = default)
    {
        Check(current.Length, rows, columns, nameof(current));
        Check(previous.Length, rows, columns, nameof(previous));
        Check(product.Length, rows, columns, nameof(product));
        Check(previousProduct.Length, rows, columns, nameof(previousProduct));
        Check(correlation.Length, rows, columns, nameof(correlation));
        if (momentum.Length != rows) throw new ArgumentException($"momentum has {momentum.Length} elements but the codes have {rows} rows.", nameof(momentum));
        var path = options.ResolvedPath;
        for (int i = 0; i < rows; i++)
        {
            int o = i * columns, j = 0;
            float m = momentum[i];
            if (path == SimdPath.Avx512)
            {
                var vm = Vector512.Create(m);
                var vs = Vector512.Create(step);
                var vt = Vector512.Create(threshold);
                var vnt = Vector512.Create(-threshold);
                for (; j <= columns - 16; j += 16)
                {
                    var h = Vector512.Create(current.Slice(o + j, 16));
                    var hp = Vector512.Create(previous.Slice(o + j, 16));
                    var p = Vector512.Create(product.Slice(o + j, 16));
                    var pp = Vector512.Create(previousProduct.Slice(o + j, 16));
                    var b = Vector512.Create(correlation.Slice(o + j, 16));
                    var y = h + vm * (h - hp);
                    var g = (p + vm * (p - pp)) - b;
                    var u = y - vs * g;
                    (u - Vector512.Min(Vector512.Max(u, vnt), vt)).CopyTo(previous.Slice(o + j, 16));
                }
            }
            else if (path == SimdPath.Avx2)
            {
                var vm = Vector256.Create(m);
                var vs = Vector256.Create(step);
                var vt = Vector256.Create(threshold);
                var vnt = Vector256.Create(-threshold);
                for (; j <= columns - 8; j += 8)
                {
                    var h = Vector256.Create(current.Slice(o + j, 8));
                    var hp = Vector256.Create(previous.Slice(o + j, 8));
                    var p = Vector256.Create(product.Slice(o + j, 8));
                    var pp = Vector256.Create(previousProduct.Slice(o + j, 8));
                    var b = Vector256.Create(correlation.Slice(o + j, 8));
                    var y = h + vm * (h - hp);
                    var g = (p + vm * (p - pp)) - b;
                    var u = y - vs * g;
                    (u - Vector256.Min(Vector256.Max(u, vnt), vt)).CopyTo(previous.Slice(o + j, 8));
                }
            }
            for (; j < columns; j++)
            {
                float h = current[o + j], p = product[o + j];
                float y = h + m * (h - previous[o + j]);
                float g = (p + m * (p - previousProduct[o + j])) - correlation[o + j];
                float u = y - step * g;
                previous[o + j] = u - Math.Min(Math.Max(u, -threshold), threshold);
            }
        }
    }

    /// <summary>
    /// Per row: <c>f = sum_j z(½ p_z − b) + λ|z|</c>; accept (objective, t and momentum advance) when <c>f ≤ objective[i]</c> (up to
    /// <see cref="AcceptanceSlack"/>), else restart
    /// (candidate rows := current rows, t = 1, momentum = 0). The sums run in single precision, vectorised on the SIMD paths (the
    /// OpenCL twin sums in order, so the two may decide differently only where the candidate and the current objective tie to rounding).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit <paramref name="rows"/> x <paramref name="columns"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AcceptDescent(Span<float> candidate, Span<float> candidateProduct, ReadOnlySpan<float> current, ReadOnlySpan<float> product,
        ReadOnlySpan<float> correlation, float lambda, Span<float> objective, Span<float> t, Span<float> momentum, int rows, int columns,
        CpuKernelOptions options = default)
    {
        Check(candidate.Length, rows, columns, nameof(candidate));
        Check(candidateProduct.Length, rows, columns, nameof(candidateProduct));
        Check(current.Length, rows, columns, nameof(current));
        Check(product.Length, rows, columns, nameof(product));
        Check(correlation.Length, rows, columns, nameof(correlation));
        if (objective.Length != rows) throw new ArgumentException($"objective has {objective.Length} elements but the codes have {rows} rows.", nameof(objective));
        if (t.Length != rows) throw new ArgumentException($"t has {t.Length} elements but the codes have {rows} rows.", nameof(t));
        if (momentum.Length != rows) throw new ArgumentException($"momentum has {momentum.Length} elements but the codes have {rows} rows.", nameof(momentum));
        var path = options.ResolvedPath;
        for (int i = 0; i < rows; i++)
        {
            int o = i * columns;
            float f = RowObjective(candidate.Slice(o, columns), candidateProduct.Slice(o, columns), correlation.Slice(o, columns), lambda, path);
            if (!Accept(f, ref objective[i], ref t[i], ref momentum[i]))
            {
                current.Slice(o, columns).CopyTo(candidate.Slice(o, columns));
                product.Slice(o, columns).CopyTo(candidateProduct.Slice(o, columns));
            }
        }
    }

    /// <summary><c>sum_j z_j (½ p_j − b_j) + λ |z_j|</c>: a row's lasso objective less <c>½‖x‖²</c>, summed in single precision.</summary>
    /// <remarks>Zero codes add exactly zero (p and b are finite), so the vector bodies need no masks.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowObjective(ReadOnlySpan<float> z, ReadOnlySpan<float> p, ReadOnlySpan<float> b, float lambda, SimdPath path = SimdPath.Scalar)
    {
        int j = 0, n = z.Length;
        float f = 0f;
        if (path == SimdPath.Avx512 && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            var half = Vector512.Create(0.5f);
            var l = Vector512.Create(lambda);
            for (; j <= n - 16; j += 16)
            {
                var zj = Vector512.Create(z.Slice(j, 16));
                acc += zj * (half * Vector512.Create(p.Slice(j, 16)) - Vector512.Create(b.Slice(j, 16))) + l * Vector512.Abs(zj);
            }
            f = Vector512.Sum(acc);
        }
        else if (path == SimdPath.Avx2 && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            var half = Vector256.Create(0.5f);
            var l = Vector256.Create(lambda);
            for (; j <= n - 8; j += 8)
            {
                var zj = Vector256.Create(z.Slice(j, 8));
                acc += zj * (half * Vector256.Create(p.Slice(j, 8)) - Vector256.Create(b.Slice(j, 8))) + l * Vector256.Abs(zj);
            }
            f = Vector256.Sum(acc);
        }
        for (; j < n; j++)
        {
            float zj = z[j];
            f += zj * (0.5f * p[j] - b[j]) + lambda * Math.Abs(zj);
        }
        return f;
    }

    /// <summary><c>residual[i, j] = (r + m (r − r')) − x</c> with m = momentum[i] (the factored form's residual at the extrapolated point).</summary>
    /// <exception cref="ArgumentException">A length does not fit <paramref name="rows"/> x <paramref name="columns"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtrapolatedResidual(ReadOnlySpan<float> reconstruction, ReadOnlySpan<float> previousReconstruction, ReadOnlySpan<float> data,
        ReadOnlySpan<float> momentum, Span<float> residual, int rows, int columns, CpuKernelOptions options = default)
    {
        Check(reconstruction.Length, rows, columns, nameof(reconstruction));
        Check(previousReconstruction.Length, rows, columns, nameof(previousReconstruction));
        Check(data.Length, rows, columns, nameof(data));
        Check(residual.Length, rows, columns, nameof(residual));
        if (momentum.Length != rows) throw new ArgumentException($"momentum has {momentum.Length} elements but there are {rows} rows.", nameof(momentum));
        var path = options.ResolvedPath;
        for (int i = 0; i < rows; i++)
        {
            int o = i * columns, j = 0;
            float m = momentum[i];
            if (path == SimdPath.Avx512)
            {
                var vm = Vector512.Create(m);
                for (; j <= columns - 16; j += 16)
                {
                    var r = Vector512.Create(reconstruction.Slice(o + j, 16));
                    ((r + vm * (r - Vector512.Create(previousReconstruction.Slice(o + j, 16)))) - Vector512.Create(data.Slice(o + j, 16))).CopyTo(residual.Slice(o + j, 16));
                }
            }
            else if (path == SimdPath.Avx2)
            {
                var vm = Vector256.Create(m);
                for (; j <= columns - 8; j += 8)
                {
                    var r = Vector256.Create(reconstruction.Slice(o + j, 8));
                    ((r + vm * (r - Vector256.Create(previousReconstruction.Slice(o + j, 8)))) - Vector256.Create(data.Slice(o + j, 8))).CopyTo(residual.Slice(o + j, 8));
                }
            }
            for (; j < columns; j++)
            {
                float r = reconstruction[o + j];
                residual[o + j] = (r + m * (r - previousReconstruction[o + j])) - data[o + j];
            }
        }
    }

    /// <summary><c>previous[i, j] = soft((h + m (h − h')) − step·g, threshold)</c> with m = momentum[i] (the factored form's step).</summary>
    /// <exception cref="ArgumentException">A length does not fit <paramref name="rows"/> x <paramref name="columns"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ProximalStep(ReadOnlySpan<float> current, Span<float> previous, ReadOnlySpan<float> gradient, ReadOnlySpan<float> momentum,
        int rows, int columns, float step, float threshold, CpuKernelOptions options = default)
    {
        Check(current.Length, rows, columns, nameof(current));
        Check(previous.Length, rows, columns, nameof(previous));
        Check(gradient.Length, rows, columns, nameof(gradient));
        if (momentum.Length != rows) throw new ArgumentException($"momentum has {momentum.Length} elements but the codes have {rows} rows.", nameof(momentum));
        var path = options.ResolvedPath;
        for (int i = 0; i < rows; i++)
        {
            int o = i * columns, j = 0;
            float m = momentum[i];
            if (path == SimdPath.Avx512)
            {
                var vm = Vector512.Create(m);
                var vs = Vector512.Create(step);
                var vt = Vector512.Create(threshold);
                var vnt = Vector512.Create(-threshold);
                for (; j <= columns - 16; j += 16)
                {
                    var h = Vector512.Create(current.Slice(o + j, 16));
                    var u = (h + vm * (h - Vector512.Create(previous.Slice(o + j, 16)))) - vs * Vector512.Create(gradient.Slice(o + j, 16));
                    (u - Vector512.Min(Vector512.Max(u, vnt), vt)).CopyTo(previous.Slice(o + j, 16));
                }
            }
            else if (path == SimdPath.Avx2)
            {
                var vm = Vector256.Create(m);
                var vs = Vector256.Create(step);
                var vt = Vector256.Create(threshold);
                var vnt = Vector256.Create(-threshold);
                for (; j <= columns - 8; j += 8)
                {
                    var h = Vector256.Create(current.Slice(o + j, 8));
                    var u = (h + vm * (h - Vector256.Create(previous.Slice(o + j, 8)))) - vs * Vector256.Create(gradient.Slice(o + j, 8));
                    (u - Vector256.Min(Vector256.Max(u, vnt), vt)).CopyTo(previous.Slice(o + j, 8));
                }
            }
            for (; j < columns; j++)
            {
                float h = current[o + j];
                float u = (h + m * (h - previous[o + j])) - step * gradient[o + j];
                previous[o + j] = u - Math.Min(Math.Max(u, -threshold), threshold);
            }
        }
    }

    /// <summary>
    /// Per row: <c>f = ½‖r_z − x‖² + λ‖z‖₁</c> from the candidate's reconstruction; accept or restart as <see cref="AcceptDescent"/> does
    /// (a restart copies the current codes and reconstruction).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit the rows, atoms and features.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AcceptReconstruction(Span<float> candidate, Span<float> candidateReconstruction, ReadOnlySpan<float> current,
        ReadOnlySpan<float> reconstruction, ReadOnlySpan<float> data, float lambda, Span<float> objective, Span<float> t, Span<float> momentum,
        int rows, int atoms, int features, CpuKernelOptions options = default)
    {
        Check(candidate.Length, rows, atoms, nameof(candidate));
        Check(current.Length, rows, atoms, nameof(current));
        Check(candidateReconstruction.Length, rows, features, nameof(candidateReconstruction));
        Check(reconstruction.Length, rows, features, nameof(reconstruction));
        Check(data.Length, rows, features, nameof(data));
        if (objective.Length != rows) throw new ArgumentException($"objective has {objective.Length} elements but the codes have {rows} rows.", nameof(objective));
        if (t.Length != rows) throw new ArgumentException($"t has {t.Length} elements but the codes have {rows} rows.", nameof(t));
        if (momentum.Length != rows) throw new ArgumentException($"momentum has {momentum.Length} elements but the codes have {rows} rows.", nameof(momentum));
        var path = options.ResolvedPath;
        for (int i = 0; i < rows; i++)
        {
            var z = candidate.Slice(i * atoms, atoms);
            var rz = candidateReconstruction.Slice(i * features, features);
            float f = 0.5f * SquaredDistance(rz, data.Slice(i * features, features), path) + lambda * AbsoluteSum(z, path);
            if (!Accept(f, ref objective[i], ref t[i], ref momentum[i]))
            {
                current.Slice(i * atoms, atoms).CopyTo(z);
                reconstruction.Slice(i * features, features).CopyTo(rz);
            }
        }
    }

    /// <summary>
    /// One row's decision: accept a candidate of objective <paramref name="candidate"/> (the objective, FISTA's t and the momentum
    /// advance) or, when it is higher beyond the slack, restart (t = 1, no momentum); the caller then copies the current row back.
    /// </summary>
    private static bool Accept(float candidate, ref float objective, ref float t, ref float momentum)
    {
        if (candidate - objective <= AcceptanceSlack * Math.Abs(objective))
        {
            objective = candidate;
            float next = 0.5f * (1f + MathF.Sqrt(1f + 4f * t * t));
            momentum = (t - 1f) / next;
            t = next;
            return true;
        }
        t = 1f;
        momentum = 0f;
        return false;
    }

    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimdPath path)
    {
        int j = 0;
        float sum = 0f;
        if (path == SimdPath.Avx512 && a.Length >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; j <= a.Length - 16; j += 16)
            {
                var d = Vector512.Create(a.Slice(j, 16)) - Vector512.Create(b.Slice(j, 16));
                acc += d * d;
            }
            sum = Vector512.Sum(acc);
        }
        else if (path == SimdPath.Avx2 && a.Length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; j <= a.Length - 8; j += 8)
            {
                var d = Vector256.Create(a.Slice(j, 8)) - Vector256.Create(b.Slice(j, 8));
                acc += d * d;
            }
            sum = Vector256.Sum(acc);
        }
        for (; j < a.Length; j++)
        {
            float d = a[j] - b[j];
            sum += d * d;
        }
        return sum;
    }

    private static float AbsoluteSum(ReadOnlySpan<float> z, SimdPath path)
    {
        int j = 0;
        float sum = 0f;
        if (path == SimdPath.Avx512 && z.Length >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; j <= z.Length - 16; j += 16) acc += Vector512.Abs(Vector512.Create(z.Slice(j, 16)));
            sum = Vector512.Sum(acc);
        }
        else if (path == SimdPath.Avx2 && z.Length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; j <= z.Length - 8; j += 8) acc += Vector256.Abs(Vector256.Create(z.Slice(j, 8)));
            sum = Vector256.Sum(acc);
        }
        for (; j < z.Length; j++) sum += Math.Abs(z[j]);
        return sum;
    }

    /// <summary><c>roots = sqrt(epsilon + pooled)</c>, <c>inverseRoots = 1 / roots</c>, elementwise (topographic ICA's pooling).</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void PoolingRoots(ReadOnlySpan<float> pooled, float epsilon, Span<float> roots, Span<float> inverseRoots)
    {
        if (roots.Length != pooled.Length) throw new ArgumentException($"roots has {roots.Length} elements but pooled has {pooled.Length}.", nameof(roots));
        if (inverseRoots.Length != pooled.Length)
            throw new ArgumentException($"inverseRoots has {inverseRoots.Length} elements but pooled has {pooled.Length}.", nameof(inverseRoots));
        for (int i = 0; i < pooled.Length; i++)
        {
            float r = MathF.Sqrt(epsilon + pooled[i]);
            roots[i] = r;
            inverseRoots[i] = 1f / r;
        }
    }

    private static void Check(int length, int rows, int columns, string name)
    {
        if (length != (long)rows * columns) throw new ArgumentException($"{name} has {length} elements, not {rows} x {columns}.", name);
    }
}
