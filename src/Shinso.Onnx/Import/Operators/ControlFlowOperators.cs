namespace Shinso.Onnx.Import.Operators;

/// <summary>
/// If, Loop and Scan (opset 8's batched form too): their subgraphs run on the same backend, reading the enclosing graphs' values by name. Loop and Scan
/// stack their per-iteration outputs along a new axis on the host. Sequence and optional values (If and Loop from opset 16
/// on may carry them) are refused where a graph declares them.
/// </summary>
internal static class ControlFlowOperators
{
    public static void Register(Dictionary<string, OnnxOperator> map)
    {
        map["If"] = If;
        map["Loop"] = Loop;
        map["Scan"] = Scan;
    }

    /// <summary>
    /// Load-time checks of a control-flow node against its subgraphs (every branch, taken or not): the graphs it needs are
    /// there and take and give as many values as the node binds. Other operators pass unchecked.
    /// </summary>
    public static void CheckSignature(Protos.NodeProto node, IReadOnlyDictionary<string, OnnxGraph>? graphs, string name, int opset)
    {
        OnnxGraph Graph(string attribute) => graphs?.GetValueOrDefault(attribute) ?? throw new OnnxImportException($"{name}: the graph attribute '{attribute}' is required.");
        int inputs = node.Input.Count, outputs = node.Output.Count;
        switch (node.OpType)
        {
            case "If":
                foreach (var branch in new[] { Graph("then_branch"), Graph("else_branch") })
                {
                    if (branch.InputNames.Count != 0) throw new OnnxImportException($"{branch.Source}: declares {branch.InputNames.Count} input(s); If's branches take none.");
                    if (branch.Proto.Output.Count != outputs) throw new OnnxImportException($"{branch.Source}: gives {branch.Proto.Output.Count} output(s); the node names {outputs}.");
                }
                break;
            case "Loop":
                var body = Graph("body");
                if (inputs < 2) throw new OnnxImportException($"{name}: Loop takes M and cond (either may be empty) before its loop-carried values; it has {inputs} input(s).");
                if (node.Input[0].Length == 0 && node.Input[1].Length == 0)
                    throw new OnnxUnsupportedException($"{name}: a Loop with neither a trip count nor a condition never ends.", node.OpType);
                int carried = inputs - 2;
                if (body.InputNames.Count != inputs) throw new OnnxImportException($"{body.Source}: takes {body.InputNames.Count} input(s); expected 2 + {carried} loop-carried values.");
                if (body.Proto.Output.Count < 1 + carried || outputs != body.Proto.Output.Count - 1)
                    throw new OnnxImportException($"{body.Source}: gives {body.Proto.Output.Count} output(s) and the node names {outputs}; the body gives cond, then the node's outputs ({carried} loop-carried values, then scan outputs).");
                break;
            case "Scan":
                var scan = Graph("body");
                int given = inputs - (opset < 9 ? 1 : 0); // opset 8's Scan takes sequence_lens first
                if (scan.InputNames.Count != given) throw new OnnxImportException($"{scan.Source}: takes {scan.InputNames.Count} input(s); the node gives {given}.");
                if (scan.Proto.Output.Count != outputs) throw new OnnxImportException($"{scan.Source}: gives {scan.Proto.Output.Count} output(s); the node names {outputs}.");
                break;
        }
    }

    private static OnnxValue[] If(NodeContext n)
    {
        var condition = n.Input(0);
        if (condition.Length != 1 || condition.Integers is null) throw n.Error($"cond must be a one-element boolean tensor, not {condition}.");
        // CheckSignature fitted both branches to the node when the model loaded.
        return n.Subgraph(condition.Integers[0] != 0 ? "then_branch" : "else_branch").Run(n.Backend, n.Scope, []);
    }

    /// <summary>
    /// Loop: the body maps (iteration, condition, carried...) to (condition, carried..., scan outputs...); it runs while the
    /// trip count (when given) is not reached and the body's last condition holds. Where the node's cond input is empty the
    /// spec calls the body's condition ignored; ONNX Runtime and the ONNX reference stop on it all the same, and so does Shinso.
    /// </summary>
    private static OnnxValue[] Loop(NodeContext n)
    {
        var body = n.Subgraph("body");
        long? trips = n.Optional(0) is { } m ? Scalar(n, m, "M") : null;
        bool running = n.Optional(1) is not { } c || Scalar(n, c, "cond") != 0;
        int carriedCount = n.Inputs.Length - 2; // CheckSignature fitted the body to these when the model loaded
        var carried = new OnnxValue[carriedCount];
        for (int k = 0; k < carriedCount; k++) carried[k] = n.Input(k + 2);
        int scanCount = body.Proto.Output.Count - 1 - carriedCount;
        var scans = new List<OnnxValue>[scanCount];
        for (int k = 0; k < scanCount; k++) scans[k] = [];
        var inputs = new OnnxValue[carriedCount + 2];
        for (long i = 0; running && (trips is not long limit || i < limit); i++)
        {
            inputs[0] = OnnxValue.FromIntegers(OnnxElementType.Int64, [], [i]);
            inputs[1] = OnnxValue.FromIntegers(OnnxElementType.Bool, [], [1]);
            carried.CopyTo(inputs, 2);
            var results = body.Run(n.Backend, n.Scope, inputs);
            running = Scalar(n, results[0], "the body's cond output") != 0;
            Array.Copy(results, 1, carried, 0, carriedCount);
            for (int k = 0; k < scanCount; k++) scans[k].Add(results[1 + carriedCount + k]);
        }
        var outputs = new OnnxValue[carriedCount + scanCount];
        carried.CopyTo(outputs, 0);
        for (int k = 0; k < scanCount; k++)
        {
            if (scans[k].Count == 0) throw n.Unsupported($"scan output {k} of a loop that ran no iteration has no element shape to stack; Shinso does not infer it.");
            outputs[carriedCount + k] = Stack(n, scans[k], 0, reverse: false);
        }
        return outputs;
    }

