namespace Shinso.Operations;

/// <summary>
/// Local contrast normalization (Jarrett, Kavukcuoglu, Ranzato &amp; LeCun 2009) over NCHW images with a
/// <paramref name="Size"/> x <paramref name="Size"/> Gaussian window of deviation <paramref name="Sigma"/> that spans all channels:
/// <c>m = L(x)</c>, <c>v = x - m</c>, <c>s = sqrt(L(v^2))</c>, <c>y = v / max(mean(s), s, eps)</c> with <c>eps</c> =
/// <see cref="DivisorFloor"/> (so that a constant image, whose v and s are 0, gives 0 rather than 0/0), where
/// <c>L(z)[h,w] = sum_c sum_{p,q} g[p,q] z[c,h+p,w+q] / (C * sum_{p,q inside} g[p,q])</c> is the Gaussian-weighted mean
/// over the channels and the part of the window inside the image, and <c>mean(s)</c> is over one image's positions.
/// </summary>
/// <param name="Channels">Channels C.</param>
/// <param name="Height">Height H.</param>
/// <param name="Width">Width W.</param>
/// <param name="Size">Window side (odd, &gt;= 1).</param>
/// <param name="Sigma">Deviation of the Gaussian weights in pixels (&gt; 0).</param>
public readonly record struct LcnGeometry(int Channels, int Height, int Width, int Size, float Sigma)
{
    /// <summary>
    /// The least divisor: a constant image has v = 0 and s = 0 everywhere, and without it would give 0/0 = NaN (a blank
    /// frame must not poison a prediction); it is far below the deviations of real images, so nothing else changes.
    /// It is absolute: a near-constant image of large values (0..255) has deviations of rounding noise, about |x| 1e-7,
    /// which this floor turns into outputs near |x| 1e-3 that need not agree between backends.
    /// </summary>
    public const float DivisorFloor = 1e-4f;

    /// <summary>Elements of one image: <c>C*H*W</c>.</summary>
    public int ImageLength => Channels * Height * Width;

    /// <summary>Positions of one image: <c>H*W</c>.</summary>
    public int PlaneLength => Height * Width;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentException($"Image size C={Channels}, H={Height}, W={Width} must be positive.", nameof(Channels));
        if (Size < 1 || Size % 2 == 0) throw new ArgumentException($"LCN window size must be odd and positive, got {Size}.", nameof(Size));
        if (!(Sigma > 0f) || !float.IsFinite(Sigma)) throw new ArgumentException($"LCN sigma must be positive, got {Sigma}.", nameof(Sigma));
    }
}
