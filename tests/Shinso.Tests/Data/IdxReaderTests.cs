using System.Buffers.Binary;
using System.IO.Compression;
using Shinso.Data;

namespace Shinso.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An IDX file: two zero bytes, type code, rank, big-endian dims, payload.</summary>
    internal static byte[] Idx(byte typeCode, int[] dims, byte[] payload, byte zero0 = 0, byte zero1 = 0, int? rank = null)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[0] = zero0;
        bytes[1] = zero1;
        bytes[2] = typeCode;
        bytes[3] = (byte)(rank ?? dims.Length);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] raw)
    {
        using var memory = new MemoryStream();
        using (var gz = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return memory.ToArray();
    }

    private string Write(string name, byte[] raw, bool gzip)
    {
        string path = _dir.File(gzip ? name + ".gz" : name);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);
        return path;
    }

    private static byte[] Sequence(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + 3)).ToArray();

    private static IdxFormatException ExpectError(string path, string field, Action read)
    {
        var e = Assert.Throws<IdxFormatException>(read);
        Assert.Equal(field, e.Field);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        Assert.Contains(field, e.Message);
        return e;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesAndLabelsRoundTrip(bool gzip)
    {
        var pixels = Sequence(3 * 2 * 4);
        var labelBytes = new byte[] { 2, 0, 9 };
        string images = Write("images", Idx(0x08, [3, 2, 4], pixels), gzip);
        string labels = Write("labels", Idx(0x08, [3], labelBytes), gzip);

        var file = IdxReader.ReadFile(images);
        Assert.Equal(IdxReader.ImagesMagic, file.Magic);
        Assert.Equal(IdxReader.UnsignedByteType, file.TypeCode);
        Assert.Equal([3, 2, 4], file.Dimensions);
        Assert.Equal(pixels, file.Data);

        var (p, count, rows, cols) = IdxReader.ReadImages(images);
        Assert.Equal((3, 2, 4), (count, rows, cols));
        Assert.Equal(pixels, p);
        Assert.Equal(labelBytes, IdxReader.ReadLabels(labels));

        var both = IdxReader.ReadImagesAndLabels(images, labels);
        Assert.Equal(labelBytes, both.Labels);
        Assert.Equal(3, both.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GeneralRanksAndEmptyFilesRead(bool gzip)
    {
        var payload = Sequence(2 * 3 * 1 * 2);
        var file = IdxReader.ReadFile(Write("rank4", Idx(0x08, [2, 3, 1, 2], payload), gzip));
        Assert.Equal([2, 3, 1, 2], file.Dimensions);
        Assert.Equal(payload, file.Data);

        var empty = IdxReader.ReadFile(Write("empty", Idx(0x08, [0, 28, 28], []), gzip));
        Assert.Equal([0, 28, 28], empty.Dimensions);
        Assert.Empty(empty.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BadMagicIsNamed(bool gzip)
    {
        string path = Write("bad-magic", Idx(0x08, [2], [1, 2], zero0: 0x12, zero1: 0x34), gzip);
        var e = ExpectError(path, "magic number", () => IdxReader.ReadFile(path));
        Assert.Contains("0x12340801", e.Message);
    }

    [Fact]
    public void EmptyAndTinyFilesAreNamed()
    {
        string empty = Write("empty-file", [], gzip: false);
        ExpectError(empty, "magic number", () => IdxReader.ReadFile(empty));
        string tiny = Write("tiny", [0, 0], gzip: false);
        ExpectError(tiny, "magic number", () => IdxReader.ReadFile(tiny));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrongTypeCodeIsNamed(bool gzip)
    {
        string path = Write("floats", Idx(0x0D, [1], [0, 0, 0, 0]), gzip);
        var e = ExpectError(path, "type code", () => IdxReader.ReadFile(path));
        Assert.Contains("0x0D", e.Message);
        Assert.Contains("0x08", e.Message);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void ZeroDimensionCountIsNamed()
    {
        string path = Write("rank0", Idx(0x08, [], [5]), gzip: false);
        ExpectError(path, "dimension count", () => IdxReader.ReadFile(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MissingDimensionsAreNamed(bool gzip)
    {
        // Rank 3 declared, but only one dimension present.
        var bytes = Idx(0x08, [5], [], rank: 3);
        string path = Write("short-header", bytes, gzip);
        var e = ExpectError(path, "dimension 1", () => IdxReader.ReadFile(path));
        Assert.Contains("12 bytes", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedPayloadIsNamed(bool gzip)
    {
        string path = Write("truncated", Idx(0x08, [2, 3, 4], Sequence(23)), gzip);
        var e = ExpectError(path, "payload", () => IdxReader.ReadFile(path));
        Assert.Contains("need 24 bytes", e.Message);
        Assert.Contains("23", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrailingBytesAreNamed(bool gzip)
    {
        string path = Write("trailing", Idx(0x08, [2, 3, 4], Sequence(25)), gzip);
        var e = ExpectError(path, "payload", () => IdxReader.ReadFile(path));
        Assert.Contains("need 24 bytes", e.Message);
        Assert.Contains("trailing", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NegativeDimensionIsNamed(bool gzip)
    {
        string path = Write("negative", Idx(0x08, [2, -3, 4], []), gzip);
        var e = ExpectError(path, "dimension 1", () => IdxReader.ReadFile(path));
        Assert.Contains("-3", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HugeDimensionsAreNamed(bool gzip)
    {
        string path = Write("huge", Idx(0x08, [65536, 65536, 65536], Sequence(10)), gzip);
        ExpectError(path, "dimensions", () => IdxReader.ReadFile(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LargeDeclaredSizeWithTinyPayloadFailsWithoutAllocatingIt(bool gzip)
    {
        // 1 GiB declared, 10 bytes present: a clear "truncated" error, quickly.
        string path = Write("big", Idx(0x08, [1 << 15, 1 << 15], Sequence(10)), gzip);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ExpectError(path, "payload", () => IdxReader.ReadFile(path));
        Assert.Contains("truncated", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "the reader allocated the declared size");
    }

    [Fact]
    public void CorruptGzipIsNamed()
    {
        var gz = Gzip(Idx(0x08, [64], Sequence(64)));
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        string path = _dir.File("corrupt.gz");
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadFile(path));
        Assert.Contains(path, e.Message);
        // Corrupting every byte of the deflate data (but not the gzip header) breaks the stream itself.
        Assert.Equal("gzip stream", e.Field);
    }

    [Fact]
    public void WrongKindOfFileIsNamed()
    {
        string labels = Write("labels", Idx(0x08, [3], [1, 2, 3]), gzip: false);
        string images = Write("images", Idx(0x08, [3, 1, 1], [1, 2, 3]), gzip: false);
        var e = ExpectError(labels, "magic number", () => IdxReader.ReadImages(labels));
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("0x00000801", e.Message);
        ExpectError(images, "magic number", () => IdxReader.ReadLabels(images));
    }

    [Fact]
    public void CountMismatchNamesBothFiles()
    {
        string images = Write("images", Idx(0x08, [3, 2, 2], Sequence(12)), gzip: true);
        string labels = Write("labels", Idx(0x08, [4], [0, 1, 2, 3]), gzip: false);
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImagesAndLabels(images, labels));
        Assert.Contains(images, e.Message);
        Assert.Contains(labels, e.Message);
        Assert.Equal(labels, e.FilePath);
        Assert.Equal("item count", e.Field);
        Assert.Contains($"expected 3 labels, one per image in {images}, found 4", e.Message);
        Assert.Throws<IdxFormatException>(() => Dataset.FromIdx(images, labels));
    }

    [Fact]
    public void MissingFileThrowsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => IdxReader.ReadFile(_dir.File("nope")));
}
