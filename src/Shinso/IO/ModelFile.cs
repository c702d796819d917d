using System.Buffers;
using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.Tensors;

namespace Shinso.IO;

/// <summary>
/// A model file that cannot be read. The message is <c>"{path}: {field}: {detail}"</c>, naming the
/// file, the part that is wrong (e.g. <c>magic</c>, <c>format version</c>, <c>checksum</c>,
/// <c>tensor 'layer0.weight'</c>) and what was expected against what was found.
/// </summary>
public sealed class ModelFileException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public ModelFileException(string path, string field, string detail, Exception? innerException = null)
        : base($"{path}: {field}: {detail}", innerException)
    {
        FilePath = path;
        Field = field;
    }

    /// <summary>The file that failed to read.</summary>
    public string FilePath { get; }

    /// <summary>The part of the file that is wrong.</summary>
    public string Field { get; }
}

/// <summary>A named float32 tensor held in host memory: a shape and its row-major elements.</summary>
public sealed class NamedTensor
{
    private readonly int[] _shape;

    /// <summary>Creates a named tensor; <paramref name="data"/> is kept, not copied.</summary>
    /// <exception cref="ArgumentException">The name is empty, a dimension is negative, or the shape's product differs from the data length.</exception>
    public NamedTensor(string name, int[] shape, float[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long n = ModelFile.ElementCount(shape) ?? throw new ArgumentException(
            $"Tensor '{name}': shape {ModelFile.ShapeText(shape)} has a negative dimension or too many elements.", nameof(shape));
        if (n != data.Length)
            throw new ArgumentException($"Tensor '{name}': shape {ModelFile.ShapeText(shape)} needs {n} floats, but {data.Length} were given.", nameof(data));
        Name = name;
        _shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>The tensor's name, unique within a model (e.g. <c>layer0.weight</c>).</summary>
    public string Name { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The elements in row-major order.</summary>
    public float[] Data { get; }

    /// <summary>A copy of <paramref name="tensor"/>'s shape and elements (downloaded from its backend).</summary>
    public static NamedTensor FromTensor(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = new float[tensor.Length];
        if (tensor.IsHost) tensor.Span.CopyTo(data);
        else tensor.Backend.Download(tensor, data);
        return new NamedTensor(name, tensor.Shape.ToArray(), data);
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, which must have the same shape.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public void CopyTo(Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.Shape.SequenceEqual(_shape))
            throw new ArgumentException(
                $"Tensor '{Name}' has shape {ModelFile.ShapeText(_shape)} but the destination has shape {ModelFile.ShapeText(destination.Shape)}.",
                nameof(destination));
        destination.Backend.Upload(Data, destination);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {ModelFile.ShapeText(_shape)}";
}

/// <summary>
/// Everything a model file holds: the model kind, its architecture, hyper-parameters and free
/// metadata (JSON objects), and its named tensors.
/// </summary>
public sealed class ModelDocument
{
    private readonly List<NamedTensor> _tensors = [];

    /// <summary>Creates an empty document for a model of the given kind (e.g. <c>mlp</c>).</summary>
    public ModelDocument(string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        Kind = kind;
    }

    /// <summary>The model kind, which tells a reader which model class to build (e.g. <c>mlp</c>).</summary>
    public string Kind { get; set; }

    /// <summary>The architecture (layer sizes, activations, ...), enough to rebuild the model.</summary>
    public JsonObject Architecture { get; set; } = [];

    /// <summary>The hyper-parameters the model was trained with.</summary>
    public JsonObject HyperParameters { get; set; } = [];

    /// <summary>Free metadata: epoch, RNG position, optimizer state names, normalization, ...</summary>
    public JsonObject Metadata { get; set; } = [];

    /// <summary>The tensors, in file order.</summary>
    public IReadOnlyList<NamedTensor> Tensors => _tensors;

    /// <summary>The format version the document was read with (<see cref="ModelFile.CurrentVersion"/> for new documents).</summary>
    public int FormatVersion { get; internal set; } = ModelFile.CurrentVersion;

    /// <summary>The Shinso version that wrote the file (null for a document not read from a file).</summary>
    public string? ShinsoVersion { get; internal set; }

    /// <summary>Adds a tensor.</summary>
    /// <exception cref="ArgumentException">A tensor of that name already exists.</exception>
    public void Add(NamedTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (TryGetTensor(tensor.Name, out _))
            throw new ArgumentException($"The document already holds a tensor named '{tensor.Name}'.", nameof(tensor));
        _tensors.Add(tensor);
    }

    /// <summary>Adds a tensor from a shape and row-major data (kept, not copied).</summary>
    public void Add(string name, int[] shape, float[] data) => Add(new NamedTensor(name, shape, data));

    /// <summary>Adds a copy of <paramref name="tensor"/>.</summary>
    public void Add(string name, Tensor tensor) => Add(NamedTensor.FromTensor(name, tensor));

    /// <summary>
    /// Copies tensor <paramref name="name"/> into <paramref name="destination"/>; a missing tensor or one of another shape is a
    /// <see cref="ModelFileException"/> naming <paramref name="source"/>, the tensor and what needs it.
    /// </summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <param name="destination">Where its values go (its shape must be the tensor's).</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="neededBy">What needs the tensor, for messages (<c>the architecture</c>, <c>the run's state</c>).</param>
    public void CopyTensorTo(string name, Tensor destination, string source, string neededBy = "the architecture")
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!TryGetTensor(name, out var tensor)) throw new ModelFileException(source, $"tensor '{name}'", $"is missing; {neededBy} needs it.");
        if (!destination.Shape.SequenceEqual([.. tensor.Shape]))
            throw new ModelFileException(source, $"tensor '{name}'",
                $"has shape {ModelFile.ShapeText([.. tensor.Shape])} but {neededBy} needs {ModelFile.ShapeText(destination.Shape)}.");
        tensor.CopyTo(destination);
    }

    /// <summary>
    /// The values of tensor <paramref name="name"/>, which must exist, have shape <paramref name="shape"/> and hold only finite values;
    /// otherwise a <see cref="ModelFileException"/> naming <paramref name="source"/>, the tensor and what was expected.
    /// </summary>
    public float[] FiniteTensor(string name, int[] shape, string source, string neededBy = "the architecture")
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!TryGetTensor(name, out var tensor)) throw new ModelFileException(source, $"tensor '{name}'", $"is missing; {neededBy} needs it with shape {ModelFile.ShapeText(shape)}.");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ModelFileException(source, $"tensor '{name}'", $"has shape {ModelFile.ShapeText([.. tensor.Shape])} but {neededBy} needs {ModelFile.ShapeText(shape)}.");
        int bad = Array.FindIndex(tensor.Data, v => !float.IsFinite(v));
        if (bad >= 0) throw new ModelFileException(source, $"tensor '{name}'", $"element {bad} is {tensor.Data[bad]}; expected finite values.");
        return tensor.Data;
    }

