using Shinso.Kernels.Cpu;
using Shinso.Profiling;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Backends;

/// <summary>
/// The CPU backend: tensors live in managed arrays and every operation runs a hand-vectorized
/// kernel from <see cref="Shinso.Kernels.Cpu"/> on the configured instruction-set path and threads.
/// </summary>
/// <remarks>Operations on one backend instance are meant to be called from one thread at a time.</remarks>
public sealed partial class CpuBackend : IBackend, ICpuKernelHost
{
    private float[] _scratch = [];
    private float[] _kernelScratch = [];

    /// <summary>Creates a CPU backend with the given kernel settings (default: widest path, all cores).</summary>
    public CpuBackend(CpuKernelOptions options = default)
    {
        CpuKernelOptions.Resolve(options.Path);
        if (options.Threads < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Threads must be >= 0 (0 = all cores), got {options.Threads}.");
        Options = options;
    }

    /// <summary>The kernel path and thread count.</summary>
    public CpuKernelOptions Options { get; }

    /// <inheritdoc />
    public string Name => "cpu";

    /// <summary>Wraps an existing array as a tensor without copying (the tensor shares the array).</summary>
    public Tensor FromArray(float[] data, params int[] shape)
    {
        var t = new Tensor(new HostStorage(this, data), 0, (int[])shape.Clone());
        if (t.Length != data.Length)
            throw new ArgumentException($"Shape {Tensor.ShapeText(shape)} has {t.Length} elements but the array has {data.Length}.", nameof(shape));
        return t;
    }

    /// <inheritdoc />
    public Tensor Allocate(params int[] shape)
    {
        long n = Tensor.ElementCount(shape);
        return new Tensor(new HostStorage(this, new float[n]), 0, (int[])shape.Clone());
    }

    /// <inheritdoc />
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        using var span = Profiler.Kernel(nameof(Upload));
        var d = Host(destination, nameof(destination));
        BackendArguments.SameLength(source.Length, d.Length, nameof(source), nameof(destination));
        source.CopyTo(d);
    }

    /// <inheritdoc />
    public void Download(Tensor source, Span<float> destination)
    {
        using var span = Profiler.Kernel(nameof(Download));
        var s = Host(source, nameof(source));
        BackendArguments.SameLength(s.Length, destination.Length, nameof(source), nameof(destination));
        s.CopyTo(destination);
    }

    /// <inheritdoc />
    public void Copy(Tensor source, Tensor destination)
    {
        using var span = Profiler.Kernel(nameof(Copy));
        var s = Host(source, nameof(source));
        var d = Host(destination, nameof(destination));
        BackendArguments.SameLength(s.Length, d.Length, nameof(source), nameof(destination));
        s.CopyTo(d);
    }

    /// <inheritdoc />
    public void Fill(Tensor tensor, float value)
    {
        using var span = Profiler.Kernel(nameof(Fill));
        Host(tensor, nameof(tensor)).Fill(value);
    }

    /// <inheritdoc />
    public void Gemm(Transpose transA, Transpose transB, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        var (m, n, k) = BackendArguments.Gemm(transA, transB, a, b, c);
        using var span = Profiler.Kernel(nameof(Gemm), 2.0 * m * n * k);
        Sgemm.Compute(transA, transB, m, n, k, alpha, Host(a, nameof(a)), a.Columns, Host(b, nameof(b)), b.Columns,
            beta, Host(c, nameof(c)), c.Columns, Options);
    }

    /// <inheritdoc />
    public void PackColumnPanels(Tensor b, Tensor panels)
    {
        using var span = Profiler.Kernel(nameof(PackColumnPanels));
        if (b.Rank != 2) throw new ArgumentException($"b must be a matrix; it has shape {Tensor.ShapeText(b.Shape)}.", nameof(b));
        BackendArguments.ColumnPanelsOf(b.Rows, b.Columns, panels);
        SgemmColumnPanels.Pack(Host(b, nameof(b)), b.Rows, b.Columns, Host(panels, nameof(panels)));
    }

    /// <inheritdoc />
    public void AffineColumnPanels(Tensor x, Tensor panels, Tensor bias, Tensor y)
    {
        var (rows, n, k) = BackendArguments.AffineColumnPanels(x, panels, bias, y);
        using var span = Profiler.Kernel(nameof(AffineColumnPanels), 2.0 * rows * n * k);
        SgemmColumnPanels.Compute(rows, n, k, Host(x, nameof(x)), k, Host(panels, nameof(panels)), Host(bias, nameof(bias)), Host(y, nameof(y)), n, Options);
    }

