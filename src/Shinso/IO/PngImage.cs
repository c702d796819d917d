using System.Buffers.Binary;
using System.IO.Compression;

namespace Shinso.IO;

/// <summary>
/// Writes 8-bit greyscale and RGB PNG files (ISO/IEC 15948: signature, IHDR, one zlib IDAT, IEND) with the BCL's
/// <see cref="ZLibStream"/>, and lays out image grids (samples, RBM filters) for them.
/// </summary>
public static class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Encodes a greyscale image (<paramref name="pixels"/> row-major, 0 = black) as PNG bytes.</summary>
    /// <exception cref="ArgumentException">The pixel count is not <c>width * height</c>, or a size is not positive.</exception>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height) => Encode(pixels, width, height, 1);

    /// <summary>Encodes a colour image (<paramref name="rgb"/> row-major, three bytes a pixel: red, green, blue) as PNG bytes.</summary>
    /// <exception cref="ArgumentException">The byte count is not <c>3 * width * height</c>, or a size is not positive.</exception>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height) => Encode(rgb, width, height, 3);

    private static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"A {width}x{height} image of {channels} channel(s) needs {(long)width * height * channels} bytes, got {pixels.Length}.", nameof(pixels));
        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = channels == 3 ? (byte)2 : (byte)0;  // colour type: truecolour or greyscale
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                Span<byte> filter = [0]; // filter type None on every scanline
                for (int y = 0; y < height; y++)
                {
                    z.Write(filter);
                    z.Write(pixels.Slice(y * width * channels, width * channels));
                }
            }
            WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        }
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="count"/> images of <paramref name="height"/> x <paramref name="width"/> values as a grid
    /// with <paramref name="columns"/> tiles a row and a one-pixel grey border, to <paramref name="path"/> (atomically).
    /// Values are clamped to [0, 1] (1 = white), or with <paramref name="normalizeEach"/> each tile is stretched from its
    /// own minimum to its maximum (for weight filters).
    /// </summary>
    /// <exception cref="ArgumentException">The value count is not <c>count * height * width</c>, or a size is not positive.</exception>
    public static void WriteGrid(string path, ReadOnlySpan<float> images, int count, int height, int width, int columns, bool normalizeEach = false) =>
        AtomicFile.WriteAllBytes(path, EncodeGrid(images, count, height, width, columns, normalizeEach));

    /// <summary>The PNG bytes of <see cref="WriteGrid"/>.</summary>
    public static byte[] EncodeGrid(ReadOnlySpan<float> images, int count, int height, int width, int columns, bool normalizeEach = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int size = height * width;
        if (images.Length != (long)count * size)
            throw new ArgumentException($"{count} images of {height}x{width} need {(long)count * size} values, got {images.Length}.", nameof(images));
        int cols = Math.Min(columns, count), rows = (count + cols - 1) / cols;
        int gridWidth = cols * (width + 1) + 1, gridHeight = rows * (height + 1) + 1;
        var pixels = new byte[gridWidth * gridHeight];
        pixels.AsSpan().Fill(128);
        for (int n = 0; n < count; n++)
        {
            var tile = images.Slice(n * size, size);
            float lo = 0f, scale = 1f;
            if (normalizeEach)
            {
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                foreach (float v in tile) { min = Math.Min(min, v); max = Math.Max(max, v); }
                lo = min;
                scale = max > min ? 1f / (max - min) : 0f;
            }
            int x0 = 1 + (n % cols) * (width + 1), y0 = 1 + (n / cols) * (height + 1);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float v = (tile[y * width + x] - lo) * scale;
                    v = float.IsNaN(v) ? 0f : Math.Clamp(v, 0f, 1f);
                    pixels[(y0 + y) * gridWidth + x0 + x] = (byte)MathF.Round(v * 255f);
                }
        }
        return Encode(pixels, gridWidth, gridHeight);
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        uint crc = Crc32(0xFFFFFFFFu, type);
        crc = Crc32(crc, data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309 polynomial, reflected), continued from <paramref name="crc"/>.</summary>
    internal static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
