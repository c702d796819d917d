using Shinso.Kernels.Cpu;
using Shinso.Profiling;
using Shinso.Tensors;

namespace Shinso.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public void ShrinkageStep(Tensor current, Tensor previous, Tensor product, Tensor previousProduct, Tensor correlation, Tensor momentum,
        float step, float threshold)
    {
        using var span = Profiler.Kernel(nameof(ShrinkageStep));
        BackendArguments.SparseCoding(current, previous, "previous", product, previousProduct, correlation, momentum);
        SparseCodingKernels.ShrinkageStep(Host(current, nameof(current)), Host(previous, nameof(previous)), Host(product, nameof(product)),
            Host(previousProduct, nameof(previousProduct)), Host(correlation, nameof(correlation)), Host(momentum, nameof(momentum)),
            current.Rows, current.Columns, step, threshold, Options);
    }

    /// <inheritdoc />
    public void AcceptDescent(Tensor candidate, Tensor candidateProduct, Tensor current, Tensor product, Tensor correlation, float lambda,
        Tensor objective, Tensor t, Tensor momentum)
    {
        using var span = Profiler.Kernel(nameof(AcceptDescent));
        BackendArguments.SparseCoding(current, candidate, "candidate", product, candidateProduct, correlation, momentum, objective, t);
        SparseCodingKernels.AcceptDescent(Host(candidate, nameof(candidate)), Host(candidateProduct, nameof(candidateProduct)), Host(current, nameof(current)),
            Host(product, nameof(product)), Host(correlation, nameof(correlation)), lambda, Host(objective, nameof(objective)), Host(t, nameof(t)),
            Host(momentum, nameof(momentum)), current.Rows, current.Columns, Options);
    }

    /// <inheritdoc />
    public void PoolingRoots(Tensor pooled, float epsilon, Tensor roots, Tensor inverseRoots)
    {
        using var span = Profiler.Kernel(nameof(PoolingRoots));
        BackendArguments.SameShape(pooled, roots, nameof(pooled), nameof(roots));
        BackendArguments.SameShape(pooled, inverseRoots, nameof(pooled), nameof(inverseRoots));
        SparseCodingKernels.PoolingRoots(Host(pooled, nameof(pooled)), epsilon, Host(roots, nameof(roots)), Host(inverseRoots, nameof(inverseRoots)));
    }

    /// <inheritdoc />
    public void ExtrapolatedResidual(Tensor reconstruction, Tensor previousReconstruction, Tensor data, Tensor momentum, Tensor residual)
    {
        using var span = Profiler.Kernel(nameof(ExtrapolatedResidual));
        BackendArguments.FactoredResidual(reconstruction, previousReconstruction, data, momentum, residual);
        SparseCodingKernels.ExtrapolatedResidual(Host(reconstruction, nameof(reconstruction)), Host(previousReconstruction, nameof(previousReconstruction)),
            Host(data, nameof(data)), Host(momentum, nameof(momentum)), Host(residual, nameof(residual)), reconstruction.Rows, reconstruction.Columns, Options);
    }

    /// <inheritdoc />
    public void ProximalStep(Tensor current, Tensor previous, Tensor gradient, Tensor momentum, float step, float threshold)
    {
        using var span = Profiler.Kernel(nameof(ProximalStep));
        BackendArguments.SameShape(current, previous, nameof(current), nameof(previous));
        BackendArguments.SameShape(current, gradient, nameof(current), nameof(gradient));
        BackendArguments.OnePerRow(current, momentum, nameof(current), nameof(momentum));
        SparseCodingKernels.ProximalStep(Host(current, nameof(current)), Host(previous, nameof(previous)), Host(gradient, nameof(gradient)),
            Host(momentum, nameof(momentum)), current.Rows, current.Columns, step, threshold, Options);
    }

    /// <inheritdoc />
    public void AcceptReconstruction(Tensor candidate, Tensor candidateReconstruction, Tensor current, Tensor reconstruction, Tensor data, float lambda,
        Tensor objective, Tensor t, Tensor momentum)
    {
        using var span = Profiler.Kernel(nameof(AcceptReconstruction));
        BackendArguments.FactoredAcceptance(candidate, candidateReconstruction, current, reconstruction, data, objective, t, momentum);
        SparseCodingKernels.AcceptReconstruction(Host(candidate, nameof(candidate)), Host(candidateReconstruction, nameof(candidateReconstruction)),
            Host(current, nameof(current)), Host(reconstruction, nameof(reconstruction)), Host(data, nameof(data)), lambda, Host(objective, nameof(objective)),
            Host(t, nameof(t)), Host(momentum, nameof(momentum)), current.Rows, current.Columns, data.Columns, Options);
    }
}