    /// <inheritdoc />
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(Axpy));
        Blas1.Axpy(alpha, Host(x, nameof(x)), Host(y, nameof(y)), Options);
    }

    /// <inheritdoc />
    public void Axpby(float alpha, Tensor x, float beta, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(Axpby));
        Blas1.Axpby(alpha, Host(x, nameof(x)), beta, Host(y, nameof(y)), Options);
    }

    /// <inheritdoc />
    public void ScaleShift(Tensor x, float scale, float shift, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(ScaleShift));
        TrainingKernels.ScaleShift(Host(x, nameof(x)), scale, shift, Host(y, nameof(y)));
    }

    /// <inheritdoc />
    public void Multiply(Tensor a, Tensor b, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(Multiply));
        Blas1.Multiply(Host(a, nameof(a)), Host(b, nameof(b)), Host(result, nameof(result)), Options);
    }

    /// <inheritdoc />
    public void AddRowVector(Tensor matrix, Tensor row)
    {
        using var span = Profiler.Kernel(nameof(AddRowVector));
        BackendArguments.RowVector(matrix, row, nameof(row));
        Blas1.AddRowVector(Host(matrix, nameof(matrix)), matrix.Rows, matrix.Columns, Host(row, nameof(row)), Options);
    }

    /// <inheritdoc />
    public void SumColumns(Tensor matrix, Tensor result, float beta = 0f)
    {
        using var span = Profiler.Kernel(nameof(SumColumns));
        BackendArguments.RowVector(matrix, result, nameof(result));
        Blas1.SumColumns(Host(matrix, nameof(matrix)), matrix.Rows, matrix.Columns, Host(result, nameof(result)), beta, Options);
    }

    /// <inheritdoc />
    public void SumRows(Tensor matrix, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(SumRows));
        BackendArguments.PerRow(matrix, result, nameof(matrix));
        Blas1.SumRows(Host(matrix, nameof(matrix)), matrix.Rows, matrix.Columns, Host(result, nameof(result)), Options);
    }

    /// <inheritdoc />
    public float Sum(Tensor x)
    {
        using var span = Profiler.Kernel(nameof(Sum));
        return Blas1.Sum(Host(x, nameof(x)), Options);
    }

    /// <inheritdoc />
    public float SumOfSquares(Tensor x)
    {
        using var span = Profiler.Kernel(nameof(SumOfSquares));
        return Blas1.SumOfSquares(Host(x, nameof(x)), Options);
    }

    /// <inheritdoc />
    public void Activate(Activation function, Tensor x, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(Activate));
        Activations.Activate(function, Host(x, nameof(x)), Host(y, nameof(y)), Options);
    }

    /// <inheritdoc />
    public void ActivationBackward(Activation function, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        using var span = Profiler.Kernel(nameof(ActivationBackward));
        Activations.ActivationBackward(function, Host(x, nameof(x)), Host(y, nameof(y)), Host(dy, nameof(dy)), Host(dx, nameof(dx)), Options);
    }

    /// <inheritdoc />
    public void SoftmaxRows(Tensor x, Tensor y)
    {
        using var span = Profiler.Kernel(nameof(SoftmaxRows));
        BackendArguments.SameShape(x, y, nameof(x), nameof(y));
        Softmax.Rows(Host(x, nameof(x)), x.Rows, x.Columns, Host(y, nameof(y)), Options);
    }

    /// <inheritdoc />
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        using var span = Profiler.Kernel(nameof(SoftmaxBackward));
        BackendArguments.SameShape(y, dy, nameof(y), nameof(dy));
        TrainingKernels.SoftmaxBackward(Host(y, nameof(y)), Host(dy, nameof(dy)), y.Rows, y.Columns, Host(dx, nameof(dx)));
    }

    /// <inheritdoc />
    public void LogSumExpRows(Tensor x, Tensor result)
    {
        using var span = Profiler.Kernel(nameof(LogSumExpRows));
        BackendArguments.PerRow(x, result, nameof(x));
        Softmax.LogSumExpRows(Host(x, nameof(x)), x.Rows, x.Columns, Host(result, nameof(result)), Options);
    }

    /// <inheritdoc />
    public float SoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient)
    {
        using var span = Profiler.Kernel(nameof(SoftmaxCrossEntropy));
        return LossKernels.SoftmaxCrossEntropy(Host(logits, nameof(logits)), Host(targets, nameof(targets)), logits.Rows, logits.Columns,
            Host(probabilities, nameof(probabilities)), Host(logitsGradient, nameof(logitsGradient)));
    }

    /// <inheritdoc />
    public float SigmoidCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient)
    {
        using var span = Profiler.Kernel(nameof(SigmoidCrossEntropy));
        return LossKernels.SigmoidCrossEntropy(Host(logits, nameof(logits)), Host(targets, nameof(targets)), logits.Rows, logits.Columns,
            Host(probabilities, nameof(probabilities)), Host(logitsGradient, nameof(logitsGradient)), Options);
    }

    /// <inheritdoc />
    public float SquaredError(Tensor outputs, Tensor targets, Tensor outputsGradient)
    {
        using var span = Profiler.Kernel(nameof(SquaredError));
        return LossKernels.SquaredError(Host(outputs, nameof(outputs)), Host(targets, nameof(targets)), outputs.Rows, outputs.Columns,
            Host(outputsGradient, nameof(outputsGradient)));
    }

    /// <inheritdoc />
    public void ClipColumnNorms(Tensor matrix, float maxNorm)
    {
        using var span = Profiler.Kernel(nameof(ClipColumnNorms));
        TrainingKernels.ClipColumnNorms(Host(matrix, nameof(matrix)), matrix.Rows, matrix.Columns, maxNorm, Scratch(matrix.Columns));
    }

    /// <inheritdoc />
    /// <remarks>Default 512 KB: half of a 1 MB per-core L2, leaving room for the GEMM's product and the images beside
    /// the columns. Keeping LeNet-5's columns in cache instead of unfolding 2 MB at a time took its training step from
    /// 6.5 to 5.0 ms. Set it for a CPU with another cache size.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int ColumnChunkFloats
    {
        get => _columnChunkFloats;
        init => _columnChunkFloats = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ColumnChunkFloats), value, "must be at least 1.");
    }

    private readonly int _columnChunkFloats = 1 << 17;

    /// <inheritdoc />
    public void Im2Col(Tensor images, ConvolutionGeometry geometry, Tensor columns)
    {
        using var span = Profiler.Kernel(nameof(Im2Col));
        BackendArguments.Convolution(images, geometry, columns);
        Kernels.Cpu.Im2Col.Unfold(Host(images, nameof(images)), geometry, Host(columns, nameof(columns)), Options);
    }

    /// <inheritdoc />
    public void Col2Im(Tensor columns, ConvolutionGeometry geometry, Tensor images)
    {
        using var span = Profiler.Kernel(nameof(Col2Im));
        BackendArguments.Convolution(images, geometry, columns);
        Kernels.Cpu.Im2Col.Fold(Host(columns, nameof(columns)), geometry, Host(images, nameof(images)), Options);
    }

    /// <inheritdoc />
    public void SwapLeadingAxes(Tensor input, int outer, int inner, Tensor output)
    {
        using var span = Profiler.Kernel(nameof(SwapLeadingAxes));
        var (a, b, rest) = BackendArguments.SwapLeadingAxes(input, outer, inner, output);
        Blas1.SwapLeadingAxes(Host(input, nameof(input)), a, b, rest, Host(output, nameof(output)));
    }

    /// <summary>Told of every sampling call (method, stream, first block, elements), so tests can audit which Philox blocks a run reads.</summary>
    internal Action<string, RandomStream, ulong, int>? DrawObserver { get; set; }

    /// <inheritdoc />
    public void SampleUniform(RandomStream stream, ulong counter, Tensor destination)
    {
        using var span = Profiler.Kernel(nameof(SampleUniform));
        DrawObserver?.Invoke(nameof(SampleUniform), stream, counter, destination.Length);
        RandomKernels.Uniform(stream, counter, Host(destination, nameof(destination)), Options);
    }

    /// <inheritdoc />
    public void SampleGaussian(RandomStream stream, ulong counter, float mean, float standardDeviation, Tensor destination)
    {
        using var span = Profiler.Kernel(nameof(SampleGaussian));
        DrawObserver?.Invoke(nameof(SampleGaussian), stream, counter, destination.Length);
        RandomKernels.Gaussian(stream, counter, mean, standardDeviation, Host(destination, nameof(destination)), Options);
    }

    /// <inheritdoc />
    public void SampleBernoulli(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples)
    {
        using var span = Profiler.Kernel(nameof(SampleBernoulli));
        DrawObserver?.Invoke(nameof(SampleBernoulli), stream, counter, samples.Length);
        RandomKernels.Bernoulli(stream, counter, Host(probabilities, nameof(probabilities)), Host(samples, nameof(samples)), Options);
    }

    /// <inheritdoc />
    public void SigmoidBernoulli(RandomStream stream, ulong counter, Tensor preActivation, Tensor probabilities, Tensor samples)
    {
        using var span = Profiler.Kernel(nameof(SigmoidBernoulli));
        DrawObserver?.Invoke(nameof(SigmoidBernoulli), stream, counter, samples.Length);
        RandomKernels.SigmoidBernoulli(stream, counter, Host(preActivation, nameof(preActivation)),
            Host(probabilities, nameof(probabilities)), Host(samples, nameof(samples)), Options);
    }

    /// <inheritdoc />
    public void SampleDropoutMask(RandomStream stream, ulong counter, float keepProbability, Tensor mask)
    {
        using var span = Profiler.Kernel(nameof(SampleDropoutMask));
        DrawObserver?.Invoke(nameof(SampleDropoutMask), stream, counter, mask.Length);
        RandomKernels.DropoutMask(stream, counter, keepProbability, Host(mask, nameof(mask)), Options);
    }

    /// <inheritdoc />
    public void SampleOneHot(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples)
    {
        using var span = Profiler.Kernel(nameof(SampleOneHot));
        BackendArguments.OneHotRows(probabilities, samples);
        DrawObserver?.Invoke(nameof(SampleOneHot), stream, counter, samples.Rows);
        RandomKernels.OneHot(stream, counter, Host(probabilities, nameof(probabilities)), Host(samples, nameof(samples)), samples.Columns);
    }

    /// <inheritdoc />
    public void MomentumUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum)
    {
        using var span = Profiler.Kernel(nameof(MomentumUpdate));
        OptimizerKernels.Momentum(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)), Host(velocity, nameof(velocity)),
            learningRate, momentum, Options);
    }

    /// <inheritdoc />
    public void NesterovUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum)
    {
        using var span = Profiler.Kernel(nameof(NesterovUpdate));
        OptimizerKernels.Nesterov(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)), Host(velocity, nameof(velocity)),
            learningRate, momentum, Options);
    }

    /// <inheritdoc />
    public void AdaGradUpdate(Tensor parameters, Tensor gradient, Tensor sumOfSquares, float learningRate, float epsilon)
    {
        using var span = Profiler.Kernel(nameof(AdaGradUpdate));
        OptimizerKernels.AdaGrad(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)), Host(sumOfSquares, nameof(sumOfSquares)),
            learningRate, epsilon, Options);
    }

    /// <inheritdoc />
    public void RmsPropUpdate(Tensor parameters, Tensor gradient, Tensor meanSquare, float learningRate, float decay, float epsilon)
    {
        using var span = Profiler.Kernel(nameof(RmsPropUpdate));
        OptimizerKernels.RmsProp(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)), Host(meanSquare, nameof(meanSquare)),
            learningRate, decay, epsilon, Options);
    }

    /// <inheritdoc />
    public void AdaDeltaUpdate(Tensor parameters, Tensor gradient, Tensor meanSquareGradient, Tensor meanSquareDelta, float decay, float epsilon)
    {
        using var span = Profiler.Kernel(nameof(AdaDeltaUpdate));
        OptimizerKernels.AdaDelta(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)),
            Host(meanSquareGradient, nameof(meanSquareGradient)), Host(meanSquareDelta, nameof(meanSquareDelta)), decay, epsilon, Options);
    }

    /// <inheritdoc />
    public void AdamUpdate(Tensor parameters, Tensor gradient, Tensor firstMoment, Tensor secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, int step)
    {
        using var span = Profiler.Kernel(nameof(AdamUpdate));
        OptimizerKernels.Adam(Host(parameters, nameof(parameters)), Host(gradient, nameof(gradient)), Host(firstMoment, nameof(firstMoment)),
            Host(secondMoment, nameof(secondMoment)), learningRate, beta1, beta2, epsilon, step, Options);
    }

    /// <inheritdoc />
    public void Run<TKernel>(TKernel kernel) where TKernel : struct, IKernelPair
    {
        kernel.Validate();
        using var span = Profiler.Kernel(KernelPairName<TKernel>.Value);
        kernel.RunOnCpu(this);
    }

    Span<float> ICpuKernelHost.Host(Tensor tensor, string argument) => Host(tensor, argument);

    Span<float> ICpuKernelHost.Scratch(long length) => KernelScratch(length);

    /// <summary>Nothing to release: host tensors are managed arrays.</summary>
    public void Dispose() { }

    private Span<float> Host(Tensor t, string argument)
    {
        if (!ReferenceEquals(t.Backend, this))
            throw new ArgumentException($"{argument} lives on backend '{t.Backend.Name}', not on this CPU backend.", argument);
        return t.Span;
    }

    /// <summary>The scratch of the normalization kernels and of the kernel pairs' CPU calls: one array, grown to the largest asked for.</summary>
    private Span<float> KernelScratch(long length)
    {
        if (length > Array.MaxLength) throw new ArgumentException($"The batch needs {length} scratch floats, more than an array holds.");
        if (_kernelScratch.Length < length) _kernelScratch = new float[length];
        return _kernelScratch.AsSpan(0, (int)length);
    }

    private Span<float> Scratch(int length)
    {
        if (_scratch.Length < length) _scratch = new float[length];
        return _scratch.AsSpan(0, length);
    }
}
