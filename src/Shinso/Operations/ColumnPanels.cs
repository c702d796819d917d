namespace Shinso.Operations;

/// <summary>
/// The layout of a matrix B [K, N] prepared for products with few rows (<see cref="Backends.ILinearAlgebra.AffineColumnPanels"/>):
/// panels of <see cref="Width"/> columns, each stored K-major and contiguous, <c>panels[j, p, c] = B[p, j * Width + c]</c>,
/// the last panel zero-padded past N. A batch-1 product then streams every weight once, in order, instead of striding
/// through B's rows, which is what makes it bandwidth-bound rather than latency-bound.
/// </summary>
public static class ColumnPanels
{
    /// <summary>Columns per panel (four 512-bit vectors).</summary>
    public const int Width = 64;

    /// <summary>
    /// The most rows for which the panel product is the faster one: each group of four rows streams all panels once, so
    /// above this a packed GEMM, which reads B once per block of many rows, wins.
    /// </summary>
    public const int MaxRows = 16;

    /// <summary>The shape [ceil(N / Width), K, Width] of B [K, N] in panels.</summary>
    public static int[] Shape(int k, int n) => [(n + Width - 1) / Width, k, Width];
}
