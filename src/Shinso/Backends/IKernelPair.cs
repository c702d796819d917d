using Shinso.Kernels.Cpu;
using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>
/// One operation written once for both backends: the call of its CPU kernel and the launch of its OpenCL twin. A layer
/// that needs a new kernel pair adds one such type beside its kernels, and every backend runs it through
/// <see cref="IKernelPairs.Run{TKernel}"/>, so neither a capability interface nor a backend gains a member. The
/// operation's name, in profiles and in the parity table of the tests, is its type's name.
/// </summary>
/// <remarks>Implement it as a <c>readonly record struct</c> of the tensors and settings, so a run allocates nothing.</remarks>
public interface IKernelPair
{
    /// <summary>Checks the tensors' shapes and the settings; throws <see cref="ArgumentException"/> naming the argument.</summary>
    void Validate();

    /// <summary>Runs the CPU kernel on the tensors' host memory, which <paramref name="host"/> hands out.</summary>
    void RunOnCpu(ICpuKernelHost host);

    /// <summary>Sets the arguments of the OpenCL twin (one or more <c>__kernel</c>s of <c>kernels/*.cl</c>) and enqueues it.</summary>
    void Enqueue(IDeviceKernels device);
}

/// <summary>What the CPU backend hands a kernel pair's CPU call.</summary>
public interface ICpuKernelHost
{
    /// <summary>The kernels' settings (SIMD path, threads).</summary>
    CpuKernelOptions Options { get; }

    /// <summary>The host memory of <paramref name="tensor"/>; throws naming <paramref name="argument"/> when it lives on another backend.</summary>
    Span<float> Host(Tensor tensor, string argument);

    /// <summary>A scratch span of <paramref name="length"/> floats, valid until the next kernel runs.</summary>
    /// <exception cref="ArgumentException"><paramref name="length"/> is more than an array holds.</exception>
    Span<float> Scratch(long length);
}

/// <summary>What a device backend hands a kernel pair's OpenCL launch.</summary>
public interface IDeviceKernels
{
    /// <summary>
    /// Starts a launch of the <c>__kernel</c> called <paramref name="kernel"/>; arguments follow in its order. A pair
    /// that launches several kernels runs each launch before it starts the next: the backend reuses one launch object.
    /// </summary>
    IDeviceKernelLaunch Launch(string kernel);
}

/// <summary>
/// A kernel's arguments in order, then its range: <c>device.Launch("axpy").Float(a).Tensor(x, "x").Tensor(y, "y").Int(n).Run(n)</c>.
/// A tensor is two kernel arguments, its buffer and its element offset.
/// </summary>
public interface IDeviceKernelLaunch
{
    /// <summary>Adds <paramref name="tensor"/> (buffer, offset); throws naming <paramref name="argument"/> when it lives on another backend.</summary>
    IDeviceKernelLaunch Tensor(Tensor tensor, string argument);

    /// <summary>Adds an <c>int</c>.</summary>
    IDeviceKernelLaunch Int(int value);

    /// <summary>Adds a <c>float</c>.</summary>
    IDeviceKernelLaunch Float(float value);

    /// <summary>
    /// Enqueues one work-item per point of the <paramref name="x"/> x <paramref name="y"/> x <paramref name="z"/> range
    /// (nothing when one is 0); the first axis is rounded up to whole work-groups, so the kernel checks its bound.
    /// </summary>
    void Run(int x, int y = 1, int z = 1);
}

/// <summary>The name of a kernel pair in profiles: its type's name.</summary>
internal static class KernelPairName<TKernel> where TKernel : struct, IKernelPair
{
    public static readonly string Value = typeof(TKernel).Name;
}
