using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>
/// The seam between models and kernels: every heavy operation a model performs goes through
/// this interface, so the same model code runs on the CPU and on OpenCL devices.
/// </summary>
/// <remarks>
/// All tensors passed to a backend must be owned by that backend. Matrix operations read a
/// tensor as <see cref="Tensor.Rows"/> x <see cref="Tensor.Columns"/> in row-major order.
/// Unless stated otherwise, outputs may alias inputs of the same shape (elementwise operations
/// run in place), and shapes that do not fit throw <see cref="ArgumentException"/> naming the argument.
/// </remarks>
public interface IBackend : IDisposable, ITensorMemory, ILinearAlgebra, IActivationsAndLosses, IConvolution, ISampling, IOptimizerUpdates,
    IBoltzmannStatistics, ISparseCoding, IKernelPairs
{
    /// <summary>A short name such as <c>cpu</c> or <c>opencl:0</c>.</summary>
    string Name { get; }
}
