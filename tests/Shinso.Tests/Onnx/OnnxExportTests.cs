using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Onnx;
using Shinso.Random;
using Shinso.Tests.Boltzmann;
using Shinso.Tests.Cli;
using Shinso.Training;

namespace Shinso.Tests.Onnx;

/// <summary>
/// Every exportable kind, exported, passed through onnx.checker (full check) and run in ONNX Runtime, whose outputs
/// must match Shinso's within 1e-5 absolute.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class OnnxExportTests : IDisposable
{
    private readonly OnnxParity _parity;

    public OnnxExportTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    private FeedForwardNet Net(FeedForwardSpec spec, int seed)
    {
        var net = new FeedForwardNet(_parity.Backend, spec, (ulong)seed);
        OnnxParity.RandomizeBiases(net, seed);
        return net;
    }

    [Theory]
    [InlineData("softmax-cross-entropy", DenseOperator.Gemm)]
    [InlineData("softmax-cross-entropy", DenseOperator.MatMulAdd)]
    [InlineData("binary-cross-entropy", DenseOperator.Gemm)]
    [InlineData("squared-error", DenseOperator.MatMulAdd)]
    public void An_mlp_with_every_activation_dropout_and_softmax_matches_onnx_runtime(string loss, DenseOperator dense)
    {
        var spec = new FeedForwardSpec([3, 4, 5],
        [
            LayerSpec.Dropout(0.2f),
            LayerSpec.Dense(24, WeightInit.HeNormal), LayerSpec.Of("sigmoid"), LayerSpec.Dropout(0.5f),
            LayerSpec.Dense(20, WeightInit.GlorotUniform), LayerSpec.Of("tanh"),
            LayerSpec.Dense(16, WeightInit.HeNormal), LayerSpec.Of("relu"),
            LayerSpec.Dense(12, WeightInit.HeNormal), LayerSpec.Of("abs"),
            LayerSpec.Dense(8, WeightInit.GlorotUniform), LayerSpec.Of("softmax"),
            LayerSpec.Dense(6, WeightInit.GlorotUniform),
        ], loss);
        var report = _parity.ExportAndCompare(Net(spec, 11), new OnnxExportOptions { Dense = dense }, batch: 5, seed: 1, "mlp");
        var ops = report["ops"]!.AsArray().Select(o => (string)o!).ToList();
        Assert.DoesNotContain("Dropout", ops);
        foreach (var op in new[] { "Sigmoid", "Tanh", "Relu", "Abs", "Softmax", "Flatten" }) Assert.Contains(op, ops);
        if (dense == DenseOperator.Gemm) Assert.Equal(6, ops.Count(o => o == "Gemm"));
        else Assert.Equal(6, ops.Count(o => o == "MatMul"));
    }

    /// <summary>Image layers on [4, 11, 12] images, with the operators their export must use.</summary>
    public static TheoryData<string, LayerSpec, string> ImageLayers => new()
    {
        { "maxpool", LayerSpec.Pool("maxpool", 2), "MaxPool" },
        { "maxpool-pad-stride", LayerSpec.Pool("maxpool", 3, 2, pad: 1), "MaxPool" },
        { "maxpool-ceil", LayerSpec.Pool("maxpool", 3, 2, ceil: true), "MaxPool" },
        // Shinso drops the last row window (it would start in the padding) where ONNX's ceil mode keeps it.
        { "maxpool-ceil-dropped", LayerSpec.Pool("maxpool", 2, 2, pad: 1, ceil: true), "MaxPool" },
        // Rows: the last window is dropped; columns: ceil mode adds one.
        { "maxpool-ceil-mixed", LayerSpec.Pool("maxpool", 3, 3, pad: 1, ceil: true), "MaxPool" },
        { "avgpool", LayerSpec.Pool("avgpool", 2), "AveragePool" },
        { "avgpool-pad", LayerSpec.Pool("avgpool", 3, 1, pad: 1), "AveragePool" },
        { "avgpool-ceil", LayerSpec.Pool("avgpool", 3, 2, ceil: true), "AveragePool" },
        { "avgpool-ceil-pad", LayerSpec.Pool("avgpool", 3, 2, pad: 1, ceil: true), "AveragePool" },
        { "avgpool-ceil-dropped", LayerSpec.Pool("avgpool", 2, 2, pad: 1, ceil: true), "Pad AveragePool" },
        { "avgpool-ceil-mixed", LayerSpec.Pool("avgpool", 3, 3, pad: 1, ceil: true), "Pad AveragePool" },
        { "lppool-2", LayerSpec.Pool("lppool", 2), "LpPool" },
        { "lppool-3-pad", LayerSpec.Pool("lppool", 3, 2, pad: 1, p: 3f), "LpPool" },
        { "lppool-fractional", LayerSpec.Pool("lppool", 2, 1, p: 1.5f), "Abs Pow LpPool Pow" },
        { "lppool-ceil", LayerSpec.Pool("lppool", 3, 2, ceil: true), "Pad LpPool" },
        { "lppool-ceil-pad-fractional", LayerSpec.Pool("lppool", 2, 2, pad: 1, ceil: true, p: 2.5f), "Pad Abs Pow LpPool Pow" },
        { "lrn-odd", LayerSpec.Lrn(3, 1e-2f, 0.75f, 1f), "LRN" },
        // ONNX Runtime's LRN refuses even sizes; the export composes them.
        { "lrn-even", LayerSpec.Lrn(4, 0.5f, 0.6f, 2f), "Mul Conv Mul Add Pow Div" },
        { "lcn-3", LayerSpec.Lcn(3, 1f), "Conv Mul Sub Mul Conv Mul Sqrt ReduceMean Max Div" },
        { "lcn-5", LayerSpec.Lcn(5, 1.25f), "Conv Mul Sub Mul Conv Mul Sqrt ReduceMean Max Div" },
        { "softmax", LayerSpec.Of("softmax"), "Flatten Softmax Reshape" },
    };

    [Theory]
    [MemberData(nameof(ImageLayers))]
    public void A_cnn_with_each_pooling_and_normalization_layer_matches_onnx_runtime(string name, LayerSpec layer, string ops)
    {
        // Odd and even sizes, so that ceil mode makes partial windows at the bottom and right edges.
        var spec = new FeedForwardSpec([3, 11, 12],
        [
            LayerSpec.Conv(4, 3, stride: 1, pad: 1), LayerSpec.Of("tanh"),
            layer,
            LayerSpec.Conv(5, 2, stride: 2), LayerSpec.Of("relu"),
            LayerSpec.Of("flatten"), LayerSpec.Dense(7, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        var report = _parity.ExportAndCompare(Net(spec, 21), OnnxExportOptions.Default, batch: 3, seed: 2, name);
        // The layer's operators come right after the first Conv and Tanh.
        var written = report["ops"]!.AsArray().Select(o => (string)o!).Skip(2).Take(ops.Split(' ').Length);
        Assert.Equal(ops, string.Join(' ', written));
    }

    [Fact]
    public void Local_contrast_normalization_of_a_constant_image_is_zero_in_onnx_runtime_too()
    {
        // One channel and a 1x1 window: v = x - x = 0 at every pixel, the case (like a blank frame) where only the divisor's
        // floor keeps 0 / max(mean(s), s) from being 0/0 = NaN; Shinso and the export must agree on finite outputs.
        var spec = new FeedForwardSpec([1, 4, 5], [LayerSpec.Lcn(1, 1f), LayerSpec.Of("flatten"), LayerSpec.Dense(3, WeightInit.GlorotUniform)], "squared-error");
        var net = Net(spec, 5);
        OnnxParity.RandomizeBiases(net, 5);
        _parity.ExportAndCompare(net, OnnxExportOptions.Default, batch: 2, seed: 4, "lcn-constant");
    }

    [Theory]
    [InlineData("lenet5")]
    [InlineData("fashion-cnn")]
    [InlineData("cifar-18pct")]
    [InlineData("mlp-dropout")]
    [InlineData("mlp-dbn-shape")]
    [InlineData("linreg")]
    public void Every_preset_matches_onnx_runtime(string preset)
    {
        var spec = Presets.Find(preset)!.Architecture;
        _parity.ExportAndCompare(Net(spec, 31), OnnxExportOptions.Default, batch: 2, seed: 3, preset);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    public void Every_supported_opset_checks_and_runs_with_every_layer_kind(int opset)
    {
        var spec = new FeedForwardSpec([2, 9, 10],
        [
            LayerSpec.Lcn(3, 0.8f),
            LayerSpec.Conv(4, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2, ceil: true),
            LayerSpec.Lrn(3, 1e-2f),
            LayerSpec.Conv(4, 2), LayerSpec.Of("abs"), LayerSpec.Pool("avgpool", 2, ceil: true),
            LayerSpec.Pool("lppool", 2, 1, ceil: true, p: 1.5f),
            LayerSpec.Of("flatten"), LayerSpec.Dropout(0.5f),
            LayerSpec.Dense(6, WeightInit.HeNormal), LayerSpec.Of("sigmoid"),
            LayerSpec.Dense(3, WeightInit.GlorotUniform), LayerSpec.Of("softmax"),
        ], "binary-cross-entropy");
        var report = _parity.ExportAndCompare(Net(spec, 41), new OnnxExportOptions { Opset = opset }, batch: 2, seed: 4, $"opset{opset}");
        Assert.Equal(opset, (int)report["opsets"]![""]!);
    }

    [Theory]
    [InlineData(VisibleUnits.Bernoulli, false)]
    [InlineData(VisibleUnits.Gaussian, false)]
    [InlineData(VisibleUnits.Gaussian, true)]
    public void An_rbm_exports_as_its_encoder_and_its_decoder(VisibleUnits units, bool learnSigma)
    {
        const int visible = 20, hidden = 12, batch = 4;
        var rbm = Naive.Random(_parity.Backend, visible, hidden, 51, weightStd: 0.3f, biasStd: 0.2f, units, learnSigma);

        string encoder = _parity.NewPath("rbm-encoder");
        OnnxExporter.Export(rbm, encoder, new OnnxExportOptions { RbmPart = RbmPart.Encoder });
        var encoderReport = _parity.Tools.Check(encoder);
        var v = OnnxParity.RandomValues(batch * visible, 5, units == VisibleUnits.Bernoulli ? 0f : -2f, units == VisibleUnits.Bernoulli ? 1f : 2f);
        var probabilities = _parity.Backend.Allocate(batch, hidden);
        rbm.HiddenProbabilities(OnnxParity.Upload(_parity.Backend, v, [batch, visible]), probabilities);
        var ort = _parity.Tools.Run(encoder, v, [batch, visible]);
        OnnxParity.AssertClose(OnnxParity.Download(probabilities), ort.Output, "encoder");
        Assert.Equal(("visible", "hidden_probabilities"), (ort.InputName, ort.OutputName));
        Assert.Equal("encoder", (string?)encoderReport["metadata"]!["shinso.part"]);

        string decoder = _parity.NewPath("rbm-decoder");
        OnnxExporter.Export(rbm, decoder, new OnnxExportOptions { RbmPart = RbmPart.Decoder, Opset = 17 });
        _parity.Tools.Check(decoder);
        var h = OnnxParity.RandomValues(batch * hidden, 6, 0f, 1f);
        var mean = _parity.Backend.Allocate(batch, visible);
        rbm.VisibleMean(OnnxParity.Upload(_parity.Backend, h, [batch, hidden]), mean);
        ort = _parity.Tools.Run(decoder, h, [batch, hidden]);
        OnnxParity.AssertClose(OnnxParity.Download(mean), ort.Output, "decoder");
        Assert.Equal(("hidden", "visible_mean"), (ort.InputName, ort.OutputName));
    }

    /// <summary>
    /// A deep belief net with every parameter drawn from a seeded Gaussian (weights std 0.5, biases std 0.3), so that
    /// the up pass, the top RBM's shared input and each label's weights and bias all move the label probabilities.
    /// </summary>
    private DeepBeliefNet RandomDbn(int[] sizes, int labels, VisibleUnits units, ulong seed)
    {
        var be = _parity.Backend;
        var dbn = new DeepBeliefNet(be, sizes, labels, units, seed);
        ulong stream = 0;
        void Draw(Shinso.Tensors.Tensor t, float std) => be.SampleGaussian(new RandomStream(seed, 100 + stream++), 0, 0f, std, t);
        foreach (var layer in dbn.Layers)
        {
            Draw(layer.RecognitionWeights, 0.5f);
            Draw(layer.RecognitionBias, 0.3f);
            Draw(layer.GenerativeWeights, 0.5f);
            Draw(layer.GenerativeBias, 0.3f);
        }
        Draw(dbn.Top.PenultimateWeights, 0.5f);
        Draw(dbn.Top.LabelWeights, 0.5f);
        Draw(dbn.Top.PenultimateBias, 0.3f);
        Draw(dbn.Top.LabelBias, 0.3f);
        Draw(dbn.Top.TopBias, 0.3f);
        return dbn;
    }

    [Theory]
    [InlineData(new[] { 20, 12, 10 }, VisibleUnits.Bernoulli, DenseOperator.Gemm, 13)]
    [InlineData(new[] { 20, 16, 12, 10 }, VisibleUnits.Bernoulli, DenseOperator.MatMulAdd, 17)]
    [InlineData(new[] { 20, 16, 12, 10 }, VisibleUnits.Gaussian, DenseOperator.Gemm, 15)]
    public void A_dbn_exports_as_its_deterministic_up_pass_classifier(int[] sizes, VisibleUnits units, DenseOperator dense, int opset)
    {
        const int labels = 3, batch = 9;
        var dbn = RandomDbn(sizes, labels, units, 111);
        string path = _parity.NewPath("dbn-classifier");
        OnnxExporter.Export(dbn, path, new OnnxExportOptions { Opset = opset, Dense = dense });
        var report = _parity.Tools.Check(path);
        Assert.Equal(opset, (int)report["opsets"]![""]!);
        Assert.Equal("dbn", (string?)report["metadata"]!["shinso.kind"]);
        Assert.Equal("classifier", (string?)report["metadata"]!["shinso.part"]);
        Assert.Equal(DbnModelFile.ArchitectureJson(dbn).ToJsonString(), (string?)report["metadata"]!["shinso.architecture"]);
        Assert.Contains($"top RBM {sizes[^2]}+{labels}x{sizes[^1]}, free-energy softmax", (string)report["graph_name"]!);
        Assert.Equal($$"""[{"name":"visible","dims":["batch",{{sizes[0]}}]}]""", report["inputs"]!.ToJsonString());
        Assert.Equal($$"""[{"name":"label_probabilities","dims":["batch",{{labels}}]}]""", report["outputs"]!.ToJsonString());

        var x = OnnxParity.RandomValues(batch * sizes[0], 12, units == VisibleUnits.Bernoulli ? 0f : -2f, units == VisibleUnits.Bernoulli ? 1f : 2f);
        var expected = dbn.LabelProbabilities(x);
        // The test is only as strong as its probabilities are spread: no label may take (almost) all the mass everywhere.
        Assert.Contains(expected, q => q > 0.05f && q < 0.95f);
        var ort = _parity.Tools.Run(path, x, [batch, sizes[0]]);
        Assert.Equal([batch, labels], ort.Dims);
        OnnxParity.AssertClose(expected, ort.Output, $"dbn classifier (opset {opset}, {dense}, {units})");
        var predicted = dbn.Classify(x);
        for (int i = 0; i < batch; i++)
        {
            var row = ort.Output.AsSpan(i * labels, labels);
            int best = 0;
            for (int k = 1; k < labels; k++) if (row[k] > row[best]) best = k;
            Assert.Equal(predicted[i], best);
        }
    }

    [Fact]
    public void The_graph_records_architecture_version_ir_opset_and_a_dynamic_batch()
    {
        var spec = Presets.Find("lenet5")!.Architecture;
        var net = Net(spec, 61);
        string path = _parity.NewPath("lenet5-metadata");
        OnnxExporter.Export(net, path);
        var report = _parity.Tools.Check(path);
        Assert.Equal(OnnxExporter.IrVersion, (int)report["ir_version"]!);
        Assert.Equal(8, OnnxExporter.IrVersion);
        Assert.Equal(OnnxExporter.DefaultOpset, (int)report["opsets"]![""]!);
        Assert.Equal($"Shinso {ModelFile.ShinsoVersion}", (string?)report["producer"]);
        string graphName = (string)report["graph_name"]!;
        Assert.Contains(ModelFile.ShinsoVersion, graphName);
        Assert.Contains("[1x28x28] conv6k5s1p2 relu maxpool2s2p0 conv16k5s1p0", graphName);
        string doc = (string)report["doc_string"]!;
        Assert.Contains(ModelFile.ShinsoVersion, doc);
        Assert.Contains(spec.ToJson().ToJsonString(), doc);
        Assert.Equal(spec.ToJson().ToJsonString(), (string?)report["metadata"]!["shinso.architecture"]);
        Assert.Equal("feedforward", (string?)report["metadata"]!["shinso.kind"]);
        Assert.Equal("""[{"name":"input","dims":["batch",1,28,28]}]""", report["inputs"]!.ToJsonString());
        Assert.Equal("""[{"name":"output","dims":["batch",10]}]""", report["outputs"]!.ToJsonString());

        // One file serves any batch size.
        foreach (int batch in new[] { 1, 7 })
        {
            var input = OnnxParity.RandomValues(batch * 784, batch, 0f, 1f);
            var expected = OnnxParity.Download(net.Predict(OnnxParity.Upload(_parity.Backend, input, [batch, 1, 28, 28])));
            var ort = _parity.Tools.Run(path, input, [batch, 1, 28, 28]);
            Assert.Equal([batch, 10], ort.Dims);
            OnnxParity.AssertClose(expected, ort.Output, $"batch {batch}");
        }
    }

    [Fact]
    public void A_feedforward_variant_kind_exports_through_the_same_path_and_keeps_its_kind()
    {
        // Models that convert to a feed-forward net are saved under their own "feedforward-*" kind.
        var spec = new FeedForwardSpec([12], [LayerSpec.Dense(9), LayerSpec.Of("sigmoid"), LayerSpec.Dense(4)], "softmax-cross-entropy");
        var net = Net(spec, 101);
        var document = FeedForwardModelFile.ToDocument(net);
        document.Kind = "feedforward-classifier";
        string model = Path.Combine(_parity.Folder, "variant.shinso");
        ModelFile.Write(model, document);
        string onnx = _parity.NewPath("variant");
        OnnxExporter.ExportModelFile(model, onnx, new OnnxExportOptions { Opset = 16 });
        var report = _parity.Tools.Check(onnx);
        Assert.Equal("feedforward-classifier", (string?)report["metadata"]!["shinso.kind"]);
        var input = OnnxParity.RandomValues(3 * 12, 11, -1f, 1f);
        var expected = OnnxParity.Download(net.Predict(OnnxParity.Upload(_parity.Backend, input, [3, 12])));
        OnnxParity.AssertClose(expected, _parity.Tools.Run(onnx, input, [3, 12]).Output, "feedforward variant");
    }

    [Theory]
    [InlineData(12)]
    [InlineData(18)]
    public void An_unsupported_opset_is_rejected_and_leaves_an_existing_file_alone(int opset)
    {
        var net = Net(Presets.Find("linreg")!.Architecture, 71);
        string path = Path.Combine(_parity.Folder, "existing.onnx");
        File.WriteAllText(path, "previous");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(net, path, new OnnxExportOptions { Opset = opset }));
        Assert.Contains($"opset {opset} is not supported", e.Message);
        Assert.Contains("13 to 17", e.Message);
        Assert.Equal("previous", File.ReadAllText(path));
    }

    [Fact]
    public void A_model_kind_without_a_feed_forward_form_is_a_clear_error()
    {
        string model = Path.Combine(_parity.Folder, "sampler.shinso");
        var document = new ModelDocument("gibbs-sampler");
        document.Add("weights", [2, 2], [1f, 2f, 3f, 4f]);
        ModelFile.Write(model, document);
        var e = Assert.Throws<ModelFileException>(() => OnnxExporter.ExportModelFile(model, Path.Combine(_parity.Folder, "sampler.onnx")));
        Assert.Equal("kind", e.Field);
        Assert.Contains("'gibbs-sampler' model has no feed-forward form", e.Message);
        Assert.Contains("feedforward, rbm, dbn", e.Message);
        Assert.False(File.Exists(Path.Combine(_parity.Folder, "sampler.onnx")));

        var (code, _, stderr) = CliTests.Shinso("export", model, "--onnx", Path.Combine(_parity.Folder, "sampler.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("sampler.shinso: kind: a 'gibbs-sampler' model has no feed-forward form", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void The_export_command_writes_model_files_of_every_kind()
    {
        var net = Net(Presets.Find("lenet5")!.Architecture, 81);
        string netFile = Path.Combine(_parity.Folder, "lenet5.shinso");
        FeedForwardModelFile.Save(net, netFile);
        var rbm = Naive.Random(_parity.Backend, 16, 9, 82, weightStd: 0.3f, biasStd: 0.2f, VisibleUnits.Gaussian, learnSigma: true);
        string rbmFile = Path.Combine(_parity.Folder, "rbm.shinso");
        RbmModelFile.Save(rbm, rbmFile);

        string netOnnx = Path.Combine(_parity.Folder, "cli-lenet5.onnx");
        var (code, stdout, stderr) = CliTests.Shinso("export", netFile, "--onnx", netOnnx, "--opset", "15", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(15, (int)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!["opset"]!);
        Assert.Equal(15, (int)_parity.Tools.Check(netOnnx)["opsets"]![""]!);
        var images = OnnxParity.RandomValues(2 * 784, 8, 0f, 1f);
        var expected = OnnxParity.Download(net.Predict(OnnxParity.Upload(_parity.Backend, images, [2, 1, 28, 28])));
        OnnxParity.AssertClose(expected, _parity.Tools.Run(netOnnx, images, [2, 1, 28, 28]).Output, "cli lenet5");

        string decoderOnnx = Path.Combine(_parity.Folder, "cli-rbm-decoder.onnx");
        (code, _, stderr) = CliTests.Shinso("export", rbmFile, "--onnx", decoderOnnx, "--part", "decoder", "--dense", "matmul-add");
        Assert.True(code == 0, stderr);
        _parity.Tools.Check(decoderOnnx);
        var h = OnnxParity.RandomValues(3 * 9, 9, 0f, 1f);
        var mean = _parity.Backend.Allocate(3, 16);
        rbm.VisibleMean(OnnxParity.Upload(_parity.Backend, h, [3, 9]), mean);
        OnnxParity.AssertClose(OnnxParity.Download(mean), _parity.Tools.Run(decoderOnnx, h, [3, 9]).Output, "cli rbm decoder");

        string encoderOnnx = Path.Combine(_parity.Folder, "cli-rbm-encoder.onnx");
        (code, _, stderr) = CliTests.Shinso("export", rbmFile, "--onnx", encoderOnnx);
        Assert.True(code == 0, stderr);
        _parity.Tools.Check(encoderOnnx);
        var v = OnnxParity.RandomValues(3 * 16, 10, -2f, 2f);
        var probabilities = _parity.Backend.Allocate(3, 9);
        rbm.HiddenProbabilities(OnnxParity.Upload(_parity.Backend, v, [3, 16]), probabilities);
        OnnxParity.AssertClose(OnnxParity.Download(probabilities), _parity.Tools.Run(encoderOnnx, v, [3, 16]).Output, "cli rbm encoder");
    }

    [Fact]
    public void The_export_command_writes_a_saved_dbn_as_its_classifier()
    {
        var dbn = RandomDbn([20, 12, 10], 3, VisibleUnits.Bernoulli, 121);
        string dbnFile = Path.Combine(_parity.Folder, "dbn.shinso");
        DbnModelFile.Save(dbn, dbnFile);
        string onnx = Path.Combine(_parity.Folder, "cli-dbn.onnx");
        var (code, stdout, stderr) = CliTests.Shinso("export", dbnFile, "--onnx", onnx, "--opset", "14", "--json");
        Assert.True(code == 0, stderr);
        // The console wraps the line at its width.
        Assert.Contains("dbn up-pass classifier, opset 14", System.Text.RegularExpressions.Regex.Replace(stderr, @"\s+", " "));
        Assert.Equal("dbn", (string?)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!["kind"]);
        var report = _parity.Tools.Check(onnx);
        Assert.Equal(14, (int)report["opsets"]![""]!);
        Assert.Equal("dbn", (string?)report["metadata"]!["shinso.kind"]);
        var x = OnnxParity.RandomValues(5 * 20, 13, 0f, 1f);
        OnnxParity.AssertClose(dbn.LabelProbabilities(x), _parity.Tools.Run(onnx, x, [5, 20]).Output, "cli dbn classifier");

        (code, _, stderr) = CliTests.Shinso("export", dbnFile, "--onnx", Path.Combine(_parity.Folder, "dbn-part.onnx"), "--part", "decoder");
        Assert.Equal(2, code);
        Assert.Contains("--part: applies to rbm, autoencoder models only", stderr);
    }

    [Theory]
    [InlineData("--opset 18", "--opset: expected 13 to 17, got 18.")]
    [InlineData("--part middle", "--part: expected encoder or decoder, got 'middle'.")]
    [InlineData("--dense conv", "--dense: expected gemm or matmul-add, got 'conv'.")]
    [InlineData("", "--onnx: expected the path of the ONNX file to write")]
    public void The_export_command_rejects_bad_options_in_one_line(string options, string message)
    {
        var rbm = Naive.Random(_parity.Backend, 4, 3, 91, weightStd: 0.3f, biasStd: 0.2f);
        string rbmFile = Path.Combine(_parity.Folder, "small-rbm.shinso");
        RbmModelFile.Save(rbm, rbmFile);
        string[] args = ["export", rbmFile, .. options.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (options.Length > 0) args = [.. args, "--onnx", Path.Combine(_parity.Folder, "bad.onnx")];
        var (code, _, stderr) = CliTests.Shinso(args);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_parity.Folder, "bad.onnx")));
    }

    [Fact]
    public void The_part_option_is_refused_for_a_model_that_is_not_an_rbm()
    {
        string netFile = Path.Combine(_parity.Folder, "linreg.shinso");
        FeedForwardModelFile.Save(Net(Presets.Find("linreg")!.Architecture, 92), netFile);
        var (code, _, stderr) = CliTests.Shinso("export", netFile, "--onnx", Path.Combine(_parity.Folder, "x.onnx"), "--part", "decoder");
        Assert.Equal(2, code);
        Assert.Contains("--part: applies to rbm, autoencoder models only", stderr);
        Assert.Contains("linreg.shinso holds a 'feedforward' model", stderr);
    }
}
