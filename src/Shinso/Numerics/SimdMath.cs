using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Numerics;

/// <summary>
/// Float transcendental functions written once per width (scalar, 256-bit, 512-bit) with the same
/// operation sequence, so every kernel path computes bit-identical values. The algorithms are the
/// Cephes single-precision ones (exp, log, sin/cos, tanh), accurate to about 1-2 ulp.
/// </summary>
/// <remarks>
/// The scalar versions use <see cref="MathF.FusedMultiplyAdd"/> wherever the vector versions fuse, so
/// the scalar path and the scalar tails of the vector paths round exactly like the vector bodies.
/// </remarks>
internal static class SimdMath
{
    // ---- exp: n = round(x log2 e), r = x - n ln2 (two-part), e^r by a degree-7 polynomial,
    // scaled by 2^n as two factors so results down to the subnormals and up to +inf come out right.
    private const float ExpMin = -110f;   // e^-110 rounds to 0
    private const float ExpMax = 100f;    // e^100 overflows to +inf
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float E0 = 1.9875691500E-4f, E1 = 1.3981999507E-3f, E2 = 8.3334519073E-3f,
        E3 = 4.1665795894E-2f, E4 = 1.6666665459E-1f, E5 = 5.0000001201E-1f;

    // ---- log (positive normal inputs): x = m 2^e, m in [sqrt(1/2), sqrt 2).
    private const float SqrtHalf = 0.707106781186547524f;
    private const float L0 = 7.0376836292E-2f, L1 = -1.1514610310E-1f, L2 = 1.1676998740E-1f, L3 = -1.2420140846E-1f,
        L4 = 1.4249322787E-1f, L5 = -1.6668057665E-1f, L6 = 2.0000714765E-1f, L7 = -2.4999993993E-1f, L8 = 3.3333331174E-1f;

    // ---- sin/cos on |a| <= pi/4.
    private const float TwoPi = 6.28318530717958648f;
    private const float S0 = -1.9515295891E-4f, S1 = 8.3321608736E-3f, S2 = -1.6666654611E-1f;
    private const float C0 = 2.443315711809948E-5f, C1 = -1.388731625493765E-3f, C2 = 4.166664568298827E-2f;

    // ---- tanh on |x| < 0.625.
    private const float TanhSmall = 0.625f;
    private const float T0 = -5.70498872745E-3f, T1 = 2.06390887954E-2f, T2 = -5.37397155531E-2f,
        T3 = 1.33314422036E-1f, T4 = -3.33332819422E-1f;

    // =========================================================================================
    // exp

    /// <summary>e^x; NaN stays NaN, overflow gives +inf, underflow gives (subnormal or) 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        // Same NaN behaviour as maxps/minps with the constant first: NaN passes through.
        x = ExpMin > x ? ExpMin : x;
        x = ExpMax < x ? ExpMax : x;
        float n = MathF.Round(x * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float z = r * r;
        float p = MathF.FusedMultiplyAdd(E0, r, E1);
        p = MathF.FusedMultiplyAdd(p, r, E2);
        p = MathF.FusedMultiplyAdd(p, r, E3);
        p = MathF.FusedMultiplyAdd(p, r, E4);
        p = MathF.FusedMultiplyAdd(p, r, E5);
        float y = MathF.FusedMultiplyAdd(p, z, r) + 1f;
        int ni = float.IsNaN(n) ? 0 : (int)n;
        int n1 = ni >> 1;
        int n2 = ni - n1;
        return y * BitConverter.Int32BitsToSingle((n1 + 127) << 23) * BitConverter.Int32BitsToSingle((n2 + 127) << 23);
    }

