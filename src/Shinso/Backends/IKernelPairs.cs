namespace Shinso.Backends;

/// <summary>Runs <see cref="IKernelPair"/> operations. One capability of an <see cref="IBackend"/>.</summary>
public interface IKernelPairs
{
    /// <summary>Validates <paramref name="kernel"/> and runs it on this backend: its CPU kernel or its OpenCL twin.</summary>
    /// <exception cref="ArgumentException">A tensor lives on another backend, or a shape or setting is wrong.</exception>
    void Run<TKernel>(TKernel kernel) where TKernel : struct, IKernelPair;
}
