using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.OpenCL;

public sealed partial class OpenClBackend
{
    /// <inheritdoc />
    public void ShrinkageStep(Tensor current, Tensor previous, Tensor product, Tensor previousProduct, Tensor correlation, Tensor momentum,
        float step, float threshold)
    {
        Device(current, nameof(current));
        Device(previous, nameof(previous));
        Device(product, nameof(product));
        Device(previousProduct, nameof(previousProduct));
        Device(correlation, nameof(correlation));
        Device(momentum, nameof(momentum));
        BackendArguments.SparseCoding(current, previous, "previous", product, previousProduct, correlation, momentum);
        Launch("shrinkage_step").Tensor(current).Tensor(previous).Tensor(product).Tensor(previousProduct).Tensor(correlation).Tensor(momentum)
            .Int(current.Rows).Int(current.Columns).Float(step).Float(threshold).Run(current.Columns, current.Rows);
    }

    /// <inheritdoc />
    public void AcceptDescent(Tensor candidate, Tensor candidateProduct, Tensor current, Tensor product, Tensor correlation, float lambda,
        Tensor objective, Tensor t, Tensor momentum)
    {
        Device(candidate, nameof(candidate));
        Device(candidateProduct, nameof(candidateProduct));
        Device(current, nameof(current));
        Device(product, nameof(product));
        Device(correlation, nameof(correlation));
        Device(objective, nameof(objective));
        Device(t, nameof(t));
        Device(momentum, nameof(momentum));
        BackendArguments.SparseCoding(current, candidate, "candidate", product, candidateProduct, correlation, momentum, objective, t);
        Launch("accept_descent").Tensor(candidate).Tensor(candidateProduct).Tensor(current).Tensor(product).Tensor(correlation).Float(lambda)
            .Tensor(objective).Tensor(t).Tensor(momentum).Int(current.Rows).Int(current.Columns).Run(current.Rows);
    }

    /// <inheritdoc />
    public void PoolingRoots(Tensor pooled, float epsilon, Tensor roots, Tensor inverseRoots)
    {
        Device(pooled, nameof(pooled));
        Device(roots, nameof(roots));
        Device(inverseRoots, nameof(inverseRoots));
        BackendArguments.SameShape(pooled, roots, nameof(pooled), nameof(roots));
        BackendArguments.SameShape(pooled, inverseRoots, nameof(pooled), nameof(inverseRoots));
        if (pooled.Length == 0) return;
        Launch("pooling_roots").Tensor(pooled).Float(epsilon).Tensor(roots).Tensor(inverseRoots).Int(pooled.Length).Run(pooled.Length);
    }

    /// <inheritdoc />
    public void ExtrapolatedResidual(Tensor reconstruction, Tensor previousReconstruction, Tensor data, Tensor momentum, Tensor residual)
    {
        Device(reconstruction, nameof(reconstruction));
        Device(previousReconstruction, nameof(previousReconstruction));
        Device(data, nameof(data));
        Device(momentum, nameof(momentum));
        Device(residual, nameof(residual));
        BackendArguments.FactoredResidual(reconstruction, previousReconstruction, data, momentum, residual);
        Launch("extrapolated_residual").Tensor(reconstruction).Tensor(previousReconstruction).Tensor(data).Tensor(momentum).Tensor(residual)
            .Int(reconstruction.Rows).Int(reconstruction.Columns).Run(reconstruction.Columns, reconstruction.Rows);
    }

    /// <inheritdoc />
    public void ProximalStep(Tensor current, Tensor previous, Tensor gradient, Tensor momentum, float step, float threshold)
    {
        Device(current, nameof(current));
        Device(previous, nameof(previous));
        Device(gradient, nameof(gradient));
        Device(momentum, nameof(momentum));
        BackendArguments.SameShape(current, previous, nameof(current), nameof(previous));
        BackendArguments.SameShape(current, gradient, nameof(current), nameof(gradient));
        BackendArguments.OnePerRow(current, momentum, nameof(current), nameof(momentum));
        Launch("proximal_step").Tensor(current).Tensor(previous).Tensor(gradient).Tensor(momentum).Int(current.Rows).Int(current.Columns)
            .Float(step).Float(threshold).Run(current.Columns, current.Rows);
    }

    /// <inheritdoc />
    public void AcceptReconstruction(Tensor candidate, Tensor candidateReconstruction, Tensor current, Tensor reconstruction, Tensor data, float lambda,
        Tensor objective, Tensor t, Tensor momentum)
    {
        Device(candidate, nameof(candidate));
        Device(candidateReconstruction, nameof(candidateReconstruction));
        Device(current, nameof(current));
        Device(reconstruction, nameof(reconstruction));
        Device(data, nameof(data));
        Device(objective, nameof(objective));
        Device(t, nameof(t));
        Device(momentum, nameof(momentum));
        BackendArguments.FactoredAcceptance(candidate, candidateReconstruction, current, reconstruction, data, objective, t, momentum);
        Launch("accept_reconstruction").Tensor(candidate).Tensor(candidateReconstruction).Tensor(current).Tensor(reconstruction).Tensor(data).Float(lambda)
            .Tensor(objective).Tensor(t).Tensor(momentum).Int(current.Rows).Int(current.Columns).Int(data.Columns).Run(current.Rows);
    }
}
