using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Tests.Cli;

/// <summary>The autoencoder presets from the command line on the embedded Fashion-MNIST subset: figures, pictures, eval, export parts and bad input.</summary>
public sealed class AutoencoderCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shinso-ae-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    [Fact]
    public void A_reconstruction_preset_reports_its_error_beside_pca_writes_pictures_and_evaluates_to_the_same_figures()
    {
        string run = Path.Combine(_root, "ae");
        var (code, stdout, stderr) = CliTests.Shinso("train", "denoising-autoencoder", "--code", "24", "--epochs", "1", "--data", TestData.EmbeddedSubset,
            "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var summary = LastJsonLine(stdout);
        double error = summary["reconstruction_error"]!.GetValue<double>(), pca = summary["pca_reconstruction_error"]!.GetValue<double>();
        Assert.Equal(24, summary["code_units"]!.GetValue<int>());
        Assert.InRange(error, 1, 784);
        Assert.InRange(pca, 1, 784);
        Assert.Equal(error / pca, summary["ratio_to_pca"]!.GetValue<double>(), 1e-9);
        Assert.Null(summary["accuracy"]);
        Assert.Contains("PCA with 24 components", stderr);
        foreach (var png in new[] { "reconstructions.png", "filters.png" })
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(run, png)).Take(4).ToArray());
        string model = Path.Combine(run, "model.shinso");
        var header = ModelFile.ReadHeader(model);
        Assert.Equal("autoencoder", header.Kind);
        Assert.Equal(error, header.Metadata["figures"]!["reconstruction_error"]!.GetValue<double>());

        // A resumed run continues from its checkpoint; --code cannot change its net.
        (code, stdout, stderr) = CliTests.Shinso("train", "denoising-autoencoder", "--resume", run, "--epochs", "2", "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(2, LastJsonLine(stdout)["epochs"]!.GetValue<int>());
        Assert.Contains("resuming", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "denoising-autoencoder", "--resume", run, "--code", "8", "--epochs", "3", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--code: a resumed run keeps the net", stderr);
        error = LastJsonLine(stdout)["reconstruction_error"]!.GetValue<double>();
        pca = LastJsonLine(stdout)["pca_reconstruction_error"]!.GetValue<double>();

        (code, stdout, stderr) = CliTests.Shinso("eval", model, "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        var eval = LastJsonLine(stdout);
        Assert.Equal(error, eval["reconstruction_error"]!.GetValue<double>(), 1e-6 * error);
        Assert.Equal(pca, eval["pca_reconstruction_error"]!.GetValue<double>(), 1e-6 * pca);

        foreach (var part in new[] { "encoder", "decoder" })
        {
            string onnx = Path.Combine(_root, part + ".onnx");
            (code, stdout, stderr) = CliTests.Shinso("export", model, "--part", part, "--onnx", onnx);
            Assert.True(code == 0, stderr);
            Assert.Contains($"autoencoder {part}", stderr);
        }
        (code, _, stderr) = CliTests.Shinso("export", model, "--part", "top", "--onnx", Path.Combine(_root, "x.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("--part: expected encoder or decoder", stderr);
    }

    [Fact]
    public void The_stacked_preset_pretrains_and_reports_accuracy_and_the_deep_preset_pretrains_with_rbms()
    {
        var (code, stdout, stderr) = CliTests.Shinso("train", "stacked-autoencoder", "--epochs", "1", "--pretrain-epochs", "1", "--data", TestData.EmbeddedSubset,
            "--out", Path.Combine(_root, "stacked"), "--json");
        Assert.True(code == 0, stderr);
        Assert.InRange(LastJsonLine(stdout)["accuracy"]!.GetValue<double>(), 0.3, 1.0);
        Assert.Contains("layer 4 pretrained as an autoencoder", stderr);
        Assert.Equal("feedforward", ModelFile.ReadHeader(Path.Combine(_root, "stacked", "model.shinso")).Kind);

        (code, stdout, stderr) = CliTests.Shinso("train", "deep-autoencoder", "--code", "2", "--epochs", "1", "--pretrain-epochs", "1", "--data", TestData.EmbeddedSubset,
            "--out", Path.Combine(_root, "deep"), "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("layer 0 pretrained as an RBM", stderr);
        Assert.Contains("layer 6 pretrained as an autoencoder (its units are not sigmoid", stderr);
        Assert.Equal(2, LastJsonLine(stdout)["code_units"]!.GetValue<int>());
        // Each pretrained layer is a phase of the record before backprop, one epoch each here; a resumed run keeps them.
        string[] Phases() => [.. System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "deep", "run.json")))!["phases"]!.AsArray()
            .Select(p => $"{(string)p!["name"]!}: {p["epochs"]!.AsArray().Count}")];
        string[] expected = ["pretraining layer 0 (RBM): 1", "pretraining layer 2 (RBM): 1", "pretraining layer 4 (RBM): 1", "pretraining layer 6 (autoencoder): 1"];
        Assert.Equal([.. expected, "backprop: 1"], Phases());
        (code, _, stderr) = CliTests.Shinso("train", "deep-autoencoder", "--resume", Path.Combine(_root, "deep"), "--epochs", "2", "--data", TestData.EmbeddedSubset);
        Assert.True(code == 0, stderr);
        Assert.Equal([.. expected, "backprop: 2"], Phases());
        // A two-unit code is pictured as the paper's Fig. 3: a colour PNG (IHDR colour type 2) of the codes beside PCA's.
        var png = File.ReadAllBytes(Path.Combine(_root, "deep", "codes.png"));
        Assert.Equal(2, png[25]);
        Assert.Equal(2 * 640, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Contains("codes coloured by label", stderr);
    }

    [Fact]
    public void A_config_file_whose_net_has_a_code_layer_trains_as_an_autoencoder()
    {
        Directory.CreateDirectory(_root);
        string config = Path.Combine(_root, "tied-ae.json");
        File.WriteAllText(config, """
            {"architecture": {"input": [784], "loss": "binary-cross-entropy", "layers": [
               {"type": "gaussian-noise", "sigma": 0.1}, {"type": "dense", "units": 20}, {"type": "sigmoid"},
               {"type": "sparsity", "target": 0.1, "weight": 1}, {"type": "code"}, {"type": "tied", "to": 1}]},
             "optimizer": {"name": "adam", "lr": 0.001}, "training": {"epochs": 1, "batch": 50, "seed": 2}}
            """);
        var (code, stdout, stderr) = CliTests.Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_root, "cfg"), "--json");
        Assert.True(code == 0, stderr);
        var summary = LastJsonLine(stdout);
        Assert.Equal(20, summary["code_units"]!.GetValue<int>());
        Assert.InRange(summary["reconstruction_error"]!.GetValue<double>(), 1, 784);
        Assert.Contains("sparsity 0.1 x 1", stderr);
        Assert.Equal("autoencoder", ModelFile.ReadHeader(Path.Combine(_root, "cfg", "model.shinso")).Kind);
    }

    [Theory]
    [InlineData("autoencoder --code 900", "--code: 900 code units for 784 inputs")]
    [InlineData("stacked-autoencoder --code 5", "--code: stacked-autoencoder is a classifier")]
    [InlineData("autoencoder --pretrain-epochs 2", "--pretrain-epochs: autoencoder has no layer-wise pretraining")]
    [InlineData("autoencoder --pretrainer rbm", "--pretrainer: autoencoder has no layer-wise pretraining")]
    [InlineData("deep-autoencoder --pretrainer gibbs", "--pretrainer: expected rbm or autoencoder, got 'gibbs'")]
    [InlineData("mlp-dropout --pretrainer rbm", "--pretrainer applies to deep-autoencoder and stacked-autoencoder")]
    [InlineData("mlp-dropout --code 5", "--code: sets the code of an autoencoder preset")]
    public void Bad_autoencoder_flags_are_usage_errors_naming_the_flag(string arguments, string expected)
    {
        var args = arguments.Split(' ').Concat(["--epochs", "0", "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_root, "bad")]).ToArray();
        var (code, _, stderr) = CliTests.Shinso(["train", .. args]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void Repro_quick_runs_of_the_deep_autoencoder_and_pretraining_report_both_sides()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "deep-autoencoder", "--quick", "--out", Path.Combine(_root, "repro-dae"), "--json");
        Assert.True(code == 0, stderr);
        var report = LastJsonLine(stdout);
        Assert.Single(report["rows"]!.AsArray());
        var figures = report["figures"]!.AsObject();
        Assert.Equal(30, (int)figures["code_units"]!);
        Assert.Equal((double)figures["reconstruction_error"]! / (double)figures["pca_reconstruction_error"]!, (double)figures["ratio_to_pca"]!, 1e-9);
        Assert.True(File.Exists(Path.Combine(_root, "repro-dae", "reconstructions.png")));
        Assert.Contains("13.87", File.ReadAllText(Path.Combine(_root, "repro-dae", "report.md")));

        (code, stdout, stderr) = CliTests.Shinso("repro", "pretraining", "--quick", "--out", Path.Combine(_root, "repro-pre"), "--json");
        Assert.True(code == 0, stderr);
        figures = LastJsonLine(stdout)["figures"]!.AsObject();
        Assert.Equal(10_000, (int)figures["train_samples"]!);
        // The shape, not the paper's numbers: the pretrained net learns; the random one's figure is reported whatever it is.
        Assert.InRange((double)figures["pretrained_accuracy"]!, 0.5, 1.0);
        Assert.InRange((double)figures["rbm_pretrained_accuracy"]!, 0.5, 1.0);
        Assert.InRange((double)figures["random_init_accuracy"]!, 0.0, 1.0);
    }
}