    /// <summary>Finds a tensor by name.</summary>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NamedTensor? tensor)
    {
        foreach (var t in _tensors)
        {
            if (t.Name == name)
            {
                tensor = t;
                return true;
            }
        }
        tensor = null;
        return false;
    }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name (the message lists those present).</exception>
    public NamedTensor GetTensor(string name) =>
        TryGetTensor(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException(
                $"The {Kind} model has no tensor '{name}'; it holds: {string.Join(", ", _tensors.Select(t => t.Name))}.");
}

/// <summary>One row of a model file's tensor table.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Shape">Its dimensions.</param>
/// <param name="Offset">Byte offset of its data from the start of the data section.</param>
/// <param name="Length">Number of float32 elements.</param>
public sealed record ModelTensorEntry(string Name, IReadOnlyList<int> Shape, long Offset, long Length);

/// <summary>A model file's header without its tensor data (see <see cref="ModelFile.ReadHeader"/>).</summary>
public sealed class ModelHeader
{
    internal ModelHeader(int formatVersion, string kind, string shinsoVersion, JsonObject architecture, JsonObject hyperParameters,
        JsonObject metadata, IReadOnlyList<ModelTensorEntry> tensors, long dataOffset, long dataBytes)
    {
        FormatVersion = formatVersion;
        Kind = kind;
        ShinsoVersion = shinsoVersion;
        Architecture = architecture;
        HyperParameters = hyperParameters;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        DataBytes = dataBytes;
    }

