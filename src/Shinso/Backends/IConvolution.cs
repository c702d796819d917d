using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>Convolution passes, im2col, channel biases, pooling and local normalization over NCHW images (a tensor [N, ...] holds N images of the stated geometry). One capability of an <see cref="IBackend"/>.</summary>
public interface IConvolution
{
    /// <summary>
    /// How many floats of unfolded columns <see cref="ConvolutionForward"/> and <see cref="ConvolutionBackward"/> hold
    /// at once per thread: they unfold the batch in chunks of as many images as fit (at least one). The CPU sizes a
    /// chunk to stay in a core's cache, so the columns are written and read there instead of through memory; a GPU
    /// takes a whole batch per launch.
    /// </summary>
    int ColumnChunkFloats { get; }

    /// <summary>
    /// A convolution layer's forward pass, <c>output[n, f] = bias[f] + sum_c weight[f, c] (*) input[n, c]</c>
    /// (cross-correlation with the geometry's stride and zero padding), by im2col and GEMM on chunks of
    /// <see cref="ColumnChunkFloats"/>: <paramref name="input"/> <c>[N, C, H, W]</c>, <paramref name="weight"/>
    /// <c>[F, C*KH*KW]</c> with each row in <see cref="Im2Col"/>'s order, <paramref name="bias"/> <c>[F]</c>,
    /// <paramref name="output"/> <c>[N, F, OH, OW]</c> (overwritten).
    /// </summary>
    void ConvolutionForward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor bias, Tensor output);

    /// <summary>
    /// The gradients of <see cref="ConvolutionForward"/> given <paramref name="outputGradient"/> <c>[N, F, OH, OW]</c>:
    /// <paramref name="weightGradient"/> (shaped as the weight) and <paramref name="biasGradient"/> are overwritten with
    /// their sums over the batch, and <paramref name="inputGradient"/> (shaped as the input), when given, with
    /// dLoss/dInput. The result does not depend on the thread count.
    /// </summary>
    void ConvolutionBackward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor outputGradient,
        Tensor weightGradient, Tensor biasGradient, Tensor? inputGradient);

    /// <summary>
    /// dLoss/dInput of <see cref="ConvolutionForward"/> alone, <paramref name="inputGradient"/> <c>[N, C, H, W]</c> overwritten,
    /// given <paramref name="outputGradient"/> <c>[N, F, OH, OW]</c>: the input gradient of <see cref="ConvolutionBackward"/>
    /// for half its work, for passes that want no parameter gradients (a net's sensitivity to its input).
    /// </summary>
    void ConvolutionInputGradient(Tensor outputGradient, ConvolutionGeometry geometry, Tensor weight, Tensor inputGradient);

    /// <summary>
    /// Unfolds images <c>[N, C, H, W]</c> into one batch-wide column matrix <c>[C*KH*KW, N*OH*OW]</c> (zero padding):
    /// image n fills columns <c>n*OH*OW .. (n+1)*OH*OW - 1</c>, so a single GEMM convolves the whole batch.
    /// </summary>
    void Im2Col(Tensor images, ConvolutionGeometry geometry, Tensor columns);

    /// <summary>
    /// Folds a batch-wide column matrix <c>[C*KH*KW, N*OH*OW]</c> back into images <c>[N, C, H, W]</c>, summing
    /// overlapping contributions; <paramref name="images"/> is overwritten.
    /// </summary>
    void Col2Im(Tensor columns, ConvolutionGeometry geometry, Tensor images);

    /// <summary>
    /// Unfolds images <c>[N, C, H, W]</c> into a tiled convolution's column blocks <c>[k*k*C*KH*KW, N*U*V]</c> (see
    /// <see cref="TiledConvolutionGeometry"/>): tile t's block is rows <c>t*C*KH*KW ..</c>, its column <c>n*U*V + u*V + v</c>
    /// reads the window of output position <c>(a + k*u, b + k*v)</c>, t = a*k + b, and slots past the output's edge are zero.
    /// </summary>
    void TiledIm2Col(Tensor images, TiledConvolutionGeometry geometry, Tensor columns);

    /// <summary>Folds column blocks laid out as <see cref="TiledIm2Col"/> writes them back into images, summing overlaps; <paramref name="images"/> is overwritten.</summary>
    void TiledCol2Im(Tensor columns, TiledConvolutionGeometry geometry, Tensor images);

    /// <summary>
    /// Scatters per-tile products <c>[k*k*F, N*U*V]</c> (row t*F + f is map f of tile t) into maps <c>[N, F, OH, OW]</c>
    /// (overwritten), adding <paramref name="bias"/> <c>[k*k*F]</c> by row.
    /// </summary>
    void TileInterleave(Tensor products, TiledConvolutionGeometry geometry, int filters, Tensor bias, Tensor maps);

    /// <summary>The inverse move of <see cref="TileInterleave"/> without the bias: maps into per-tile products, zero for slots past the output's edge.</summary>
    void TileDeinterleave(Tensor maps, TiledConvolutionGeometry geometry, int filters, Tensor products);

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
    /// Local contrast normalization (see <see cref="LcnGeometry"/>); <paramref name="deviation"/> (<c>[N, H*W]</c>)
    /// receives the local deviations s for the backward pass.
    /// </summary>
    void LcnForward(Tensor input, LcnGeometry geometry, Tensor output, Tensor deviation);

    /// <summary>The gradient of <see cref="LcnForward"/> (through the mean, the deviation and the image-mean floor).</summary>
    void LcnBackward(Tensor output, Tensor deviation, Tensor outputGradient, LcnGeometry geometry, Tensor inputGradient);
}
