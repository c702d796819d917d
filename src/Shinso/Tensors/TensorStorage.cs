using Shinso.Backends;

namespace Shinso.Tensors;

/// <summary>Memory owned by a backend: host arrays on the CPU, device buffers elsewhere.</summary>
public abstract class TensorStorage
{
    /// <summary>The backend that owns this memory and runs operations on it.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>Capacity in float32 elements.</summary>
    public abstract int Length { get; }
}

/// <summary>Storage in a managed float array, used by the CPU backend.</summary>
public sealed class HostStorage : TensorStorage
{
    internal HostStorage(IBackend backend, float[] data)
    {
        Backend = backend;
        Data = data;
    }

    /// <inheritdoc />
    public override IBackend Backend { get; }

    /// <inheritdoc />
    public override int Length => Data.Length;

    internal float[] Data { get; }
}
