using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Shinso.Tests.Docs;

/// <summary>The README's embedding example must compile against the core library as it is.</summary>
public class ReadmeExampleTests
{
    private const string Marker = "<!-- embedding-example -->";

    [Fact]
    public void The_embedding_example_in_the_readme_compiles_and_is_about_ten_lines()
    {
        string readme = File.ReadAllText(FindReadme());
        int marker = readme.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, $"README.md has no {Marker} block");
        AssertCompiles(readme, readme.IndexOf("```csharp\n", marker, StringComparison.Ordinal), "README.md");
    }

    [Fact]
    public void The_core_package_readme_example_compiles_and_is_about_ten_lines()
    {
        string path = Path.Combine(Path.GetDirectoryName(FindReadme())!, "src", "Shinso", "README.md");
        string readme = File.ReadAllText(path);
        AssertCompiles(readme, readme.IndexOf("```csharp\n", StringComparison.Ordinal), path);
    }

    /// <summary>Compiles the csharp block that starts at <paramref name="fence"/> against the core library, as a top-level program.</summary>
    private static void AssertCompiles(string markdown, int fence, string source)
    {
        Assert.True(fence >= 0, $"{source} has no csharp block");
        int start = fence + "```csharp\n".Length;
        int end = markdown.IndexOf("```", start, StringComparison.Ordinal);
        string code = markdown[start..end];

        var statements = code.Split('\n').Where(l => l.Trim().Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).ToList();
        Assert.InRange(statements.Count, 1, 10);

        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(Shinso.Backends.CpuBackend).Assembly.Location));
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(result.Success, $"{source}'s example does not compile:\n" + string.Join("\n", errors));
    }

    [Fact]
    public void The_readme_names_every_registered_layer_kind_and_no_other()
    {
        string readme = File.ReadAllText(FindReadme());
        int start = readme.IndexOf("<!-- layer-kinds -->", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no <!-- layer-kinds --> paragraph.");
        string paragraph = readme[start..readme.IndexOf("\n\n", start, StringComparison.Ordinal)];
        var named = System.Text.RegularExpressions.Regex.Matches(paragraph, "`([a-z][a-z-]*)`").Select(m => m.Groups[1].Value).Where(n => n != "type").ToHashSet();
        var registered = Shinso.Models.FeedForward.LayerKinds.All.Select(k => k.Name).ToHashSet();
        Assert.True(named.SetEquals(registered),
            $"README lists [{string.Join(", ", named.Order())}] but the registry has [{string.Join(", ", registered.Order())}].");
    }

    private static string FindReadme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return candidate;
        }
        throw new FileNotFoundException("README.md next to Engine.sln was not found above the test directory.");
    }
}
