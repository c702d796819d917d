namespace Shinso.Operations;

/// <summary>
/// The geometry of a 2-D convolution or pooling window over one NCHW image:
/// input channels and size, kernel size, stride and zero padding.
/// </summary>
/// <param name="Channels">Input channels C.</param>
/// <param name="Height">Input height H.</param>
/// <param name="Width">Input width W.</param>
/// <param name="KernelHeight">Window height KH.</param>
/// <param name="KernelWidth">Window width KW.</param>
/// <param name="StrideHeight">Vertical stride.</param>
/// <param name="StrideWidth">Horizontal stride.</param>
/// <param name="PadHeight">Zero rows added above and below.</param>
/// <param name="PadWidth">Zero columns added left and right.</param>
public readonly record struct ConvolutionGeometry(
    int Channels, int Height, int Width,
    int KernelHeight, int KernelWidth,
    int StrideHeight = 1, int StrideWidth = 1,
    int PadHeight = 0, int PadWidth = 0)
{
    /// <summary>Output height: <c>(H + 2*PH - KH) / SH + 1</c>.</summary>
    public int OutputHeight => (Height + 2 * PadHeight - KernelHeight) / StrideHeight + 1;

    /// <summary>Output width: <c>(W + 2*PW - KW) / SW + 1</c>.</summary>
    public int OutputWidth => (Width + 2 * PadWidth - KernelWidth) / StrideWidth + 1;

    /// <summary>Rows of the column matrix: <c>C*KH*KW</c>.</summary>
    public int ColumnRows => Channels * KernelHeight * KernelWidth;

    /// <summary>Columns of the column matrix: <c>OH*OW</c>.</summary>
    public int ColumnCount => OutputHeight * OutputWidth;

    /// <summary>
    /// Images per chunk of a batch of <paramref name="images"/> whose columns must fit in <paramref name="chunkFloats"/>
    /// floats (<c>IBackend.ColumnChunkFloats</c>): as many as fit, at least one, at most the batch.
    /// </summary>
    public int ChunkImages(int images, int chunkFloats) =>
        (int)Math.Clamp(chunkFloats / ((long)ColumnRows * ColumnCount), 1, Math.Max(1, images));

    /// <summary>Elements of one input image: <c>C*H*W</c>.</summary>
    public int ImageLength => Channels * Height * Width;

    /// <summary>Throws <see cref="ArgumentException"/> when any size is out of range.</summary>
    public void Validate()
    {
        if (Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentException($"Image size C={Channels}, H={Height}, W={Width} must be positive.", nameof(Channels));
        if (KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"Kernel size {KernelHeight}x{KernelWidth} must be positive.", nameof(KernelHeight));
        if (StrideHeight < 1 || StrideWidth < 1)
            throw new ArgumentException($"Stride {StrideHeight}x{StrideWidth} must be positive.", nameof(StrideHeight));
        if (PadHeight < 0 || PadWidth < 0)
            throw new ArgumentException($"Padding {PadHeight}x{PadWidth} must not be negative.", nameof(PadHeight));
        if (Height + 2 * PadHeight < KernelHeight || Width + 2 * PadWidth < KernelWidth)
            throw new ArgumentException(
                $"Kernel {KernelHeight}x{KernelWidth} is larger than the padded image {Height + 2 * PadHeight}x{Width + 2 * PadWidth}.", nameof(KernelHeight));
    }
}
