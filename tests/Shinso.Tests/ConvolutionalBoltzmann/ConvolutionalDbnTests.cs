using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Models.ConvolutionalBoltzmann;
using Shinso.Tests.Cli;
using Shinso.Tests.Data;
using Shinso.Tests.SparseCoding;

namespace Shinso.Tests.ConvolutionalBoltzmann;

/// <summary>The convolutional DBN: greedy stacking, its deterministic net against the layers' own passes, its model file, and the CLI presets.</summary>
public sealed class ConvolutionalDbnTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    [Fact]
    public void Greedy_stacking_feeds_each_layer_the_pooled_probabilities_below_and_the_deterministic_net_computes_them()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 200, 20);
        using var cpu = new CpuBackend();
        var options = ConvolutionalDbnPresets.CdTraining with { BatchSize = 50 };
        var (dbn, reports) = ConvolutionalDbn.TrainGreedy(cpu, train, [new ConvolutionalLayerSpec(6, 7, 2), new ConvolutionalLayerSpec(5, 4, 2)], VisibleUnits.Bernoulli,
            options, epochs: 2, seed: 3);
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(r.Epochs[^1].ReconstructionError < r.Epochs[0].ReconstructionError, $"layer {r.Layer}: {r.Epochs[0].ReconstructionError} -> {r.Epochs[^1].ReconstructionError}"));
        Assert.Equal([6, 11, 11], dbn.Layers[1].Geometry is var g ? new[] { g.Channels, g.Height, g.Width } : null);
        Assert.Equal([5, 4, 4], dbn.Layers[1].PoolShape);

        var features = dbn.Features(test, [0, 1]);
        Assert.Equal(6 * 121 + 5 * 16, features.FeatureCount);
        var net = dbn.ToFeedForwardNet(seed: 1);
        var x = cpu.Allocate(test.Count, test.FeatureCount);
        cpu.Upload(test.Features, x);
        var top = net.Predict(x).Span.ToArray();
        var expected = dbn.Features(test, [1]).Features;
        for (int i = 0; i < top.Length; i++) Assert.True(Math.Abs(top[i] - expected[i]) < 1e-5, $"pooled[{i}] {top[i]} against {expected[i]}");

        string path = _dir.File("cdbn.shinso");
        ConvolutionalDbnModelFile.Save(dbn, path);
        var back = ConvolutionalDbnModelFile.Load(path, cpu);
        Assert.Equal(dbn.Layers[1].Weights.Span.ToArray(), back.Layers[1].Weights.Span.ToArray());
        Assert.Equal(expected, back.Features(test, [1]).Features);
        var (pixels, side) = dbn.PixelFilters(1);
        Assert.Equal((4 - 1) * 2 + 7, side);
        Assert.Equal(5 * side * side, pixels.Length);
    }

    [Fact]
    public void A_model_file_whose_block_does_not_divide_its_maps_is_refused_naming_the_field()
    {
        using var cpu = new CpuBackend();
        var rbm = new ConvolutionalRbm(cpu, 1, 28, 28, 2, 7, 2);
        var doc = ConvolutionalDbnModelFile.ToDocument(new ConvolutionalDbn([rbm]));
        doc.Architecture["layers"]!.AsArray()[0]!["block"] = 3;
        var e = Assert.Throws<ModelFileException>(() => ConvolutionalDbnModelFile.FromDocument(doc, "bad.shinso", cpu));
        Assert.Contains("architecture.layers[0].block", e.Message);
        Assert.Contains("does not divide the 22 x 22 detection maps", e.Message);
    }

    [Fact]
    public void Cdbn_trains_reports_both_classifiers_and_its_files_sample_and_export()
    {
        string data = SparseCodingCliTests.SubsetNpz(_dir, 300, 100), run = _dir.File("cdbn");
        var (code, stdout, stderr) = CliTests.Shinso("train", "cdbn", "--data", data, "--epochs", "1", "--finetune-epochs", "1", "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(2, result["layers"]!.AsArray().Count);
        var accuracies = result["softmax_accuracy"]!.AsObject();
        Assert.Equal(["layer 1", "layer 2", "layers 1+2"], accuracies.Select(p => p.Key).ToArray());
        Assert.All(accuracies, p => Assert.InRange((double)p.Value!, 0.3, 1.0));
        double fineTuned = (double)result["finetuned_accuracy"]!;
        Assert.InRange(fineTuned, 0.0, 1.0);
        Assert.True(File.Exists(Path.Combine(run, "filters.png")) && File.Exists(Path.Combine(run, "layer2-filters.png")));

        string model = Path.Combine(run, "model.shinso");
        (code, stdout, stderr) = CliTests.Shinso("eval", Path.Combine(run, "classifier.shinso"), "--data", data, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(fineTuned, (double)LastJsonLine(stdout)["accuracy"]!, 6);
        (code, _, stderr) = CliTests.Shinso("sample", model, "--out", _dir.File("samples.png"), "--filters", _dir.File("f.png"), "--count", "4", "--steps", "3");
        Assert.True(code == 0, stderr);
        Assert.Contains("4 first-layer samples after 3 Gibbs sweeps", stderr);
        (code, _, stderr) = CliTests.Shinso("export", model, "--onnx", _dir.File("cdbn.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("cdbn feature extractor", stderr);

        (code, _, stderr) = CliTests.Shinso("train", "conv-rbm", "--data", SparseCodingCliTests.SubsetNpz(_dir, 20, 10, side: 27), "--out", _dir.File("odd"));
        Assert.NotEqual(0, code);
        Assert.Contains("--data: The pooling block 2 x 2 does not divide the 23 x 23 detection maps", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "conv-rbm", "--data", SparseCodingCliTests.SubsetNpz(_dir, 20, 10, side: 4), "--out", _dir.File("tiny"));
        Assert.NotEqual(0, code);
        Assert.Contains("--data: The 5 x 5 filter is larger than the 4 x 4 image", stderr);
    }
}
