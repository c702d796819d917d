using System.Runtime.InteropServices;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx.Import;

/// <summary>Reads <c>TensorProto</c>s (initialisers, constants, the conformance suite's <c>.pb</c> files) into <see cref="OnnxValue"/>s.</summary>
internal static class TensorDecoding
{
    /// <summary>Dimensions past this are refused as absurd before anything is allocated.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>
    /// Decodes <paramref name="tensor"/>; <paramref name="what"/> names it in errors (e.g. <c>initialiser 'W' of model.onnx</c>) and
    /// <paramref name="directory"/> is where external data files are looked up (null: external data is refused).
    /// </summary>
    /// <exception cref="OnnxImportException">The dimensions are negative or absurd, the data does not fill the shape, or the data file is missing.</exception>
    /// <exception cref="OnnxUnsupportedException">The element type is not float, int32, int64 or bool.</exception>
    public static OnnxValue Decode(TensorProto tensor, string what, string? directory)
    {
        var shape = new int[tensor.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = tensor.Dims[i];
            if (d < 0 || d > MaxElements) throw new OnnxImportException($"{what}: dimension {i} is {d}; expected 0 to {MaxElements}.");
            count *= d;
            if (count > MaxElements) throw new OnnxImportException($"{what}: dims [{string.Join(", ", tensor.Dims)}] hold more than {MaxElements} elements.");
            shape[i] = (int)d;
        }
        var type = (TensorProto.Types.DataType)tensor.DataType;
        ReadOnlySpan<byte> raw = tensor.HasRawData ? tensor.RawData.Span : default;
        if (tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External)
            raw = ReadExternal(tensor, what, directory);
        bool hasRaw = tensor.HasRawData || tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External;
        int n = (int)count;
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
            {
                float[] data = hasRaw ? FromRaw<float>(raw, n, 4, what) : Typed(tensor.FloatData, n, "float_data", what);
                return OnnxValue.FromFloats(shape, data);
            }
            case TensorProto.Types.DataType.Int64:
            {
                long[] data = hasRaw ? FromRaw<long>(raw, n, 8, what) : Typed(tensor.Int64Data, n, "int64_data", what);
                return OnnxValue.FromIntegers(OnnxElementType.Int64, shape, data);
            }
            case TensorProto.Types.DataType.Int32:
            {
                long[] data = hasRaw ? Widen(FromRaw<int>(raw, n, 4, what)) : Widen(Typed(tensor.Int32Data, n, "int32_data", what));
                return OnnxValue.FromIntegers(OnnxElementType.Int32, shape, data);
            }
            case TensorProto.Types.DataType.Bool:
            {
                long[] data = hasRaw ? FromRaw<byte>(raw, n, 1, what).Select(b => b != 0 ? 1L : 0L).ToArray() : Widen(Typed(tensor.Int32Data, n, "int32_data", what));
                return OnnxValue.FromIntegers(OnnxElementType.Bool, shape, data);
            }
            default:
                throw new OnnxUnsupportedException($"{what}: element type {type} ({tensor.DataType}) is not supported; Shinso imports float, int32, int64 and bool tensors.", "");
        }
    }

    private static T[] FromRaw<T>(ReadOnlySpan<byte> raw, int count, int size, string what) where T : unmanaged
    {
        if (raw.Length != (long)count * size)
            throw new OnnxImportException($"{what}: raw_data holds {raw.Length} bytes; the shape's {count} elements of {size} bytes need {(long)count * size}.");
        return MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    private static T[] Typed<T>(IReadOnlyList<T> field, int count, string name, string what)
    {
        if (field.Count != count) throw new OnnxImportException($"{what}: {name} holds {field.Count} values; the shape needs {count}.");
        var data = new T[count];
        for (int i = 0; i < count; i++) data[i] = field[i];
        return data;
    }

    private static long[] Widen(int[] values)
    {
        var wide = new long[values.Length];
        for (int i = 0; i < values.Length; i++) wide[i] = values[i];
        return wide;
    }

    private static byte[] ReadExternal(TensorProto tensor, string what, string? directory)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in tensor.ExternalData)
        {
            if (entry.Key == "location") location = entry.Value;
            else if (entry.Key == "offset" && !long.TryParse(entry.Value, out offset)) throw new OnnxImportException($"{what}: external_data offset '{entry.Value}' is not an integer.");
            else if (entry.Key == "length" && !long.TryParse(entry.Value, out length)) throw new OnnxImportException($"{what}: external_data length '{entry.Value}' is not an integer.");
        }
        if (string.IsNullOrEmpty(location)) throw new OnnxImportException($"{what}: data_location is EXTERNAL but external_data names no location.");
        if (directory is null) throw new OnnxImportException($"{what}: its data is in the external file '{location}', and this model was read from memory, not a file.");
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains("..")) throw new OnnxImportException($"{what}: external data location '{location}' must be a relative path inside the model's folder.");
        string path = Path.Combine(directory, location);
        if (!File.Exists(path)) throw new OnnxImportException($"{what}: its external data file {path} does not exist.");
        using var stream = File.OpenRead(path);
        if (offset < 0 || offset > stream.Length) throw new OnnxImportException($"{what}: external data offset {offset} is outside {path} ({stream.Length} bytes).");
        if (length < 0) length = stream.Length - offset;
        if (offset + length > stream.Length || length > MaxElements * 8) throw new OnnxImportException($"{what}: external data of {length} bytes at offset {offset} runs past the end of {path} ({stream.Length} bytes).");
        var bytes = new byte[length];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }
}
