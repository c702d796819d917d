using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Operations;

namespace Shinso.Tests.Layers;

/// <summary>
/// A dense layer's copy of its weights laid out for inference (what a predictor's replicas keep): which passes read the
/// copy and which read <see cref="Dense.Weight"/>, shown by zeroing the weights after packing.
/// </summary>
public sealed class DenseInferenceLayoutTests
{
    private static (CpuBackend Backend, Dense Layer) Packed(int inputs, int units)
    {
        var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 1));
        var layer = new Dense(backend, inputs, units);
        var random = new System.Random(inputs + units);
        backend.Upload(Enumerable.Range(0, inputs * units).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(), layer.Weight.Value);
        backend.Upload(Enumerable.Range(0, units).Select(j => 0.01f * j).ToArray(), layer.Bias.Value);
        layer.PackWeightsForInference();
        // From here on only the packed copy holds the weights: a pass that reads Weight gives the bias alone.
        backend.Fill(layer.Weight.Value, 0f);
        return (backend, layer);
    }

    private static float[] Forward(CpuBackend backend, Dense layer, int rows, bool training)
    {
        var x = backend.Allocate(rows, layer.Inputs);
        var random = new System.Random(rows);
        backend.Upload(Enumerable.Range(0, rows * layer.Inputs).Select(_ => (float)random.NextDouble()).ToArray(), x);
        var context = training ? new ForwardContext(true, default, 0) : ForwardContext.Inference;
        return layer.Forward(x, context).Span.ToArray();
    }

    private static bool BiasOnly(Dense layer, float[] y)
    {
        var bias = layer.Bias.Value.Span;
        for (int i = 0; i < y.Length; i++)
            if (y[i] != bias[i % layer.Units]) return false;
        return true;
    }

    /// <summary>
    /// Column panels and a narrow layer's transposed copy serve every inference pass, streamed (up to 16 rows) or blocked;
    /// no training pass reads either.
    /// </summary>
    [Theory]
    [InlineData(300, 70, false, new[] { 1, ColumnPanels.MaxRows, ColumnPanels.MaxRows + 1, 100 })]
    [InlineData(600, 10, true, new[] { 1, 500 })]
    public void Inference_passes_read_the_packed_copy_and_training_passes_the_weights(int inputs, int units, bool transposed, int[] packedRows)
    {
        Assert.Equal(transposed ? InferenceWeightLayout.Transposed : InferenceWeightLayout.ColumnPanels, InferenceWeightLayouts.For(inputs, units));
        var (backend, layer) = Packed(inputs, units);
        using (backend)
        {
            foreach (int rows in packedRows) Assert.False(BiasOnly(layer, Forward(backend, layer, rows, training: false)), $"{rows} rows read the weights");
            Assert.True(BiasOnly(layer, Forward(backend, layer, 1, training: true)));
        }
    }

    [Fact]
    public void Folding_a_standardisation_in_drops_the_packed_copy()
    {
        var (backend, layer) = Packed(300, 70);
        using (backend)
        {
            layer.AbsorbInputStandardization(new float[300], Enumerable.Repeat(1f, 300).ToArray());
            Assert.True(BiasOnly(layer, Forward(backend, layer, 1, training: false)));
        }
    }
}
