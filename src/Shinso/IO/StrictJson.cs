using System.Text.Json.Nodes;

namespace Shinso.IO;

/// <summary>
/// Reads a JSON object field by field and rejects what it does not expect: a missing required key,
/// a value of the wrong type or an unknown key is an error naming the source, the key path and the
/// expected type.
/// </summary>
public sealed class StrictJson
{
    private readonly JsonObject _object;
    private readonly HashSet<string> _read = [];

    /// <summary>Wraps <paramref name="node"/>, which must be an object.</summary>
    /// <param name="node">The JSON value.</param>
    /// <param name="source">The file or origin, for messages.</param>
    /// <param name="path">The key path of this object within the source (empty at the root).</param>
    public StrictJson(JsonNode? node, string source, string path = "")
    {
        Source = source;
        Path = path;
        _object = node as JsonObject ?? throw Error(path == "" ? "the document" : path, "an object", node);
    }

    /// <summary>The file or origin, for messages.</summary>
    public string Source { get; }

    /// <summary>This object's key path.</summary>
    public string Path { get; }

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool Has(string key) => _object.ContainsKey(key);

    /// <summary>A required integer.</summary>
    public int Int(string key) => ReadInt(key, Required(key));

    /// <summary>An optional integer.</summary>
    public int Int(string key, int fallback) => Has(key) ? ReadInt(key, Required(key)) : MarkDefault(key, fallback);

    /// <summary>An optional 64-bit unsigned integer.</summary>
    public ulong ULong(string key, ulong fallback)
    {
        if (!Has(key)) return MarkDefault(key, fallback);
        var node = Required(key);
        if (node is JsonValue v && v.TryGetValue<ulong>(out ulong u)) return u;
        if (node is JsonValue d && d.TryGetValue<double>(out double x) && x >= 0 && x == Math.Floor(x) && x < 1.8e19) return (ulong)x;
        throw Error(KeyPath(key), "a non-negative integer", node);
    }

    /// <summary>A required number.</summary>
    public float Float(string key) => ReadFloat(key, Required(key));

    /// <summary>An optional number.</summary>
    public float Float(string key, float fallback) => Has(key) ? ReadFloat(key, Required(key)) : MarkDefault(key, fallback);

    /// <summary>A required finite number, in double precision.</summary>
    public double Double(string key) => ReadDouble(key, Required(key));

    /// <summary>An optional number that may also be null (a figure that was not measured): absent or null gives null.</summary>
    public double? NullableDouble(string key)
    {
        _read.Add(key);
        return _object.TryGetPropertyValue(key, out var node) && node is not null ? ReadDouble(key, node) : null;
    }

    /// <summary>A required string.</summary>
    public string String(string key) => ReadString(key, Required(key));

    /// <summary>An optional string.</summary>
    public string String(string key, string fallback) => Has(key) ? ReadString(key, Required(key)) : MarkDefault(key, fallback);

    /// <summary>An optional boolean.</summary>
    public bool Bool(string key, bool fallback)
    {
        if (!Has(key)) return MarkDefault(key, fallback);
        var node = Required(key);
        if (node is JsonValue v && v.TryGetValue<bool>(out bool b)) return b;
        throw Error(KeyPath(key), "true or false", node);
    }

    /// <summary>A required array of integers.</summary>
    public int[] IntArray(string key)
    {
        var node = Required(key);
        if (node is not JsonArray array) throw Error(KeyPath(key), "an array of integers", node);
        var result = new int[array.Count];
        for (int i = 0; i < result.Length; i++) result[i] = ReadInt($"{key}[{i}]", array[i]);
        return result;
    }

    /// <summary>A required array of strings.</summary>
    public string[] StringArray(string key)
    {
        var node = Required(key);
        if (node is not JsonArray array) throw Error(KeyPath(key), "an array of strings", node);
        var result = new string[array.Count];
        for (int i = 0; i < result.Length; i++) result[i] = ReadString($"{key}[{i}]", array[i]);
        return result;
    }

    /// <summary>A required array of objects, each wrapped for strict reading.</summary>
    public StrictJson[] ObjectArray(string key)
    {
        var node = Required(key);
        if (node is not JsonArray array) throw Error(KeyPath(key), "an array of objects", node);
        var result = new StrictJson[array.Count];
        for (int i = 0; i < result.Length; i++) result[i] = new StrictJson(array[i], Source, $"{KeyPath(key)}[{i}]");
        return result;
    }

    /// <summary>An optional nested object.</summary>
    public StrictJson? Object(string key)
    {
        if (!Has(key)) { _read.Add(key); return null; }
        return new StrictJson(Required(key), Source, KeyPath(key));
    }

    /// <summary>An optional value of any type as it stands (null when absent or null), for a caller that checks it itself.</summary>
    public JsonNode? Node(string key)
    {
        _read.Add(key);
        return _object.TryGetPropertyValue(key, out var node) ? node : null;
    }

    /// <summary>Throws when the object holds a key that was never read.</summary>
    public void RejectUnknownKeys(string expectedKeys)
    {
        foreach (var (key, _) in _object)
            if (!_read.Contains(key))
                throw new FormatException($"{Source}: unknown key '{KeyPath(key)}'; expected one of: {expectedKeys}.");
    }

    /// <summary>An error about this object's <paramref name="key"/>.</summary>
    public FormatException Invalid(string key, string message) => new($"{Source}: '{KeyPath(key)}' {message}");

    private JsonNode Required(string key)
    {
        _read.Add(key);
        if (!_object.TryGetPropertyValue(key, out var node))
            throw new FormatException($"{Source}: missing required key '{KeyPath(key)}'.");
        return node ?? throw Error(KeyPath(key), "a value", null);
    }

    private T MarkDefault<T>(string key, T fallback)
    {
        _read.Add(key);
        return fallback;
    }

    private int ReadInt(string key, JsonNode? node)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue<int>(out int i)) return i;
            if (v.TryGetValue<double>(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        }
        throw Error(KeyPath(key), "an integer", node);
    }

    private float ReadFloat(string key, JsonNode? node) => (float)ReadDouble(key, node);

    private double ReadDouble(string key, JsonNode? node)
    {
        if (node is JsonValue v && v.TryGetValue<double>(out double d) && double.IsFinite(d)) return d;
        throw Error(KeyPath(key), "a number", node);
    }

    private string ReadString(string key, JsonNode? node)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw Error(KeyPath(key), "a string", node);
    }

    private string KeyPath(string key) => Path == "" ? key : key.StartsWith('[') ? Path + key : $"{Path}.{key}";

    private FormatException Error(string what, string expected, JsonNode? found) =>
        new($"{Source}: '{what}' must be {expected}, but found {Describe(found)}.");

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.ToJsonString(),
    };
}
