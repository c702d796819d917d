using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;
using Shinso.Numerics;

namespace Shinso.Kernels.Cpu;

/// <summary>Elementwise activation functions and their derivatives (see <c>IBackend.Activate</c>).</summary>
/// <remarks>
/// Sigmoid and tanh use the kernels' own exp (Cephes, about 1-2 ulp), identical on every path; sigmoid is
/// an exact 0 or 1 where e^-x overflows or underflows, so it is finite for every non-NaN input.
/// ReLU returns x where x is not below 0 (so NaN passes through and -0 stays -0).
/// </remarks>
public static class Activations
{
    /// <summary><c>y = f(x)</c> elementwise; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    /// <exception cref="ArgumentException">The lengths differ or the spans overlap other than exactly.</exception>
    public static void Activate(Activation function, ReadOnlySpan<float> x, Span<float> y, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(x.Length, nameof(x), y.Length, nameof(y));
        KernelChecks.NoPartialOverlap(x, nameof(x), y, nameof(y));
        switch (function)
        {
            case Activation.Identity:
                x.CopyTo(y);
                break;
            case Activation.Sigmoid:
                ElementwiseRunner.Unary(default(SigmoidOperator), x, y, options, KernelParallel.ElementwiseGrain / 8);
                break;
            case Activation.Tanh:
                ElementwiseRunner.Unary(default(TanhOperator), x, y, options, KernelParallel.ElementwiseGrain / 8);
                break;
            case Activation.Relu:
                ElementwiseRunner.Unary(default(ReluOperator), x, y, options);
                break;
            case Activation.AbsoluteValue:
                ElementwiseRunner.Unary(default(AbsOperator), x, y, options);
                break;
            case Activation.Step:
                ElementwiseRunner.Unary(default(StepOperator), x, y, options);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation.");
        }
    }

    /// <summary>
    /// <c>dx = dy * f'(x)</c> elementwise. Sigmoid (<c>y(1-y)</c>) and tanh (<c>1-y^2</c>) read the derivative from
    /// the output <paramref name="y"/>; ReLU (<c>x &gt; 0</c>) and absolute value (<c>sign x</c>) read it from the input
    /// <paramref name="x"/>, with derivative 0 at 0; the step's derivative is 0. <paramref name="dx"/> may be <paramref name="dy"/> itself.
    /// All four spans must have the same length, also those the function does not read.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or dx overlaps an input other than exactly.</exception>
    public static void ActivationBackward(Activation function, ReadOnlySpan<float> x, ReadOnlySpan<float> y,
        ReadOnlySpan<float> dy, Span<float> dx, CpuKernelOptions options = default)
    {
        KernelChecks.SameLength(dy.Length, nameof(dy), x.Length, nameof(x));
        KernelChecks.SameLength(dy.Length, nameof(dy), y.Length, nameof(y));
        KernelChecks.SameLength(dy.Length, nameof(dy), dx.Length, nameof(dx));
        KernelChecks.NoPartialOverlap(dy, nameof(dy), dx, nameof(dx));
        switch (function)
        {
            case Activation.Identity:
                dy.CopyTo(dx);
                break;
            case Activation.Sigmoid:
                KernelChecks.NoPartialOverlap(y, nameof(y), dx, nameof(dx));
                ElementwiseRunner.Binary(default(SigmoidDerivativeOperator), y, dy, dx, options);
                break;
            case Activation.Tanh:
                KernelChecks.NoPartialOverlap(y, nameof(y), dx, nameof(dx));
                ElementwiseRunner.Binary(default(TanhDerivativeOperator), y, dy, dx, options);
                break;
            case Activation.Relu:
                KernelChecks.NoPartialOverlap(x, nameof(x), dx, nameof(dx));
                ElementwiseRunner.Binary(default(ReluDerivativeOperator), x, dy, dx, options);
                break;
            case Activation.AbsoluteValue:
                KernelChecks.NoPartialOverlap(x, nameof(x), dx, nameof(dx));
                ElementwiseRunner.Binary(default(AbsDerivativeOperator), x, dy, dx, options);
                break;
            case Activation.Step:
                dx.Clear();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation.");
        }
    }
}

