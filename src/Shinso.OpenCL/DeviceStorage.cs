using System.Runtime.InteropServices;
using Shinso.Backends;
using Shinso.OpenCL.Native;
using Shinso.Tensors;

namespace Shinso.OpenCL;

/// <summary>A cl_mem buffer released when the last tensor over it is collected (or the storage is disposed).</summary>
internal sealed class BufferHandle : SafeHandle
{
    public BufferHandle(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    // clReleaseMemObject is thread-safe, so the finalizer thread may release buffers while kernels run.
    protected override bool ReleaseHandle() => OpenClApi.clReleaseMemObject(handle) == 0;
}

/// <summary>Device memory of an <see cref="OpenClBackend"/>: one cl_mem buffer of float32 elements.</summary>
public sealed class DeviceStorage : TensorStorage, IDisposable
{
    private readonly OpenClBackend _backend;

    internal DeviceStorage(OpenClBackend backend, BufferHandle buffer, int length)
    {
        _backend = backend;
        Buffer = buffer;
        Length = length;
    }

    /// <inheritdoc />
    public override IBackend Backend => _backend;

    /// <inheritdoc />
    public override int Length { get; }

    internal BufferHandle Buffer { get; }

    /// <summary>Releases the device buffer now instead of when the tensor is collected.</summary>
    public void Dispose() => Buffer.Dispose();
}
