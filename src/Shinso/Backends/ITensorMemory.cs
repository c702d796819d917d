using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>Allocating tensors and moving values between them and the host. One capability of an <see cref="IBackend"/>.</summary>
public interface ITensorMemory
{
    /// <summary>A new zero-filled tensor of the given shape.</summary>
    Tensor Allocate(params int[] shape);

    /// <summary>Copies host values into <paramref name="destination"/> (lengths must match).</summary>
    void Upload(ReadOnlySpan<float> source, Tensor destination);

    /// <summary>Copies <paramref name="source"/> into host memory (lengths must match).</summary>
    void Download(Tensor source, Span<float> destination);

    /// <summary><c>destination = source</c> (lengths must match).</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>Sets every element of <paramref name="tensor"/> to <paramref name="value"/>.</summary>
    void Fill(Tensor tensor, float value);
}
