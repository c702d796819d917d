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

/// <summary>Row- and column-wise kernels of training: softmax backward, max-norm, affine maps.</summary>
public static class TrainingKernels
{
    /// <summary><c>y = scale * x + shift</c>.</summary>
    public static void ScaleShift(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}.", nameof(y));
        TensorPrimitives.Multiply(x, scale, y);
        if (shift != 0f) TensorPrimitives.Add(y, shift, y);
    }

    /// <summary>Softmax Jacobian-vector product per row: <c>dx = y * (dy - sum(dy * y))</c>; dx may alias dy.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int columns, Span<float> dx)
    {
        long n = (long)rows * columns;
        if (y.Length != n) throw new ArgumentException($"y has {y.Length} elements but {rows} x {columns} needs {n}.", nameof(y));
        if (dy.Length != n) throw new ArgumentException($"dy has {dy.Length} elements but y has {n}.", nameof(dy));
        if (dx.Length != n) throw new ArgumentException($"dx has {dx.Length} elements but y has {n}.", nameof(dx));
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * columns, columns);
            var dyr = dy.Slice(r * columns, columns);
            var dxr = dx.Slice(r * columns, columns);
            float s = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, s, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }

    /// <summary>
    /// Scales down every column of the rows x columns <paramref name="matrix"/> whose L2 norm exceeds
    /// <paramref name="maxNorm"/>. <paramref name="scratch"/> needs <paramref name="columns"/> floats.
    /// </summary>
    public static void ClipColumnNorms(Span<float> matrix, int rows, int columns, float maxNorm, Span<float> scratch)
    {
        if (matrix.Length != (long)rows * columns)
            throw new ArgumentException($"matrix has {matrix.Length} elements but {rows} x {columns} needs {(long)rows * columns}.", nameof(matrix));
        if (scratch.Length < columns) throw new ArgumentException($"scratch has {scratch.Length} elements but needs {columns}.", nameof(scratch));
        var factors = scratch[..columns];
        factors.Clear();
        // Accumulate squared norms row by row so the pass reads the matrix contiguously.
        for (int r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * columns, columns);
            TensorPrimitives.MultiplyAdd(row, row, factors, factors);
        }
        bool any = false;
        for (int j = 0; j < columns; j++)
        {
            float norm = MathF.Sqrt(factors[j]);
            if (norm > maxNorm) { factors[j] = maxNorm / norm; any = true; }
            else factors[j] = 1f;
        }
        if (!any) return;
        for (int r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Multiply(row, factors, row);
        }
    }
}
