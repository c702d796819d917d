using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Shinso.Data;

/// <summary>The element types of a NumPy array that Shinso reads.</summary>
public enum NumpyType
{
    /// <summary><c>|b1</c>: bool, one byte.</summary>
    Bool,
    /// <summary><c>|u1</c>: uint8.</summary>
    UInt8,
    /// <summary><c>|i1</c>: int8.</summary>
    Int8,
    /// <summary><c>&lt;u2</c>: uint16.</summary>
    UInt16,
    /// <summary><c>&lt;i2</c>: int16.</summary>
    Int16,
    /// <summary><c>&lt;u4</c>: uint32.</summary>
    UInt32,
    /// <summary><c>&lt;i4</c>: int32.</summary>
    Int32,
    /// <summary><c>&lt;u8</c>: uint64.</summary>
    UInt64,
    /// <summary><c>&lt;i8</c>: int64.</summary>
    Int64,
    /// <summary><c>&lt;f4</c>: float32.</summary>
    Float32,
    /// <summary><c>&lt;f8</c>: float64.</summary>
    Float64,
}

/// <summary>
/// One array of a <c>.npy</c> file or <c>.npz</c> archive (NumPy's format, version 1 to 3): its name, shape and
/// little-endian C-order payload.
/// </summary>
public sealed class NumpyArray
{
    internal NumpyArray(string name, NumpyType type, int[] shape, byte[] data)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Data = data;
    }

    /// <summary>The array's name: the archive entry without <c>.npy</c>.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public NumpyType Type { get; }

    /// <summary>The shape, outermost dimension first.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The raw payload, C order, little endian.</summary>
    public byte[] Data { get; }

    /// <summary>The number of elements.</summary>
    public long Length
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Whether the elements are whole numbers (bool or an integer type).</summary>
    public bool IsInteger => Type is not (NumpyType.Float32 or NumpyType.Float64);

    /// <summary>Element <paramref name="index"/> as a double (exact for every type but 64-bit integers beyond 2^53).</summary>
    public double this[long index] => Type switch
    {
        NumpyType.Bool or NumpyType.UInt8 => Data[index],
        NumpyType.Int8 => (sbyte)Data[index],
        NumpyType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan((int)(index * 2))),
        NumpyType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(Data.AsSpan((int)(index * 2))),
        NumpyType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan((int)(index * 4))),
        NumpyType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan((int)(index * 4))),
        NumpyType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(Data.AsSpan((int)(index * 8))),
        NumpyType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan((int)(index * 8))),
        NumpyType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan((int)(index * 4))),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(Data.AsSpan((int)(index * 8))),
    };

    /// <summary>The elements as floats, each divided by <paramref name="divisor"/> (255 maps bytes to [0, 1] exactly as the IDX reader does).</summary>
    public float[] ToFloats(float divisor = 1f)
    {
        var result = new float[Length];
        if (Type == NumpyType.UInt8)
        {
            Span<float> table = stackalloc float[256];
            for (int b = 0; b < 256; b++) table[b] = b / divisor;
            for (int i = 0; i < result.Length; i++) result[i] = table[Data[i]];
        }
        else if (Type == NumpyType.Float32 && divisor == 1f)
        {
            for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(i * 4));
        }
        else
        {
            for (int i = 0; i < result.Length; i++) result[i] = (float)(this[i] / divisor);
        }
        return result;
    }
}

