using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Shinso.Numerics;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// Losses fused with their output nonlinearity, row-major over a batch of B rows. Each returns the
/// mean loss over rows and writes the gradient with respect to the scores, already divided by B.
/// </summary>
public static class LossKernels
{
    /// <summary>
    /// Softmax + cross-entropy: <c>P = softmax(Z)</c>, loss <c>-(1/B) sum T*(Z - lse(Z))</c>, <c>dZ = (P - T)/B</c>.
    /// The log-probabilities come from the log-sum-exp, so a probability that underflows to 0 gives a
    /// finite loss, and zero targets contribute nothing.
    /// </summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, int columns,
        Span<float> probabilities, Span<float> gradient)
    {
        CheckMatrices(logits.Length, targets.Length, probabilities.Length, gradient.Length, rows, columns);
        double loss = 0;
        float invRows = 1f / rows;
        for (int r = 0; r < rows; r++)
        {
            var z = logits.Slice(r * columns, columns);
            var t = targets.Slice(r * columns, columns);
            var p = probabilities.Slice(r * columns, columns);
            var g = gradient.Slice(r * columns, columns);
            float max = TensorPrimitives.Max(z);
            double sum = 0;
            for (int j = 0; j < columns; j++) sum += Math.Exp(z[j] - max);
            double lse = max + Math.Log(sum);
            for (int j = 0; j < columns; j++)
            {
                double logP = z[j] - lse;
                if (t[j] != 0f) loss -= t[j] * logP;
                float pj = (float)Math.Exp(logP);
                p[j] = pj;
                g[j] = (pj - t[j]) * invRows;
            }
        }
        return (float)(loss / rows);
    }

    /// <summary>
    /// Sigmoid + binary cross-entropy from logits, in the overflow-free form
    /// <c>max(z,0) - z*t + log(1 + e^-|z|)</c>; <c>dZ = (sigmoid(Z) - T)/B</c>. The AVX-512 and AVX2 paths share one
    /// <c>e^-|z|</c> between the loss and the probability (<c>p = 1/(1+e)</c> for z >= 0, <c>e/(1+e)</c> below) and sum each
    /// 256-element block in float before adding it to the double total.
    /// </summary>
    public static float SigmoidCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, int columns,
        Span<float> probabilities, Span<float> gradient, CpuKernelOptions options = default)
    {
        CheckMatrices(logits.Length, targets.Length, probabilities.Length, gradient.Length, rows, columns);
        double loss = 0;
        float invRows = 1f / rows;
        int i = 0, n = logits.Length;
        var path = options.ResolvedPath;
        if (path == SimdPath.Avx512)
        {
            var scale = Vector512.Create(invRows);
            while (i <= n - 16)
            {
                var block = Vector512<float>.Zero;
                for (int end = Math.Min(n - 15, i + 256); i < end; i += 16)
                {
                    var z = Vector512.Create(logits.Slice(i, 16));
                    var t = Vector512.Create(targets.Slice(i, 16));
                    var e = SimdMath.Exp(-Vector512.Abs(z));
                    var onePlus = Vector512<float>.One + e;
                    block += Vector512.FusedMultiplyAdd(-z, t, Vector512.Max(z, Vector512<float>.Zero)) + SimdMath.LogPositive(onePlus);
                    var p = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512<float>.One, e) / onePlus;
                    p.CopyTo(probabilities.Slice(i, 16));
                    ((p - t) * scale).CopyTo(gradient.Slice(i, 16));
                }
                loss += Vector512.Sum(block);
            }
        }
        else if (path == SimdPath.Avx2)
        {
            var scale = Vector256.Create(invRows);
            while (i <= n - 8)
            {
                var block = Vector256<float>.Zero;
                for (int end = Math.Min(n - 7, i + 256); i < end; i += 8)
                {
                    var z = Vector256.Create(logits.Slice(i, 8));
                    var t = Vector256.Create(targets.Slice(i, 8));
                    var e = SimdMath.Exp(-Vector256.Abs(z));
                    var onePlus = Vector256<float>.One + e;
                    block += Vector256.FusedMultiplyAdd(-z, t, Vector256.Max(z, Vector256<float>.Zero)) + SimdMath.LogPositive(onePlus);
                    var p = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256<float>.One, e) / onePlus;
                    p.CopyTo(probabilities.Slice(i, 8));
                    ((p - t) * scale).CopyTo(gradient.Slice(i, 8));
                }
                loss += Vector256.Sum(block);
            }
        }
        for (; i < n; i++)
        {
            float z = logits[i], t = targets[i];
            loss += Math.Max(z, 0f) - (double)z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            float p = z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z));
            probabilities[i] = p;
            gradient[i] = (p - t) * invRows;
        }
        return (float)(loss / rows);
    }

    /// <summary>Half squared error: loss <c>(1/(2B)) sum (Y - T)^2</c>, <c>dY = (Y - T)/B</c>.</summary>
    public static float SquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, int rows, int columns, Span<float> gradient)
    {
        CheckMatrices(outputs.Length, targets.Length, outputs.Length, gradient.Length, rows, columns);
        TensorPrimitives.Subtract(outputs, targets, gradient);
        double loss = 0;
        foreach (float d in gradient) loss += (double)d * d;
        TensorPrimitives.Multiply(gradient, 1f / rows, gradient);
        return (float)(loss / (2.0 * rows));
    }

    private static void CheckMatrices(int scores, int targets, int predictions, int gradient, int rows, int columns)
    {
        if (rows < 1 || columns < 1)
            throw new ArgumentException($"A loss needs at least one row and one column, got {rows} x {columns}.", nameof(rows));
        long n = (long)rows * columns;
        if (scores != n) throw new ArgumentException($"scores has {scores} elements but {rows} x {columns} needs {n}.", nameof(scores));
        if (targets != n) throw new ArgumentException($"targets has {targets} elements but scores have {n}.", nameof(targets));
        if (predictions != n) throw new ArgumentException($"predictions has {predictions} elements but scores have {n}.", nameof(predictions));
        if (gradient != n) throw new ArgumentException($"gradient has {gradient} elements but scores have {n}.", nameof(gradient));
    }
}
