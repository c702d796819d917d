using Shinso.Cli.Commands;

namespace Shinso.Cli.ModelKinds;

/// <summary>Every model family the CLI knows, once; commands ask it which family a preset or a model file belongs to.</summary>
internal static class ModelKindRegistry
{
    /// <summary>The registered kinds.</summary>
    public static IReadOnlyList<ModelKind> All { get; } = [new FeedForwardKind(), new RbmKind(), new DbnKind(), new DbmKind(), new PerceptronKind(), new AutoencoderKind(), new SparseCodingKind(), new TicaKind(), new TiledCnnKind(), new ConvolutionalDbnKind()];

    /// <summary>Every preset name, in registration order.</summary>
    public static IEnumerable<string> PresetNames => All.SelectMany(k => k.Presets);

    /// <summary>The kind whose presets include <paramref name="name"/>, or null.</summary>
    public static ModelKind? ForPreset(string name) => All.FirstOrDefault(k => k.Presets.Contains(name));

    /// <summary>
    /// The kind of a model file's <paramref name="fileKind"/>, checked to support <paramref name="action"/>. A kind no family
    /// registers is the file's fault (a <see cref="Shinso.IO.ModelFileException"/> on field <c>kind</c>); a known kind that lacks
    /// the action is a usage error naming what it supports.
    /// </summary>
    public static ModelKind ForFile(string file, string fileKind, ModelAction action)
    {
        var kind = All.FirstOrDefault(k => k.Matches(fileKind));
        if (kind is null)
        {
            var able = All.Where(k => k.Supports(action)).Select(k => k.FileKind);
            string what = action == ModelAction.Export
                ? "has no feed-forward form, so it cannot be exported to ONNX; exportable kinds"
                : $"is not a kind this version of shinso knows; kinds it can {ModelKind.Verb(action)}";
            throw new Shinso.IO.ModelFileException(file, "kind", $"a '{fileKind}' model {what}: {string.Join(", ", able)}.");
        }
        if (!kind.Supports(action)) throw kind.Unsupported(file, action);
        return kind;
    }
}
