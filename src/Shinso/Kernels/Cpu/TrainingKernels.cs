using System.Numerics.Tensors;

namespace Shinso.Kernels.Cpu;

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
