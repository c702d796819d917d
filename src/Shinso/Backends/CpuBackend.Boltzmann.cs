using Shinso.Kernels.Cpu;
using Shinso.Profiling;
using Shinso.Tensors;

namespace Shinso.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void SoftplusSumRows(Tensor x, float scale, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(SoftplusSumRows));
        BackendArguments.PerRow(x, result, nameof(x));
        BoltzmannKernels.SoftplusSumRows(Host(x, nameof(x)), x.Rows, x.Columns, scale, Host(result, nameof(result)), Options);
    }

    /// <inheritdoc />
    public void ScaleColumns(Tensor matrix, Tensor scale, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(ScaleColumns));
        BackendArguments.SameShape(matrix, result, nameof(matrix), nameof(result));
        BoltzmannKernels.ScaleColumns(Host(matrix, nameof(matrix)), matrix.Rows, matrix.Columns, Host(scale, nameof(scale)), Host(result, nameof(result)));
    }

    /// <inheritdoc />
    public void ScaledSigmoid(Tensor x, float scale, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(ScaledSigmoid));
        BoltzmannKernels.ScaledSigmoid(Host(x, nameof(x)), scale, Host(y, nameof(y)), Options);
    }

    /// <inheritdoc />
    public void GaussianScaleStatistics(Tensor visible, Tensor drive, Tensor visibleBias, Tensor sigma, Tensor result, float beta)
    {
        using var span = Profiler.Kernel(nameof(GaussianScaleStatistics));
        BackendArguments.SameShape(visible, drive, nameof(visible), nameof(drive));
        BoltzmannKernels.GaussianScaleStatistics(Host(visible, nameof(visible)), Host(drive, nameof(drive)), visible.Rows, visible.Columns,
            Host(visibleBias, nameof(visibleBias)), Host(sigma, nameof(sigma)), Host(result, nameof(result)), beta);
    }

    /// <inheritdoc />
    public void ProbabilisticMaxPool(Tensor input, int channels, int height, int width, int block, Tensor hiddenProbabilities, Tensor poolProbabilities)
    {
        using var span = Profiler.Kernel(nameof(ProbabilisticMaxPool));
        ProbabilisticPooling.Probabilities(Host(input, nameof(input)), channels, height, width, block, Host(hiddenProbabilities, nameof(hiddenProbabilities)),
            Host(poolProbabilities, nameof(poolProbabilities)), Options);
    }

    /// <inheritdoc />
    public void SampleProbabilisticMaxPool(Random.RandomStream stream, ulong counter, Tensor hiddenProbabilities, int channels, int height, int width, int block,
        Tensor hiddenSamples, Tensor poolSamples)
    {
        using var span = Profiler.Kernel(nameof(SampleProbabilisticMaxPool));
        DrawObserver?.Invoke(nameof(SampleProbabilisticMaxPool), stream, counter, poolSamples.Length);
        ProbabilisticPooling.Sample(stream, counter, Host(hiddenProbabilities, nameof(hiddenProbabilities)), channels, height, width, block,
            Host(hiddenSamples, nameof(hiddenSamples)), Host(poolSamples, nameof(poolSamples)), Options);
    }
}
