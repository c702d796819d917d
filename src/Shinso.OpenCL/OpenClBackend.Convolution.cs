using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.OpenCL;

public sealed partial class OpenClBackend
{
    private Tensor? _convolutionColumns, _convolutionProduct;

    /// <inheritdoc />
    /// <remarks>A batch whose columns fit in <see cref="ColumnChunkFloats"/> is one chunk: one launch per step.</remarks>
    public void ConvolutionForward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor bias, Tensor output)
    {
        var (n, f) = BackendArguments.ConvolutionLayer(input, geometry, weight, bias, output, nameof(output));
        int chunk = ConvolutionChunk(geometry, n, f);
        var y = output.Reshape(n, f * geometry.ColumnCount);
        for (int start = 0; start < n; start += chunk)
        {
            int images = Math.Min(chunk, n - start);
            var (columns, product) = ConvolutionViews(geometry, images, f);
            Im2Col(input.SliceRows(start, images), geometry, columns);
            Gemm(Transpose.None, Transpose.None, 1f, weight, columns, 0f, product);
            SwapLeadingAxes(product, f, images, y.SliceRows(start, images));
        }
        AddChannelBias(output, f, bias);
    }

    /// <inheritdoc />
    public void ConvolutionBackward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor outputGradient,
        Tensor weightGradient, Tensor biasGradient, Tensor? inputGradient)
    {
        var (n, f) = BackendArguments.ConvolutionLayer(input, geometry, weight, biasGradient, outputGradient, nameof(outputGradient), nameof(biasGradient));
        BackendArguments.SameLength(weight, weightGradient, nameof(weight), nameof(weightGradient));
        if (inputGradient is not null) BackendArguments.SameLength(input, inputGradient, nameof(input), nameof(inputGradient));
        SumChannelBias(outputGradient, f, biasGradient);
        int chunk = ConvolutionChunk(geometry, n, f);
        var dy = outputGradient.Reshape(n, f * geometry.ColumnCount);
        var dw = weightGradient.Reshape(f, geometry.ColumnRows);
        for (int start = 0; start < n; start += chunk)
        {
            int images = Math.Min(chunk, n - start);
            var (columns, product) = ConvolutionViews(geometry, images, f);
            Im2Col(input.SliceRows(start, images), geometry, columns);
            SwapLeadingAxes(dy.SliceRows(start, images), images, f, product);
            Gemm(Transpose.None, Transpose.Transposed, 1f, product, columns, start == 0 ? 0f : 1f, dw);
            if (inputGradient is null) continue;
            // The columns are no longer needed: they take W^T dY, then fold into dX.
            Gemm(Transpose.Transposed, Transpose.None, 1f, weight, product, 0f, columns);
            Col2Im(columns, geometry, inputGradient.SliceRows(start, images));
        }
    }

    /// <inheritdoc />
    public void ConvolutionInputGradient(Tensor outputGradient, ConvolutionGeometry geometry, Tensor weight, Tensor inputGradient)
    {
        var (n, f) = BackendArguments.ConvolutionInputGradient(outputGradient, geometry, weight, inputGradient);
        int chunk = ConvolutionChunk(geometry, n, f);
        var dy = outputGradient.Reshape(n, f * geometry.ColumnCount);
        for (int start = 0; start < n; start += chunk)
        {
            int images = Math.Min(chunk, n - start);
            var (columns, product) = ConvolutionViews(geometry, images, f);
            SwapLeadingAxes(dy.SliceRows(start, images), images, f, product);
            Gemm(Transpose.Transposed, Transpose.None, 1f, weight, product, 0f, columns);
            Col2Im(columns, geometry, inputGradient.SliceRows(start, images));
        }
    }

    private int ConvolutionChunk(in ConvolutionGeometry g, int images, int filters)
    {
        int chunk = g.ChunkImages(images, ColumnChunkFloats);
        long columns = (long)chunk * g.ColumnRows * g.ColumnCount, product = (long)chunk * filters * g.ColumnCount;
        if (_convolutionColumns is null || _convolutionColumns.Length < columns)
            _convolutionColumns = Allocate(checked((int)columns));
        if (_convolutionProduct is null || _convolutionProduct.Length < product)
            _convolutionProduct = Allocate(checked((int)product));
        return chunk;
    }

    /// <summary>The workspace as a chunk's column matrix <c>[C*KH*KW, images*OH*OW]</c> and product <c>[F, images*OH*OW]</c>.</summary>
    private (Tensor Columns, Tensor Product) ConvolutionViews(in ConvolutionGeometry g, int images, int filters)
    {
        int width = images * g.ColumnCount;
        return (_convolutionColumns!.SliceRows(0, g.ColumnRows * width).Reshape(g.ColumnRows, width),
                _convolutionProduct!.SliceRows(0, filters * width).Reshape(filters, width));
    }
    /// <inheritdoc />
    public void AddChannelBias(Tensor images, int channels, Tensor bias)
    {
        Device(images, nameof(images));
        Device(bias, nameof(bias));
        int spatial = BackendArguments.Spatial(images, channels, nameof(images));
        BackendArguments.ChannelVector(bias, channels, nameof(bias));
        Launch("add_channel_bias").Tensor(images).Int(channels).Int(spatial).Tensor(bias).Int(images.Length).Run(images.Length);
    }

    /// <summary>Work-group size of <c>sum_channel_bias</c> (<c>CHANNEL_SUM_GROUP</c> in kernels/im2col.cl).</summary>
    private const int ChannelSumGroup = 256;

    /// <inheritdoc />
    public void SumChannelBias(Tensor gradient, int channels, Tensor result)
    {
        Device(gradient, nameof(gradient));
        Device(result, nameof(result));
        int spatial = BackendArguments.Spatial(gradient, channels, nameof(gradient));
        BackendArguments.ChannelVector(result, channels, nameof(result));
        Launch("sum_channel_bias").Tensor(gradient).Int(channels).Int(spatial).Int(gradient.Length / (channels * spatial)).Tensor(result)
            .Run((long)channels * ChannelSumGroup, 1, 1, ChannelSumGroup, 1);
    }

    /// <inheritdoc />
    public void MaxPoolForward(Tensor input, PoolingGeometry geometry, Tensor output, Tensor argmax)
    {
        int planes = Pool(input, output, geometry, nameof(input), nameof(output));
        Elementwise(output, argmax, nameof(output), nameof(argmax));
        Pooling(Launch("max_pool_forward").Tensor(input).Tensor(output).Tensor(argmax), geometry, planes).Run(geometry.OutputHeight * geometry.OutputWidth, planes);
    }

    /// <inheritdoc />
    public void MaxPoolBackward(Tensor outputGradient, Tensor argmax, PoolingGeometry geometry, Tensor inputGradient)
    {
        int planes = Pool(inputGradient, outputGradient, geometry, nameof(inputGradient), nameof(outputGradient));
        Elementwise(outputGradient, argmax, nameof(outputGradient), nameof(argmax));
        Pooling(Launch("max_pool_backward").Tensor(outputGradient).Tensor(argmax).Tensor(inputGradient), geometry, planes)
            .Run(geometry.Height * geometry.Width, planes);
    }

    /// <inheritdoc />
    public void AvgPoolForward(Tensor input, PoolingGeometry geometry, bool countIncludePad, Tensor output)
    {
        int planes = Pool(input, output, geometry, nameof(input), nameof(output));
        Pooling(Launch("avg_pool_forward").Tensor(input).Tensor(output).Int(countIncludePad ? 1 : 0), geometry, planes)
            .Run(geometry.OutputHeight * geometry.OutputWidth, planes);
    }

    /// <inheritdoc />
    public void AvgPoolBackward(Tensor outputGradient, PoolingGeometry geometry, bool countIncludePad, Tensor inputGradient)
    {
        int planes = Pool(inputGradient, outputGradient, geometry, nameof(inputGradient), nameof(outputGradient));
        Pooling(Launch("avg_pool_backward").Tensor(outputGradient).Tensor(inputGradient).Int(countIncludePad ? 1 : 0), geometry, planes)
            .Run(geometry.Height * geometry.Width, planes);
    }

    /// <inheritdoc />
    public void LpPoolForward(Tensor input, PoolingGeometry geometry, float p, Tensor output)
    {
        int planes = Pool(input, output, geometry, nameof(input), nameof(output));
        BackendArguments.LpExponent(p);
        Pooling(Launch("lp_pool_forward").Tensor(input).Tensor(output).Float(p), geometry, planes)
            .Run(geometry.OutputHeight * geometry.OutputWidth, planes);
    }

    /// <inheritdoc />
    public void LpPoolBackward(Tensor input, Tensor output, Tensor outputGradient, PoolingGeometry geometry, float p, Tensor inputGradient)
    {
        int planes = Pool(input, output, geometry, nameof(input), nameof(output));
        Pool(inputGradient, outputGradient, geometry, nameof(inputGradient), nameof(outputGradient));
        BackendArguments.LpExponent(p);
        Pooling(Launch("lp_pool_backward").Tensor(input).Tensor(output).Tensor(outputGradient).Tensor(inputGradient).Float(p), geometry, planes)
            .Run(geometry.Height * geometry.Width, planes);
    }

    private int Pool(Tensor input, Tensor output, in PoolingGeometry g, string inputName, string outputName)
    {
        Device(input, inputName);
        Device(output, outputName);
        BackendArguments.Pooling(input.Length, output.Length, input.Rows, g);
        return input.Rows * g.Channels;
    }

    private static KernelLaunch Pooling(KernelLaunch launch, in PoolingGeometry g, int planes) =>
        launch.Int(g.Height).Int(g.Width).Int(g.KernelHeight).Int(g.KernelWidth).Int(g.StrideHeight).Int(g.StrideWidth)
            .Int(g.PadHeight).Int(g.PadWidth).Int(g.OutputHeight).Int(g.OutputWidth).Int(planes);

    /// <inheritdoc />
    public void LcnForward(Tensor input, LcnGeometry geometry, Tensor output, Tensor deviation)
    {
        Device(input, nameof(input));
        Device(output, nameof(output));
        Device(deviation, nameof(deviation));
        int images = BackendArguments.Lcn(input, output, deviation, geometry);
        var scratch = Scratch("lcn", LcnScratch(images, geometry));
        Lcn(Launch("lcn_forward").Tensor(input).Tensor(output).Tensor(deviation).Buffer(scratch), geometry)
            .Run((long)images * LcnGroup, 1, 1, LcnGroup, 1);
    }

    /// <inheritdoc />
    public void LcnBackward(Tensor output, Tensor deviation, Tensor outputGradient, LcnGeometry geometry, Tensor inputGradient)
    {
        Device(output, nameof(output));
        Device(deviation, nameof(deviation));
        Device(outputGradient, nameof(outputGradient));
        Device(inputGradient, nameof(inputGradient));
        int images = BackendArguments.Lcn(output, inputGradient, deviation, geometry);
        BackendArguments.SameLength(output, outputGradient, nameof(output), nameof(outputGradient));
        var scratch = Scratch("lcn", LcnScratch(images, geometry));
        Lcn(Launch("lcn_backward").Tensor(output).Tensor(deviation).Tensor(outputGradient).Tensor(inputGradient).Buffer(scratch), geometry)
            .Run((long)images * LcnGroup, 1, 1, LcnGroup, 1);
    }

    /// <summary>Work-items per image in the LCN kernels (LCN_GROUP in normalization.cl).</summary>
    private const int LcnGroup = 64;

    private static long LcnScratch(int images, in LcnGeometry g) => (long)images * (4L * g.PlaneLength + g.Height + g.Width + g.Size);

    private static KernelLaunch Lcn(KernelLaunch launch, in LcnGeometry g) =>
        launch.Int(g.Channels).Int(g.Height).Int(g.Width).Int(g.Size).Float(g.Sigma);
}
