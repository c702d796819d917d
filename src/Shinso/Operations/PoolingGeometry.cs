namespace Shinso.Operations;

/// <summary>
/// The geometry of a 2-D pooling window over NCHW images: channels and input size, window, stride,
/// zero padding and the output-size convention.
/// </summary>
/// <param name="Channels">Channels C.</param>
/// <param name="Height">Input height H.</param>
/// <param name="Width">Input width W.</param>
/// <param name="KernelHeight">Window height KH.</param>
/// <param name="KernelWidth">Window width KW.</param>
/// <param name="StrideHeight">Vertical stride.</param>
/// <param name="StrideWidth">Horizontal stride.</param>
/// <param name="PadHeight">Padding rows above and below (at most KH/2).</param>
/// <param name="PadWidth">Padding columns left and right (at most KW/2).</param>
/// <param name="CeilMode">
/// Round the output size up instead of down (cuda-convnet, PyTorch <c>ceil_mode=True</c>, ONNX <c>ceil_mode=1</c>);
/// as in PyTorch, a last window that would start in the right or bottom padding is dropped.
/// </param>
public readonly record struct PoolingGeometry(
    int Channels, int Height, int Width,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadHeight = 0, int PadWidth = 0,
    bool CeilMode = false)
{
    /// <summary>Output height.</summary>
    public int OutputHeight => OutputSize(Height, KernelHeight, StrideHeight, PadHeight, CeilMode);

    /// <summary>Output width.</summary>
    public int OutputWidth => OutputSize(Width, KernelWidth, StrideWidth, PadWidth, CeilMode);

    /// <summary>Elements of one input image: <c>C*H*W</c>.</summary>
    public int InputLength => Channels * Height * Width;

    /// <summary>Elements of one output image: <c>C*OH*OW</c>.</summary>
    public int OutputLength => Channels * OutputHeight * OutputWidth;

    /// <summary>Throws <see cref="ArgumentException"/> when any size is out of range.</summary>
    public void Validate()
    {
        if (Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentException($"Image size C={Channels}, H={Height}, W={Width} must be positive.", nameof(Channels));
        if (KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"Pooling window {KernelHeight}x{KernelWidth} must be positive.", nameof(KernelHeight));
        if (StrideHeight < 1 || StrideWidth < 1)
            throw new ArgumentException($"Stride {StrideHeight}x{StrideWidth} must be positive.", nameof(StrideHeight));
        if (PadHeight < 0 || PadWidth < 0 || 2 * PadHeight > KernelHeight || 2 * PadWidth > KernelWidth)
            throw new ArgumentException(
                $"Padding {PadHeight}x{PadWidth} must be between 0 and half the window {KernelHeight}x{KernelWidth}.", nameof(PadHeight));
        if (Height + 2 * PadHeight < KernelHeight || Width + 2 * PadWidth < KernelWidth)
            throw new ArgumentException(
                $"Window {KernelHeight}x{KernelWidth} is larger than the padded image {Height + 2 * PadHeight}x{Width + 2 * PadWidth}.", nameof(KernelHeight));
    }

    private static int OutputSize(int size, int kernel, int stride, int pad, bool ceil)
    {
        int span = size + 2 * pad - kernel;
        int output = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // PyTorch's rule: the last window must start inside the image or its leading padding.
        if (ceil && (output - 1) * stride >= size + pad) output--;
        return output;
    }
}
