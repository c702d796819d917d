using Shinso.Tensors;

namespace Shinso.Backends;

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

/// <summary>
/// Local contrast normalization (Jarrett, Kavukcuoglu, Ranzato &amp; LeCun 2009) over NCHW images with a
/// <paramref name="Size"/> x <paramref name="Size"/> Gaussian window of deviation <paramref name="Sigma"/> that spans all channels:
/// <c>m = L(x)</c>, <c>v = x - m</c>, <c>s = sqrt(L(v^2))</c>, <c>y = v / max(mean(s), s)</c>, where
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

public partial interface IBackend
{
    // ---- convolutional nets (NCHW; a tensor [N, ...] holds N images of the stated geometry) ----

    /// <summary><c>images[n, c, :] += bias[c]</c> for images <c>[N, channels, spatial]</c> (spatial = columns / channels).</summary>
    void AddChannelBias(Tensor images, int channels, Tensor bias);

    /// <summary><c>result[c] = sum_n sum_s gradient[n, c, s]</c> for <c>[N, channels, spatial]</c> (a convolution's bias gradient).</summary>
    void SumChannelBias(Tensor gradient, int channels, Tensor result);

    /// <summary>
    /// Max pooling: <c>output[n,c,oh,ow]</c> is the largest input in the window (padding never wins), and
    /// <paramref name="argmax"/> (same shape as the output) records its index <c>h*W + w</c> within the channel plane
    /// (the first in row-major order on ties).
    /// </summary>
    void MaxPoolForward(Tensor input, PoolingGeometry geometry, Tensor output, Tensor argmax);

    /// <summary>Routes each output gradient to the input recorded in <paramref name="argmax"/>; <paramref name="inputGradient"/> is overwritten.</summary>
    void MaxPoolBackward(Tensor outputGradient, Tensor argmax, PoolingGeometry geometry, Tensor inputGradient);

    /// <summary>
    /// Average pooling. With <paramref name="countIncludePad"/> the divisor counts padding inside the padded image
    /// (PyTorch's default <c>count_include_pad=True</c>; the ceil-mode overhang past the padding is never counted),
    /// otherwise only the inputs in the window.
    /// </summary>
    void AvgPoolForward(Tensor input, PoolingGeometry geometry, bool countIncludePad, Tensor output);

    /// <summary>The gradient of <see cref="AvgPoolForward"/>; <paramref name="inputGradient"/> is overwritten.</summary>
    void AvgPoolBackward(Tensor outputGradient, PoolingGeometry geometry, bool countIncludePad, Tensor inputGradient);

    /// <summary>Lp pooling as ONNX <c>LpPool</c>: <c>output = (sum_window |x|^p)^(1/p)</c>, padding contributing zero.</summary>
    void LpPoolForward(Tensor input, PoolingGeometry geometry, float p, Tensor output);

    /// <summary>
    /// The gradient of <see cref="LpPoolForward"/>: <c>dx += dy * |x|^(p-1) sign(x) / y^(p-1)</c> over the windows
    /// holding x (0 where y is 0); <paramref name="inputGradient"/> is overwritten.
    /// </summary>
    void LpPoolBackward(Tensor input, Tensor output, Tensor outputGradient, PoolingGeometry geometry, float p, Tensor inputGradient);

    /// <summary>
    /// Local response normalization across the <paramref name="channels"/> of <c>[N, channels, spatial]</c> images
    /// (see <see cref="LrnParameters"/>); <paramref name="scale"/> (same shape) receives the denominators' bases
    /// <c>Bias + Alpha/Size * sum a^2</c> for the backward pass.
    /// </summary>
    void LrnForward(Tensor input, int channels, LrnParameters parameters, Tensor output, Tensor scale);

    /// <summary>
    /// The gradient of <see cref="LrnForward"/>:
    /// <c>dx[i] = dy[i] s[i]^-Beta - 2 Alpha Beta / Size * x[i] * sum_{j: i in window(j)} dy[j] y[j] / s[j]</c>.
    /// </summary>
    void LrnBackward(Tensor input, Tensor output, Tensor scale, Tensor outputGradient, int channels, LrnParameters parameters, Tensor inputGradient);

    /// <summary>
    /// Local contrast normalization (see <see cref="LcnGeometry"/>); <paramref name="deviation"/> (<c>[N, H*W]</c>)
    /// receives the local deviations s for the backward pass.
    /// </summary>
    void LcnForward(Tensor input, LcnGeometry geometry, Tensor output, Tensor deviation);

    /// <summary>The gradient of <see cref="LcnForward"/> (through the mean, the deviation and the image-mean floor).</summary>
    void LcnBackward(Tensor output, Tensor deviation, Tensor outputGradient, LcnGeometry geometry, Tensor inputGradient);
}
