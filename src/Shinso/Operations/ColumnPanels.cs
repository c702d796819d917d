namespace Shinso.Operations;

/// <summary>
/// The layout of a matrix B [K, N] packed once for many products <c>A B</c> (<see cref="Backends.ILinearAlgebra.AffineColumnPanels"/>):
/// panels of <see cref="Width"/> columns, each stored K-major and contiguous, <c>panels[j, p, c] = B[p, j * Width + c]</c>,
/// the last panel zero-padded past N. A batch-1 product then streams every weight once, in order, instead of striding
/// through B's rows, which is what makes it bandwidth-bound rather than latency-bound; a product of many rows reads the
/// panels where a GEMM would pack B on every call.
/// </summary>
public static class ColumnPanels
{
    /// <summary>Columns per panel (four 512-bit vectors).</summary>
    public const int Width = 64;

    /// <summary>
    /// The most rows the CPU's AVX-512 streaming kernel takes (also its limit for a GEMM with B read in place), each group
    /// of four rows streaming all panels once; above it, and on AVX2, the blocked GEMM reads the panels once per block of
    /// many rows.
    /// </summary>
    public const int MaxRows = 16;

    /// <summary>The shape [ceil(N / Width), K, Width] of B [K, N] in panels.</summary>
    public static int[] Shape(int k, int n) => [(n + Width - 1) / Width, k, Width];
}

/// <summary>How a dense layer whose weights stay fixed keeps a copy of them for inference, chosen by its shape.</summary>
internal enum InferenceWeightLayout
{
    /// <summary>
    /// W in <see cref="Operations.ColumnPanels"/>: calls of at most <see cref="ColumnPanels.MaxRows"/> rows stream each
    /// weight once, in order; larger calls read the panels in a blocked GEMM that need not pack W.
    /// </summary>
    ColumnPanels,
    /// <summary>
    /// W^T [units, inputs], multiplied as <c>x (W^T)^T</c>: for a narrow layer over long inputs (a classifier's 10 outputs
    /// over 800 features) each output is a dot product vectorized along the inputs, where a product along the units would
    /// fill a 64-wide panel or a 32-wide tile with 10 useful columns.
    /// </summary>
    Transposed,
}

/// <summary>
/// The choice of <see cref="InferenceWeightLayout"/>, measured on the CPU backend's AVX-512 kernels (the only path whose
/// replicas pack: elsewhere the layouts are correct but not measured to be faster).
/// </summary>
internal static class InferenceWeightLayouts
{
    /// <summary>Most units of a layer kept <see cref="InferenceWeightLayout.Transposed"/>.</summary>
    public const int NarrowUnits = 16;

    /// <summary>Fewest inputs of a layer kept <see cref="InferenceWeightLayout.Transposed"/> (below it the dot products are too short to pay).</summary>
    public const int LongInputs = 512;

    /// <summary>The layout a layer of <paramref name="inputs"/> x <paramref name="units"/> keeps its fixed weights in.</summary>
    public static InferenceWeightLayout For(int inputs, int units) =>
        units <= NarrowUnits && inputs >= LongInputs ? InferenceWeightLayout.Transposed : InferenceWeightLayout.ColumnPanels;
}

