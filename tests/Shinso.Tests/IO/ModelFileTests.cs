using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Shinso.IO;
using Shinso.Tensors;
using Shinso.Tests.Data;

namespace Shinso.Tests.IO;

public sealed class ModelFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ModelDocument Sample()
    {
        var doc = new ModelDocument("mlp")
        {
            Architecture = new JsonObject { ["inputs"] = 784, ["hidden"] = new JsonArray(500, 300), ["activation"] = "relu" },
            HyperParameters = new JsonObject { ["learningRate"] = 0.01, ["momentum"] = 0.9 },
            Metadata = new JsonObject { ["epoch"] = 3, ["rng"] = new JsonObject { ["seed"] = 42UL, ["position"] = 123456789012UL }, ["note"] = "ünïcødé ✓" },
        };
        doc.Add("layer0.weight", [3, 4], Enumerable.Range(0, 12).Select(i => i * 0.5f - 2f).ToArray());
        doc.Add("layer0.bias", [4], [float.NaN, float.NegativeInfinity, -0f, float.Epsilon]);
        doc.Add("empty", [0, 5], []);
        doc.Add("scalar", [], [3.25f]);
        return doc;
    }

    private static void AssertSame(ModelDocument expected, ModelDocument actual)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Architecture.ToJsonString(), actual.Architecture.ToJsonString());
        Assert.Equal(expected.HyperParameters.ToJsonString(), actual.HyperParameters.ToJsonString());
        Assert.Equal(expected.Metadata.ToJsonString(), actual.Metadata.ToJsonString());
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        for (int i = 0; i < expected.Tensors.Count; i++)
        {
            var e = expected.Tensors[i];
            var a = actual.Tensors[i];
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.Shape, a.Shape);
            Assert.Equal(e.Data.Select(BitConverter.SingleToInt32Bits), a.Data.Select(BitConverter.SingleToInt32Bits));
        }
    }

    private static ModelFileException ExpectError(string path, string field, Action read)
    {
        var e = Assert.Throws<ModelFileException>(read);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"{path}: {field}: ", e.Message);
        return e;
    }

    /// <summary>Builds a file by hand (prefix, header, padding, data, SHA-256) to test the reader's table checks.</summary>
    private static byte[] Build(JsonObject header, byte[] data, uint version = ModelFile.CurrentVersion)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        long dataOffset = (16 + json.Length + 63) / 64 * 64;
        var bytes = new byte[dataOffset + data.Length + 32];
        ModelFile.Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)json.Length);
        json.CopyTo(bytes, 16);
        data.CopyTo(bytes, dataOffset);
        Reseal(bytes);
        return bytes;
    }

    private static void Reseal(byte[] bytes) =>
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes, bytes.Length - 32);

    private static JsonObject HeaderOf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        return JsonNode.Parse(bytes.AsSpan(16, length))!.AsObject();
    }

    [Fact]
    public void RoundTripsBitExactly()
    {
        string path = _dir.File("model.shinso");
        var doc = Sample();
        ModelFile.Write(path, doc);
        var back = ModelFile.Read(path);
        AssertSame(doc, back);
        Assert.Equal(ModelFile.CurrentVersion, back.FormatVersion);
        Assert.Equal(ModelFile.ShinsoVersion, back.ShinsoVersion);
        Assert.Equal(ModelFile.Magic.ToArray(), File.ReadAllBytes(path).Take(8));

        var header = ModelFile.ReadHeader(path);
        Assert.Equal("mlp", header.Kind);
        Assert.Equal(["layer0.weight", "layer0.bias", "empty", "scalar"], header.Tensors.Select(t => t.Name));
        Assert.Equal([3, 4], header.Tensors[0].Shape);
        Assert.Equal(12, header.Tensors[0].Length);
        Assert.All(header.Tensors, t => Assert.Equal(0, t.Offset % ModelFile.Alignment));
        Assert.Equal(3, (int)header.Metadata["epoch"]!);
        Assert.Same(back.GetTensor("scalar"), back.Tensors[3]);
        Assert.Contains("layer0.bias", Assert.Throws<KeyNotFoundException>(() => back.GetTensor("nope")).Message);
    }

    /// <summary>Any 32-bit pattern, NaN payloads, infinities and subnormals included (NaN patterns are drawn often).</summary>
    private static readonly Gen<int> Bits =
        from hi in Gen.Choose(0, 0xFFFF)
        from lo in Gen.Choose(0, 0xFFFF)
        from nan in Gen.Choose(0, 3)
        select nan == 0 ? (hi & 0x8000) << 16 | 0x7F800000 | (hi & 0x7F) << 16 | lo : hi << 16 | lo;

    [Fact]
    public void RandomTensorTablesRoundTripBitExactly()
    {
        var tensorGen =
            from rank in Gen.Choose(0, 3)
            from shape in Gen.ArrayOf(Gen.Choose(0, 7), rank)
            from bits in Gen.ArrayOf(Bits, shape.Aggregate(1, (a, b) => a * b))
            select (shape, data: bits.Select(BitConverter.Int32BitsToSingle).ToArray());
        var docGen =
            from kind in Gen.Elements("mlp", "rbm", "dbn", "a/b ✓")
            from count in Gen.Choose(0, 6)
            from tensors in Gen.ArrayOf(tensorGen, count)
            from note in Gen.Elements("", "epoch 3", "ünïcødé ✓ \"quoted\" \n newline", "\u0000")
            from epoch in Gen.Choose(0, 10_000)
            select (kind, tensors, note, epoch);
        int n = 0;
        PropertyCheck.ForAll(docGen, c =>
        {
            var doc = new ModelDocument(c.kind) { Metadata = new JsonObject { ["epoch"] = c.epoch, ["note"] = c.note } };
            for (int i = 0; i < c.tensors.Length; i++) doc.Add($"t{i}.{c.tensors[i].shape.Length}", c.tensors[i].shape, c.tensors[i].data);
            string path = _dir.File($"random-{n++}.shinso");
            ModelFile.Write(path, doc);
            AssertSame(doc, ModelFile.Read(path));
            File.Delete(path);
        }, maxTests: 60);
    }

    [Fact]
    public void NaNPayloadsSurvive()
    {
        string path = _dir.File("nan.shinso");
        var payloads = new[] { 0x7FC00001, 0x7F800001, unchecked((int)0xFFC12345), 0x7FFFFFFF, unchecked((int)0xFF800001) };
        var doc = new ModelDocument("nan");
        doc.Add("nans", [payloads.Length], payloads.Select(BitConverter.Int32BitsToSingle).ToArray());
        ModelFile.Write(path, doc);
        Assert.Equal(payloads, ModelFile.Read(path).Tensors[0].Data.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void EveryCorruptedByteIsCaught()
    {
        string path = _dir.File("corrupt.shinso");
        ModelFile.Write(path, Sample());
        var good = File.ReadAllBytes(path);
        for (int i = 0; i < good.Length; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= (byte)(1 << (i % 8));
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<ModelFileException>(() => ModelFile.Read(path));
            string expected = i < 8 ? "magic" : i < 12 ? "format version" : "checksum";
            Assert.True(e.Field == expected, $"byte {i}: expected a '{expected}' error, got: {e.Message}");
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void TruncatedFilesAreReportedAsTruncated()
    {
        string path = _dir.File("cut.shinso");
        ModelFile.Write(path, Sample());
        var good = File.ReadAllBytes(path);
        foreach (int length in new[] { 0, 5, 12, 40, 100, good.Length / 2, good.Length - 33, good.Length - 1 })
        {
            File.WriteAllBytes(path, good.AsSpan(0, length).ToArray());
            var e = Assert.Throws<ModelFileException>(() => ModelFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.True(e.Message.Contains("truncated"), $"length {length} of {good.Length}: {e.Message}");
        }

        // Appended bytes are named too.
        File.WriteAllBytes(path, [.. good, 1, 2, 3]);
        Assert.Contains("appended", ExpectError(path, "checksum", () => ModelFile.Read(path)).Message);
    }

    [Fact]
    public void NewerFormatVersionIsRejectedClearly()
    {
        string path = _dir.File("future.shinso");
        ModelFile.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), ModelFile.CurrentVersion + 1);
        Reseal(bytes);
        File.WriteAllBytes(path, bytes);
        var e = ExpectError(path, "format version", () => ModelFile.Read(path));
        Assert.Contains("written by a newer Shinso", e.Message);
        Assert.Contains($"version {ModelFile.CurrentVersion + 1}", e.Message);
        ExpectError(path, "format version", () => ModelFile.ReadHeader(path));
    }

    [Fact]
    public void NotAModelFileIsNamed()
    {
        string path = _dir.File("text.shinso");
        File.WriteAllText(path, "this is not a model file, just some text that is long enough");
        Assert.Contains("89534849", ExpectError(path, "magic", () => ModelFile.Read(path)).Message);
    }

    [Fact]
    public void TensorTableInconsistenciesAreNamed()
    {
        string path = _dir.File("model.shinso");
        var data = new byte[4 * 12 + 64];

        JsonObject Header(JsonArray tensors, long dataBytes = 4 * 12 + 64) => new()
        {
            ["formatVersion"] = 1, ["kind"] = "mlp", ["shinsoVersion"] = "test",
            ["architecture"] = new JsonObject(), ["hyperParameters"] = new JsonObject(), ["metadata"] = new JsonObject(),
            ["dataBytes"] = dataBytes, ["tensors"] = tensors,
        };
        JsonObject Row(string name, int[] shape, long offset, long length, string dtype = "float32") => new()
        {
            ["name"] = name, ["dtype"] = dtype, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
            ["offset"] = offset, ["length"] = length,
        };
        ModelFileException Check(JsonObject header, string field, string fragment, byte[]? payload = null)
        {
            File.WriteAllBytes(path, Build(header, payload ?? data));
            var e = ExpectError(path, field, () => ModelFile.Read(path));
            Assert.Contains(fragment, e.Message);
            ExpectError(path, field, () => ModelFile.ReadHeader(path));
            return e;
        }

        // A well-formed hand-built file reads.
        File.WriteAllBytes(path, Build(Header([Row("w", [3, 4], 0, 12)]), data));
        Assert.Equal([3, 4], ModelFile.Read(path).GetTensor("w").Shape);

        var e = Check(Header([Row("layer0.weight", [784, 500], 0, 391999)]), "tensor 'layer0.weight'",
            "shape [784, 500] needs 392000 floats but the table gives 391999");
        Assert.Equal($"{path}: tensor 'layer0.weight': shape [784, 500] needs 392000 floats but the table gives 391999", e.Message);
        Check(Header([Row("w", [3, 4], 0, 12), Row("w", [1], 64, 1)]), "tensor 'w'", "unique");
        Check(Header([Row("w", [3, 4], 80, 12)]), "tensor 'w'", "outside the data section");
        Check(Header([Row("w", [3, 4], 0, 12), Row("v", [2], 40, 2)]), "tensor 'v'", "overlaps tensor 'w'");
        Check(Header([Row("w", [3, 4], 2, 12)]), "tensor 'w'", "multiple of 4");
        Check(Header([Row("w", [3, 4], 0, 12, dtype: "float64")]), "tensor 'w'", "float64");
        Check(Header([Row("w", [3, -4], 0, 12)]), "tensor 'w'", "dimension 1");
        Check(Header([Row("", [1], 0, 1)]), "header.tensors[0].name", "empty");
        Check(Header([Row("w", [3, 4], 0, 12)], dataBytes: 4 * 12 + 65), "length", "truncated");

        var noKind = Header([]);
        noKind.Remove("kind");
        Check(noKind, "header.kind", "expected a string");
        var badArchitecture = Header([]);
        badArchitecture["architecture"] = 5;
        Check(badArchitecture, "header.architecture", "expected a JSON object");
        var otherVersion = Header([]);
        otherVersion["formatVersion"] = 7;
        Check(otherVersion, "header.formatVersion", "expected 1");

        // Invalid JSON and duplicate keys.
        var raw = Build(Header([]), data);
        int jsonLength = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(12));
        raw[16 + jsonLength - 1] = (byte)'!';
        Reseal(raw);
        File.WriteAllBytes(path, raw);
        ExpectError(path, "header", () => ModelFile.Read(path));
        var duplicate = Encoding.UTF8.GetBytes(Header([]).ToJsonString().Replace("\"kind\":\"mlp\"", "\"kind\":\"mlp\",\"kind\":\"rbm\""));
        var dup = new byte[(16 + duplicate.Length + 63) / 64 * 64 + data.Length + 32];
        ModelFile.Magic.CopyTo(dup);
        BinaryPrimitives.WriteUInt32LittleEndian(dup.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(dup.AsSpan(12), (uint)duplicate.Length);
        duplicate.CopyTo(dup, 16);
        Reseal(dup);
        File.WriteAllBytes(path, dup);
        ExpectError(path, "header", () => ModelFile.Read(path));
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileIntact()
    {
        string path = _dir.File("keep.shinso");
        var original = Sample();
        ModelFile.Write(path, original);
        var before = File.ReadAllBytes(path);

        var replacement = new ModelDocument("other");
        replacement.Add("big", [1000], new float[1000]);

        // The stream fails part-way through the tensor data.
        Assert.Throws<IOException>(() => ModelFile.Write(path, replacement, s => new FailingStream(s, failAfter: 2000)));
        Assert.Equal(before, File.ReadAllBytes(path));
        AssertSame(original, ModelFile.Read(path));

        // Serialization fails (NaN is not valid JSON) before anything is written.
        replacement.Metadata["loss"] = double.NaN;
        Assert.ThrowsAny<ArgumentException>(() => ModelFile.Write(path, replacement));
        Assert.Equal(before, File.ReadAllBytes(path));

        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void WritesAnInvalidDocumentNowhere()
    {
        Assert.Throws<ArgumentException>(() => new NamedTensor("w", [2, 2], new float[3]));
        Assert.Throws<ArgumentException>(() => new NamedTensor("w", [-1], []));
        var doc = new ModelDocument("mlp");
        doc.Add("w", [1], [1f]);
        Assert.Throws<ArgumentException>(() => doc.Add("w", [1], [2f]));
    }

    [Fact]
    public void NamedTensorCopiesAHostTensor()
    {
        var storage = new HostStorage(null!, [1f, 2f, 3f, 4f, 5f, 6f, 7f]);
        var tensor = new Tensor(storage, 1, [2, 3]);
        var named = NamedTensor.FromTensor("x", tensor);
        Assert.Equal([2, 3], named.Shape);
        Assert.Equal([2f, 3f, 4f, 5f, 6f, 7f], named.Data);
        Assert.Equal("x [2, 3]", named.ToString());
    }

    [Fact]
    public void AtomicFileReplacesOrLeavesAlone()
    {
        string path = _dir.File(Path.Combine("sub", "notes.json"));
        AtomicFile.WriteAllText(path, "{\"a\":1}");
        Assert.Equal("{\"a\":1}", File.ReadAllText(path));
        Assert.Equal((byte)'{', File.ReadAllBytes(path)[0]); // no byte-order mark
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    /// <summary>Passes writes through until <c>failAfter</c> bytes, then throws.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter) throw new IOException("injected failure");
            inner.Write(buffer);
            _written += buffer.Length;
        }
    }
}
