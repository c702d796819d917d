namespace Shinso.Operations;

/// <summary>
/// The geometry of a tiled convolution (Le et al. 2010): a convolution whose filters are untied within a k x k tile of
/// output positions and tied every k positions, so output (oh, ow) uses tile <c>(oh % k) * k + ow % k</c>. k = 1 is an
/// ordinary convolution; k = max(OH, OW) a locally connected layer (the largest tile accepted).
/// </summary>
/// <remarks>
/// The passes group each tile's output positions: tile (a, b) owns the positions <c>(a + k*u, b + k*v)</c> for
/// u &lt; <see cref="SlotRows"/>, v &lt; <see cref="SlotColumns"/>, slots past the output's edge reading zero columns, so
/// every tile's columns are one dense <c>[C*KH*KW, N*U*V]</c> block and its filters one GEMM.
/// </remarks>
/// <param name="Convolution">Input size, kernel, stride and padding.</param>
/// <param name="Tile">k, the period of the weight tying.</param>
public readonly record struct TiledConvolutionGeometry(ConvolutionGeometry Convolution, int Tile)
{
    /// <summary>Tiles per output position pattern: <c>k*k</c>.</summary>
    public int Tiles => Tile * Tile;

    /// <summary>U, slot rows per tile: <c>ceil(OH / k)</c>.</summary>
    public int SlotRows => (Convolution.OutputHeight + Tile - 1) / Tile;

    /// <summary>V, slot columns per tile: <c>ceil(OW / k)</c>.</summary>
    public int SlotColumns => (Convolution.OutputWidth + Tile - 1) / Tile;

    /// <summary>Slots of one image in one tile: <c>U*V</c>.</summary>
    public int SlotsPerImage => SlotRows * SlotColumns;

    /// <summary>Throws <see cref="ArgumentException"/> when the convolution or the tile is out of range.</summary>
    public void Validate()
    {
        Convolution.Validate();
        int largest = Math.Max(Convolution.OutputHeight, Convolution.OutputWidth);
        if (Tile < 1 || Tile > largest)
            throw new ArgumentException($"The tile size must be between 1 and the larger output side {largest}, got {Tile}.", nameof(Tile));
    }
}
