using System.Text.Json.Nodes;
using Shinso.Data;

namespace Shinso.Tests.Cli;

/// <summary>Every loader on seeded mutants of a valid file (<c>shinso fuzz</c>), and the two defects the fuzzer found, pinned.</summary>
public sealed class FuzzCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shinso-fuzz-tests-{Guid.NewGuid():N}");

    public FuzzCliTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Every_format_loads_or_rejects_two_thousand_mutants_with_its_documented_error()
    {
        var (code, stdout, stderr) = CliTests.Shinso("fuzz", "all", "--iterations", "2000", "--seed", "7", "--json");
        Assert.True(code == 0, stderr);
        var report = (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        foreach (var format in new[] { "model", "rbm", "dbn", "checkpoint", "idx", "idx-gz", "cifar", "npz", "csv", "table", "config", "onnx" })
        {
            var result = report[format]!.AsObject();
            Assert.Equal(0, (int)result["undocumented"]!);
            Assert.Equal(0, (int)result["over_allocation"]!);
            Assert.Equal(0, (int)result["hung"]!);
            Assert.Equal(2000, (int)result["tried"]!);
            // Mutants are mostly broken: a fuzzer whose cases all loaded would be testing nothing.
            Assert.True((int)result["rejected"]! > 1000, $"{format}: only {result["rejected"]} of 2000 rejected");
            // Every byte of a model file is checksummed: a mutant that loads is byte-identical to the original.
            if (format is "model" or "rbm" or "dbn" or "checkpoint") Assert.Equal(0, (int)result["loaded_altered"]!);
            // Measured at all (the bound itself is over_allocation's, relative to each mutant's size).
            Assert.InRange((long)result["largest_allocation_bytes"]!, 1, 64L << 20);
        }
    }

    [Fact]
    public void A_load_that_outlasts_the_case_timeout_is_a_hang_that_fails_the_run()
    {
        // With a timeout of 0 ms the first case whose load is not done at once (a load that reads the whole file takes far
        // longer than the wait's spin) hangs, and it is the last tried: the format's remaining cases are skipped.
        var (code, stdout, stderr) = CliTests.Shinso("fuzz", "model", "--iterations", "2000", "--case-timeout", "0", "--json");
        Assert.Equal(1, code);
        var result = ((JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!)["model"]!.AsObject();
        Assert.Equal(1, (int)result["hung"]!);
        int tried = (int)result["tried"]!;
        Assert.InRange(tried, 1, 1999);
        Assert.Equal(tried - 1, (int)result["loaded"]! + (int)result["rejected"]! + (int)result["undocumented"]!);
        Assert.Matches(@"case \d+ \(.*\): still loading after 0 ms", stderr);
        (code, _, stderr) = CliTests.Shinso("fuzz", "model", "--case-timeout", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--case-timeout must be a number of milliseconds >= 0", stderr);
    }

    [Fact]
    public void A_zip_whose_directory_is_corrupt_is_a_data_format_error_naming_the_file()
    {
        string path = Path.Combine(_root, "bad.npz");
        NumpyFilesArchive(path);
        var bytes = File.ReadAllBytes(path);
        // The archive opens (its end record is intact) but the central directory the record points to has lost its first
        // header's signature: that is read only when the entries are listed.
        int eocd = bytes.Length - 22;
        Assert.Equal([0x50, 0x4B, 0x05, 0x06], bytes[eocd..(eocd + 4)]);
        int directory = BitConverter.ToInt32(bytes, eocd + 16);
        Assert.Equal([0x50, 0x4B, 0x01, 0x02], bytes[directory..(directory + 4)]);
        bytes[directory + 3] = 0x09;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => NumpyArchive.ReadArchive(path));
        Assert.Contains(path, e.Message);
        Assert.Equal("archive", e.Field);
        Assert.Contains("directory is corrupt", e.Message);
    }

    [Fact]
    public void A_config_with_a_key_given_twice_is_a_format_error_naming_the_file()
    {
        string path = Path.Combine(_root, "twice.json");
        File.WriteAllText(path, """{"architecture": {"input": [4], "layers": [{"type": "dense", "units": 2, "units": 3}]}}""");
        var (code, _, stderr) = CliTests.Shinso("train", path, "--epochs", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("twice.json: not valid JSON (Duplicate property 'units'", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static void NumpyFilesArchive(string path) =>
        Data.NumpyFiles.Archive(path, ("x_train.npy", Data.NumpyFiles.Array("|u1", [1, 2], [1, 2])), ("y_train.npy", Data.NumpyFiles.Array("|u1", [1], [0])));
}
