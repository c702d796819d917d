namespace Shinso.Operations;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose
{
    /// <summary>op(X) = X.</summary>
    None,
    /// <summary>op(X) = Xᵀ.</summary>
    Transposed,
}
