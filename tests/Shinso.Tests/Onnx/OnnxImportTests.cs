using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Onnx;
using Shinso.Onnx.Import;
using Shinso.Onnx.Protos;
using Google.Protobuf;
using Shinso.Tests.Cli;

namespace Shinso.Tests.Onnx;

/// <summary>
/// The importer's own checks: bad files give an error that names the file and the node or tensor, and <c>shinso inspect</c> /
/// <c>shinso run</c> read a model Shinso exported and reproduce the net's predictions through .npy files.
/// </summary>
public sealed class OnnxImportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-import-{Guid.NewGuid():N}");
    private readonly CpuBackend _backend = new(new CpuKernelOptions(SimdPath.Auto, 1));

    public OnnxImportTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        _backend.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static ModelProto Relu()
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        model.Graph.Input.Add(new ValueInfoProto { Name = "x" });
        model.Graph.Node.Add(new NodeProto { OpType = "Relu", Name = "r", Input = { "x" }, Output = { "y" } });
        model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        return model;
    }

    private static OnnxImportException Refused(ModelProto model) => Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(model.ToByteArray(), "bad.onnx"));

    [Fact]
    public void A_valid_graph_runs_and_bad_graphs_are_refused_with_the_node_or_tensor_named()
    {
        var outputs = OnnxModel.Parse(Relu().ToByteArray(), "relu.onnx").Run(_backend, new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromFloats([2], [-1f, 2f]) });
        Assert.Equal([0f, 2f], outputs["y"].Floats!);

        var truncated = Relu().ToByteArray()[..^3];
        Assert.Contains("bad.onnx", Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(truncated, "bad.onnx")).Message);

        var cyclic = Relu();
        cyclic.Graph.Node.Add(new NodeProto { OpType = "Relu", Name = "loop", Input = { "z" }, Output = { "w" } });
        cyclic.Graph.Node.Add(new NodeProto { OpType = "Relu", Name = "back", Input = { "w" }, Output = { "z" } });
        Assert.Contains("'loop' (Relu)", Refused(cyclic).Message);

        var undefined = Relu();
        undefined.Graph.Node[0].Input[0] = "nowhere";
        Assert.Contains("input 'nowhere' is not defined", Refused(undefined).Message);

        var unknown = Relu();
        unknown.Graph.Node[0].OpType = "FancyOp";
        var e = Assert.IsType<OnnxUnsupportedException>(Refused(unknown));
        Assert.Equal("FancyOp", e.OperatorType);
        Assert.Contains("node 0 'r' (FancyOp)", e.Message);

        var shortData = Relu();
        shortData.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2, 3 }, FloatData = { 1f, 2f } });
        Assert.Contains("initialiser 'w'", Refused(shortData).Message);

        foreach (var dims in new long[][] { [1L << 40, 1L << 40], [1L << 31], [0, 1L << 31] })
        {
            var absurd = Relu();
            absurd.Graph.Initializer.Add(new TensorProto { Name = "huge", DataType = 1, Dims = { dims } });
            Assert.Contains("'huge'", Refused(absurd).Message);
        }

        var twice = Relu();
        twice.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        Assert.Contains("'y' is listed twice", Refused(twice).Message);

        // At run time, attribute values that do not fit the input name the node: an axis of a scalar, pads past int.MaxValue.
        var squeeze = Relu();
        squeeze.Graph.Node[0] = new NodeProto { OpType = "Squeeze", Name = "s", Input = { "x", "axes" }, Output = { "y" } };
        squeeze.Graph.Initializer.Add(new TensorProto { Name = "axes", DataType = 7, Dims = { 1 }, Int64Data = { 0 } });
        var scalar = new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromFloats([], [1f]) };
        Assert.Contains("'s' (Squeeze)", Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(squeeze.ToByteArray(), "bad.onnx").Run(_backend, scalar)).Message);
        var pad = Relu();
        pad.Graph.Node[0] = new NodeProto { OpType = "Pad", Name = "p", Input = { "x", "pads" }, Output = { "y" } };
        pad.Graph.Initializer.Add(new TensorProto { Name = "pads", DataType = 7, Dims = { 2 }, Int64Data = { 0, 1L << 32 } });
        var vector = new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromFloats([1], [1f]) };
        Assert.Contains("'p' (Pad)", Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(pad.ToByteArray(), "bad.onnx").Run(_backend, vector)).Message);

        var external = Relu();
        var tensor = new TensorProto { Name = "ext", DataType = 1, Dims = { 4 }, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        external.Graph.Initializer.Add(tensor);
        string path = Path.Combine(_dir, "external.onnx");
        File.WriteAllBytes(path, external.ToByteArray());
        var missing = Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Load(path));
        Assert.Contains("weights.bin", missing.Message);
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), new byte[16]);
        Assert.Equal(4, OnnxModel.Load(path).ParameterCount);
    }

    [Fact]
    public void Inspect_and_run_read_an_exported_net_and_reproduce_its_predictions_through_npy_files()
    {
        var spec = new FeedForwardSpec([1, 8, 8], [LayerSpec.Conv(3, 3), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2), LayerSpec.Of("flatten"), LayerSpec.Dense(4)], "softmax-cross-entropy");
        var net = new FeedForwardNet(_backend, spec, 3);
        OnnxParity.RandomizeBiases(net, 4);
        string onnx = Path.Combine(_dir, "net.onnx");
        OnnxExporter.Export(net, onnx);
        var input = OnnxParity.RandomValues(5 * 64, 9, 0f, 1f);
        var expected = OnnxParity.Download(net.Predict(OnnxParity.Upload(_backend, input, [5, 1, 8, 8])));

        var (code, stdout, stderr) = CliTests.Shinso("inspect", onnx, "--json");
        Assert.True(code == 0, stderr);
        var report = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(3 * 9 + 3 + 27 * 4 + 4, (long)report["parameters"]!);
        Assert.Contains("Conv", report["operators"]!.AsArray().Select(o => (string)o!));

        string x = Path.Combine(_dir, "x.npy"), y = Path.Combine(_dir, "y.npy");
        using (var file = File.Create(x)) NumpyArchive.WriteArray(file, [5, 1, 8, 8], input);
        (code, _, stderr) = CliTests.Shinso("run", onnx, "--input", x, "--output", y, "--threads", "1");
        Assert.True(code == 0, stderr);
        using var stream = File.OpenRead(y);
        var result = NumpyArchive.ReadArray(stream, y, "y");
        Assert.Equal([5, 4], result.Shape);
        var actual = result.ToFloats();
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-6f, $"value {i}: {actual[i]} against the net's {expected[i]}");

        (code, _, stderr) = CliTests.Shinso("run", onnx, "--input", Path.Combine(_dir, "missing.npy"), "--output", y);
        Assert.NotEqual(0, code);
        Assert.Contains("missing.npy", stderr);
    }

    [Theory]
    [InlineData(DenseOperator.Gemm)]
    [InlineData(DenseOperator.MatMulAdd)]
    public void An_exported_net_imports_back_as_the_same_trainable_net(DenseOperator dense)
    {
        var spec = new FeedForwardSpec([1, 10, 10],
        [
            LayerSpec.Conv(4, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Lrn(3), LayerSpec.Pool("maxpool", 2),
            LayerSpec.Conv(3, 3, stride: 2), LayerSpec.Of("tanh"), LayerSpec.Pool("avgpool", 2, 1),
            LayerSpec.Of("flatten"), LayerSpec.Dense(6), LayerSpec.Of("sigmoid"), LayerSpec.Dropout(0.5f), LayerSpec.Dense(3),
        ], "softmax-cross-entropy");
        var net = new FeedForwardNet(_backend, spec, 11);
        OnnxParity.RandomizeBiases(net, 12);
        string onnx = Path.Combine(_dir, $"chain-{dense}.onnx");
        OnnxExporter.Export(net, onnx, new OnnxExportOptions { Dense = dense });

        var chain = FeedForwardImport.Read(OnnxModel.Load(onnx));
        // Dropout is an inference no-op and leaves the chain; everything else comes back as it was.
        var expectedLayers = spec.Layers.Where(l => l is not DropoutSpec).ToList();
        Assert.Equal(expectedLayers.Select(l => l.ToString()), chain.Spec.Layers.Select(l => l.ToString()));
        Assert.Equal("softmax-cross-entropy", chain.Spec.Loss);
        Assert.Equal(spec.InputShape, chain.Spec.InputShape);
        var imported = FeedForwardImport.ToNet(chain, _backend);
        var x = OnnxParity.RandomValues(4 * 100, 13, 0f, 1f);
        var expected = OnnxParity.Download(net.Predict(OnnxParity.Upload(_backend, x, [4, 1, 10, 10])));
        var actual = OnnxParity.Download(imported.Predict(OnnxParity.Upload(_backend, x, [4, 1, 10, 10])));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_pytorch_style_graph_with_transposed_gemm_weights_imports_as_a_net_that_computes_what_the_graph_does()
    {
        // PyTorch writes nn.Linear as Gemm(x, W [out, in], b, transB=1) after a Flatten.
        var random = new System.Random(3);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var model = new ModelProto { IrVersion = 7, ProducerName = "pytorch", Graph = new GraphProto { Name = "torch_jit" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in new[] { 2, 3 }) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        model.Graph.Input.Add(new ValueInfoProto { Name = "input", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        model.Graph.Initializer.Add(new TensorProto { Name = "fc1.weight", DataType = 1, Dims = { 5, 6 }, FloatData = { Values(30) } });
        model.Graph.Initializer.Add(new TensorProto { Name = "fc1.bias", DataType = 1, Dims = { 5 }, FloatData = { Values(5) } });
        model.Graph.Initializer.Add(new TensorProto { Name = "fc2.weight", DataType = 1, Dims = { 4, 5 }, FloatData = { Values(20) } });
        model.Graph.Initializer.Add(new TensorProto { Name = "fc2.bias", DataType = 1, Dims = { 4 }, FloatData = { Values(4) } });
        var transB = new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 };
        model.Graph.Node.Add(new NodeProto { OpType = "Flatten", Input = { "input" }, Output = { "flat" }, Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } } });
        model.Graph.Node.Add(new NodeProto { OpType = "Gemm", Input = { "flat", "fc1.weight", "fc1.bias" }, Output = { "h" }, Attribute = { transB } });
        model.Graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "h" }, Output = { "r" } });
        model.Graph.Node.Add(new NodeProto { OpType = "Gemm", Input = { "r", "fc2.weight", "fc2.bias" }, Output = { "logits" }, Attribute = { transB } });
        model.Graph.Node.Add(new NodeProto { OpType = "Softmax", Input = { "logits" }, Output = { "probabilities" }, Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } } });
        model.Graph.Output.Add(new ValueInfoProto { Name = "probabilities" });
        var onnx = OnnxModel.Parse(model.ToByteArray(), "torch.onnx");
        var net = FeedForwardImport.ToNet(FeedForwardImport.Read(onnx), _backend);
        Assert.Equal(new[] { LayerSpec.Of("flatten"), LayerSpec.Dense(5), LayerSpec.Of("relu"), LayerSpec.Dense(4) }.Select(l => l.ToString()), net.Spec.Layers.Select(l => l.ToString()));
        Assert.Equal("softmax-cross-entropy", net.Spec.Loss);
        var x = OnnxParity.RandomValues(3 * 6, 4, -1f, 1f);
        var graph = onnx.Run(_backend, new Dictionary<string, OnnxValue> { ["input"] = OnnxValue.FromFloats([3, 2, 3], x) })["probabilities"].Floats!;
        var mine = OnnxParity.Download(net.Predict(OnnxParity.Upload(_backend, x, [3, 2, 3])));
        for (int i = 0; i < graph.Length; i++) Assert.True(MathF.Abs(graph[i] - mine[i]) <= 1e-6f, $"value {i}: net {mine[i]}, graph {graph[i]}");

        var unfit = model.Clone();
        unfit.Graph.Node[1].Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 2f });
        var e = Assert.Throws<OnnxUnsupportedException>(() => FeedForwardImport.Read(OnnxModel.Parse(unfit.ToByteArray(), "torch.onnx")));
        Assert.Contains("node 1", e.Message);
        Assert.Contains("alpha 1", e.Message);
    }

    [Fact]
    public void Train_init_from_starts_from_the_graphs_weights_and_fine_tunes_them()
    {
        // A net trained briefly here stands in for one another tool trained: exported, then brought back to fine-tune.
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 2000, 500);
        var spec = new FeedForwardSpec([784], [LayerSpec.Dense(32, WeightInit.GlorotUniform), LayerSpec.Of("relu"), LayerSpec.Dense(10, WeightInit.GlorotUniform)], "softmax-cross-entropy");
        var net = new FeedForwardNet(_backend, spec, 5);
        var options = new global::Shinso.Training.TrainingOptions { Epochs = 1, BatchSize = 50, Seed = 5 };
        new global::Shinso.Training.Trainer(net, new global::Shinso.Training.TrainingConfig { Architecture = spec }.CreateOptimizer(), options).Fit(global::Shinso.Training.SupervisedData.FromDataset(train));
        double accuracy = global::Shinso.Training.Trainer.Evaluate(net, global::Shinso.Training.SupervisedData.FromDataset(test)).Accuracy!.Value;
        Assert.True(accuracy > 0.5, $"the stand-in net reached only {accuracy:P1}");
        string onnx = Path.Combine(_dir, "pretrained.onnx");
        OnnxExporter.Export(net, onnx);

        string run = Path.Combine(_dir, "run0");
        var (code, stdout, stderr) = CliTests.Shinso("train", "mlp-dropout", "--init-from", onnx, "--epochs", "0", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var summary = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        var (_, embeddedTest) = FashionMnist.Load(TestData.EmbeddedSubset);
        double full = global::Shinso.Training.Trainer.Evaluate(net, global::Shinso.Training.SupervisedData.FromDataset(embeddedTest)).Accuracy!.Value;
        // Zero epochs: the saved net is the imported one, so it classifies the test set exactly as the original does.
        Assert.Equal(full, (double)summary["accuracy"]!, 6);

        (code, stdout, stderr) = CliTests.Shinso("train", "mlp-dropout", "--init-from", onnx, "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "run1"), "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        summary = (JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.True((double)summary["accuracy"]! > 0.5, $"fine-tuning from the imported weights gave {summary["accuracy"]}");

        // eval scores the ONNX file itself the same way.
        (code, stdout, stderr) = CliTests.Shinso("eval", onnx, "--data", TestData.EmbeddedSubset, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(full, (double)((JsonObject)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!)["accuracy"]!, 6);

        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--init-from", onnx);
        Assert.NotEqual(0, code);
        Assert.Contains("--init-from applies to feed-forward nets", stderr);
    }
}
