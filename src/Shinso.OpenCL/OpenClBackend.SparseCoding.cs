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
}
