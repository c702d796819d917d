using Shinso.Kernels.Cpu;
using Shinso.Profiling;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Backends;

public sealed partial class CpuBackend
{
    private readonly ConvolutionWorkspace _convolution = new();

    /// <inheritdoc />
    /// <remarks>Threads take whole chunks of images (<see cref="BatchConvolution"/>), so each chunk's columns stay in one core's cache.</remarks>
    public void ConvolutionForward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor bias, Tensor output)
    {
        var (n, filters) = BackendArguments.ConvolutionLayer(input, geometry, weight, bias, output, nameof(output));
        using var span = Profiler.Kernel(nameof(ConvolutionForward), ConvolutionFlops(n, filters, geometry));
        BatchConvolution.Forward(Host(input, nameof(input)), n, geometry, Host(weight, nameof(weight)), Host(bias, nameof(bias)),
            Host(output, nameof(output)), ColumnChunkFloats, _convolution, Options);
    }

    /// <inheritdoc />
    public void ConvolutionBackward(Tensor input, ConvolutionGeometry geometry, Tensor weight, Tensor outputGradient,
        Tensor weightGradient, Tensor biasGradient, Tensor? inputGradient)
    {
        var (n, filters) = BackendArguments.ConvolutionLayer(input, geometry, weight, biasGradient, outputGradient, nameof(outputGradient), nameof(biasGradient));
        using var span = Profiler.Kernel(nameof(ConvolutionBackward), ConvolutionFlops(n, filters, geometry) * (inputGradient is null ? 1 : 2));
        BackendArguments.SameLength(weight, weightGradient, nameof(weight), nameof(weightGradient));
        if (inputGradient is not null) BackendArguments.SameLength(input, inputGradient, nameof(input), nameof(inputGradient));
        BatchConvolution.Backward(Host(input, nameof(input)), n, geometry, Host(weight, nameof(weight)), Host(outputGradient, nameof(outputGradient)),
            Host(weightGradient, nameof(weightGradient)), Host(biasGradient, nameof(biasGradient)),
            inputGradient is null ? Span<float>.Empty : Host(inputGradient, nameof(inputGradient)), ColumnChunkFloats, _convolution, Options);
    }

    /// <inheritdoc />
    public void ConvolutionInputGradient(Tensor outputGradient, ConvolutionGeometry geometry, Tensor weight, Tensor inputGradient)
    {
        var (n, f) = BackendArguments.ConvolutionInputGradient(outputGradient, geometry, weight, inputGradient);
        using var span = Profiler.Kernel(nameof(ConvolutionInputGradient), ConvolutionFlops(n, f, geometry));
        BatchConvolution.InputGradient(n, geometry, Host(weight, nameof(weight)), f, Host(outputGradient, nameof(outputGradient)),
            Host(inputGradient, nameof(inputGradient)), ColumnChunkFloats, _convolution, Options);
    }

    /// <inheritdoc />
    public void TiledIm2Col(Tensor images, TiledConvolutionGeometry geometry, Tensor columns)
    {
        using var span = Profiler.Kernel(nameof(TiledIm2Col));
        TiledConvolution.Unfold(Host(images, nameof(images)), geometry, Host(columns, nameof(columns)), Options);
    }

    /// <inheritdoc />
    public void TiledCol2Im(Tensor columns, TiledConvolutionGeometry geometry, Tensor images)
    {
        using var span = Profiler.Kernel(nameof(TiledCol2Im));
        TiledConvolution.Fold(Host(columns, nameof(columns)), geometry, Host(images, nameof(images)), Options);
    }

    /// <inheritdoc />
    public void TileInterleave(Tensor products, TiledConvolutionGeometry geometry, int filters, Tensor bias, Tensor maps)
    {
        using var span = Profiler.Kernel(nameof(TileInterleave));
        TiledConvolution.Interleave(Host(products, nameof(products)), Host(bias, nameof(bias)), geometry, filters, Host(maps, nameof(maps)), Options);
    }

    /// <inheritdoc />
    public void TileDeinterleave(Tensor maps, TiledConvolutionGeometry geometry, int filters, Tensor products)
    {
        using var span = Profiler.Kernel(nameof(TileDeinterleave));
        TiledConvolution.Deinterleave(Host(maps, nameof(maps)), geometry, filters, Host(products, nameof(products)), Options);
    }

    /// <inheritdoc />
    public void AddChannelBias(Tensor images, int channels, Tensor bias)
    {
        using var span = Profiler.Kernel(nameof(AddChannelBias));
        Normalization.AddChannelBias(Host(images, nameof(images)), channels, BackendArguments.Spatial(images, channels, nameof(images)), Host(bias, nameof(bias)));
    }

    /// <inheritdoc />
    public void SumChannelBias(Tensor gradient, int channels, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(SumChannelBias));
        Normalization.SumChannelBias(Host(gradient, nameof(gradient)), channels, BackendArguments.Spatial(gradient, channels, nameof(gradient)), Host(result, nameof(result)));
    }

    /// <inheritdoc />
    public void MaxPoolForward(Tensor input, PoolingGeometry geometry, Tensor output, Tensor argmax)
    {
        using var span = Profiler.Kernel(nameof(MaxPoolForward));
        Pooling.MaxForward(Host(input, nameof(input)), input.Rows, geometry, Host(output, nameof(output)), Host(argmax, nameof(argmax)), Options);
    }

    /// <inheritdoc />
    public void MaxPoolBackward(Tensor outputGradient, Tensor argmax, PoolingGeometry geometry, Tensor inputGradient)
    {
        using var span = Profiler.Kernel(nameof(MaxPoolBackward));
        Pooling.MaxBackward(Host(outputGradient, nameof(outputGradient)), Host(argmax, nameof(argmax)), inputGradient.Rows, geometry,
            Host(inputGradient, nameof(inputGradient)), Options);
    }

    /// <inheritdoc />
    public void AvgPoolForward(Tensor input, PoolingGeometry geometry, bool countIncludePad, Tensor output)
    {
        using var span = Profiler.Kernel(nameof(AvgPoolForward));
        Pooling.AvgForward(Host(input, nameof(input)), input.Rows, geometry, countIncludePad, Host(output, nameof(output)), Options);
    }

    /// <inheritdoc />
    public void AvgPoolBackward(Tensor outputGradient, PoolingGeometry geometry, bool countIncludePad, Tensor inputGradient)
    {
        using var span = Profiler.Kernel(nameof(AvgPoolBackward));
        Pooling.AvgBackward(Host(outputGradient, nameof(outputGradient)), inputGradient.Rows, geometry, countIncludePad,
            Host(inputGradient, nameof(inputGradient)), Options);
    }

    /// <inheritdoc />
    public void LpPoolForward(Tensor input, PoolingGeometry geometry, float p, Tensor output)
    {
        using var span = Profiler.Kernel(nameof(LpPoolForward));
        Pooling.LpForward(Host(input, nameof(input)), input.Rows, geometry, p, Host(output, nameof(output)), Options);
    }

    /// <inheritdoc />
    public void LpPoolBackward(Tensor input, Tensor output, Tensor outputGradient, PoolingGeometry geometry, float p, Tensor inputGradient)
    {
        using var span = Profiler.Kernel(nameof(LpPoolBackward));
        Pooling.LpBackward(Host(input, nameof(input)), Host(output, nameof(output)), Host(outputGradient, nameof(outputGradient)), input.Rows,
            geometry, p, Host(inputGradient, nameof(inputGradient)), Options);
    }

    /// <inheritdoc />
    public void LcnForward(Tensor input, LcnGeometry geometry, Tensor output, Tensor deviation)
    {
        using var span = Profiler.Kernel(nameof(LcnForward));
        geometry.Validate();
        var scratch = KernelScratch(Normalization.LcnScratchLength(input.Rows, geometry));
        Normalization.LcnForward(Host(input, nameof(input)), input.Rows, geometry, Host(output, nameof(output)), Host(deviation, nameof(deviation)), scratch, Options);
    }

    /// <inheritdoc />
    public void LcnBackward(Tensor output, Tensor deviation, Tensor outputGradient, LcnGeometry geometry, Tensor inputGradient)
    {
        using var span = Profiler.Kernel(nameof(LcnBackward));
        geometry.Validate();
        var scratch = KernelScratch(Normalization.LcnScratchLength(output.Rows, geometry));
        Normalization.LcnBackward(Host(output, nameof(output)), Host(deviation, nameof(deviation)), Host(outputGradient, nameof(outputGradient)),
            output.Rows, geometry, Host(inputGradient, nameof(inputGradient)), scratch, Options);
    }

    /// <summary>The multiply-adds of one convolution GEMM pass over <paramref name="images"/> images, counted as two operations each.</summary>
    private static double ConvolutionFlops(int images, int filters, ConvolutionGeometry geometry) =>
        2.0 * images * filters * geometry.ColumnRows * geometry.ColumnCount;
}