    /// <summary>
    /// Scan: the body maps (state..., one slice of each scan input...) to (state..., one element of each scan output...),
    /// along each input's axis in its direction; the elements are stacked along each output's axis. Opset 8's form has a
    /// leading batch axis on every input and output (each batch row scans on its own) and an optional sequence_lens first
    /// input, which must give every row the full length.
    /// </summary>
    private static OnnxValue[] Scan(NodeContext n)
    {
        var body = n.Subgraph("body");
        bool batched = n.Opset < 9;
        int first = batched ? 1 : 0;
        int given = n.Inputs.Length - first;
        int scanInputs = checked((int)n.Int("num_scan_inputs", -1));
        int stateCount = given - scanInputs;
        if (scanInputs < 1 || stateCount < 0) throw n.Error($"num_scan_inputs is {scanInputs}; expected 1 to {given}.");
        // CheckSignature fitted the body's inputs and outputs to the node's when the model loaded.
        int scanOutputs = body.Proto.Output.Count - stateCount;
        if (scanOutputs < 0)
            throw n.Error($"the body gives {body.Proto.Output.Count} outputs, fewer than the {stateCount} state values num_scan_inputs leaves.");
        var plan = new ScanPlan(stateCount, scanInputs, scanOutputs,
            batched ? new long[scanInputs] : n.Ints("scan_input_axes") ?? new long[scanInputs],
            (batched ? n.Ints("directions") : n.Ints("scan_input_directions")) ?? new long[scanInputs],
            batched ? new long[scanOutputs] : n.Ints("scan_output_axes") ?? new long[scanOutputs],
            batched ? new long[scanOutputs] : n.Ints("scan_output_directions") ?? new long[scanOutputs]);
        if (plan.InputAxes.Length != scanInputs || plan.InputDirections.Length != scanInputs || plan.OutputAxes.Length != scanOutputs || plan.OutputDirections.Length != scanOutputs)
            throw n.Error("the scan axes and directions need one value per scan input or output.");
        var inputs = new OnnxValue[given];
        for (int k = 0; k < given; k++) inputs[k] = n.Input(first + k);
        if (!batched) return ScanOnce(n, body, plan, inputs);

        int rows = inputs[0].Rank > 0 ? inputs[0].Shape[0] : throw n.Error($"input 1 {inputs[0]} has no batch axis (opset {n.Opset}'s Scan needs one).");
        foreach (var v in inputs)
            if (v.Rank == 0 || v.Shape[0] != rows) throw n.Error($"every input needs the batch of {rows} rows on its first axis; {v} has not.");
        if (rows == 0) throw n.Unsupported("a batched Scan over 0 rows has no output shapes to stack; Shinso does not infer them.");
        if (n.IntegersOrNull(0) is { } lengths)
        {
            int steps = inputs[stateCount].Rank > 1 ? inputs[stateCount].Shape[1] : 0;
            if (lengths.Length != rows || lengths.Any(l => l != steps))
                throw n.Unsupported($"sequence_lens [{string.Join(", ", lengths)}] shortens some rows below the {steps} steps; Shinso scans full-length rows.");
        }
        var perRow = new List<OnnxValue>[stateCount + scanOutputs];
        for (int k = 0; k < perRow.Length; k++) perRow[k] = [];
        for (int r = 0; r < rows; r++)
        {
            var row = inputs.Select(v => Slice(v, 0, r)).ToArray();
            var results = ScanOnce(n, body, plan, row);
            for (int k = 0; k < results.Length; k++) perRow[k].Add(results[k]);
        }
        return perRow.Select(values => Stack(n, values, 0, reverse: false)).ToArray();
    }

    /// <summary>Scan's attributes, one value per scan input or output.</summary>
    private sealed record ScanPlan(int States, int ScanInputs, int ScanOutputs, long[] InputAxes, long[] InputDirections, long[] OutputAxes, long[] OutputDirections);

