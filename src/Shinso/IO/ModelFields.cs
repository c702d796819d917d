using System.Text.Json.Nodes;

namespace Shinso.IO;

/// <summary>
/// Reads the typed fields of a model file's JSON sections; a missing or out-of-range field is a <see cref="ModelFileException"/>
/// naming the file, the field (<c>section.field</c>) and what was expected.
/// </summary>
public static class ModelFields
{
    /// <summary>A whole number from 1 to <paramref name="most"/>.</summary>
    public static int PositiveInt(JsonObject o, string section, string field, string source, int most = int.MaxValue) =>
        o[field] is JsonValue v && v.TryGetValue<int>(out int n) && n >= 1 && n <= most
            ? n
            : throw new ModelFileException(source, $"{section}.{field}", $"expected a whole number from 1 to {most}, found {o[field]?.ToJsonString() ?? "nothing"}.");

    /// <summary>true or false.</summary>
    public static bool Flag(JsonObject o, string section, string field, string source) =>
        o[field] is JsonValue v && v.TryGetValue<bool>(out bool b)
            ? b
            : throw new ModelFileException(source, $"{section}.{field}", $"expected true or false, found {o[field]?.ToJsonString() ?? "nothing"}.");

    /// <summary>A finite number, positive or (with <paramref name="positive"/> false) non-negative.</summary>
    public static float Number(JsonObject o, string section, string field, string source, bool positive) =>
        o[field] is JsonValue v && v.TryGetValue<float>(out float x) && float.IsFinite(x) && (positive ? x > 0 : x >= 0)
            ? x
            : throw new ModelFileException(source, $"{section}.{field}", $"expected a {(positive ? "positive" : "non-negative")} number, found {o[field]?.ToJsonString() ?? "nothing"}.");
}
