using Shinso.Backends;

namespace Shinso.Tensors;

/// <summary>
/// A float32 tensor: a shape over contiguous row-major storage owned by a backend.
/// Views (<see cref="Reshape"/>, <see cref="SliceRows"/>) share storage and cost no copy.
/// </summary>
/// <remarks>
/// A tensor is a window (<see cref="Offset"/>, <see cref="Length"/>) into its <see cref="Storage"/>.
/// Host tensors expose their elements as a <see cref="Span"/>; device tensors are read and
/// written through their backend's Upload and Download.
/// </remarks>
public sealed class Tensor
{
    private readonly int[] _shape;

    internal Tensor(TensorStorage storage, int offset, int[] shape)
    {
        long length = ElementCount(shape);
        if (offset < 0 || offset + length > storage.Length)
            throw new ArgumentException(
                $"A view of {length} elements at offset {offset} does not fit storage of {storage.Length} elements.", nameof(offset));
        Storage = storage;
        Offset = offset;
        _shape = shape;
        Length = (int)length;
    }

    /// <summary>
    /// A tensor of <paramref name="shape"/> over <paramref name="storage"/> starting at element
    /// <paramref name="offset"/>. Backends other than the CPU use this to wrap their device buffers.
    /// </summary>
    /// <exception cref="ArgumentException">The view does not fit the storage or a dimension is negative.</exception>
    public static Tensor OnStorage(TensorStorage storage, int offset, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return new Tensor(storage, offset, (int[])shape.Clone());
    }

    /// <summary>The storage this tensor is a window into.</summary>
    public TensorStorage Storage { get; }

    /// <summary>The backend that owns the storage.</summary>
    public IBackend Backend => Storage.Backend;

    /// <summary>Index of the first element within <see cref="Storage"/>.</summary>
    public int Offset { get; }

    /// <summary>Number of elements (the product of the shape).</summary>
    public int Length { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int Dim(int axis) => _shape[axis];

    /// <summary>Rows when the tensor is read as a matrix: the outermost dimension (1 for a scalar).</summary>
    public int Rows => _shape.Length == 0 ? 1 : _shape[0];

    /// <summary>Columns when the tensor is read as a matrix: all inner dimensions flattened.</summary>
    public int Columns => Rows == 0 ? 0 : Length / Rows;

    /// <summary>The elements, for tensors whose storage lives in host memory.</summary>
    /// <exception cref="InvalidOperationException">The storage lives on a device.</exception>
    public Span<float> Span => Storage is HostStorage host
        ? host.Data.AsSpan(Offset, Length)
        : throw new InvalidOperationException(
            $"This tensor lives on backend '{Backend.Name}'; use the backend's Download to read it.");

    /// <summary>True when <see cref="Span"/> is available.</summary>
    public bool IsHost => Storage is HostStorage;

    /// <summary>A view with the same elements and another shape of equal length.</summary>
    public Tensor Reshape(params int[] shape)
    {
        long length = ElementCount(shape);
        if (length != Length)
            throw new ArgumentException(
                $"Cannot reshape {ShapeText(_shape)} ({Length} elements) to {ShapeText(shape)} ({length} elements).", nameof(shape));
        return new Tensor(Storage, Offset, (int[])shape.Clone());
    }

    /// <summary>A view of rows [<paramref name="start"/>, start + <paramref name="count"/>) of the outermost dimension.</summary>
    public Tensor SliceRows(int start, int count)
    {
        if (Rank == 0) throw new InvalidOperationException("A scalar has no rows to slice.");
        if (start < 0 || count < 0 || start + count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start),
                $"Rows [{start}, {start + count}) are outside the {_shape[0]} rows of a {ShapeText(_shape)} tensor.");
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        return new Tensor(Storage, Offset + start * Columns, shape);
    }

    /// <summary>The shape as text, e.g. <c>[100, 784]</c>.</summary>
    public override string ToString() => $"Tensor{ShapeText(_shape)} on {Backend.Name}";

    /// <summary>A shape as text, such as <c>[100, 784]</c>, for error messages.</summary>
    public static string ShapeText(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>The number of elements of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the count exceeds the largest array.</exception>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Dimension {d} in {ShapeText(shape)} is negative.", nameof(shape));
            n *= d;
        }
        if (n > Array.MaxLength) throw new ArgumentException($"A tensor of shape {ShapeText(shape)} exceeds {Array.MaxLength} elements.", nameof(shape));
        return n;
    }
}