    /// <summary>The file's format version.</summary>
    public int FormatVersion { get; }

    /// <summary>The model kind.</summary>
    public string Kind { get; }

    /// <summary>The Shinso version that wrote the file.</summary>
    public string ShinsoVersion { get; }

    /// <summary>The architecture object.</summary>
    public JsonObject Architecture { get; }

    /// <summary>The hyper-parameters object.</summary>
    public JsonObject HyperParameters { get; }

    /// <summary>The metadata object.</summary>
    public JsonObject Metadata { get; }

    /// <summary>The tensor table.</summary>
    public IReadOnlyList<ModelTensorEntry> Tensors { get; }

    /// <summary>Byte offset of the data section from the start of the file.</summary>
    public long DataOffset { get; }

    /// <summary>Length of the data section in bytes.</summary>
    public long DataBytes { get; }
}

/// <summary>
/// The one versioned file format for every Shinso model.
/// </summary>
/// <remarks>
/// <para>Layout (integers little-endian):</para>
/// <list type="number">
/// <item>8-byte magic <c>89 53 48 49 4E 53 4F 0A</c> (<c>\x89SHINSO\n</c>: the high bit and the newline catch 7-bit and text-mode transfers);</item>
/// <item>uint32 format version (<see cref="CurrentVersion"/>);</item>
/// <item>uint32 header length H, then H bytes of UTF-8 JSON: <c>formatVersion</c>, <c>kind</c>,
/// <c>shinsoVersion</c>, <c>architecture</c>, <c>hyperParameters</c>, <c>metadata</c> (objects),
/// <c>dataBytes</c> and <c>tensors</c> (an array of <c>{name, dtype: "float32", shape, offset, length}</c>,
/// offset in bytes from the data section, length in elements);</item>
/// <item>zero padding to a multiple of 64 bytes, then the data section: each tensor's float32 elements,
/// little-endian, at its offset (each offset a multiple of 64, gaps zero-filled);</item>
/// <item>the SHA-256 of every byte before it (32 bytes).</item>
/// </list>
/// <para>Reading uses System.Text.Json's document model only: no type names are taken from the file.</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this build writes, and the newest it reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The conventional file extension.</summary>
    public const string Extension = ".shinso";

    /// <summary>The data section and every tensor start on a multiple of this many bytes.</summary>
    public const int Alignment = 64;

    private const int PrefixBytes = 16;
    private const int ChecksumBytes = 32;
    private const int MaxHeaderBytes = 256 << 20;
    private const int ChunkFloats = 1 << 16;

    private static readonly byte[] MagicBytes = [0x89, (byte)'S', (byte)'H', (byte)'I', (byte)'N', (byte)'S', (byte)'O', (byte)'\n'];

    /// <summary>The 8 bytes every model file starts with.</summary>
    public static ReadOnlySpan<byte> Magic => MagicBytes;

