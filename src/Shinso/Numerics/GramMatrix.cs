using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Shinso.Numerics;

/// <summary>
/// The Gram matrix <c>G_kl = r_k · r_l</c> of a few float rows, its products summed in double: the entries feed Cholesky
/// factorisations, where float sums of hundreds of terms would lose the digits that separate nearly parallel rows.
/// </summary>
public static class GramMatrix
{
    /// <summary>
    /// Overwrites <paramref name="gram"/> (row-major <paramref name="count"/> x <paramref name="count"/>, symmetric) with the
    /// dot products of the <paramref name="count"/> rows of <paramref name="rows"/> (row-major, <paramref name="width"/> each).
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths do not match the counts.</exception>
    // Compiled fully optimised at its first call: it runs once per input of a test that is called only a few times per process.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<float> rows, int count, int width, Span<double> gram)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if (rows.Length != (long)count * width) throw new ArgumentException($"{count} rows of {width} hold {(long)count * width} values, not {rows.Length}.", nameof(rows));
        if (gram.Length != (long)count * count) throw new ArgumentException($"A Gram matrix of {count} rows has {(long)count * count} entries, not {gram.Length}.", nameof(gram));
        for (int k = 0; k < count; k++)
        {
            var a = rows.Slice(k * width, width);
            for (int l = 0; l <= k; l++)
                gram[k * count + l] = gram[l * count + k] = Dot(a, rows.Slice(l * width, width));
        }
    }

    /// <summary><c>a · b</c> with every product and partial sum in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            ref float pa = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref float pb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (alo, ahi) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i));
                s0 = Vector256.FusedMultiplyAdd(alo, blo, s0);
                s1 = Vector256.FusedMultiplyAdd(ahi, bhi, s1);
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
