using System.Numerics.Tensors;

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
    /// <c>max(z,0) - z*t + log(1 + e^-|z|)</c>; <c>dZ = (sigmoid(Z) - T)/B</c>.
    /// </summary>
    public static float SigmoidCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, int rows, int columns,
        Span<float> probabilities, Span<float> gradient)
    {
        CheckMatrices(logits.Length, targets.Length, probabilities.Length, gradient.Length, rows, columns);
        double loss = 0;
        float invRows = 1f / rows;
        for (int i = 0; i < logits.Length; i++)
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