    /// <summary>One scan over <paramref name="inputs"/> (the states, then the scan inputs): the final states, then the stacked scan outputs.</summary>
    private static OnnxValue[] ScanOnce(NodeContext n, OnnxGraph body, ScanPlan plan, OnnxValue[] inputs)
    {
        int stateCount = plan.States, scanInputs = plan.ScanInputs, scanOutputs = plan.ScanOutputs;
        var sequences = new OnnxValue[scanInputs];
        var axes = new int[scanInputs];
        int steps = -1;
        for (int k = 0; k < scanInputs; k++)
        {
            sequences[k] = inputs[stateCount + k];
            axes[k] = n.Axis(plan.InputAxes[k], sequences[k].Rank, $"scan_input_axes[{k}]");
            int length = sequences[k].Shape[axes[k]];
            if (steps >= 0 && length != steps) throw n.Error($"scan input {k} has {length} steps along its axis; the first has {steps}.");
            steps = length;
        }
        var state = inputs[..stateCount];
        var elements = new List<OnnxValue>[scanOutputs];
        for (int k = 0; k < scanOutputs; k++) elements[k] = [];
        var arguments = new OnnxValue[inputs.Length];
        for (int t = 0; t < steps; t++)
        {
            state.CopyTo(arguments, 0);
            for (int k = 0; k < scanInputs; k++)
                arguments[stateCount + k] = Slice(sequences[k], axes[k], plan.InputDirections[k] != 0 ? steps - 1 - t : t);
            var results = body.Run(n.Backend, n.Scope, arguments);
            Array.Copy(results, state, stateCount);
            for (int k = 0; k < scanOutputs; k++) elements[k].Add(results[stateCount + k]);
        }
        var outputs = new OnnxValue[stateCount + scanOutputs];
        state.CopyTo(outputs, 0);
        for (int k = 0; k < scanOutputs; k++)
        {
            if (elements[k].Count == 0) throw n.Unsupported($"scan output {k} of a scan over no steps has no element shape to stack; Shinso does not infer it.");
            int rank = elements[k][0].Rank + 1;
            outputs[stateCount + k] = Stack(n, elements[k], n.Axis(plan.OutputAxes[k], rank, $"scan_output_axes[{k}]"), plan.OutputDirections[k] != 0);
        }
        return outputs;
    }

    private static long Scalar(NodeContext n, OnnxValue v, string what)
    {
        if (v.Length != 1 || v.Integers is null) throw n.Error($"{what} must be a one-element integer or boolean tensor, not {v}.");
        return v.Integers[0];
    }

    /// <summary>Index <paramref name="index"/> of <paramref name="x"/> along <paramref name="axis"/>, that axis dropped.</summary>
    private static OnnxValue Slice(OnnxValue x, int axis, int index)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        for (int d = axis + 1; d < x.Rank; d++) inner *= x.Shape[d];
        int steps = x.Shape[axis];
        var shape = x.Shape.Where((_, d) => d != axis).ToArray();
        static T[] Take<T>(T[] source, int outer, int steps, int inner, int index)
        {
            var y = new T[outer * inner];
            for (int o = 0; o < outer; o++) source.AsSpan((o * steps + index) * inner, inner).CopyTo(y.AsSpan(o * inner));
            return y;
        }
        return x.Floats is { } f
            ? OnnxValue.FromFloats(shape, Take(f, outer, steps, inner, index))
            : OnnxValue.FromIntegers(x.ElementType, shape, Take(x.Integers!, outer, steps, inner, index));
    }

    /// <summary>The values, all of one type and shape, stacked along a new <paramref name="axis"/> (last first when <paramref name="reverse"/>).</summary>
    private static OnnxValue Stack(NodeContext n, List<OnnxValue> values, int axis, bool reverse)
    {
        var first = values[0];
        foreach (var v in values)
            if (v.ElementType != first.ElementType || !v.Shape.SequenceEqual(first.Shape))
                throw n.Error($"the iterations give {first} and {v}; stacked outputs need one type and shape.");
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= first.Shape[d];
        for (int d = axis; d < first.Rank; d++) inner *= first.Shape[d];
        var shape = new int[first.Rank + 1];
        for (int d = 0, s = 0; d < shape.Length; d++) shape[d] = d == axis ? values.Count : first.Shape[s++];
        int count = values.Count;
        T[] Join<T>(Func<OnnxValue, T[]> data)
        {
            var y = new T[OnnxValue.CountOf(shape)];
            for (int k = 0; k < count; k++)
            {
                var source = data(values[reverse ? count - 1 - k : k]);
                for (int o = 0; o < outer; o++) source.AsSpan(o * inner, inner).CopyTo(y.AsSpan((o * count + k) * inner));
            }
            return y;
        }
        return first.Floats is not null
            ? OnnxValue.FromFloats(shape, Join(v => v.Floats!))
            : OnnxValue.FromIntegers(first.ElementType, shape, Join(v => v.Integers!));
    }
}