internal readonly struct SigmoidOperator : IUnaryOperator
{
    public float Invoke(float x) => SimdMath.Sigmoid(x);
    public Vector256<float> Invoke(Vector256<float> x) => SimdMath.Sigmoid(x);
    public Vector512<float> Invoke(Vector512<float> x) => SimdMath.Sigmoid(x);
}

internal readonly struct TanhOperator : IUnaryOperator
{
    public float Invoke(float x) => SimdMath.Tanh(x);
    public Vector256<float> Invoke(Vector256<float> x) => SimdMath.Tanh(x);
    public Vector512<float> Invoke(Vector512<float> x) => SimdMath.Tanh(x);
}

/// <summary>maxps(0, x): x unless 0 &gt; x, so NaN and -0 pass through.</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    public float Invoke(float x) => 0f > x ? 0f : x;
    public Vector256<float> Invoke(Vector256<float> x) => Avx.Max(Vector256<float>.Zero, x);
    public Vector512<float> Invoke(Vector512<float> x) => Avx512F.Max(Vector512<float>.Zero, x);
}

/// <summary>x &gt;= 0 ? 1 : 0; the ordered compare makes NaN 0 and -0 1.</summary>
internal readonly struct StepOperator : IUnaryOperator
{
    public float Invoke(float x) => x >= 0f ? 1f : 0f;
    public Vector256<float> Invoke(Vector256<float> x) => Avx.And(Avx.CompareGreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One);
    public Vector512<float> Invoke(Vector512<float> x) =>
        Avx512F.And(Avx512F.CompareGreaterThanOrEqual(x, Vector512<float>.Zero).AsUInt32(), Vector512<float>.One.AsUInt32()).AsSingle();
}

internal readonly struct AbsOperator : IUnaryOperator
{
    public float Invoke(float x) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) & int.MaxValue);
    public Vector256<float> Invoke(Vector256<float> x) => Avx.AndNot(Vector256.Create(-0f), x);
    public Vector512<float> Invoke(Vector512<float> x) => Avx512F.And(x.AsUInt32(), Vector512.Create(0x7FFF_FFFFu)).AsSingle();
}

/// <summary>(y, dy) -> dy * y * (1 - y).</summary>
internal readonly struct SigmoidDerivativeOperator : IBinaryOperator
{
    public float Invoke(float y, float dy) => dy * y * (1f - y);
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
}

/// <summary>(y, dy) -> dy * (1 - y^2), with 1 - y^2 fused.</summary>
internal readonly struct TanhDerivativeOperator : IBinaryOperator
{
    public float Invoke(float y, float dy) => dy * MathF.FusedMultiplyAdd(-y, y, 1f);
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * Fma.MultiplyAddNegated(y, y, Vector256<float>.One);
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * Avx512F.FusedMultiplyAddNegated(y, y, Vector512<float>.One);
}

/// <summary>(x, dy) -> x &gt; 0 ? dy : 0.</summary>
internal readonly struct ReluDerivativeOperator : IBinaryOperator
{
    public float Invoke(float x, float dy) => x > 0f ? dy : 0f;
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Avx.And(Avx.CompareGreaterThan(x, Vector256<float>.Zero), dy);
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Avx512F.And(Avx512F.CompareGreaterThan(x, Vector512<float>.Zero).AsUInt32(), dy.AsUInt32()).AsSingle();
}

/// <summary>(x, dy) -> x &gt; 0 ? dy : x &lt; 0 ? -dy : 0 (NaN x gives 0).</summary>
internal readonly struct AbsDerivativeOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0f ? dy : x < 0f ? -dy : 0f;

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
    {
        Vector256<float> sign = Avx.And(x, Vector256.Create(-0f));
        Vector256<float> nonZero = Avx.Or(Avx.CompareGreaterThan(x, Vector256<float>.Zero), Avx.CompareLessThan(x, Vector256<float>.Zero));
        return Avx.And(Avx.Xor(dy, sign), nonZero);
    }

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
    {
        Vector512<uint> sign = Avx512F.And(x.AsUInt32(), Vector512.Create(0x8000_0000u));
        Vector512<uint> nonZero = Avx512F.Or(Avx512F.CompareGreaterThan(x, Vector512<float>.Zero).AsUInt32(),
            Avx512F.CompareLessThan(x, Vector512<float>.Zero).AsUInt32());
        return Avx512F.And(Avx512F.Xor(dy.AsUInt32(), sign), nonZero).AsSingle();
    }
}
