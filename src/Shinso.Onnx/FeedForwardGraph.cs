using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Losses;
using static Shinso.Onnx.OnnxGraphBuilder;
using Shinso.Operations;

namespace Shinso.Onnx;

/// <summary>
/// Writes a <see cref="FeedForwardForm"/>'s network as ONNX nodes, layer by layer, in NCHW with a symbolic batch
/// dimension. Each layer maps to the standard operator with the same definition; what ONNX has no single
/// operator for (local contrast normalization, Lp pooling with a fractional p or ceil mode) is composed from
/// standard operators.
/// </summary>
internal static class FeedForwardGraph
{
    public static void Write(OnnxGraphBuilder graph, FeedForwardForm form, OnnxExportOptions options)
    {
        var net = form.Net;
        var shapes = net.Spec.SampleShapes();
        int[] shape = net.Spec.InputShape;
        string input = graph.Input(form.InputName, shape);
        string x = input;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            string name = $"layer{i}_{net.Layers[i].Kind}";
            x = net.Layers[i] switch
            {
                Dense dense => WriteDense(graph, x, shape, dense, name, options.Dense),
                Conv2d conv => WriteConv(graph, x, conv, name),
                Pool2d pool => WritePool(graph, x, pool, name),
                LocalResponseNormalization lrn => WriteLrn(graph, x, lrn, name),
                LocalContrastNormalization lcn => WriteLocalContrastNormalization(graph, x, lcn.Geometry, name),
                Flatten => shape.Length > 1 ? graph.Node("Flatten", name, [x], Int("axis", 1)) : x,
                // Dropout scales at training time (inverted dropout), so at inference it is the identity.
                Dropout => x,
                SoftmaxLayer => WriteSoftmax(graph, x, shape, name),
                ActivationLayer activation => WriteActivation(graph, x, activation.Function, name),
                var other => throw new NotSupportedException($"Layer {i} ({other.Kind}) has no ONNX form in this exporter."),
            };
            shape = shapes[i];
        }
        // The exported function is Predict: the scores through the loss's output nonlinearity.
        x = net.Loss.Output switch
        {
            OutputFunction.Softmax => WriteSoftmax(graph, x, shape, "output_softmax"),
            OutputFunction.Sigmoid => graph.Node("Sigmoid", "output_sigmoid", [x]),
            _ => x,
        };
        if (form.LabelHead is { } head)
        {
            if (shape.Length != 1 || shape[0] != head.PenultimateCount)
                throw new ArgumentException($"The label head takes {head.PenultimateCount} penultimate units but the net gives [{string.Join(", ", shape)}].", nameof(form));
            x = WriteFreeEnergyLabelHead(graph, x, head, options.Dense);
            shape = [head.LabelCount];
        }
        // A net of layers that are all identities at inference (dropout, flatten of vectors) still needs a node to name its output.
        if (x == input) x = graph.Node("Identity", "identity", [x]);
        graph.Output(graph.RenameLastOutput(x, form.OutputName), shape);
    }

    /// <summary>
    /// <c>softmax_k(d_k + sum_j softplus(c_j + (p P)_j + L_kj))</c> over [batch, labels]: the shared top input
    /// <c>c + p P</c> [batch, top] is unsqueezed to [batch, 1, top] and broadcast against L [labels, top], so every
    /// label's softplus terms are one [batch, labels, top] tensor that ReduceSum (axes as an input since opset 13)
    /// sums over the top units.
    /// </summary>
    private static string WriteFreeEnergyLabelHead(OnnxGraphBuilder graph, string p, FreeEnergyLabelHead head, DenseOperator form)
    {
        head.Validate();
        string weights = graph.Initializer("top.penultimate_weights", [head.PenultimateCount, head.TopCount], head.PenultimateWeights);
        string bias = graph.Initializer("top.hidden_bias", [head.TopCount], head.TopBias);
        string shared = form == DenseOperator.Gemm
            ? graph.Node("Gemm", "top_input", [p, weights, bias])
            : graph.Node("Add", "top_input", [graph.Node("MatMul", "top_input_matmul", [p, weights]), bias]);
        string expanded = graph.Node("Unsqueeze", "top_input_unsqueezed", [shared, graph.Int64Initializer("top_input_unsqueeze_axes", 1)]);
        string labelWeights = graph.Initializer("top.label_weights", [head.LabelCount, head.TopCount], head.LabelWeights);
        string perLabel = graph.Node("Add", "top_input_per_label", [expanded, labelWeights]);
        string softplus = graph.Node("Softplus", "top_softplus", [perLabel]);
        string sum = graph.Node("ReduceSum", "top_softplus_sum", [softplus, graph.Int64Initializer("top_softplus_sum_axes", 2)], Int("keepdims", 0));
        string labelBias = graph.Initializer("top.label_bias", [head.LabelCount], head.LabelBias);
        // -F(p, k) up to the term a.p that all labels share and the softmax cancels.
        string negativeFreeEnergy = graph.Node("Add", "negative_free_energy", [sum, labelBias]);
        return graph.Node("Softmax", "label_softmax", [negativeFreeEnergy], Int("axis", 1));
    }

    private static string WriteDense(OnnxGraphBuilder graph, string x, int[] shape, Dense dense, string name, DenseOperator form)
    {
        // Shinso's dense layer reads any sample shape as a vector; ONNX's Gemm and MatMul need [N, features].
        if (shape.Length > 1) x = graph.Node("Flatten", name + "_flatten", [x], Int("axis", 1));
        string w = graph.Initializer(dense.Weight.Name, [dense.Inputs, dense.Units], Host(dense.Weight));
        string b = graph.Initializer(dense.Bias.Name, [dense.Units], Host(dense.Bias));
        if (form == DenseOperator.Gemm) return graph.Node("Gemm", name, [x, w, b]);
        string product = graph.Node("MatMul", name + "_matmul", [x, w]);
        return graph.Node("Add", name, [product, b]);
    }

    private static string WriteConv(OnnxGraphBuilder graph, string x, Conv2d conv, string name)
    {
        var g = conv.Geometry;
        // Shinso's [F, C*KH*KW] rows are filters in (c, kh, kw) order: the same bytes as ONNX's [F, C, KH, KW].
        string w = graph.Initializer(conv.Weight.Name, [conv.Filters, g.Channels, g.KernelHeight, g.KernelWidth], Host(conv.Weight));
        string b = graph.Initializer(conv.Bias.Name, [conv.Filters], Host(conv.Bias));
        return graph.Node("Conv", name, [x, w, b],
            Ints("kernel_shape", g.KernelHeight, g.KernelWidth),
            Ints("strides", g.StrideHeight, g.StrideWidth),
            Ints("pads", g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth));
    }

    private static string WritePool(OnnxGraphBuilder graph, string x, Pool2d pool, string name)
    {
        var g = pool.Geometry;
        if (pool.PoolingKind == PoolingKind.Lp) return WriteLpPool(graph, x, g, pool.P, name);
        var kernel = Ints("kernel_shape", g.KernelHeight, g.KernelWidth);
        var strides = Ints("strides", g.StrideHeight, g.StrideWidth);
        bool max = pool.PoolingKind == PoolingKind.Max;
        if (!g.CeilMode || CeilModeAgrees(g))
        {
            var pads = Ints("pads", g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth);
            var ceil = Int("ceil_mode", g.CeilMode ? 1 : 0);
            // Shinso's average counts the zero padding (PyTorch's default), which ONNX spells count_include_pad=1.
            return max
                ? graph.Node("MaxPool", name, [x], kernel, strides, pads, ceil)
                : graph.Node("AveragePool", name, [x], kernel, strides, pads, ceil, Int("count_include_pad", 1));
        }
        // Shinso drops a last window that would start in the bottom/right padding (PyTorch's rule); ONNX's ceil mode
        // up to opset 17 keeps it. Floor mode with the end padding stretched to reach exactly Shinso's last window
        // gives Shinso's windows. Max pooling ignores padding, so asymmetric pads suffice.
        int bottom = EndPadding(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight, g.OutputHeight);
        int right = EndPadding(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth, g.OutputWidth);
        if (max) return graph.Node("MaxPool", name, [x], kernel, strides, Ints("pads", g.PadHeight, g.PadWidth, bottom, right));
        // The average's divisor counts Shinso's zero padding but not the overhang beyond it: make that padding real zeros
        // (Pad), then pool without counting the stretched end padding (count_include_pad=0).
        string padded = graph.Node("Pad", name + "_pad", [x,
            graph.Int64Initializer(name + "_pads", 0, 0, g.PadHeight, g.PadWidth, 0, 0, g.PadHeight, g.PadWidth)]);
        return graph.Node("AveragePool", name, [padded], kernel, strides,
            Ints("pads", 0, 0, Math.Max(0, bottom - g.PadHeight), Math.Max(0, right - g.PadWidth)), Int("count_include_pad", 0));
    }

    /// <summary>Whether ONNX's ceil-mode output size (opsets up to 17: <c>ceil((size + 2 pad - kernel) / stride) + 1</c>) is Shinso's in both directions.</summary>
    private static bool CeilModeAgrees(PoolingGeometry g) =>
        OnnxCeilSize(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight) == g.OutputHeight
        && OnnxCeilSize(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth) == g.OutputWidth;

    private static int OnnxCeilSize(int size, int kernel, int stride, int pad) => (size + 2 * pad - kernel + stride - 1) / stride + 1;

    /// <summary>
    /// The end padding that makes floor-mode pooling produce exactly <paramref name="outputs"/> windows, the last ending
    /// where Shinso's does: <c>(outputs - 1) * stride + kernel - size - pad</c>, at least 0. It is below the kernel size,
    /// as Shinso's last window starts inside the image or its leading padding.
    /// </summary>
    private static int EndPadding(int size, int kernel, int stride, int pad, int outputs) =>
        Math.Max(0, (outputs - 1) * stride + kernel - size - pad);

    /// <summary>
    /// ONNX <c>LRN</c> where ONNX Runtime runs it (odd sizes). ONNX Runtime refuses even sizes, which ONNX allows, so
    /// those are composed: the windowed channel sum of squares is a 1x1 <c>Conv</c> with a banded 0/1 matrix, then
    /// <c>y = x / (bias + alpha/size * sum)^beta</c>.
    /// </summary>
    private static string WriteLrn(OnnxGraphBuilder graph, string x, LocalResponseNormalization lrn, string name)
    {
        var p = lrn.Settings;
        if (p.Size % 2 == 1)
            return graph.Node("LRN", name, [x], Int("size", p.Size), Float("alpha", p.Alpha), Float("beta", p.Beta), Float("bias", p.Bias));
        int channels = lrn.Channels;
        var band = new float[channels * channels];
        for (int c = 0; c < channels; c++)
            for (int j = Math.Max(0, c - p.Before); j <= Math.Min(channels - 1, c + p.After); j++) band[c * channels + j] = 1f;
        string squares = graph.Node("Mul", name + "_squares", [x, x]);
        string sum = graph.Node("Conv", name + "_window_sum", [squares, graph.Initializer(name + "_band", [channels, channels, 1, 1], band)],
            Ints("kernel_shape", 1, 1));
        string scaled = graph.Node("Mul", name + "_scaled", [sum, graph.Initializer(name + "_alpha_over_size", [], [p.Alpha / p.Size])]);
        string scale = graph.Node("Add", name + "_scale", [scaled, graph.Initializer(name + "_bias", [], [p.Bias])]);
        string denominator = graph.Node("Pow", name + "_denominator", [scale, graph.Initializer(name + "_beta", [], [p.Beta])]);
        return graph.Node("Div", name, [x, denominator]);
    }

    /// <summary>
    /// ONNX <c>LpPool</c> up to opset 17 takes an integer p and has no ceil mode. A fractional p becomes
    /// <c>Pow(LpPool_{p=1}(|x|^p), 1/p)</c>; ceil mode becomes explicit zero padding of the bottom and right edges up to
    /// the last window (padding adds zero to an Lp sum, so this is exact), followed by floor-mode pooling.
    /// </summary>
    private static string WriteLpPool(OnnxGraphBuilder graph, string x, PoolingGeometry g, float p, string name)
    {
        long[] pads = [g.PadHeight, g.PadWidth, g.PadHeight, g.PadWidth];
        if (g.CeilMode)
        {
            int bottom = EndPadding(g.Height, g.KernelHeight, g.StrideHeight, g.PadHeight, g.OutputHeight);
            int right = EndPadding(g.Width, g.KernelWidth, g.StrideWidth, g.PadWidth, g.OutputWidth);
            // Pad's pads list every axis's begin, then every axis's end: [N, C, H, W] begins, then ends.
            string padding = graph.Int64Initializer(name + "_pads", 0, 0, g.PadHeight, g.PadWidth, 0, 0, bottom, right);
            x = graph.Node("Pad", name + "_pad", [x, padding]);
            pads = [0, 0, 0, 0];
        }
        var kernel = Ints("kernel_shape", g.KernelHeight, g.KernelWidth);
        var strides = Ints("strides", g.StrideHeight, g.StrideWidth);
        if (p == MathF.Round(p)) return graph.Node("LpPool", name, [x], kernel, strides, Ints("pads", pads), Int("p", (long)p));
        string magnitude = graph.Node("Abs", name + "_abs", [x]);
        string powered = graph.Node("Pow", name + "_pow", [magnitude, graph.Initializer(name + "_p", [], [p])]);
        string sum = graph.Node("LpPool", name + "_sum", [powered], kernel, strides, Ints("pads", pads), Int("p", 1));
        return graph.Node("Pow", name, [sum, graph.Initializer(name + "_inverse_p", [], [1f / p])]);
    }

    /// <summary>
    /// Local contrast normalization (see <see cref="LcnGeometry"/>) from standard operators: one single-output
    /// <c>Conv</c> with the separable Gaussian over every channel computes the channel sum and the blur at once;
    /// multiplying by the constant <c>1 / (C * coverage)</c> map makes it the local mean L.
    /// <c>v = x - L(x)</c>, <c>s = sqrt(L(v^2))</c>, <c>y = v / max(mean(s), s)</c>.
    /// </summary>
    private static string WriteLocalContrastNormalization(OnnxGraphBuilder graph, string x, LcnGeometry g, string name)
    {
        var (window, normalizer) = LcnConstants(g);
        int r = g.Size / 2;
        string w = graph.Initializer(name + "_window", [1, g.Channels, g.Size, g.Size], window);
        string scale = graph.Initializer(name + "_normalizer", [1, 1, g.Height, g.Width], normalizer);
        var kernel = Ints("kernel_shape", g.Size, g.Size);
        var pads = Ints("pads", r, r, r, r);
        string mean = graph.Node("Mul", name + "_mean", [graph.Node("Conv", name + "_sum", [x, w], kernel, pads), scale]);
        string centred = graph.Node("Sub", name + "_centred", [x, mean]);
        string squares = graph.Node("Mul", name + "_squares", [centred, centred]);
        string variance = graph.Node("Mul", name + "_variance", [graph.Node("Conv", name + "_square_sum", [squares, w], kernel, pads), scale]);
        string deviation = graph.Node("Sqrt", name + "_deviation", [variance]);
        string floor = graph.Node("ReduceMean", name + "_mean_deviation", [deviation], Ints("axes", 1, 2, 3), Int("keepdims", 1));
        string divisor = graph.Node("Max", name + "_divisor", [deviation, floor]);
        return graph.Node("Div", name, [centred, divisor]);
    }

    /// <summary>
    /// The Gaussian window over all channels, <c>[1, C, S, S]</c>, and the per-position normalizer
    /// <c>1 / (C * coverage_h * coverage_w)</c>, <c>[1, 1, H, W]</c>, computed as Shinso's LCN kernel computes them.
    /// </summary>
    internal static (float[] Window, float[] Normalizer) LcnConstants(LcnGeometry g)
    {
        int r = g.Size / 2;
        var gaussian = new float[g.Size];
        float sum = 0f;
        for (int i = 0; i < g.Size; i++) sum += gaussian[i] = MathF.Exp(-(i - r) * (i - r) / (2f * g.Sigma * g.Sigma));
        for (int i = 0; i < g.Size; i++) gaussian[i] /= sum;
        var window = new float[g.Channels * g.Size * g.Size];
        for (int c = 0; c < g.Channels; c++)
            for (int p = 0; p < g.Size; p++)
                for (int q = 0; q < g.Size; q++) window[(c * g.Size + p) * g.Size + q] = gaussian[p] * gaussian[q];
        var coverageH = Coverage(gaussian, g.Height, r);
        var coverageW = Coverage(gaussian, g.Width, r);
        var normalizer = new float[g.PlaneLength];
        for (int i = 0; i < g.Height; i++)
            for (int j = 0; j < g.Width; j++) normalizer[i * g.Width + j] = 1f / (g.Channels * coverageH[i] * coverageW[j]);
        return (window, normalizer);
    }

    /// <summary>The Gaussian weight inside the image along one axis, per position (the window clipped at the borders).</summary>
    private static float[] Coverage(float[] gaussian, int length, int r)
    {
        var coverage = new float[length];
        for (int i = 0; i < length; i++)
        {
            float sum = 0f;
            for (int q = -r; q <= r; q++)
                if (i + q >= 0 && i + q < length) sum += gaussian[q + r];
            coverage[i] = sum;
        }
        return coverage;
    }

    /// <summary>
    /// Shinso's softmax runs over each sample's values as one vector; for image-shaped samples that is
    /// Flatten, Softmax over axis 1 and a Reshape back to the sample shape.
    /// </summary>
    private static string WriteSoftmax(OnnxGraphBuilder graph, string x, int[] shape, string name)
    {
        if (shape.Length == 1) return graph.Node("Softmax", name, [x], Int("axis", 1));
        string flat = graph.Node("Flatten", name + "_flatten", [x], Int("axis", 1));
        string softmax = graph.Node("Softmax", name + "_softmax", [flat], Int("axis", 1));
        var target = new long[shape.Length + 1];
        // Reshape's 0 copies the input's dimension: the batch size stays symbolic.
        for (int d = 0; d < shape.Length; d++) target[d + 1] = shape[d];
        return graph.Node("Reshape", name, [softmax, graph.Int64Initializer(name + "_shape", target)]);
    }

    private static string WriteActivation(OnnxGraphBuilder graph, string x, Activation function, string name) => function switch
    {
        Activation.Sigmoid => graph.Node("Sigmoid", name, [x]),
        Activation.Tanh => graph.Node("Tanh", name, [x]),
        Activation.Relu => graph.Node("Relu", name, [x]),
        Activation.AbsoluteValue => graph.Node("Abs", name, [x]),
        Activation.Identity => x,
        _ => throw new NotSupportedException($"The activation {function} has no ONNX form in this exporter."),
    };

    private static float[] Host(Parameter parameter) => NamedTensor.FromTensor(parameter.Name, parameter.Value).Data;
}