    /// <summary>e^x per lane (see <see cref="Exp(float)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Avx.Max(Vector256.Create(ExpMin), x);
        x = Avx.Min(Vector256.Create(ExpMax), x);
        Vector256<float> n = Avx.RoundToNearestInteger(x * Vector256.Create(Log2E));
        Vector256<float> r = Fma.MultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Fma.MultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> z = r * r;
        Vector256<float> p = Fma.MultiplyAdd(Vector256.Create(E0), r, Vector256.Create(E1));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(E2));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(E3));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(E4));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(E5));
        Vector256<float> y = Fma.MultiplyAdd(p, z, r) + Vector256<float>.One;
        Vector256<int> ni = Avx.ConvertToVector256Int32WithTruncation(n);
        Vector256<int> n1 = Avx2.ShiftRightArithmetic(ni, 1);
        Vector256<int> n2 = ni - n1;
        Vector256<int> bias = Vector256.Create(127);
        return y * Avx2.ShiftLeftLogical(n1 + bias, 23).AsSingle() * Avx2.ShiftLeftLogical(n2 + bias, 23).AsSingle();
    }

    /// <summary>e^x per lane (see <see cref="Exp(float)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Avx512F.Max(Vector512.Create(ExpMin), x);
        x = Avx512F.Min(Vector512.Create(ExpMax), x);
        Vector512<float> n = Avx512F.RoundScale(x * Vector512.Create(Log2E), 0x08);
        Vector512<float> r = Avx512F.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Avx512F.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> z = r * r;
        Vector512<float> p = Avx512F.FusedMultiplyAdd(Vector512.Create(E0), r, Vector512.Create(E1));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(E2));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(E3));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(E4));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(E5));
        Vector512<float> y = Avx512F.FusedMultiplyAdd(p, z, r) + Vector512<float>.One;
        Vector512<int> ni = Avx512F.ConvertToVector512Int32WithTruncation(n);
        Vector512<int> n1 = Avx512F.ShiftRightArithmetic(ni, 1);
        Vector512<int> n2 = ni - n1;
        Vector512<int> bias = Vector512.Create(127);
        return y * Avx512F.ShiftLeftLogical(n1 + bias, 23).AsSingle() * Avx512F.ShiftLeftLogical(n2 + bias, 23).AsSingle();
    }

    // =========================================================================================
    // sigmoid = 1 / (1 + e^-x): e^-x is +inf for x < -100 and 0 for x > 110, so the result is an exact 0 or 1 there.

    /// <summary>1 / (1 + e^-x), finite for every non-NaN x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>1 / (1 + e^-x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>1 / (1 + e^-x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) =>
        Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    // =========================================================================================
    // tanh: odd polynomial below 0.625, 1 - 2/(e^{2|x|} + 1) above, sign restored.

    /// <summary>tanh(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x)
    {
        float ax = MathF.Abs(x);
        if (ax >= TanhSmall)
        {
            float large = 1f - 2f / (Exp(ax + ax) + 1f);
            return MathF.CopySign(large, x);
        }
        float z = x * x;
        float p = MathF.FusedMultiplyAdd(T0, z, T1);
        p = MathF.FusedMultiplyAdd(p, z, T2);
        p = MathF.FusedMultiplyAdd(p, z, T3);
        p = MathF.FusedMultiplyAdd(p, z, T4);
        return MathF.FusedMultiplyAdd(p * z, x, x);
    }

    /// <summary>tanh per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> sign = Vector256.Create(-0f);
        Vector256<float> ax = Avx.AndNot(sign, x);
        Vector256<float> large = Vector256<float>.One - Vector256.Create(2f) / (Exp(ax + ax) + Vector256<float>.One);
        large = Avx.Or(large, Avx.And(x, sign));
        Vector256<float> z = x * x;
        Vector256<float> p = Fma.MultiplyAdd(Vector256.Create(T0), z, Vector256.Create(T1));
        p = Fma.MultiplyAdd(p, z, Vector256.Create(T2));
        p = Fma.MultiplyAdd(p, z, Vector256.Create(T3));
        p = Fma.MultiplyAdd(p, z, Vector256.Create(T4));
        Vector256<float> small = Fma.MultiplyAdd(p * z, x, x);
        Vector256<float> useLarge = Avx.CompareGreaterThanOrEqual(ax, Vector256.Create(TanhSmall));
        return Avx.BlendVariable(small, large, useLarge);
    }

    /// <summary>tanh per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<uint> sign = Vector512.Create(0x8000_0000u);
        Vector512<float> ax = Avx512F.AndNot(sign, x.AsUInt32()).AsSingle();
        Vector512<float> large = Vector512<float>.One - Vector512.Create(2f) / (Exp(ax + ax) + Vector512<float>.One);
        large = Avx512F.Or(large.AsUInt32(), Avx512F.And(x.AsUInt32(), sign)).AsSingle();
        Vector512<float> z = x * x;
        Vector512<float> p = Avx512F.FusedMultiplyAdd(Vector512.Create(T0), z, Vector512.Create(T1));
        p = Avx512F.FusedMultiplyAdd(p, z, Vector512.Create(T2));
        p = Avx512F.FusedMultiplyAdd(p, z, Vector512.Create(T3));
        p = Avx512F.FusedMultiplyAdd(p, z, Vector512.Create(T4));
        Vector512<float> small = Avx512F.FusedMultiplyAdd(p * z, x, x);
        Vector512<float> useLarge = Avx512F.CompareGreaterThanOrEqual(ax, Vector512.Create(TanhSmall));
        return Vector512.ConditionalSelect(useLarge, large, small);
    }

    // =========================================================================================
    // log for positive normal x (the Box-Muller radius: x in [2^-24, 1]).

    /// <summary>ln(x) for positive normal x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogPositive(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        float e = (bits >> 23) - 126;
        float m = BitConverter.Int32BitsToSingle((bits & 0x007F_FFFF) | 0x3F00_0000); // [0.5, 1)
        float t;
        if (m < SqrtHalf)
        {
            e -= 1f;
            t = (m + m) - 1f;
        }
        else
        {
            t = m - 1f;
        }
        float z = t * t;
        float p = MathF.FusedMultiplyAdd(L0, t, L1);
        p = MathF.FusedMultiplyAdd(p, t, L2);
        p = MathF.FusedMultiplyAdd(p, t, L3);
        p = MathF.FusedMultiplyAdd(p, t, L4);
        p = MathF.FusedMultiplyAdd(p, t, L5);
        p = MathF.FusedMultiplyAdd(p, t, L6);
        p = MathF.FusedMultiplyAdd(p, t, L7);
        p = MathF.FusedMultiplyAdd(p, t, L8);
        float y = p * t * z;
        y = MathF.FusedMultiplyAdd(e, Ln2Lo, y);
        y = MathF.FusedMultiplyAdd(z, -0.5f, y);
        return MathF.FusedMultiplyAdd(e, Ln2Hi, t + y);
    }

    /// <summary>ln(x) per lane for positive normal x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogPositive(Vector256<float> x)
    {
        Vector256<int> bits = x.AsInt32();
        Vector256<float> e = Avx.ConvertToVector256Single(Avx2.ShiftRightArithmetic(bits, 23) - Vector256.Create(126));
        Vector256<float> m = Avx2.Or(Avx2.And(bits, Vector256.Create(0x007F_FFFF)), Vector256.Create(0x3F00_0000)).AsSingle();
        Vector256<float> small = Avx.CompareLessThan(m, Vector256.Create(SqrtHalf));
        e = Avx.BlendVariable(e, e - Vector256<float>.One, small);
        Vector256<float> t = Avx.BlendVariable(m, m + m, small) - Vector256<float>.One;
        Vector256<float> z = t * t;
        Vector256<float> p = Fma.MultiplyAdd(Vector256.Create(L0), t, Vector256.Create(L1));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L2));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L3));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L4));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L5));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L6));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L7));
        p = Fma.MultiplyAdd(p, t, Vector256.Create(L8));
        Vector256<float> y = p * t * z;
        y = Fma.MultiplyAdd(e, Vector256.Create(Ln2Lo), y);
        y = Fma.MultiplyAdd(z, Vector256.Create(-0.5f), y);
        return Fma.MultiplyAdd(e, Vector256.Create(Ln2Hi), t + y);
    }

    /// <summary>ln(x) per lane for positive normal x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogPositive(Vector512<float> x)
    {
        Vector512<int> bits = x.AsInt32();
        Vector512<float> e = Avx512F.ConvertToVector512Single(Avx512F.ShiftRightArithmetic(bits, 23) - Vector512.Create(126));
        Vector512<float> m = Avx512F.Or(Avx512F.And(bits, Vector512.Create(0x007F_FFFF)), Vector512.Create(0x3F00_0000)).AsSingle();
        Vector512<float> small = Avx512F.CompareLessThan(m, Vector512.Create(SqrtHalf));
        e = Vector512.ConditionalSelect(small, e - Vector512<float>.One, e);
        Vector512<float> t = Vector512.ConditionalSelect(small, m + m, m) - Vector512<float>.One;
        Vector512<float> z = t * t;
        Vector512<float> p = Avx512F.FusedMultiplyAdd(Vector512.Create(L0), t, Vector512.Create(L1));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L2));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L3));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L4));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L5));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L6));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L7));
        p = Avx512F.FusedMultiplyAdd(p, t, Vector512.Create(L8));
        Vector512<float> y = p * t * z;
        y = Avx512F.FusedMultiplyAdd(e, Vector512.Create(Ln2Lo), y);
        y = Avx512F.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        return Avx512F.FusedMultiplyAdd(e, Vector512.Create(Ln2Hi), t + y);
    }

    // =========================================================================================
    // sin and cos of 2*pi*u for u in [0, 1], reduced exactly in turns: q = round(4u), f = u - q/4
    // (exact, |f| <= 1/8), a = 2*pi*f, then rotated by q quarter turns.

    /// <summary>sin(2 pi u) and cos(2 pi u) for u in [0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTurns(float u, out float sin, out float cos)
    {
        float q = MathF.Round(u * 4f);
        float f = MathF.FusedMultiplyAdd(q, -0.25f, u);
        float a = f * TwoPi;
        float z = a * a;
        float ps = MathF.FusedMultiplyAdd(S0, z, S1);
        ps = MathF.FusedMultiplyAdd(ps, z, S2);
        float s = MathF.FusedMultiplyAdd(ps * z, a, a);
        float pc = MathF.FusedMultiplyAdd(C0, z, C1);
        pc = MathF.FusedMultiplyAdd(pc, z, C2);
        float c = MathF.FusedMultiplyAdd(pc * z, z, MathF.FusedMultiplyAdd(z, -0.5f, 1f));
        int quadrant = (int)q;
        if ((quadrant & 1) != 0)
            (s, c) = (c, s);
        sin = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(s) ^ ((quadrant & 2) << 30));
        cos = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(c) ^ (((quadrant + 1) & 2) << 30));
    }

    /// <summary>sin(2 pi u) and cos(2 pi u) per lane for u in [0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTurns(Vector256<float> u, out Vector256<float> sin, out Vector256<float> cos)
    {
        Vector256<float> q = Avx.RoundToNearestInteger(u * Vector256.Create(4f));
        Vector256<float> f = Fma.MultiplyAdd(q, Vector256.Create(-0.25f), u);
        Vector256<float> a = f * Vector256.Create(TwoPi);
        Vector256<float> z = a * a;
        Vector256<float> ps = Fma.MultiplyAdd(Vector256.Create(S0), z, Vector256.Create(S1));
        ps = Fma.MultiplyAdd(ps, z, Vector256.Create(S2));
        Vector256<float> s = Fma.MultiplyAdd(ps * z, a, a);
        Vector256<float> pc = Fma.MultiplyAdd(Vector256.Create(C0), z, Vector256.Create(C1));
        pc = Fma.MultiplyAdd(pc, z, Vector256.Create(C2));
        Vector256<float> c = Fma.MultiplyAdd(pc * z, z, Fma.MultiplyAdd(z, Vector256.Create(-0.5f), Vector256<float>.One));
        Vector256<int> quadrant = Avx.ConvertToVector256Int32WithTruncation(q);
        Vector256<float> swap = Avx2.ShiftLeftLogical(quadrant, 31).AsSingle(); // sign bit set when odd
        Vector256<float> sOut = Avx.BlendVariable(s, c, swap);
        Vector256<float> cOut = Avx.BlendVariable(c, s, swap);
        Vector256<int> two = Vector256.Create(2);
        sin = Avx.Xor(sOut, Avx2.ShiftLeftLogical(Avx2.And(quadrant, two), 30).AsSingle());
        cos = Avx.Xor(cOut, Avx2.ShiftLeftLogical(Avx2.And(quadrant + Vector256<int>.One, two), 30).AsSingle());
    }

    /// <summary>sin(2 pi u) and cos(2 pi u) per lane for u in [0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTurns(Vector512<float> u, out Vector512<float> sin, out Vector512<float> cos)
    {
        Vector512<float> q = Avx512F.RoundScale(u * Vector512.Create(4f), 0x08);
        Vector512<float> f = Avx512F.FusedMultiplyAdd(q, Vector512.Create(-0.25f), u);
        Vector512<float> a = f * Vector512.Create(TwoPi);
        Vector512<float> z = a * a;
        Vector512<float> ps = Avx512F.FusedMultiplyAdd(Vector512.Create(S0), z, Vector512.Create(S1));
        ps = Avx512F.FusedMultiplyAdd(ps, z, Vector512.Create(S2));
        Vector512<float> s = Avx512F.FusedMultiplyAdd(ps * z, a, a);
        Vector512<float> pc = Avx512F.FusedMultiplyAdd(Vector512.Create(C0), z, Vector512.Create(C1));
        pc = Avx512F.FusedMultiplyAdd(pc, z, Vector512.Create(C2));
        Vector512<float> c = Avx512F.FusedMultiplyAdd(pc * z, z, Avx512F.FusedMultiplyAdd(z, Vector512.Create(-0.5f), Vector512<float>.One));
        Vector512<int> quadrant = Avx512F.ConvertToVector512Int32WithTruncation(q);
        Vector512<float> swap = Avx512F.CompareNotEqual((quadrant & Vector512<int>.One), Vector512<int>.Zero).AsSingle();
        Vector512<float> sOut = Vector512.ConditionalSelect(swap, c, s);
        Vector512<float> cOut = Vector512.ConditionalSelect(swap, s, c);
        Vector512<int> two = Vector512.Create(2);
        sin = (sOut.AsInt32() ^ Avx512F.ShiftLeftLogical(quadrant & two, 30)).AsSingle();
        cos = (cOut.AsInt32() ^ Avx512F.ShiftLeftLogical((quadrant + Vector512<int>.One) & two, 30)).AsSingle();
    }
}
