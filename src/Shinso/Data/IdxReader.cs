using System.Buffers.Binary;
using System.IO.Compression;

namespace Shinso.Data;

/// <summary>
/// A malformed IDX file. The message names the file, the field that is wrong
/// (e.g. <c>magic number</c>, <c>dimension 2</c>, <c>payload</c>) and what was expected against what was found.
/// </summary>
public sealed class IdxFormatException : DataFormatException
{
    /// <summary>Creates the exception; the message is <c>"{path}: {field}: {detail}"</c>.</summary>
    public IdxFormatException(string path, string field, string detail, Exception? innerException = null)
        : base(path, field, detail, innerException)
    {
    }
}

/// <summary>The contents of one IDX file: its dimensions (outermost first) and its unsigned-byte payload.</summary>
public sealed class IdxFile
{
    /// <summary>Creates an IDX file's contents.</summary>
    public IdxFile(string path, int magic, int[] dimensions, byte[] data)
    {
        Path = path;
        Magic = magic;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The file this was read from.</summary>
    public string Path { get; }

    /// <summary>The 32-bit magic number (e.g. <see cref="IdxReader.ImagesMagic"/>).</summary>
    public int Magic { get; }

    /// <summary>The type code (third magic byte); always <see cref="IdxReader.UnsignedByteType"/> here.</summary>
    public byte TypeCode => (byte)(Magic >> 8);

    /// <summary>The dimensions, outermost first (e.g. <c>[n, rows, cols]</c> for images).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The payload in row-major order; its length is the product of <see cref="Dimensions"/>.</summary>
    public byte[] Data { get; }
}

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed (detected by the
/// <c>1f 8b</c> header). Only unsigned-byte payloads (type code 0x08) are supported.
/// </summary>
/// <remarks>
/// Layout: two zero bytes, a type code, a dimension count d, then d big-endian int32 dimensions,
/// then the payload, whose length must equal the product of the dimensions exactly.
/// Every failure throws <see cref="IdxFormatException"/> naming the file and the field.
/// </remarks>
public static class IdxReader
{
    /// <summary>The magic number of an unsigned-byte image file <c>[n, rows, cols]</c>.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic number of an unsigned-byte label file <c>[n]</c>.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>The IDX type code for unsigned bytes, the only one supported.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>Reads any unsigned-byte IDX file.</summary>
    /// <exception cref="IdxFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxFile ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> sniff = stackalloc byte[2];
        int sniffed = file.ReadAtLeast(sniff, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = sniffed == 2 && sniff[0] == 0x1f && sniff[1] == 0x8b;
        if (!gzip) return Read(file, path, file.Length);

        using var inflated = new GZipStream(file, CompressionMode.Decompress);
        try
        {
            return Read(inflated, path, knownLength: null);
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(path, "gzip stream", $"the compressed data is corrupt ({e.Message})", e);
        }
    }

    /// <summary>Reads an image file (magic 0x00000803): <c>count</c> images of <c>rows x cols</c> bytes, row-major.</summary>
    /// <exception cref="IdxFormatException">The file is malformed or is not an image file.</exception>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        var idx = ReadFile(path);
        ExpectMagic(idx, ImagesMagic, "unsigned-byte images [n, rows, cols]");
        return (idx.Data, idx.Dimensions[0], idx.Dimensions[1], idx.Dimensions[2]);
    }

    /// <summary>Reads a label file (magic 0x00000801): one byte per item.</summary>
    /// <exception cref="IdxFormatException">The file is malformed or is not a label file.</exception>
    public static byte[] ReadLabels(string path)
    {
        var idx = ReadFile(path);
        ExpectMagic(idx, LabelsMagic, "unsigned-byte labels [n]");
        return idx.Data;
    }

    /// <summary>Reads an image file and its label file, checking that they hold the same number of items.</summary>
    /// <exception cref="IdxFormatException">Either file is malformed, or the counts differ (the message names both files).</exception>
    public static (byte[] Pixels, byte[] Labels, int Count, int Rows, int Columns) ReadImagesAndLabels(string imagesPath, string labelsPath)
    {
        var (pixels, count, rows, cols) = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new IdxFormatException(labelsPath, "item count",
                $"expected {count} labels, one per image in {imagesPath}, found {labels.Length}; " +
                "an image file and its label file must hold the same number of items");
        return (pixels, labels, count, rows, cols);
    }

    private static void ExpectMagic(IdxFile idx, int magic, string what)
    {
        if (idx.Magic != magic)
            throw new IdxFormatException(idx.Path, "magic number",
                $"expected 0x{magic:X8} ({what}), found 0x{idx.Magic:X8} ({idx.Dimensions.Count} dimensions)");
    }

    private static IdxFile Read(Stream stream, string path, long? knownLength)
    {
        Span<byte> head = stackalloc byte[4];
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new IdxFormatException(path, "magic number", $"expected 4 bytes, found a file of only {got} bytes");
        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw new IdxFormatException(path, "magic number",
                $"expected two zero bytes then a type code and a dimension count (e.g. 0x{ImagesMagic:X8}), found 0x{magic:X8}; this is not an IDX file");
        if (head[2] != UnsignedByteType)
            throw new IdxFormatException(path, "type code",
                $"expected 0x{UnsignedByteType:X2} (unsigned byte), found 0x{head[2]:X2} ({TypeName(head[2])}), which is not supported");
        int rank = head[3];
        if (rank == 0)
            throw new IdxFormatException(path, "dimension count", "expected at least 1, found 0");

        var dimBytes = new byte[4 * rank];
        got = stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
            throw new IdxFormatException(path, $"dimension {got / 4}",
                $"expected {rank} big-endian int32 dimensions ({dimBytes.Length} bytes) after the magic number, found only {got} bytes");
        var dims = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (dims[i] < 0)
                throw new IdxFormatException(path, $"dimension {i}", $"expected a non-negative size, found {dims[i]}");
        }
        foreach (int d in dims)
        {
            expected *= d;
            if (expected > Array.MaxLength)
                throw new IdxFormatException(path, "dimensions",
                    $"[{string.Join(", ", dims)}] describes more than {Array.MaxLength} bytes, more than one array can hold");
        }

        long headerBytes = 4 + dimBytes.Length;
        if (knownLength is long length && length - headerBytes != expected)
            throw new IdxFormatException(path, "payload", PayloadMismatch(dims, expected, (length - headerBytes).ToString(), length - headerBytes < expected));

        var data = ReadPayload(stream, (int)expected, out long found);
        if (found != expected)
            throw new IdxFormatException(path, "payload",
                PayloadMismatch(dims, expected, found > expected ? "more" : found.ToString(), found < expected));
        return new IdxFile(path, magic, dims, data);
    }

    private static string PayloadMismatch(int[] dims, long expected, string found, bool truncated) =>
        truncated
            ? $"dimensions [{string.Join(", ", dims)}] need {expected} bytes, found only {found} (the file is truncated)"
            : $"dimensions [{string.Join(", ", dims)}] need {expected} bytes, found {found} (trailing bytes after the payload)";

    /// <summary>
    /// Reads exactly <paramref name="expected"/> bytes if the stream has them, growing the buffer as
    /// data arrives so that a small, truncated file never allocates its (possibly huge) declared size.
    /// <paramref name="found"/> is the number of bytes the stream held, or <c>expected + 1</c> if it held more.
    /// </summary>
    private static byte[] ReadPayload(Stream stream, int expected, out long found)
    {
        var buffer = new byte[Math.Min(expected, 1 << 20)];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length == expected) break;
                Array.Resize(ref buffer, (int)Math.Min(expected, 2L * buffer.Length));
            }
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) { found = filled; return buffer; }
            filled += n;
        }
        Span<byte> probe = stackalloc byte[1];
        found = stream.Read(probe) == 0 ? expected : expected + 1L;
        return buffer;
    }

    private static string TypeName(byte code) => code switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "an unknown type code",
    };
}
