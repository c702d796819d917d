using Shinso.IO;

namespace Shinso.Models.FeedForward;

/// <summary>A registered layer kind: its JSON name, how to read it, and a small instance of it.</summary>
/// <param name="Name">The JSON <c>type</c>.</param>
/// <param name="Read">Reads the kind's fields (the <c>type</c> key is already read); unknown keys and bad values are errors naming the key.</param>
/// <param name="Example">A valid instance on [2, 6, 6] samples (the default one for kinds without fields), for tests and docs.</param>
/// <param name="HasFields">Whether the JSON form has keys besides <c>type</c>.</param>
public sealed record LayerKind(string Name, Func<StrictJson, LayerSpec> Read, LayerSpec Example, bool HasFields = true);

/// <summary>Every layer kind, registered once: a new layer is one <see cref="LayerSpec"/> subclass and one line here.</summary>
public static class LayerKinds
{
    /// <summary>The registered kinds, in the order documentation lists them.</summary>
    public static IReadOnlyList<LayerKind> All { get; } =
    [
        DenseSpec.Kind, ConvSpec.Kind, TiledConvSpec.Kind, .. PoolSpec.Kinds, ProbabilisticPoolSpec.Kind, LrnSpec.Kind, LcnSpec.Kind, FlattenSpec.Kind, .. ActivationSpec.Kinds, MaxoutSpec.Kind, DropoutSpec.Kind,
        SoftmaxSpec.Kind, ResidualSpec.Kind, TiedSpec.Kind, SparsitySpec.Kind, .. NoiseSpec.Kinds, CodeSpec.Kind,
    ];

    /// <summary>The kinds' names, comma-separated.</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Name));

    /// <summary>The kind called <paramref name="name"/>, or null.</summary>
    public static LayerKind? Find(string name) => All.FirstOrDefault(k => k.Name == name);

    /// <summary>Reads one layer object.</summary>
    /// <exception cref="FormatException">The type is unknown, or a field is wrong; the message names the key.</exception>
    internal static LayerSpec Read(StrictJson json)
    {
        string type = json.String("type");
        var kind = Find(type) ?? throw json.Invalid("type", $"is '{type}'; expected one of {Names}.");
        return kind.Read(json);
    }
}
