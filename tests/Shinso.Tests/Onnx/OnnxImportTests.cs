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

        var absurd = Relu();
        absurd.Graph.Initializer.Add(new TensorProto { Name = "huge", DataType = 1, Dims = { 1L << 40, 1L << 40 } });
        Assert.Contains("'huge'", Refused(absurd).Message);

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
        NumpyArchive.WriteArray(x, [5, 1, 8, 8], input);
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
}
