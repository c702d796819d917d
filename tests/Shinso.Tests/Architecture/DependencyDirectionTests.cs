using System.Text.RegularExpressions;

namespace Shinso.Tests.Architecture;

/// <summary>
/// The core's rooms depend downwards only: models -> layers, losses, optimizers -> backends (with tensors, their
/// seam) -> kernels -> random, numerics and the shared operation types. Read from the sources: every <c>using</c> and
/// every qualified <c>Shinso.X</c> name outside comments.
/// </summary>
public sealed partial class DependencyDirectionTests
{
    private static readonly string[] Bottom = ["Operations", "Numerics"];
    private static readonly string[] BelowKernels = [.. Bottom, "Random"];
    private static readonly string[] BelowBackends = [.. BelowKernels, "Kernels"];
    private static readonly string[] BelowLayers = [.. BelowBackends, "Backends", "Tensors"];

    /// <summary>What each low room may reference besides itself; rooms above these (models, training, the CLI) are not restricted.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Operations"] = [],
        ["Numerics"] = [],
        ["Random"] = Bottom,
        ["Kernels"] = BelowKernels,
        ["Tensors"] = [.. BelowBackends, "Backends"],
        ["Backends"] = [.. BelowBackends, "Tensors"],
        ["Layers"] = [.. BelowLayers, "Losses"],
        ["Losses"] = BelowLayers,
        ["Optimizers"] = [.. BelowLayers, "Layers"],
        ["Data"] = BelowKernels,
        ["IO"] = [.. BelowKernels, "Tensors"],
    };

    [GeneratedRegex(@"^namespace Shinso\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"\bShinso\.(\w+)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"//.*|""(?:[^""\\]|\\.)*""")]
    private static partial Regex CommentsAndStrings();

    private static string CoreSources()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return Path.Combine(dir.FullName, "src", "Shinso");
        throw new DirectoryNotFoundException("src/Shinso next to Engine.sln was not found above the test directory.");
    }

    [Fact]
    public void Every_low_room_references_only_the_rooms_below_it()
    {
        var violations = new List<string>();
        int files = 0;
        foreach (var file in Directory.EnumerateFiles(CoreSources(), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            string text = File.ReadAllText(file);
            var room = Namespace().Match(text);
            if (!room.Success || !Allowed.TryGetValue(room.Groups[1].Value, out var allowed)) continue;
            files++;
            string code = CommentsAndStrings().Replace(text, "");
            foreach (var used in Reference().Matches(code).Select(m => m.Groups[1].Value).Distinct())
                if (used != room.Groups[1].Value && !allowed.Contains(used))
                    violations.Add($"{Path.GetRelativePath(CoreSources(), file)} ({room.Groups[1].Value}) references Shinso.{used}");
        }
        Assert.True(files > 50, $"only {files} files were checked; the source tree was not found where expected.");
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }
}
