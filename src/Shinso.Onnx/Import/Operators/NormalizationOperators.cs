using Shinso.Backends.KernelPairs;
using Shinso.Operations;

namespace Shinso.Onnx.Import.Operators;

/// <summary>
/// Softmax and LogSoftmax (the backend's row passes when the axis is innermost, the host otherwise), LRN through the backend's
/// pass, and BatchNormalization in inference form on the host.
/// </summary>
internal static class NormalizationOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["Softmax"] = n => [Softmax(n, log: false)];
        map["LogSoftmax"] = n => [Softmax(n, log: true)];
        map["LRN"] = Lrn;
        map["BatchNormalization"] = BatchNormalization;
    }

    private static OnnxValue Softmax(NodeContext n, bool log)
    {
        var x = n.Input(0);
        var data = n.Floats(0);
        int rank = x.Rank;
        // Before opset 13 the input is coerced to a matrix at the axis (default 1); from 13 on the axis (default -1) alone is normalised.
        bool coerced = n.Opset < 13;
        int axis = n.Axis(n.Int("axis", coerced ? 1 : -1), Math.Max(rank, 1));
        int outer = 1, inner = 1, size = rank == 0 ? 1 : x.Shape[axis];
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        for (int d = axis + 1; d < rank; d++) inner *= x.Shape[d];
        if (coerced) (size, inner) = (size * inner, 1);
        if (data.Length == 0) return OnnxValue.FromFloats(x.Shape, []);
        if (inner == 1)
        {
            var be = n.Backend;
            if (!log) return OnnxValue.FromFloats(x.Shape, BackendPass.Map(be, data, outer, (input, output) => be.SoftmaxRows(input, output)));
            var rows = BackendPass.Upload(be, data, outer, size);
            var lse = be.Allocate(outer);
            be.LogSumExpRows(rows, lse);
            var sums = BackendPass.Download(be, lse);
            var y = new float[data.Length];
            for (int r = 0; r < outer; r++)
                for (int c = 0; c < size; c++) y[r * size + c] = data[r * size + c] - sums[r];
            return OnnxValue.FromFloats(x.Shape, y);
        }
        var result = new float[data.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int first = o * size * inner + i;
                float largest = float.NegativeInfinity;
                for (int k = 0; k < size; k++) largest = MathF.Max(largest, data[first + k * inner]);
                double sum = 0;
                for (int k = 0; k < size; k++) sum += Math.Exp(data[first + k * inner] - largest);
                double logSum = largest + Math.Log(sum);
                for (int k = 0; k < size; k++)
                {
                    double v = data[first + k * inner] - logSum;
                    result[first + k * inner] = (float)(log ? v : Math.Exp(v));
                }
            }
        return OnnxValue.FromFloats(x.Shape, result);
    }

    private static OnnxValue[] Lrn(NodeContext n)
    {
        var x = n.Input(0);
        if (x.Rank < 2) throw n.Error($"X {x} needs a batch and a channel dimension.");
        int size = checked((int)n.Int("size", 0));
        if (size < 1) throw n.Error($"size must be a positive number of channels, got {size}.");
        var parameters = new LrnParameters(size, n.Float("alpha", 1e-4f), n.Float("beta", 0.75f), n.Float("bias", 1f));
        var data = n.Floats(0);
        if (data.Length == 0) return [OnnxValue.FromFloats(x.Shape, [])];
        var be = n.Backend;
        int batch = x.Shape[0];
        var input = BackendPass.Upload(be, data, batch, data.Length / batch);
        var output = be.Allocate(batch, data.Length / batch);
        be.Run(new LrnForward(input, x.Shape[1], parameters, output, be.Allocate(batch, data.Length / batch)));
        return [OnnxValue.FromFloats(x.Shape, BackendPass.Download(be, output))];
    }

    private static OnnxValue[] BatchNormalization(NodeContext n)
    {
        if (n.Opset < 7 && n.Int("is_test", 0) == 0 || n.Opset < 9 && n.Int("spatial", 1) == 0)
            throw n.Unsupported("pre-opset-9 batch normalisation in training or per-activation (spatial 0) form is not supported.");
        if (n.Int("training_mode", 0) != 0 || n.OutputCount > 1)
            throw n.Unsupported("training-mode batch normalisation (running statistics as outputs) is not supported; Shinso imports the inference form.");
        var x = n.Input(0);
        if (x.Rank < 2) throw n.Error($"X {x} needs a batch and a channel dimension.");
        var data = n.Floats(0);
        float[] scale = n.Floats(1), bias = n.Floats(2), mean = n.Floats(3), variance = n.Floats(4);
        int channels = x.Shape[1];
        foreach (var (v, name) in new[] { (scale, "scale"), (bias, "B"), (mean, "mean"), (variance, "var") })
            if (v.Length != channels) throw n.Error($"{name} has {v.Length} values; X has {channels} channels.");
        float epsilon = n.Float("epsilon", 1e-5f);
        int spatial = x.Shape[0] * channels == 0 ? 0 : data.Length / (x.Shape[0] * channels);
        var y = new float[data.Length];
        for (int i = 0; i < x.Shape[0]; i++)
            for (int c = 0; c < channels; c++)
            {
                float gain = scale[c] / MathF.Sqrt(variance[c] + epsilon), shift = bias[c] - mean[c] * gain;
                int first = (i * channels + c) * spatial;
                for (int k = 0; k < spatial; k++) y[first + k] = data[first + k] * gain + shift;
            }
        return [OnnxValue.FromFloats(x.Shape, y)];
    }
}
