using Google.Protobuf;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Onnx.Import;
using Shinso.Onnx.Protos;

namespace Shinso.Tests.Onnx;

/// <summary>
/// If, Loop and Scan in the importer, on graphs written here whose results are known by hand: subgraphs read the enclosing
/// graph's values, loops carry and stack values, scans run in either direction along any axis, and a subgraph that reads a
/// name defined nowhere before its node is refused with that subgraph named.
/// </summary>
public sealed class OnnxControlFlowTests : IDisposable
{
    private readonly CpuBackend _backend = new(new CpuKernelOptions(SimdPath.Auto, 1));

    public void Dispose() => _backend.Dispose();

    private static ModelProto Model(int opset, params NodeProto[] nodes)
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        model.Graph.Node.Add(nodes);
        return model;
    }

    private static GraphProto Graph(string[] inputs, string[] outputs, params NodeProto[] nodes)
    {
        var g = new GraphProto { Name = "body" };
        foreach (var i in inputs) g.Input.Add(new ValueInfoProto { Name = i });
        foreach (var o in outputs) g.Output.Add(new ValueInfoProto { Name = o });
        g.Node.Add(nodes);
        return g;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes) =>
        new() { OpType = op, Name = op.ToLowerInvariant(), Input = { inputs }, Output = { outputs }, Attribute = { attributes } };

    private static AttributeProto GraphAttribute(string name, GraphProto g) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = g };

    private static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    private IReadOnlyDictionary<string, OnnxValue> Run(ModelProto model, Dictionary<string, OnnxValue> inputs) =>
        OnnxModel.Parse(model.ToByteArray(), "flow.onnx").Run(_backend, inputs);

    [Fact]
    public void If_runs_the_branch_its_condition_picks_reading_the_enclosing_graphs_values()
    {
        var model = Model(13, Node("If", ["c"], ["y"],
            GraphAttribute("then_branch", Graph([], ["t"], Node("Relu", ["x"], ["t"]))),
            GraphAttribute("else_branch", Graph([], ["e"], Node("Neg", ["x"], ["e"])))));
        model.Graph.Input.Add(new ValueInfoProto { Name = "x" });
        model.Graph.Input.Add(new ValueInfoProto { Name = "c" });
        model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        var x = OnnxValue.FromFloats([3], [-1f, 2f, -3f]);
        Assert.Equal([0f, 2f, 0f], Run(model, new() { ["x"] = x, ["c"] = OnnxValue.FromIntegers(OnnxElementType.Bool, [], [1]) })["y"].Floats!);
        Assert.Equal([1f, -2f, 3f], Run(model, new() { ["x"] = x, ["c"] = OnnxValue.FromIntegers(OnnxElementType.Bool, [], [0]) })["y"].Floats!);
    }

    [Fact]
    public void Loop_carries_a_running_sum_stacks_its_scan_output_and_stops_at_the_trip_count_or_the_condition()
    {
        // body(i, cond, s) -> (i < 3, s + x, s + x): a sum of x that the condition ends after the fourth iteration.
        var body = Graph(["i", "cond_in", "s"], ["cond_out", "s_next", "s_scan"],
            Node("Add", ["s", "x"], ["s_next"]),
            Node("Identity", ["s_next"], ["s_scan"]),
            Node("Less", ["i", "three"], ["cond_out"]));
        var model = Model(13, Node("Loop", ["m", "", "s0"], ["s_final", "sums"], GraphAttribute("body", body)));
        model.Graph.Initializer.Add(new TensorProto { Name = "three", DataType = 7, Int64Data = { 3 } });
        foreach (var name in new[] { "x", "m", "s0" }) model.Graph.Input.Add(new ValueInfoProto { Name = name });
        model.Graph.Output.Add(new ValueInfoProto { Name = "s_final" });
        model.Graph.Output.Add(new ValueInfoProto { Name = "sums" });
        var inputs = new Dictionary<string, OnnxValue>
        {
            ["x"] = OnnxValue.FromFloats([2], [1f, 10f]),
            ["s0"] = OnnxValue.FromFloats([2], [0f, 0f]),
            ["m"] = OnnxValue.FromIntegers(OnnxElementType.Int64, [], [2]),
        };
        var twice = Run(model, inputs);
        Assert.Equal([2f, 20f], twice["s_final"].Floats!);
        Assert.Equal([2, 2], twice["sums"].Shape);
        Assert.Equal([1f, 10f, 2f, 20f], twice["sums"].Floats!);

        inputs["m"] = OnnxValue.FromIntegers(OnnxElementType.Int64, [], [100]);
        var stopped = Run(model, inputs); // i = 0..3 run; at i = 3 the condition turns false
        Assert.Equal([4f, 40f], stopped["s_final"].Floats!);
        Assert.Equal([4, 2], stopped["sums"].Shape);
        Assert.Equal([1f, 10f, 2f, 20f, 3f, 30f, 4f, 40f], stopped["sums"].Floats!);

        var endless = Model(13, Node("Loop", ["", "", "s0"], ["s_final", "sums"], GraphAttribute("body", body)));
        endless.Graph.Initializer.Add(model.Graph.Initializer[0]);
        endless.Graph.Input.Add(model.Graph.Input);
        endless.Graph.Output.Add(model.Graph.Output);
        var refused = Assert.IsType<OnnxUnsupportedException>(Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(endless.ToByteArray(), "flow.onnx")));
        Assert.Contains("never ends", refused.Message);
    }

    [Fact]
    public void Scan_accumulates_along_its_axis_in_either_direction_and_stacks_on_the_axis_asked()
    {
        // body(state, row) -> (state + row, state + row) over the columns of a 2 x 3 input (scan axis 1).
        var body = Graph(["state", "column"], ["next", "out"],
            Node("Add", ["state", "column"], ["next"]),
            Node("Identity", ["next"], ["out"]));
        var x = OnnxValue.FromFloats([2, 3], [1f, 2f, 3f, 10f, 20f, 30f]);
        var zero = OnnxValue.FromFloats([2], [0f, 0f]);
        foreach (var reverse in new[] { false, true })
        {
            var model = Model(11, Node("Scan", ["s0", "x"], ["s", "partial"],
                GraphAttribute("body", body),
                new AttributeProto { Name = "num_scan_inputs", Type = AttributeProto.Types.AttributeType.Int, I = 1 },
                Ints("scan_input_axes", 1), Ints("scan_input_directions", reverse ? 1 : 0), Ints("scan_output_axes", 1)));
            model.Graph.Input.Add(new ValueInfoProto { Name = "s0" });
            model.Graph.Input.Add(new ValueInfoProto { Name = "x" });
            model.Graph.Output.Add(new ValueInfoProto { Name = "s" });
            model.Graph.Output.Add(new ValueInfoProto { Name = "partial" });
            var result = Run(model, new() { ["s0"] = zero, ["x"] = x });
            Assert.Equal([6f, 60f], result["s"].Floats!);
            Assert.Equal([2, 3], result["partial"].Shape);
            Assert.Equal(reverse ? [3f, 5f, 6f, 30f, 50f, 60f] : [1f, 3f, 6f, 10f, 30f, 60f], result["partial"].Floats!);
        }
    }

    [Fact]
    public void Malformed_branches_and_bodies_are_refused_at_load_even_where_they_would_not_run()
    {
        ModelProto If(GraphProto elseBranch)
        {
            var model = Model(13, Node("If", ["c"], ["y"],
                GraphAttribute("then_branch", Graph([], ["t"], Node("Relu", ["x"], ["t"]))),
                GraphAttribute("else_branch", elseBranch)));
            model.Graph.Input.Add(new ValueInfoProto { Name = "x" });
            model.Graph.Input.Add(new ValueInfoProto { Name = "c" });
            model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
            return model;
        }
        string Refused(ModelProto model) => Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(model.ToByteArray(), "flow.onnx")).Message;

        Assert.Contains("subgraph 'else_branch' of node 0 'if' (If) of flow.onnx: gives 2 output(s); the node names 1",
            Refused(If(Graph([], ["e", "f"], Node("Relu", ["x"], ["e"]), Node("Relu", ["x"], ["f"])))));
        Assert.Contains("declares 1 input(s); If's branches take none", Refused(If(Graph(["z"], ["e"], Node("Relu", ["z"], ["e"])))));
        Assert.Contains("'x' is already defined by an enclosing graph", Refused(If(Graph([], ["x"], Node("Relu", ["c"], ["x"])))));

        var missing = If(Graph([], ["e"], Node("Relu", ["x"], ["e"])));
        missing.Graph.Node[0].Attribute.RemoveAt(1);
        Assert.Contains("the graph attribute 'else_branch' is required", Refused(missing));

        var twice = If(Graph([], ["e"], Node("Relu", ["x"], ["e"])));
        twice.Graph.Node[0].Attribute.Add(twice.Graph.Node[0].Attribute[1]);
        Assert.Contains("attribute 'else_branch' is given twice", Refused(twice));
    }

    [Fact]
    public void A_subgraph_that_reads_an_undefined_name_or_its_own_nodes_output_is_refused_naming_the_subgraph()
    {
        foreach (var read in new[] { "nowhere", "y" })
        {
            var model = Model(13, Node("If", ["c"], ["y"],
                GraphAttribute("then_branch", Graph([], ["t"], Node("Relu", [read], ["t"]))),
                GraphAttribute("else_branch", Graph([], ["e"], Node("Relu", [read], ["e"])))));
            model.Graph.Input.Add(new ValueInfoProto { Name = "c" });
            model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
            var e = Assert.ThrowsAny<OnnxImportException>(() => OnnxModel.Parse(model.ToByteArray(), "flow.onnx"));
            Assert.Contains($"input '{read}' is not defined", e.Message);
            Assert.Contains("subgraph 'then_branch' of node 0 'if' (If) of flow.onnx", e.Message);
        }
    }
}
