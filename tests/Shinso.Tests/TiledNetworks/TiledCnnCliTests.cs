using System.Text.Json.Nodes;
using Shinso.Tests.Cli;
using Shinso.Tests.Data;
using Shinso.Tests.SparseCoding;

namespace Shinso.Tests.TiledNetworks;

/// <summary>The tiled-cnn preset through the real shinso executable: training, the saved net's evaluation and its ONNX export.</summary>
public sealed class TiledCnnCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    [Fact]
    public void Tiled_cnn_pretrains_classifies_and_saves_a_net_that_evaluates_and_exports()
    {
        string data = SparseCodingCliTests.SubsetNpz(_dir, 300, 200), run = _dir.File("tiled");
        var (code, stdout, stderr) = CliTests.Shinso("train", "tiled-cnn", "--data", data, "--tile", "3", "--epochs", "2", "--finetune-epochs", "5",
            "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(3, (int)result["tile"]!);
        Assert.Equal(32 * 7 * 7, (int)result["features"]!);
        Assert.True((double)result["orthonormality"]! < 1e-5, $"|V Vᵀ - I| = {result["orthonormality"]}");
        var objectives = result["objective_by_epoch"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.Equal(2, objectives.Length);
        Assert.True(objectives[1] < objectives[0], $"objective {objectives[0]} -> {objectives[1]}");
        double accuracy = (double)result["accuracy"]!;
        Assert.True(accuracy > 0.5, $"accuracy {accuracy}");
        Assert.Equal((double)result["classifier_accuracy"]!, accuracy, 2);
        Assert.True(new FileInfo(Path.Combine(run, "filters.png")).Length > 100);
        Assert.Contains("32 maps x 9 tiles", stderr);

        string model = Path.Combine(run, "model.shinso");
        (code, stdout, stderr) = CliTests.Shinso("eval", model, "--data", data, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Equal(accuracy, (double)LastJsonLine(stdout)["accuracy"]!, 6);
        string onnx = _dir.File("tiled.onnx");
        (code, _, stderr) = CliTests.Shinso("export", model, "--onnx", onnx);
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(onnx).Length > 1000);

        (code, _, stderr) = CliTests.Shinso("train", "tiled-cnn", "--data", data, "--tile", "0", "--out", _dir.File("zero"));
        Assert.NotEqual(0, code);
        Assert.Contains("--tile must be >= 1", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "tiled-cnn", "--data", data, "--tile", "30", "--out", _dir.File("wide"));
        Assert.NotEqual(0, code);
        Assert.Contains("tile size must be between 1 and the larger output side 21", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "tica", "--data", data, "--tile", "2", "--out", _dir.File("tica"));
        Assert.NotEqual(0, code);
        Assert.Contains("--tile applies to tiled-cnn", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "tiled-cnn", "--data", SparseCodingCliTests.SubsetNpz(_dir, 20, 10, side: 6), "--out", _dir.File("tiny"));
        Assert.NotEqual(0, code);
        Assert.Contains("--data: A 8 x 8 patch does not fit in 6 x 6 images", stderr);
    }

    [Fact]
    public void Repro_quick_reports_tiles_one_to_three_and_the_untrained_control()
    {
        string run = _dir.File("repro");
        var (code, stdout, stderr) = CliTests.Shinso("repro", "tiled-cnn", "--quick", "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var report = LastJsonLine(stdout);
        Assert.Single(report["rows"]!.AsArray());
        var figures = report["figures"]!.AsObject();
        foreach (string name in new[] { "tile1_accuracy", "tile2_accuracy", "tile3_accuracy", "tile2_untrained_accuracy" })
            Assert.InRange((double)figures[name]!, 0.5, 1.0);
        Assert.Contains("96.1 %", File.ReadAllText(Path.Combine(run, "report.md")));
    }
}