/// <summary>
/// Reads NumPy's <c>.npy</c> arrays and <c>.npz</c> archives (a zip of <c>.npy</c> files, stored or deflated, as
/// <c>np.savez</c> and <c>np.savez_compressed</c> write them). Errors are <see cref="DataFormatException"/>s naming
/// the file, the array and the field.
/// </summary>
public static class NumpyArchive
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Whether <paramref name="header"/> starts like a zip archive (an <c>.npz</c>).</summary>
    public static bool LooksLikeArchive(ReadOnlySpan<byte> header) =>
        header.Length >= 4 && header[0] == (byte)'P' && header[1] == (byte)'K' && header[2] is 3 or 5 && header[3] is 4 or 6;

    /// <summary>Whether <paramref name="header"/> starts with the <c>.npy</c> magic string.</summary>
    public static bool LooksLikeArray(ReadOnlySpan<byte> header) => header.StartsWith(Magic);

    /// <summary>Every array of the archive at <paramref name="path"/>, by name.</summary>
    /// <exception cref="DataFormatException">The file is not a zip archive, or an entry is not a readable <c>.npy</c> array.</exception>
    public static IReadOnlyDictionary<string, NumpyArray> ReadArchive(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var arrays = new Dictionary<string, NumpyArray>(StringComparer.Ordinal);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, "archive", $"not a readable zip archive (.npz): {e.Message}", e);
        }
        using (zip)
        {
            // The central directory is read on first use of Entries, so a corrupt one surfaces here.
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try
            {
                entries = zip.Entries;
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException(path, "archive", $"the zip archive's directory is corrupt: {e.Message}", e);
            }
            foreach (var entry in entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                try
                {
                    using var stream = entry.Open();
                    arrays[name] = ReadArray(stream, path, name);
                }
                catch (InvalidDataException e)
                {
                    throw new DataFormatException(path, name, $"the compressed entry is corrupt: {e.Message}", e);
                }
            }
        }
        return arrays;
    }

    /// <summary>Writes a float32 <c>.npy</c> array (format 1.0, C order) to <paramref name="stream"/> (callers that write files make them atomic, e.g. with <c>AtomicFile.Write</c>).</summary>
    /// <exception cref="ArgumentException">The data's length is not the product of the shape.</exception>
    public static void WriteArray(Stream stream, IReadOnlyList<int> shape, ReadOnlySpan<float> data) =>
        WriteArray(stream, shape, "<f4", System.Runtime.InteropServices.MemoryMarshal.AsBytes(data), data.Length);

    /// <summary>Writes an int64 <c>.npy</c> array (format 1.0, C order) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The data's length is not the product of the shape.</exception>
    public static void WriteArray(Stream stream, IReadOnlyList<int> shape, ReadOnlySpan<long> data) =>
        WriteArray(stream, shape, "<i8", System.Runtime.InteropServices.MemoryMarshal.AsBytes(data), data.Length);

    private static void WriteArray(Stream stream, IReadOnlyList<int> shape, string descr, ReadOnlySpan<byte> payload, int count)
    {
        long expected = 1;
        foreach (int d in shape) expected *= d;
        if (expected != count) throw new ArgumentException($"Shape {Text(shape)} holds {expected} elements, but {count} were given.", nameof(shape));
        string dictionary = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {Text(shape)}, }}";
        // The header (magic, version, length, dictionary, padding, newline) is a multiple of 64 bytes, as NumPy writes it.
        int unpadded = Magic.Length + 2 + 2 + dictionary.Length + 1;
        string header = dictionary + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var prefix = new byte[Magic.Length + 4 + header.Length];
        Magic.CopyTo(prefix);
        prefix[Magic.Length] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(Magic.Length + 2), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, prefix.AsSpan(Magic.Length + 4));
        stream.Write(prefix);
        stream.Write(payload);
    }

    /// <summary>Reads one <c>.npy</c> array from <paramref name="stream"/>; <paramref name="path"/> and <paramref name="name"/> name it in errors.</summary>
    /// <exception cref="DataFormatException">The magic string, header, element type, order or payload is wrong.</exception>
    public static NumpyArray ReadArray(Stream stream, string path, string name)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = ReadUpTo(stream, prefix[..8]);
        if (got < 8 || !prefix.StartsWith(Magic))
            throw new DataFormatException(path, $"{name}: magic", "expected a .npy array starting with \\x93NUMPY");
        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            if (ReadUpTo(stream, prefix.Slice(8, 2)) < 2) throw new DataFormatException(path, $"{name}: header", "truncated header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.Slice(8, 2));
        }
        else if (major is 2 or 3)
        {
            if (ReadUpTo(stream, prefix.Slice(8, 4)) < 4) throw new DataFormatException(path, $"{name}: header", "truncated header length");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix.Slice(8, 4));
            if (length > 1 << 20) throw new DataFormatException(path, $"{name}: header", $"header length {length} is implausible (over 1 MiB)");
            headerLength = (int)length;
        }
        else
        {
            throw new DataFormatException(path, $"{name}: version", $"format version {major}.{prefix[7]}; expected 1.0, 2.0 or 3.0");
        }
        var headerBytes = new byte[headerLength];
        if (ReadUpTo(stream, headerBytes) < headerLength) throw new DataFormatException(path, $"{name}: header", "truncated header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (type, elementSize) = ParseType(header, path, name);
        if (DictionaryValue(header, "fortran_order", path, name) is not "False")
            throw new DataFormatException(path, $"{name}: fortran_order", "the array is in Fortran order; save it in C order (np.ascontiguousarray)");
        int[] shape = ParseShape(DictionaryValue(header, "shape", path, name), path, name);
        long count = 1;
        foreach (int d in shape)
        {
            // Bounded before multiplying, so no shape can wrap the count.
            if (d > 0 && count > Array.MaxLength / d)
                throw new DataFormatException(path, $"{name}: shape", $"{Text(shape)} has more elements than one array holds");
            count *= d;
        }
        long bytes = count * elementSize;
        if (bytes > Array.MaxLength) throw new DataFormatException(path, $"{name}: shape", $"{Text(shape)} of {elementSize}-byte elements does not fit in one array");
        var data = new byte[bytes];
        int read = ReadUpTo(stream, data);
        if (read < bytes)
            throw new DataFormatException(path, $"{name}: payload", $"shape {Text(shape)} needs {bytes} bytes but the array holds {read}");
        return new NumpyArray(name, type, shape, data);
    }

    private static (NumpyType Type, int Size) ParseType(string header, string path, string name)
    {
        string descr = DictionaryValue(header, "descr", path, name).Trim('\'', '"');
        if (descr.Length < 2) throw new DataFormatException(path, $"{name}: descr", $"'{descr}' is not a NumPy type string");
        char order = descr[0];
        string code = descr[1..];
        if (order == '>' && code is not ("u1" or "i1" or "b1"))
            throw new DataFormatException(path, $"{name}: descr", $"'{descr}' is big-endian; save the array little-endian (arr.astype('<{code}'))");
        if (order is not ('<' or '|' or '=' or '>'))
            throw new DataFormatException(path, $"{name}: descr", $"'{descr}' is not a NumPy type string");
        return code switch
        {
            "b1" => (NumpyType.Bool, 1),
            "u1" => (NumpyType.UInt8, 1),
            "i1" => (NumpyType.Int8, 1),
            "u2" => (NumpyType.UInt16, 2),
            "i2" => (NumpyType.Int16, 2),
            "u4" => (NumpyType.UInt32, 4),
            "i4" => (NumpyType.Int32, 4),
            "u8" => (NumpyType.UInt64, 8),
            "i8" => (NumpyType.Int64, 8),
            "f4" => (NumpyType.Float32, 4),
            "f8" => (NumpyType.Float64, 8),
            _ => throw new DataFormatException(path, $"{name}: descr",
                $"element type '{descr}' is not supported; expected bool, int8-64, uint8-64, float32 or float64"),
        };
    }

    /// <summary>The text of <paramref name="key"/>'s value in the header's Python dict literal.</summary>
    private static string DictionaryValue(string header, string key, string path, string name)
    {
        int at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0) at = header.IndexOf($"\"{key}\"", StringComparison.Ordinal);
        if (at < 0) throw new DataFormatException(path, $"{name}: header", $"has no '{key}' entry");
        int colon = header.IndexOf(':', at);
        if (colon < 0) throw new DataFormatException(path, $"{name}: {key}", "has no value");
        int start = colon + 1;
        while (start < header.Length && header[start] == ' ') start++;
        int end;
        if (start < header.Length && header[start] == '(')
        {
            end = header.IndexOf(')', start);
            if (end < 0) throw new DataFormatException(path, $"{name}: {key}", "unterminated tuple");
            end++;
        }
        else
        {
            end = start;
            while (end < header.Length && header[end] is not (',' or '}')) end++;
        }
        return header[start..end].Trim();
    }

    private static int[] ParseShape(string text, string path, string name)
    {
        if (text.Length < 2 || text[0] != '(' || text[^1] != ')')
            throw new DataFormatException(path, $"{name}: shape", $"'{text}' is not a tuple");
        var parts = text[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].TrimEnd('L');
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new DataFormatException(path, $"{name}: shape", $"dimension {i} is '{parts[i]}'; expected a non-negative integer below 2^31");
        }
        return shape;
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    internal static string Text(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + (shape.Count == 1 ? ",)" : ")");
}
