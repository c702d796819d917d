using Shinso.Layers;
using Shinso.Losses;
using Shinso.Onnx.Protos;
using static Shinso.Onnx.OnnxGraphBuilder;

namespace Shinso.Onnx;

/// <summary>
/// Writes a <see cref="FeedForwardForm"/>'s network as ONNX nodes, layer by layer, in NCHW with a symbolic batch
/// dimension: each layer writes its own form (<see cref="ILayer.WriteInference"/>) into the graph through
/// <see cref="OnnxInferenceGraph"/>; this adds the loss's output function and the DBN's free-energy label head.
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
        var inference = new OnnxInferenceGraph(graph, options.Dense == DenseOperator.Gemm);
        for (int i = 0; i < net.Layers.Count; i++)
        {
            string name = $"layer{i}_{net.Layers[i].Kind}";
            try
            {
                x = net.Layers[i].WriteInference(inference, x, shape, name);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException($"Layer {i} ({net.Layers[i].Kind}) has no ONNX form: {e.Message}", e);
            }
            shape = shapes[i];
        }
        // The exported function is Predict: the scores through the loss's output nonlinearity.
        x = net.Loss.Output switch
        {
            OutputFunction.Softmax => SoftmaxLayer.WriteSoftmax(inference, x, shape, "output_softmax"),
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
}

/// <summary>The ONNX graph being built, as the <see cref="IInferenceGraph"/> the layers write their forms into.</summary>
internal sealed class OnnxInferenceGraph(OnnxGraphBuilder graph, bool denseAsGemm) : IInferenceGraph
{
    /// <inheritdoc />
    public bool DenseAsGemm => denseAsGemm;

    /// <inheritdoc />
    public string Node(string opType, string outputHint, IReadOnlyList<string> inputs, params GraphAttribute[] attributes)
    {
        var protos = new AttributeProto[attributes.Length];
        for (int i = 0; i < attributes.Length; i++) protos[i] = Attribute(attributes[i]);
        return graph.Node(opType, outputHint, inputs, protos);
    }

    /// <inheritdoc />
    public string Initializer(string name, IReadOnlyList<int> dims, ReadOnlySpan<float> data) => graph.Initializer(name, dims, data);

    /// <inheritdoc />
    public string Int64Initializer(string name, params long[] values) => graph.Int64Initializer(name, values);

    private static AttributeProto Attribute(GraphAttribute a) => a switch
    {
        _ when !a.HasOneValue => throw new ArgumentException($"The attribute {a.Name} must have exactly one of an integer, a float or an integer list.", nameof(a)),
        { Integer: { } i } => Int(a.Name, i),
        { Real: { } f } => Float(a.Name, f),
        { Integers: { } list } => Ints(a.Name, list),
        _ => throw new ArgumentException($"The attribute {a.Name} has no value.", nameof(a)),
    };
}
