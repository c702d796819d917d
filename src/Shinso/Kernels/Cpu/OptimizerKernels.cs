using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Fused optimizer updates (one pass over parameters, gradient and state), with the formulas of the
/// corresponding <c>IBackend</c> methods. Every path performs the same float operations
/// with the same fused multiply-adds, so the results are bit-identical across paths and thread counts.
/// </summary>
/// <remarks>
/// Decays are applied as <c>fma(rho, s, (1-rho) * g^2)</c>; the Adam bias corrections <c>1/(1-b^t)</c> are
/// computed once in double and applied as float multipliers. Parameters, gradient and every state span
/// must have the same length and must not overlap one another.
/// </remarks>
public static unsafe class OptimizerKernels
{
    /// <summary>Classical momentum: <c>v = mu*v - eta*g; theta += v</c>.</summary>
    public static void Momentum(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> velocity,
        float learningRate, float momentum, CpuKernelOptions options = default)
    {
        Check(parameters, gradient, velocity, nameof(velocity));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* v = velocity)
            Run(new MomentumStep(p, g, v, -learningRate, momentum), parameters.Length, options);
    }

    /// <summary>Nesterov momentum, look-ahead form: <c>v = mu*v - eta*g; theta += mu*v - eta*g</c> (with the new v).</summary>
    public static void Nesterov(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> velocity,
        float learningRate, float momentum, CpuKernelOptions options = default)
    {
        Check(parameters, gradient, velocity, nameof(velocity));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* v = velocity)
            Run(new NesterovStep(p, g, v, -learningRate, momentum), parameters.Length, options);
    }

    /// <summary>AdaGrad: <c>h += g^2; theta -= eta*g/(sqrt(h)+eps)</c>.</summary>
    public static void AdaGrad(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> sumOfSquares,
        float learningRate, float epsilon, CpuKernelOptions options = default)
    {
        Check(parameters, gradient, sumOfSquares, nameof(sumOfSquares));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* h = sumOfSquares)
            Run(new AdaGradStep(p, g, h, learningRate, epsilon), parameters.Length, options);
    }

    /// <summary>RMSprop: <c>ms = rho*ms + (1-rho)*g^2; theta -= eta*g/(sqrt(ms)+eps)</c>.</summary>
    public static void RmsProp(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> meanSquare,
        float learningRate, float decay, float epsilon, CpuKernelOptions options = default)
    {
        Check(parameters, gradient, meanSquare, nameof(meanSquare));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* ms = meanSquare)
            Run(new RmsPropStep(p, g, ms, learningRate, decay, epsilon), parameters.Length, options);
    }

    /// <summary>
    /// AdaDelta: <c>Eg = rho*Eg + (1-rho)*g^2; d = -sqrt(Ed+eps)/sqrt(Eg+eps)*g; Ed = rho*Ed + (1-rho)*d^2; theta += d</c>.
    /// </summary>
    public static void AdaDelta(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> meanSquareGradient,
        Span<float> meanSquareDelta, float decay, float epsilon, CpuKernelOptions options = default)
    {
        Check(parameters, gradient, meanSquareGradient, nameof(meanSquareGradient));
        Check(parameters, gradient, meanSquareDelta, nameof(meanSquareDelta));
        if (meanSquareGradient.Overlaps(meanSquareDelta))
            throw new ArgumentException("meanSquareDelta must not overlap meanSquareGradient.", nameof(meanSquareDelta));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* eg = meanSquareGradient)
        fixed (float* ed = meanSquareDelta)
            Run(new AdaDeltaStep(p, g, eg, ed, decay, epsilon), parameters.Length, options);
    }

    /// <summary>
    /// Adam at 1-based <paramref name="step"/>: <c>m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
    /// theta -= eta*(m/(1-b1^t))/(sqrt(v/(1-b2^t))+eps)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is below 1.</exception>
    public static void Adam(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, int step, CpuKernelOptions options = default)
    {
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, "The Adam step is 1-based.");
        Check(parameters, gradient, firstMoment, nameof(firstMoment));
        Check(parameters, gradient, secondMoment, nameof(secondMoment));
        if (firstMoment.Overlaps(secondMoment))
            throw new ArgumentException("secondMoment must not overlap firstMoment.", nameof(secondMoment));
        float correction1 = (float)(1.0 / (1.0 - Math.Pow(beta1, step)));
        float correction2 = (float)(1.0 / (1.0 - Math.Pow(beta2, step)));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* m = firstMoment)
        fixed (float* v = secondMoment)
            Run(new AdamStep(p, g, m, v, learningRate, beta1, beta2, epsilon, correction1, correction2), parameters.Length, options);
    }

    // ---------------------------------------------------------------------------------------------

    private static void Check(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> state, string stateName)
    {
        KernelChecks.SameLength(parameters.Length, nameof(parameters), gradient.Length, nameof(gradient));
        KernelChecks.SameLength(parameters.Length, nameof(parameters), state.Length, stateName);
        if (parameters.Overlaps(gradient))
            throw new ArgumentException("gradient must not overlap parameters.", nameof(gradient));
        if (parameters.Overlaps(state))
            throw new ArgumentException($"{stateName} must not overlap parameters.", stateName);
        if (state.Overlaps(gradient))
            throw new ArgumentException($"{stateName} must not overlap gradient.", stateName);
    }

    /// <summary>One element (scalar) or one vector of elements of an update, at index i.</summary>
    private interface IUpdateStep
    {
        void Step(nint i);
        void Step256(nint i);
        void Step512(nint i);
    }

    private static void Run<T>(T step, int length, in CpuKernelOptions options) where T : struct, IUpdateStep =>
        KernelParallel.For(new UpdateRange<T>(step, options.ResolvedPath), length, options.ResolvedThreads, KernelParallel.ElementwiseGrain / 2);

    private readonly struct UpdateRange<T>(T step, SimdPath path) : IRangeKernel where T : struct, IUpdateStep
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(nint start, nint length)
        {
            nint i = start, end = start + length;
            if (path == SimdPath.Avx512)
            {
                for (; i <= end - 32; i += 32)
                {
                    step.Step512(i);
                    step.Step512(i + 16);
                }
                for (; i <= end - 16; i += 16)
                    step.Step512(i);
            }
            if (path is SimdPath.Avx512 or SimdPath.Avx2)
            {
                for (; i <= end - 8; i += 8)
                    step.Step256(i);
            }
            for (; i < end; i++)
                step.Step(i);
        }
    }

    private readonly struct MomentumStep(float* p, float* g, float* v, float negEta, float mu) : IUpdateStep
    {
        public void Step(nint i)
        {
            float nv = MathF.FusedMultiplyAdd(mu, v[i], negEta * g[i]);
            v[i] = nv;
            p[i] += nv;
        }

        public void Step256(nint i)
        {
            Vector256<float> nv = Fma.MultiplyAdd(Vector256.Create(mu), Vector256.Load(v + i), Avx.Multiply(Vector256.Create(negEta), Vector256.Load(g + i)));
            nv.Store(v + i);
            Avx.Add(Vector256.Load(p + i), nv).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> nv = Avx512F.FusedMultiplyAdd(Vector512.Create(mu), Vector512.Load(v + i), Avx512F.Multiply(Vector512.Create(negEta), Vector512.Load(g + i)));
            nv.Store(v + i);
            Avx512F.Add(Vector512.Load(p + i), nv).Store(p + i);
        }
    }

    private readonly struct NesterovStep(float* p, float* g, float* v, float negEta, float mu) : IUpdateStep
    {
        public void Step(nint i)
        {
            float eg = negEta * g[i];
            float nv = MathF.FusedMultiplyAdd(mu, v[i], eg);
            v[i] = nv;
            p[i] += MathF.FusedMultiplyAdd(mu, nv, eg);
        }

        public void Step256(nint i)
        {
            Vector256<float> m = Vector256.Create(mu);
            Vector256<float> eg = Avx.Multiply(Vector256.Create(negEta), Vector256.Load(g + i));
            Vector256<float> nv = Fma.MultiplyAdd(m, Vector256.Load(v + i), eg);
            nv.Store(v + i);
            Avx.Add(Vector256.Load(p + i), Fma.MultiplyAdd(m, nv, eg)).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> m = Vector512.Create(mu);
            Vector512<float> eg = Avx512F.Multiply(Vector512.Create(negEta), Vector512.Load(g + i));
            Vector512<float> nv = Avx512F.FusedMultiplyAdd(m, Vector512.Load(v + i), eg);
            nv.Store(v + i);
            Avx512F.Add(Vector512.Load(p + i), Avx512F.FusedMultiplyAdd(m, nv, eg)).Store(p + i);
        }
    }

    private readonly struct AdaGradStep(float* p, float* g, float* h, float eta, float eps) : IUpdateStep
    {
        public void Step(nint i)
        {
            float gi = g[i];
            float nh = MathF.FusedMultiplyAdd(gi, gi, h[i]);
            h[i] = nh;
            p[i] -= eta * gi / (MathF.Sqrt(nh) + eps);
        }

        public void Step256(nint i)
        {
            Vector256<float> gi = Vector256.Load(g + i);
            Vector256<float> nh = Fma.MultiplyAdd(gi, gi, Vector256.Load(h + i));
            nh.Store(h + i);
            Vector256<float> delta = Avx.Divide(Avx.Multiply(Vector256.Create(eta), gi), Avx.Add(Avx.Sqrt(nh), Vector256.Create(eps)));
            Avx.Subtract(Vector256.Load(p + i), delta).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> gi = Vector512.Load(g + i);
            Vector512<float> nh = Avx512F.FusedMultiplyAdd(gi, gi, Vector512.Load(h + i));
            nh.Store(h + i);
            Vector512<float> delta = Avx512F.Divide(Avx512F.Multiply(Vector512.Create(eta), gi), Avx512F.Add(Avx512F.Sqrt(nh), Vector512.Create(eps)));
            Avx512F.Subtract(Vector512.Load(p + i), delta).Store(p + i);
        }
    }

    private readonly struct RmsPropStep(float* p, float* g, float* ms, float eta, float rho, float eps) : IUpdateStep
    {
        private readonly float _oneMinusRho = 1f - rho;

        public void Step(nint i)
        {
            float gi = g[i];
            float nms = MathF.FusedMultiplyAdd(rho, ms[i], _oneMinusRho * (gi * gi));
            ms[i] = nms;
            p[i] -= eta * gi / (MathF.Sqrt(nms) + eps);
        }

        public void Step256(nint i)
        {
            Vector256<float> gi = Vector256.Load(g + i);
            Vector256<float> nms = Fma.MultiplyAdd(Vector256.Create(rho), Vector256.Load(ms + i),
                Avx.Multiply(Vector256.Create(_oneMinusRho), Avx.Multiply(gi, gi)));
            nms.Store(ms + i);
            Vector256<float> delta = Avx.Divide(Avx.Multiply(Vector256.Create(eta), gi), Avx.Add(Avx.Sqrt(nms), Vector256.Create(eps)));
            Avx.Subtract(Vector256.Load(p + i), delta).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> gi = Vector512.Load(g + i);
            Vector512<float> nms = Avx512F.FusedMultiplyAdd(Vector512.Create(rho), Vector512.Load(ms + i),
                Avx512F.Multiply(Vector512.Create(_oneMinusRho), Avx512F.Multiply(gi, gi)));
            nms.Store(ms + i);
            Vector512<float> delta = Avx512F.Divide(Avx512F.Multiply(Vector512.Create(eta), gi), Avx512F.Add(Avx512F.Sqrt(nms), Vector512.Create(eps)));
            Avx512F.Subtract(Vector512.Load(p + i), delta).Store(p + i);
        }
    }

    private readonly struct AdaDeltaStep(float* p, float* g, float* eg, float* ed, float rho, float eps) : IUpdateStep
    {
        private readonly float _oneMinusRho = 1f - rho;

        public void Step(nint i)
        {
            float gi = g[i];
            float neg = MathF.FusedMultiplyAdd(rho, eg[i], _oneMinusRho * (gi * gi));
            eg[i] = neg;
            float d = -(MathF.Sqrt(ed[i] + eps) / MathF.Sqrt(neg + eps)) * gi;
            ed[i] = MathF.FusedMultiplyAdd(rho, ed[i], _oneMinusRho * (d * d));
            p[i] += d;
        }

        public void Step256(nint i)
        {
            Vector256<float> r = Vector256.Create(rho), omr = Vector256.Create(_oneMinusRho), e = Vector256.Create(eps);
            Vector256<float> gi = Vector256.Load(g + i);
            Vector256<float> neg = Fma.MultiplyAdd(r, Vector256.Load(eg + i), Avx.Multiply(omr, Avx.Multiply(gi, gi)));
            neg.Store(eg + i);
            Vector256<float> edi = Vector256.Load(ed + i);
            Vector256<float> ratio = Avx.Divide(Avx.Sqrt(Avx.Add(edi, e)), Avx.Sqrt(Avx.Add(neg, e)));
            Vector256<float> d = Avx.Multiply(Avx.Xor(ratio, Vector256.Create(-0f)), gi);
            Fma.MultiplyAdd(r, edi, Avx.Multiply(omr, Avx.Multiply(d, d))).Store(ed + i);
            Avx.Add(Vector256.Load(p + i), d).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> r = Vector512.Create(rho), omr = Vector512.Create(_oneMinusRho), e = Vector512.Create(eps);
            Vector512<float> gi = Vector512.Load(g + i);
            Vector512<float> neg = Avx512F.FusedMultiplyAdd(r, Vector512.Load(eg + i), Avx512F.Multiply(omr, Avx512F.Multiply(gi, gi)));
            neg.Store(eg + i);
            Vector512<float> edi = Vector512.Load(ed + i);
            Vector512<float> ratio = Avx512F.Divide(Avx512F.Sqrt(Avx512F.Add(edi, e)), Avx512F.Sqrt(Avx512F.Add(neg, e)));
            Vector512<float> d = Avx512F.Multiply(Avx512F.Xor(ratio.AsUInt32(), Vector512.Create(0x8000_0000u)).AsSingle(), gi);
            Avx512F.FusedMultiplyAdd(r, edi, Avx512F.Multiply(omr, Avx512F.Multiply(d, d))).Store(ed + i);
            Avx512F.Add(Vector512.Load(p + i), d).Store(p + i);
        }
    }

    private readonly struct AdamStep(float* p, float* g, float* m, float* v, float eta, float beta1, float beta2, float eps,
        float correction1, float correction2) : IUpdateStep
    {
        private readonly float _oneMinusBeta1 = 1f - beta1;
        private readonly float _oneMinusBeta2 = 1f - beta2;

        public void Step(nint i)
        {
            float gi = g[i];
            float nm = MathF.FusedMultiplyAdd(beta1, m[i], _oneMinusBeta1 * gi);
            float nv = MathF.FusedMultiplyAdd(beta2, v[i], _oneMinusBeta2 * (gi * gi));
            m[i] = nm;
            v[i] = nv;
            p[i] -= eta * (nm * correction1) / (MathF.Sqrt(nv * correction2) + eps);
        }

        public void Step256(nint i)
        {
            Vector256<float> gi = Vector256.Load(g + i);
            Vector256<float> nm = Fma.MultiplyAdd(Vector256.Create(beta1), Vector256.Load(m + i), Avx.Multiply(Vector256.Create(_oneMinusBeta1), gi));
            Vector256<float> nv = Fma.MultiplyAdd(Vector256.Create(beta2), Vector256.Load(v + i),
                Avx.Multiply(Vector256.Create(_oneMinusBeta2), Avx.Multiply(gi, gi)));
            nm.Store(m + i);
            nv.Store(v + i);
            Vector256<float> num = Avx.Multiply(Vector256.Create(eta), Avx.Multiply(nm, Vector256.Create(correction1)));
            Vector256<float> den = Avx.Add(Avx.Sqrt(Avx.Multiply(nv, Vector256.Create(correction2))), Vector256.Create(eps));
            Avx.Subtract(Vector256.Load(p + i), Avx.Divide(num, den)).Store(p + i);
        }

        public void Step512(nint i)
        {
            Vector512<float> gi = Vector512.Load(g + i);
            Vector512<float> nm = Avx512F.FusedMultiplyAdd(Vector512.Create(beta1), Vector512.Load(m + i), Avx512F.Multiply(Vector512.Create(_oneMinusBeta1), gi));
            Vector512<float> nv = Avx512F.FusedMultiplyAdd(Vector512.Create(beta2), Vector512.Load(v + i),
                Avx512F.Multiply(Vector512.Create(_oneMinusBeta2), Avx512F.Multiply(gi, gi)));
            nm.Store(m + i);
            nv.Store(v + i);
            Vector512<float> num = Avx512F.Multiply(Vector512.Create(eta), Avx512F.Multiply(nm, Vector512.Create(correction1)));
            Vector512<float> den = Avx512F.Add(Avx512F.Sqrt(Avx512F.Multiply(nv, Vector512.Create(correction2))), Vector512.Create(eps));
            Avx512F.Subtract(Vector512.Load(p + i), Avx512F.Divide(num, den)).Store(p + i);
        }
    }
}
