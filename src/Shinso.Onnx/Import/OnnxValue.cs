namespace Shinso.Onnx.Import;

/// <summary>The element types an imported graph computes with (ONNX <c>TensorProto.DataType</c> codes).</summary>
public enum OnnxElementType
{
    /// <summary>32-bit float: every arithmetic operator.</summary>
    Float = 1,

    /// <summary>32-bit integer, held as 64-bit values.</summary>
    Int32 = 6,

    /// <summary>64-bit integer: shapes, axes, pads.</summary>
    Int64 = 7,

    /// <summary>Boolean, held as 0 or 1 (Dropout's mask).</summary>
    Bool = 9,
}

/// <summary>One tensor value of an imported graph, on the host: its shape and its elements in row-major order.</summary>
public sealed class OnnxValue
{
    private OnnxValue(OnnxElementType type, int[] shape, float[]? floats, long[]? integers)
    {
        ElementType = type;
        Shape = shape;
        Floats = floats;
        Integers = integers;
    }

    /// <summary>The element type.</summary>
    public OnnxElementType ElementType { get; }

    /// <summary>The dimensions (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>The elements of a float tensor, else null.</summary>
    public float[]? Floats { get; }

    /// <summary>The elements of an integer or boolean tensor, else null.</summary>
    public long[]? Integers { get; }

    /// <summary>The number of elements, the product of the dimensions.</summary>
    public int Length => Floats?.Length ?? Integers!.Length;

    /// <summary>The rank.</summary>
    public int Rank => Shape.Length;

    /// <summary>A float tensor of <paramref name="shape"/> holding <paramref name="data"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The data's length is not the product of the dimensions, or a dimension is negative.</exception>
    public static OnnxValue FromFloats(int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        Check(shape, data.Length);
        return new OnnxValue(OnnxElementType.Float, shape, data, null);
    }

    /// <summary>An integer or boolean tensor of <paramref name="shape"/> holding <paramref name="data"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The type is float, the data's length is not the product of the dimensions, or a dimension is negative.</exception>
    public static OnnxValue FromIntegers(OnnxElementType type, int[] shape, long[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (type == OnnxElementType.Float) throw new ArgumentException("Float tensors hold floats; use FromFloats.", nameof(type));
        Check(shape, data.Length);
        return new OnnxValue(type, shape, null, data);
    }

    /// <summary>The product of <paramref name="shape"/>'s dimensions.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the product passes <see cref="int.MaxValue"/>.</exception>
    public static int CountOf(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Dimension {d} is negative.", nameof(shape));
            count *= d;
            if (count > int.MaxValue) throw new ArgumentException($"A tensor of shape [{string.Join(", ", shape.ToArray())}] has more than {int.MaxValue} elements.", nameof(shape));
        }
        return (int)count;
    }

    /// <summary>The shape as ONNX tools print it, e.g. <c>[1, 3, 224, 224]</c>.</summary>
    public static string ShapeText(ReadOnlySpan<int> shape) => $"[{string.Join(", ", shape.ToArray())}]";

    /// <inheritdoc />
    public override string ToString() => $"{ElementType.ToString().ToLowerInvariant()} {ShapeText(Shape)}";

    private static void Check(int[] shape, int length)
    {
        int count = CountOf(shape);
        if (count != length) throw new ArgumentException($"Shape {ShapeText(shape)} holds {count} elements, but {length} were given.", nameof(shape));
    }
}
