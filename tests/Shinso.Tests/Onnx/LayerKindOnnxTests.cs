using Shinso.Models.FeedForward;
using Shinso.Onnx;
using Shinso.Tests.Layers;

namespace Shinso.Tests.Onnx;

/// <summary>Every registered layer kind exports to ONNX, passes the checker and matches ONNX Runtime.</summary>
[Collection(OnnxCollection.Name)]
public sealed class LayerKindOnnxTests : IDisposable
{
    private readonly OnnxParity _parity;

    public LayerKindOnnxTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    public static TheoryData<string> Kinds() => LayerKindRegistryTests.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_has_an_onnx_form_that_onnx_runtime_agrees_with(string name)
    {
        var net = new FeedForwardNet(_parity.Backend, LayerKindRegistryTests.NetAround(LayerKinds.Find(name)!.Example), seed: 7);
        OnnxParity.RandomizeBiases(net, 7);
        _parity.ExportAndCompare(net, OnnxExportOptions.Default, batch: 3, seed: 11, name: "kind-" + name);
    }
}
