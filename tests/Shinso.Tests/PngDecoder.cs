using System.Buffers.Binary;
using System.IO.Compression;
using Shinso.IO;

namespace Shinso.Tests;

/// <summary>A decoded PNG: its size, IHDR colour type, pixels as RGB and the scanline filters its rows used.</summary>
internal sealed record DecodedPng(int Width, int Height, int ColourType, byte[] Rgb, IReadOnlySet<byte> Filters);

/// <summary>
/// Decodes the PNGs the tests read (Shinso's own and Chromium's screenshots): 8-bit greyscale, RGB or RGBA, not
/// interlaced, any of the five scanline filters, every chunk's CRC checked.
/// </summary>
internal static class PngDecoder
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Decodes <paramref name="png"/>; a malformed file fails the test.</summary>
    public static DecodedPng Decode(byte[] png)
    {
        Assert.True(png.Length > 8 && png.AsSpan(0, 8).SequenceEqual(Signature), "not a PNG file (no PNG signature)");
        int width = 0, height = 0, channels = 0, colourType = -1;
        using var idat = new MemoryStream();
        for (int at = 8; at + 12 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var body = png.AsSpan(at + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(PngImage.Crc32(PngImage.Crc32(0xFFFFFFFFu, png.AsSpan(at + 4, 4)), body) ^ 0xFFFFFFFFu, crc);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                Assert.Equal(8, body[8]);
                colourType = body[9];
                channels = colourType switch { 0 => 1, 2 => 3, 6 => 4, var t => throw new InvalidDataException($"colour type {t} is not read here") };
                Assert.Equal(new byte[] { 0, 0, 0 }, body[10..13].ToArray()); // deflate, adaptive filtering, no interlace
            }
            if (type == "IDAT") idat.Write(body);
            at += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        int stride = width * channels;
        Assert.Equal((stride + 1) * height, bytes.Length);
        var pixels = new byte[stride * height];
        var filters = new HashSet<byte>();
        for (int y = 0; y < height; y++)
        {
            var line = bytes.AsSpan(y * (stride + 1) + 1, stride);
            var current = pixels.AsSpan(y * stride, stride);
            var previous = y == 0 ? new byte[stride] : pixels.AsSpan((y - 1) * stride, stride);
            byte filter = bytes[y * (stride + 1)];
            filters.Add(filter);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? current[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"scanline filter {filter}"),
                };
                current[i] = (byte)(line[i] + predictor);
            }
        }
        var rgb = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++)
            for (int k = 0; k < 3; k++) rgb[3 * p + k] = pixels[p * channels + (channels == 1 ? 0 : k)];
        return new DecodedPng(width, height, colourType, rgb, filters);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>The share of pixels that are not white, and the number of distinct colours.</summary>
    public static (double NonWhite, int Colours) Ink(byte[] rgb)
    {
        int count = rgb.Length / 3, nonWhite = 0;
        var colours = new HashSet<int>();
        for (int p = 0; p < count; p++)
        {
            int colour = rgb[3 * p] << 16 | rgb[3 * p + 1] << 8 | rgb[3 * p + 2];
            if (colour != 0xFFFFFF) nonWhite++;
            colours.Add(colour);
        }
        return ((double)nonWhite / count, colours.Count);
    }

    /// <summary>Pixels of exactly the colour (<paramref name="r"/>, <paramref name="g"/>, <paramref name="b"/>).</summary>
    public static int Count(byte[] rgb, byte r, byte g, byte b)
    {
        int n = 0;
        for (int i = 0; i + 2 < rgb.Length; i += 3)
            if (rgb[i] == r && rgb[i + 1] == g && rgb[i + 2] == b) n++;
        return n;
    }
}
