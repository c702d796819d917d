namespace Shinso.Operations;

/// <summary>
/// Local response normalization across channels, exactly as ONNX <c>LRN</c>:
/// <c>b[c] = a[c] / (Bias + Alpha/Size * sum_{c' in window(c)} a[c']^2)^Beta</c>, where the window is channels
/// <c>c - floor((Size-1)/2) .. c + ceil((Size-1)/2)</c> clipped to the existing channels.
/// </summary>
/// <param name="Size">Channels in the window (&gt;= 1).</param>
/// <param name="Alpha">Scale of the sum of squares (divided by <paramref name="Size"/>).</param>
/// <param name="Beta">Exponent.</param>
/// <param name="Bias">Additive constant k.</param>
public readonly record struct LrnParameters(int Size, float Alpha = 1e-4f, float Beta = 0.75f, float Bias = 1f)
{
    /// <summary>Channels before the centre that the window covers: <c>floor((Size-1)/2)</c>.</summary>
    public int Before => (Size - 1) / 2;

    /// <summary>Channels after the centre that the window covers: <c>ceil((Size-1)/2)</c>.</summary>
    public int After => Size / 2;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (Size < 1) throw new ArgumentException($"LRN size must be positive, got {Size}.", nameof(Size));
        if (!(Bias > 0f)) throw new ArgumentException($"LRN bias must be positive, got {Bias}.", nameof(Bias));
        if (!(Alpha >= 0f)) throw new ArgumentException($"LRN alpha must be >= 0, got {Alpha}.", nameof(Alpha));
        if (!float.IsFinite(Beta)) throw new ArgumentException($"LRN beta must be finite, got {Beta}.", nameof(Beta));
    }
}
