using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Onnx.Protos;

namespace Shinso.Onnx.Import;

/// <summary>
/// Turns an ONNX graph that is a chain of layers Shinso trains into a trainable <see cref="FeedForwardNet"/> with the graph's
/// weights: Gemm (either weight layout) or MatMul + Add as dense layers, Conv (square kernels, one stride, symmetric padding,
/// no groups or dilations), Relu / Sigmoid / Tanh / Abs, MaxPool / AveragePool (counting the padding, as Shinso does), LRN,
/// Flatten or a Reshape to [batch, -1], Dropout and Identity (inference no-ops); a trailing Softmax becomes the softmax
/// cross-entropy loss, otherwise the loss is squared error. PyTorch's exports of such nets have this form, and so do Shinso's.
/// </summary>
public static class FeedForwardImport
{
    /// <summary>The spec and the initial parameters of a graph's layer chain.</summary>
    /// <param name="Spec">The architecture.</param>
    /// <param name="Parameters">For each layer index with parameters, its weight (in Shinso's layout) and bias.</param>
    public sealed record Chain(FeedForwardSpec Spec, IReadOnlyDictionary<int, (float[] Weight, float[] Bias)> Parameters);

    /// <summary>Reads <paramref name="model"/> as a layer chain.</summary>
    /// <exception cref="OnnxUnsupportedException">A node does not fit a layer Shinso trains (the message names it and says why).</exception>
    public static Chain Read(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Inputs.Count != 1 || model.Outputs.Count != 1)
            throw new OnnxUnsupportedException($"{model.Source}: a trainable chain has one input and one output; this graph has {model.Inputs.Count} and {model.Outputs.Count}.", "");
        var input = model.Inputs[0];
        if (input.Shape is not { Count: >= 2 } declared || declared.Skip(1).Any(d => d is null))
            throw new OnnxUnsupportedException($"{model.Source}: input '{input.Name}' must declare its per-sample dimensions (after the batch), not {input.ShapeText()}.", "");
        int[] sampleShape = declared.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
        var graph = model.Graph;
        var constants = new Dictionary<string, OnnxValue>(model.Initialisers, StringComparer.Ordinal);
        var layers = new List<LayerSpec>();
        var parameters = new Dictionary<int, (float[], float[])>();
        string loss = "squared-error";
        string current = input.Name;
        var nodes = graph.Node.ToList();
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            string where = $"{model.Source}: node {i} '{(node.Name.Length > 0 ? node.Name : string.Join(",", node.Output))}' ({node.OpType})";
            OnnxUnsupportedException Unfit(string why) => new($"{where}: {why}; Shinso cannot train this graph as a layer chain.", node.OpType);
            if (node.OpType == "Constant")
            {
                var constant = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T ?? throw Unfit("only Constant nodes with a tensor value are read");
                constants[node.Output[0]] = TensorDecoding.Decode(constant, where, null);
                continue;
            }
            if (node.Input.Count == 0 || node.Input[0] != current) throw Unfit($"it does not take the chain's tensor '{current}' as its first input");
            if (node.Input.Skip(1).Any(n => n.Length > 0 && !constants.ContainsKey(n))) throw Unfit("its other inputs must be initialisers or constants");
            OnnxValue? Constant(int k) => k < node.Input.Count && node.Input[k].Length > 0 ? constants[node.Input[k]] : null;
            OnnxValue Weight(int k, int rank) => Constant(k) is { Floats: not null } v && v.Rank == rank ? v
                : throw Unfit($"input {k} must be a float initialiser of rank {rank}");
            long[] Pairs(string name, long fallback)
            {
                var values = Ints(name) ?? [fallback, fallback];
                return values.Length == 2 ? values : throw Unfit($"{name} must give two values (height, width)");
            }
            long Int(string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;
            float Float(string name, float fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;
            long[]? Ints(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray();
            bool last = i == nodes.Count - 1;
            switch (node.OpType)
            {
                case "Gemm":
                {
                    if (Int("transA", 0) != 0 || Float("alpha", 1f) != 1f || Float("beta", 1f) != 1f) throw Unfit("only Gemm with transA 0, alpha 1 and beta 1 is a dense layer");
                    var w = Weight(1, 2);
                    bool transposed = Int("transB", 0) != 0;
                    int inputs = transposed ? w.Shape[1] : w.Shape[0], units = transposed ? w.Shape[0] : w.Shape[1];
                    var bias = Constant(2) is null ? new float[units] : Weight(2, 1).Floats!;
                    if (bias.Length != units) throw Unfit($"its bias has {bias.Length} values for {units} units");
                    parameters[layers.Count] = (transposed ? Transpose(w.Floats!, units, inputs) : w.Floats!, bias);
                    layers.Add(LayerSpec.Dense(units));
                    break;
                }
                case "MatMul":
                {
                    var w = Weight(1, 2);
                    int units = w.Shape[1];
                    var bias = new float[units];
                    // A following Add of a [units] constant is the layer's bias.
                    if (i + 1 < nodes.Count && nodes[i + 1] is { OpType: "Add" } add && add.Input.Count == 2 && add.Input[0] == node.Output[0]
                        && constants.TryGetValue(add.Input[1], out var b) && b.Floats is { } bf && bf.Length == units)
                    {
                        bias = bf;
                        node = add;
                        i++;
                    }
                    parameters[layers.Count] = (w.Floats!, bias);
                    layers.Add(LayerSpec.Dense(units));
                    break;
                }
                case "Conv":
                {
                    var w = Weight(1, 4);
                    if (w.Shape[2] != w.Shape[3]) throw Unfit($"only square 2-D kernels are read, not {w}");
                    if (Int("group", 1) != 1 || Pairs("dilations", 1).Any(d => d != 1)) throw Unfit("grouped or dilated convolutions are not layers Shinso trains");
                    var strides = Pairs("strides", 1);
                    var pads = Ints("pads") ?? [0, 0, 0, 0];
                    if (pads.Length != 4) throw Unfit("pads must give four values");
                    if (node.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("NOTSET" or "VALID"))) throw Unfit("SAME padding is not read");
                    if (strides[0] != strides[1] || pads.Distinct().Count() != 1) throw Unfit("only one stride and equal padding on every side are read");
                    int filters = w.Shape[0];
                    var bias = Constant(2) is null ? new float[filters] : Weight(2, 1).Floats!;
                    if (bias.Length != filters) throw Unfit($"its bias has {bias.Length} values for {filters} filters");
                    parameters[layers.Count] = (w.Floats!, bias);
                    layers.Add(LayerSpec.Conv(filters, w.Shape[2], (int)strides[0], (int)pads[0]));
                    break;
                }
                case "Relu": layers.Add(LayerSpec.Of("relu")); break;
                case "Sigmoid": layers.Add(LayerSpec.Of("sigmoid")); break;
                case "Tanh": layers.Add(LayerSpec.Of("tanh")); break;
                case "Abs": layers.Add(LayerSpec.Of("abs")); break;
                case "MaxPool":
                case "AveragePool":
                {
                    var kernel = Ints("kernel_shape") ?? throw Unfit("kernel_shape is required");
                    // ONNX's default stride is 1, not the window.
                    var strides = Pairs("strides", 1);
                    var pads = Ints("pads") ?? [0, 0, 0, 0];
                    if (node.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("NOTSET" or "VALID"))) throw Unfit("SAME padding is not read");
                    if (Pairs("dilations", 1).Any(d => d != 1)) throw Unfit("dilated pooling is not a layer Shinso trains");
                    if (kernel.Length != 2 || pads.Length != 4 || kernel[0] != kernel[1] || strides[0] != strides[1] || pads.Distinct().Count() != 1)
                        throw Unfit("only square windows, one stride and equal padding on every side are read");
                    if (node.OpType == "AveragePool" && pads[0] > 0 && Int("count_include_pad", 0) == 0) throw Unfit("Shinso's average pooling counts the padding (count_include_pad 1)");
                    if (node.Output.Count > 1 && node.Output[1].Length > 0) throw Unfit("MaxPool's Indices output is not read");
                    layers.Add(LayerSpec.Pool(node.OpType == "MaxPool" ? "maxpool" : "avgpool", (int)kernel[0], (int)strides[0], (int)pads[0], Int("ceil_mode", 0) != 0));
                    break;
                }
                case "LRN":
                    layers.Add(LayerSpec.Lrn((int)Int("size", 1), Float("alpha", 1e-4f), Float("beta", 0.75f), Float("bias", 1f)));
                    break;
                case "Flatten":
                    if (Int("axis", 1) != 1) throw Unfit("only Flatten at axis 1 (keeping the batch) is read");
                    layers.Add(LayerSpec.Of("flatten"));
                    break;
                case "Reshape":
                {
                    var shape = Constant(1)?.Integers;
                    if (shape is not { Length: 2 } || !(shape[0] is 0 or -1 && shape[1] == -1 || shape[0] == 0 && shape[1] > 0 || shape[0] == -1 && shape[1] > 0))
                        throw Unfit("only a Reshape to [batch, -1] (a flatten) is read");
                    layers.Add(LayerSpec.Of("flatten"));
                    break;
                }
                case "Dropout":
                case "Identity":
                    break;
                case "Softmax" when last:
                    loss = "softmax-cross-entropy";
                    break;
                default:
                    throw Unfit(node.OpType == "Softmax" ? "a softmax is read only as the last node (the loss's)" : "this operator is not a layer Shinso trains");
            }
            current = node.Output[0];
        }
        if (current != model.Outputs[0].Name) throw new OnnxUnsupportedException($"{model.Source}: the chain ends in '{current}', not the graph's output '{model.Outputs[0].Name}'.", "");
        if (layers.Count == 0) throw new OnnxUnsupportedException($"{model.Source}: the graph has no layers.", "");
        FeedForwardSpec spec;
        try
        {
            spec = new FeedForwardSpec(sampleShape, layers, loss);
            spec.SampleShapes();
        }
        catch (ArgumentException e) { throw new OnnxUnsupportedException($"{model.Source}: the layers do not fit together as a Shinso net: {e.Message}", ""); }
        return new Chain(spec, parameters);
    }

    /// <summary>A net with <paramref name="chain"/>'s architecture and parameters on <paramref name="backend"/>.</summary>
    /// <exception cref="OnnxImportException">A parameter's size does not match its layer's.</exception>
    public static FeedForwardNet ToNet(Chain chain, IBackend backend, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var net = new FeedForwardNet(backend, chain.Spec, seed);
        Load(chain, net);
        return net;
    }

    /// <summary>Copies <paramref name="chain"/>'s parameters into <paramref name="net"/>, which must have its architecture.</summary>
    /// <exception cref="OnnxImportException">A parameter's size does not match its layer's.</exception>
    public static void Load(Chain chain, FeedForwardNet net)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(net);
        foreach (var (index, (weight, bias)) in chain.Parameters)
        {
            var (w, b) = net.Layers[index] switch
            {
                Dense d => (d.Weight, d.Bias),
                Conv2d c => (c.Weight, c.Bias),
                var other => throw new OnnxImportException($"layer {index} is {other.GetType().Name}, which holds no imported parameters."),
            };
            if (w.Value.Length != weight.Length || b.Value.Length != bias.Length)
                throw new OnnxImportException($"layer {index}: the graph gives {weight.Length} weights and {bias.Length} biases; the layer has {w.Value.Length} and {b.Value.Length}.");
            net.Backend.Upload(weight, w.Value);
            net.Backend.Upload(bias, b.Value);
        }
    }

    private static float[] Transpose(float[] m, int rows, int columns)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) t[c * rows + r] = m[r * columns + c];
        return t;
    }
}