    /// <summary>This build's version, recorded in every file it writes.</summary>
    public static string ShinsoVersion { get; } =
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ModelFile).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    // ---- writing --------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="document"/> to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>):
    /// if anything fails, an existing file at <paramref name="path"/> is left intact.
    /// </summary>
    /// <exception cref="ArgumentException">The document is invalid (e.g. duplicate tensor names).</exception>
    public static void Write(string path, ModelDocument document) => Write(path, document, wrapStream: null);

    /// <summary>Writes, passing the file stream through <paramref name="wrapStream"/> (tests inject failures with it).</summary>
    internal static void Write(string path, ModelDocument document, Func<Stream, Stream>? wrapStream)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentException.ThrowIfNullOrEmpty(document.Kind);

        var names = new HashSet<string>(StringComparer.Ordinal);
        var table = new JsonArray();
        var offsets = new long[document.Tensors.Count];
        long dataBytes = 0;
        for (int i = 0; i < document.Tensors.Count; i++)
        {
            var t = document.Tensors[i];
            if (!names.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(document));
            long offset = Align(dataBytes);
            offsets[i] = offset;
            dataBytes = offset + 4L * t.Data.Length;
            var shape = new JsonArray();
            foreach (int d in t.Shape) shape.Add((JsonNode)d);
            table.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["dtype"] = "float32",
                ["shape"] = shape,
                ["offset"] = offset,
                ["length"] = t.Data.Length,
            });
        }

        var header = new JsonObject
        {
            ["formatVersion"] = CurrentVersion,
            ["kind"] = document.Kind,
            ["shinsoVersion"] = ShinsoVersion,
            ["architecture"] = (document.Architecture ?? []).DeepClone(),
            ["hyperParameters"] = (document.HyperParameters ?? []).DeepClone(),
            ["metadata"] = (document.Metadata ?? []).DeepClone(),
            ["dataBytes"] = dataBytes,
            ["tensors"] = table,
        };
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            header.WriteTo(writer);
        if (json.WrittenCount > MaxHeaderBytes)
            throw new ArgumentException($"The model header is {json.WrittenCount} bytes; at most {MaxHeaderBytes} are allowed.", nameof(document));

        long dataOffset = Align(PrefixBytes + json.WrittenCount);
        AtomicFile.Write(path, file =>
        {
            var stream = wrapStream is null ? file : wrapStream(file);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long position = 0;
            void Emit(ReadOnlySpan<byte> bytes)
            {
                stream.Write(bytes);
                hash.AppendData(bytes);
                position += bytes.Length;
            }
            void PadTo(long target)
            {
                Span<byte> zeros = stackalloc byte[Alignment];
                zeros.Clear();
                while (position < target) Emit(zeros[..(int)Math.Min(Alignment, target - position)]);
            }

            Span<byte> prefix = stackalloc byte[PrefixBytes];
            MagicBytes.CopyTo(prefix);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], CurrentVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix[12..], (uint)json.WrittenCount);
            Emit(prefix);
            Emit(json.WrittenSpan);
            PadTo(dataOffset);

            byte[]? swap = BitConverter.IsLittleEndian ? null : new byte[4 * ChunkFloats];
            for (int i = 0; i < document.Tensors.Count; i++)
            {
                PadTo(dataOffset + offsets[i]);
                var data = document.Tensors[i].Data;
                for (int start = 0; start < data.Length; start += ChunkFloats)
                {
                    var chunk = data.AsSpan(start, Math.Min(ChunkFloats, data.Length - start));
                    if (swap is null)
                    {
                        Emit(MemoryMarshal.AsBytes(chunk));
                    }
                    else
                    {
                        for (int k = 0; k < chunk.Length; k++)
                            BinaryPrimitives.WriteInt32LittleEndian(swap.AsSpan(4 * k), BitConverter.SingleToInt32Bits(chunk[k]));
                        Emit(swap.AsSpan(0, 4 * chunk.Length));
                    }
                }
            }

            Span<byte> digest = stackalloc byte[ChecksumBytes];
            hash.GetHashAndReset(digest);
            stream.Write(digest);
            stream.Flush();
        });
    }

    // ---- reading --------------------------------------------------------------------------

    /// <summary>Reads a model file, verifying its magic, version, checksum and tensor table.</summary>
    /// <exception cref="ModelFileException">The file is not a valid model file (the message names the file and the field).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ModelDocument Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path);
        var (version, headerLength) = ReadPrefix(file, path);
        VerifyChecksum(file, path, version, headerLength);
        var header = ParseHeader(file, path, version, CheckHeaderLength(file, path, headerLength));

        var document = new ModelDocument(header.Kind)
        {
            Architecture = header.Architecture,
            HyperParameters = header.HyperParameters,
            Metadata = header.Metadata,
            FormatVersion = header.FormatVersion,
            ShinsoVersion = header.ShinsoVersion,
        };
        foreach (var entry in header.Tensors)
        {
            var data = new float[entry.Length];
            file.Position = header.DataOffset + entry.Offset;
            for (int start = 0; start < data.Length; start += ChunkFloats)
            {
                var chunk = data.AsSpan(start, Math.Min(ChunkFloats, data.Length - start));
                file.ReadExactly(MemoryMarshal.AsBytes(chunk));
                if (!BitConverter.IsLittleEndian)
                {
                    var ints = MemoryMarshal.Cast<float, int>(chunk);
                    BinaryPrimitives.ReverseEndianness(ints, ints);
                }
            }
            document.Add(new NamedTensor(entry.Name, [.. entry.Shape], data));
        }
        return document;
    }

    /// <summary>
    /// Reads only the header (kind, architecture, hyper-parameters, metadata, tensor table): cheap,
    /// for deciding which model to build. The checksum is not verified; <see cref="Read"/> does that.
    /// </summary>
    /// <exception cref="ModelFileException">The file's prefix or header is invalid.</exception>
    public static ModelHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path);
        var (version, headerLength) = ReadPrefix(file, path);
        return ParseHeader(file, path, version, CheckHeaderLength(file, path, headerLength));
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    private static (int Version, uint HeaderLength) ReadPrefix(FileStream file, string path)
    {
        long length = file.Length;
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        int got = file.ReadAtLeast(prefix, PrefixBytes, throwOnEndOfStream: false);
        int magicBytes = Math.Min(got, MagicBytes.Length);
        if (!prefix[..magicBytes].SequenceEqual(MagicBytes.AsSpan(0, magicBytes)))
            throw new ModelFileException(path, "magic",
                $"expected {Hex(MagicBytes)} (a Shinso model file), found {Hex(prefix[..magicBytes])}");
        if (length < PrefixBytes + ChecksumBytes)
            throw new ModelFileException(path, "length",
                $"the file is {length} bytes, but a model file has at least {PrefixBytes + ChecksumBytes} (it is truncated)");

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (version > CurrentVersion)
            throw new ModelFileException(path, "format version",
                $"the file has format version {version}: it was written by a newer Shinso; this build ({ShinsoVersion}) reads versions 1 to {CurrentVersion}");
        if (version == 0)
            throw new ModelFileException(path, "format version", $"expected 1 to {CurrentVersion}, found 0");

        return ((int)version, BinaryPrimitives.ReadUInt32LittleEndian(prefix[12..]));
    }

    private static bool HeaderLengthFits(uint headerLength, long fileLength) =>
        headerLength <= MaxHeaderBytes && PrefixBytes + (long)headerLength + ChecksumBytes <= fileLength;

    private static int CheckHeaderLength(FileStream file, string path, uint headerLength)
    {
        long length = file.Length;
        if (!HeaderLengthFits(headerLength, length))
            throw new ModelFileException(path, "header length",
                $"the header is said to be {headerLength} bytes, but the file has only {length} bytes " +
                $"(room for at most {Math.Max(0, length - PrefixBytes - ChecksumBytes)} header bytes): it is truncated or corrupt");
        return (int)headerLength;
    }

    private static void VerifyChecksum(FileStream file, string path, int version, uint headerLength)
    {
        long length = file.Length;
        long covered = length - ChecksumBytes;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            file.Position = 0;
            long remaining = covered;
            while (remaining > 0)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (n == 0) throw new ModelFileException(path, "length", $"the file ended early while reading byte {covered - remaining}");
                hash.AppendData(buffer, 0, n);
                remaining -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Span<byte> actual = stackalloc byte[ChecksumBytes];
        Span<byte> stored = stackalloc byte[ChecksumBytes];
        hash.GetHashAndReset(actual);
        file.ReadExactly(stored);
        if (actual.SequenceEqual(stored)) return;

        // Say "truncated" when the header is intact and describes a file of another length.
        string? hint = null;
        try
        {
            if (!HeaderLengthFits(headerLength, length))
            {
                hint = $"the header alone is said to be {headerLength} bytes but the file has only {length}: it is truncated or corrupt";
                throw new ModelFileException(path, "header length", hint);
            }
            var header = ParseHeader(file, path, version, (int)headerLength, checkLength: false);
            long expected = header.DataOffset + header.DataBytes + ChecksumBytes;
            if (expected != length)
                hint = expected > length
                    ? $"the header describes a file of {expected} bytes but it has only {length}: it is truncated"
                    : $"the header describes a file of {expected} bytes but it has {length}: bytes were appended";
        }
        catch (Exception e) when (e is ModelFileException or IOException or JsonException or ArgumentException or InvalidOperationException)
        {
        }
        throw new ModelFileException(path, "checksum", hint is not null
            ? $"{hint} (the SHA-256 check failed)"
            : $"expected the SHA-256 stored in the last {ChecksumBytes} bytes, {Convert.ToHexStringLower(stored)}, " +
              $"found {Convert.ToHexStringLower(actual)} for the first {covered} bytes: the file is corrupt");
    }

    private static ModelHeader ParseHeader(FileStream file, string path, int version, int headerLength, bool checkLength = true)
    {
        var bytes = new byte[headerLength];
        file.Position = PrefixBytes;
        file.ReadExactly(bytes);

        JsonObject root;
        try
        {
            var node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
            root = node as JsonObject
                ?? throw new ModelFileException(path, "header", $"expected a JSON object, found {Describe(node)}");
        }
        catch (JsonException e)
        {
            throw new ModelFileException(path, "header", $"expected UTF-8 JSON, found invalid JSON ({e.Message})", e);
        }

        long formatVersion = GetInteger(root, "formatVersion", path);
        if (formatVersion != version)
            throw new ModelFileException(path, "header.formatVersion", $"expected {version} (the binary format version), found {formatVersion}");
        string kind = GetString(root, "kind", path);
        if (kind.Length == 0) throw new ModelFileException(path, "header.kind", "expected a model kind, found an empty string");
        string shinsoVersion = GetString(root, "shinsoVersion", path);
        var architecture = GetObject(root, "architecture", path);
        var hyperParameters = GetObject(root, "hyperParameters", path);
        var metadata = GetObject(root, "metadata", path);
        long dataBytes = GetInteger(root, "dataBytes", path);
        long dataOffset = Align(PrefixBytes + (long)headerLength);
        long fileLength = file.Length;
        if (dataBytes < 0)
            throw new ModelFileException(path, "header.dataBytes", $"expected a non-negative byte count, found {dataBytes}");
        if (checkLength && dataOffset + dataBytes + ChecksumBytes != fileLength)
            throw new ModelFileException(path, "length",
                $"the header describes a file of {dataOffset + dataBytes + ChecksumBytes} bytes ({dataBytes} bytes of tensor data at offset {dataOffset}), " +
                $"but the file has {fileLength} bytes{(dataOffset + dataBytes + ChecksumBytes > fileLength ? ": it is truncated" : "")}");

        if (root["tensors"] is not JsonArray table)
            throw new ModelFileException(path, "header.tensors", $"expected an array, found {Describe(root["tensors"])}");
        var entries = new List<ModelTensorEntry>(table.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < table.Count; i++)
        {
            string at = $"header.tensors[{i}]";
            if (table[i] is not JsonObject row) throw new ModelFileException(path, at, $"expected an object, found {Describe(table[i])}");
            string name = GetString(row, "name", path, at);
            if (name.Length == 0) throw new ModelFileException(path, at + ".name", "expected a tensor name, found an empty string");
            string field = $"tensor '{name}'";
            if (!names.Add(name)) throw new ModelFileException(path, field, "expected unique tensor names, found this name twice in the table");
            string dtype = GetString(row, "dtype", path, field);
            if (dtype != "float32") throw new ModelFileException(path, field, $"expected dtype \"float32\", found \"{dtype}\"");
            if (row["shape"] is not JsonArray shapeArray)
                throw new ModelFileException(path, field, $"expected the shape as an array of integers, found {Describe(row["shape"])}");
            var shape = new int[shapeArray.Count];
            for (int k = 0; k < shape.Length; k++)
            {
                if (shapeArray[k] is not JsonValue dv || !dv.TryGetValue(out int d) || d < 0)
                    throw new ModelFileException(path, field, $"expected dimension {k} to be a non-negative int32, found {Describe(shapeArray[k])}");
                shape[k] = d;
            }
            long offset = GetInteger(row, "offset", path, field);
            long length = GetInteger(row, "length", path, field);
            long elements = ElementCount(shape)
                ?? throw new ModelFileException(path, field, $"shape {ShapeText(shape)} has more than {Array.MaxLength} elements");
            if (elements != length)
                throw new ModelFileException(path, field, $"shape {ShapeText(shape)} needs {elements} floats but the table gives {length}");
            if (offset < 0 || offset % 4 != 0)
                throw new ModelFileException(path, field, $"expected a non-negative offset that is a multiple of 4, found {offset}");
            if (offset + 4 * length > dataBytes)
                throw new ModelFileException(path, field,
                    $"its data [{offset}, {offset + 4 * length}) lies outside the data section of {dataBytes} bytes");
            entries.Add(new ModelTensorEntry(name, shape, offset, length));
        }
        var byOffset = entries.Where(e => e.Length > 0).OrderBy(e => e.Offset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var previous = byOffset[i - 1];
            if (byOffset[i].Offset < previous.Offset + 4 * previous.Length)
                throw new ModelFileException(path, $"tensor '{byOffset[i].Name}'",
                    $"its data at offset {byOffset[i].Offset} overlaps tensor '{previous.Name}', which ends at {previous.Offset + 4 * previous.Length}");
        }

        return new ModelHeader((int)formatVersion, kind, shinsoVersion, (JsonObject)architecture.DeepClone(),
            (JsonObject)hyperParameters.DeepClone(), (JsonObject)metadata.DeepClone(), entries, dataOffset, dataBytes);
    }

    private static long GetInteger(JsonObject obj, string name, string path, string at = "header")
    {
        var node = obj[name];
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out long result)) return result;
        throw new ModelFileException(path, $"{at}.{name}", $"expected an integer, found {Describe(node)}");
    }

    private static string GetString(JsonObject obj, string name, string path, string at = "header")
    {
        var node = obj[name];
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.TryGetValue(out string? result)) return result;
        throw new ModelFileException(path, $"{at}.{name}", $"expected a string, found {Describe(node)}");
    }

    private static JsonObject GetObject(JsonObject obj, string name, string path)
    {
        var node = obj[name];
        return node as JsonObject ?? throw new ModelFileException(path, $"header.{name}", $"expected a JSON object, found {Describe(node)}");
    }

    private static string Describe(JsonNode? node)
    {
        if (node is null) return "nothing (missing or null)";
        string text = node.ToJsonString();
        return text.Length <= 40 ? $"{node.GetValueKind().ToString().ToLowerInvariant()} {text}" : $"a {node.GetValueKind().ToString().ToLowerInvariant()}";
    }

    private static long Align(long position) => (position + Alignment - 1) / Alignment * Alignment;

    private static string Hex(ReadOnlySpan<byte> bytes) => bytes.Length == 0 ? "nothing" : Convert.ToHexString(bytes);

    internal static long? ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) return null;
            n *= d;
            if (n > Array.MaxLength) return null;
        }
        return n;
    }

    internal static string ShapeText(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
