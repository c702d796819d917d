using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Onnx;

namespace Shinso.Tests.Onnx;

/// <summary>
/// The tiled convolution's ONNX form (a Conv per tile offset, then an interleave by Reshape and Transpose) on geometries
/// whose output does not divide into whole tiles, with strides, and as a locally connected layer, checked in ONNX Runtime.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class TiledConvolutionOnnxTests : IDisposable
{
    private readonly OnnxParity _parity;

    public TiledConvolutionOnnxTests(OnnxToolchain tools) => _parity = new OnnxParity(tools);

    public void Dispose() => _parity.Dispose();

    [Theory]
    [InlineData(9, 3, 3, 2, 1)]   // 5x5 output in 3x3 tiles: the last tile row and column are partial
    [InlineData(8, 3, 2, 1, 0)]   // 6x6 in 2x2 tiles
    [InlineData(7, 2, 6, 1, 0)]   // 6x6 in one 6x6 tile: locally connected
    [InlineData(10, 4, 3, 3, 2)]  // stride 3 with padding: 4x4 output in 3x3 tiles
    public void A_tiled_net_matches_onnx_runtime(int size, int kernel, int tile, int stride, int pad)
    {
        var spec = new FeedForwardSpec([2, size, size],
            [LayerSpec.TiledConv(3, kernel, tile, stride, pad), LayerSpec.Pool("lppool", 2, 1), LayerSpec.Of("flatten"), LayerSpec.Dense(4)],
            "softmax-cross-entropy");
        var net = new FeedForwardNet(_parity.Backend, spec, seed: 5);
        OnnxParity.RandomizeBiases(net, 5);
        _parity.ExportAndCompare(net, OnnxExportOptions.Default, batch: 3, seed: 13, name: $"tiled-{size}-{kernel}-{tile}-{stride}-{pad}");
    }
}
