using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Shinso.Tests.Packaging;

/// <summary>
/// The three NuGet packages as a user receives them: packed from the assemblies these tests run against, inspected, and
/// consumed by <c>tests/Shinso.PackageSample</c>, which references only the packed <c>Shinso</c> from a local feed.
/// </summary>
public sealed class PackageTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif
    private static readonly string[] Packages = ["Shinso", "Shinso.OpenCL", "Shinso.Onnx"];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-pack-{Guid.NewGuid():N}");

    public PackageTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_packages_carry_their_metadata_and_an_application_restored_from_them_trains_and_saves_a_net()
    {
        string root = RepositoryRoot();
        string feed = Path.Combine(_dir, "feed");
        string version = typeof(Shinso.Backends.CpuBackend).Assembly.GetName().Version!.ToString(3);
        foreach (string package in Packages)
        {
            // --no-build: the package holds the very assemblies these tests exercise, and the running tests' files stay untouched.
            var (code, output) = Dotnet(root, "pack", Path.Combine(root, "src", package, package + ".csproj"), "-c", Configuration,
                "--no-build", "--no-restore", "-o", feed, "--nologo");
            Assert.True(code == 0, $"dotnet pack {package} failed:\n{output}");
        }

        foreach (string package in Packages)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, $"{package}.{version}.nupkg"));
            var nuspec = XDocument.Load(zip.GetEntry(package + ".nuspec")!.Open());
            XNamespace ns = nuspec.Root!.Name.Namespace;
            var metadata = nuspec.Root.Element(ns + "metadata")!;
            Assert.Equal(package, metadata.Element(ns + "id")!.Value);
            var license = metadata.Element(ns + "license")!;
            // Shinso.Onnx carries the ONNX project's message definitions, under their own licence.
            Assert.Equal(("expression", package == "Shinso.Onnx" ? "MIT AND Apache-2.0" : "MIT"), ((string?)license.Attribute("type"), license.Value));
            Assert.Contains("MIT License", new StreamReader(zip.GetEntry("NOTICE")!.Open()).ReadToEnd());
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            string readme = new StreamReader(zip.GetEntry("README.md")!.Open()).ReadToEnd();
            Assert.StartsWith("# " + package + "\n", readme);
            Assert.Contains($"dotnet add package {package}", readme);
            var repository = metadata.Element(ns + "repository")!;
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
            Assert.NotNull(zip.GetEntry($"lib/net10.0/{package}.dll"));
            // The XML docs travel with the assembly, so IntelliSense shows them.
            using (var docs = zip.GetEntry($"lib/net10.0/{package}.xml")!.Open())
                Assert.NotEmpty(XDocument.Load(docs).Root!.Element("members")!.Elements("member"));

            var dependencies = metadata.Element(ns + "dependencies")!.Descendants(ns + "dependency")
                .Select(d => ((string)d.Attribute("id")!, (string)d.Attribute("version")!)).ToList();
            if (package == "Shinso")
                Assert.Equal(["System.Numerics.Tensors"], dependencies.Select(d => d.Item1));
            else
                Assert.Contains(("Shinso", version), dependencies);
        }

        // The OpenCL kernels are resources of Shinso.OpenCL.dll: every .cl file of the repository, by name.
        using (var zip = ZipFile.OpenRead(Path.Combine(feed, $"Shinso.OpenCL.{version}.nupkg")))
        {
            using var dll = new MemoryStream();
            zip.GetEntry("lib/net10.0/Shinso.OpenCL.dll")!.Open().CopyTo(dll);
            dll.Position = 0;
            using var pe = new PEReader(dll);
            var reader = pe.GetMetadataReader();
            var resources = reader.ManifestResources.Select(h => reader.GetString(reader.GetManifestResource(h).Name)).ToHashSet();
            var kernels = Directory.GetFiles(Path.Combine(root, "kernels"), "*.cl").Select(f => "kernels/" + Path.GetFileName(f)).ToList();
            Assert.NotEmpty(kernels);
            Assert.All(kernels, k => Assert.Contains(k, resources));
        }

        // The sample builds outside the repository, as a user's project: the root's build settings and pinned versions do
        // not reach it, and a fresh package folder proves Shinso came from the feed, not from a project reference.
        string sample = Path.Combine(_dir, "sample");
        CopyDirectory(Path.Combine(root, "tests", "Shinso.PackageSample"), sample);
        string packages = Path.Combine(_dir, "packages");
        // The machine's own package folder is a second source, so the sample's other dependency (System.Numerics.Tensors)
        // restores without a network where this test's own build restored it.
        string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var (built, buildOutput) = Dotnet(sample, "build", "-c", "Release", "--nologo", "--disable-build-servers", "-nodeReuse:false",
            $"-p:RestoreAdditionalProjectSources={feed}%3B{machinePackages}", $"-p:ShinsoVersion={version}", "--packages", packages);
        Assert.True(built == 0, $"the sample did not build from the packed Shinso:\n{buildOutput}");
        // NuGet records where it took each package: Shinso came from this test's feed, not from a registry or a cache.
        string metadataFile = Path.Combine(packages, "shinso", version, ".nupkg.metadata");
        Assert.True(File.Exists(metadataFile), "the sample did not restore Shinso into its own package folder");
        Assert.Equal(Path.GetFullPath(feed).TrimEnd('/'), ((string)JsonNode.Parse(File.ReadAllText(metadataFile))!["source"]!).TrimEnd('/'));
        var assets = JsonNode.Parse(File.ReadAllText(Path.Combine(sample, "obj", "project.assets.json")))!;
        Assert.Equal("package", (string?)assets["libraries"]![$"Shinso/{version}"]!["type"]);

        string model = Path.Combine(_dir, "fashion.shinso");
        var (ran, runOutput) = Dotnet(sample, Path.Combine(sample, "bin", "Release", "net10.0", "Shinso.PackageSample.dll"), TestData.EmbeddedSubset, model);
        Assert.True(ran == 0, $"the sample failed:\n{runOutput}");
        var result = JsonNode.Parse(runOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        Assert.Equal(10_000, (int)result["train_samples"]!);
        double accuracy = (double)result["accuracy"]!;
        // Two epochs of mlp-dropout on the embedded 10,000 images reach about 82 %; chance is 10 %.
        Assert.InRange(accuracy, 0.7, 1.0);
        Assert.Equal(accuracy, (double)result["reloaded_accuracy"]!);
        Assert.True(File.Exists(model));
    }

    private static (int ExitCode, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        // Both pipes are read as the process runs, so a hung child is cut off by the limit rather than blocking a read.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"dotnet {string.Join(' ', args)} ran past 4 minutes");
        }
        Task.WaitAll(stdout, stderr);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        // Only the sources travel: a developer's bin/ and obj/ from building the sample in place would hide a broken restore.
        foreach (string dir in Directory.GetDirectories(from))
            if (Path.GetFileName(dir) is not ("bin" or "obj")) CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Engine.sln was not found above the test directory.");
    }
}
