using Shinso.Backends;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.OpenCL;

public sealed partial class OpenClBackend
{
    /// <inheritdoc />
    public void SoftplusSumRows(Tensor x, float scale, Tensor result)
    {
        Device(x, nameof(x));
        Device(result, nameof(result));
        BackendArguments.PerRow(x, result, nameof(x));
        Launch("softplus_sum_rows").Tensor(x).Int(x.Rows).Int(x.Columns).Float(scale).Tensor(result).Run(x.Rows);
    }

    /// <inheritdoc />
    public void ScaleColumns(Tensor matrix, Tensor scale, Tensor result)
    {
        Device(matrix, nameof(matrix));
        Device(scale, nameof(scale));
        Device(result, nameof(result));
        BackendArguments.SameShape(matrix, result, nameof(matrix), nameof(result));
        BackendArguments.RowVector(matrix, scale, nameof(scale));
        Launch("scale_columns").Tensor(matrix).Int(matrix.Rows).Int(matrix.Columns).Tensor(scale).Tensor(result).Run(matrix.Columns, matrix.Rows);
    }

    /// <inheritdoc />
    public void ScaledSigmoid(Tensor x, float scale, Tensor y)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Launch("scaled_sigmoid").Tensor(x).Float(scale).Tensor(y).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void GaussianScaleStatistics(Tensor visible, Tensor drive, Tensor visibleBias, Tensor sigma, Tensor result, float beta)
    {
        Device(visible, nameof(visible));
        Device(drive, nameof(drive));
        Device(visibleBias, nameof(visibleBias));
        Device(sigma, nameof(sigma));
        Device(result, nameof(result));
        BackendArguments.SameShape(visible, drive, nameof(visible), nameof(drive));
        BackendArguments.RowVector(visible, visibleBias, nameof(visibleBias));
        BackendArguments.RowVector(visible, sigma, nameof(sigma));
        BackendArguments.RowVector(visible, result, nameof(result));
        Launch("gaussian_scale_statistics").Tensor(visible).Tensor(drive).Int(visible.Rows).Int(visible.Columns)
            .Tensor(visibleBias).Tensor(sigma).Tensor(result).Float(beta).Run(visible.Columns);
    }

    /// <inheritdoc />
    public void ProbabilisticMaxPool(Tensor input, int channels, int height, int width, int block, Tensor hiddenProbabilities, Tensor poolProbabilities)
    {
        Device(input, nameof(input));
        Device(hiddenProbabilities, nameof(hiddenProbabilities));
        Device(poolProbabilities, nameof(poolProbabilities));
        OperationArguments.ProbabilisticPooling(input.Length, poolProbabilities.Length, channels, height, width, block);
        BackendArguments.SameLength(input, hiddenProbabilities, nameof(input), nameof(hiddenProbabilities));
        Launch("probabilistic_pool").Tensor(input).Tensor(hiddenProbabilities).Tensor(poolProbabilities).Int(height).Int(width).Int(block)
            .Int(poolProbabilities.Length).Run(poolProbabilities.Length);
    }

    /// <inheritdoc />
    public void SampleProbabilisticMaxPool(RandomStream stream, ulong counter, Tensor hiddenProbabilities, int channels, int height, int width, int block,
        Tensor hiddenSamples, Tensor poolSamples)
    {
        Device(hiddenProbabilities, nameof(hiddenProbabilities));
        Device(hiddenSamples, nameof(hiddenSamples));
        Device(poolSamples, nameof(poolSamples));
        OperationArguments.ProbabilisticPooling(hiddenProbabilities.Length, poolSamples.Length, channels, height, width, block);
        BackendArguments.SameLength(hiddenProbabilities, hiddenSamples, nameof(hiddenProbabilities), nameof(hiddenSamples));
        Random("probabilistic_pool_sample", stream, counter).Tensor(hiddenProbabilities).Tensor(hiddenSamples).Tensor(poolSamples).Int(height).Int(width).Int(block)
            .Int(poolSamples.Length).Run(poolSamples.Length);
    }
}
