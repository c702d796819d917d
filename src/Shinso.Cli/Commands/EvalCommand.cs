using Shinso.Cli.ModelKinds;
using Spectre.Console;
using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso eval MODEL</c>: test accuracy and loss of a saved model.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A model file written by shinso train" };
        var data = CommonOptions.Data();
        var testData = CommonOptions.TestData();
        var target = CommonOptions.Target();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var aisRuns = new Option<int>("--ais-runs") { Description = "RBM and DBM models: AIS runs for the log-likelihood (RBM) or log Z and bound (DBM) estimate", DefaultValueFactory = _ => 100 };
        var seed = CommonOptions.Seed();
        var command = new Command("eval", "Evaluate a saved model on a test set (--data; default Fashion-MNIST) (RBMs: AIS test log-likelihood; DBNs, nets and perceptrons: accuracy; " +
            "regression nets with --target: MSE and R² on a table)");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { data, testData, target, threads, path, json, aisRuns, seed }) command.Options.Add(o);
        command.Options.Add(ProfilingSession.Profile);
        command.Options.Add(ProfilingSession.Trace);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            if (file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                if (r.GetValue(target) is not null) throw new UsageException("--target: scores a Shinso regression net; an ONNX classifier is scored by accuracy.");
                using var onnxBackend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
                return EvalOnnx(file, onnxBackend, r.GetValue(data), r.GetValue(testData), r.GetValue(json));
            }
            var header = ModelFile.ReadHeader(file);
            var kind = ModelKindRegistry.ForFile(file, header.Kind, ModelAction.Eval);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            if (r.GetValue(target) is not null && kind is not FeedForwardKind)
                throw new UsageException($"--target: scores a regression net; {file} holds a '{header.Kind}' model.");
            return kind.Eval(new EvalArguments(file, header, backend, r.GetValue(data), r.GetValue(testData), r.GetValue(aisRuns), r.GetValue(seed), r.GetValue(json),
                r.GetValue(target)));
        });
        return command;
    }

    /// <summary>Rows an ONNX classifier is run on at a time.</summary>
    private const int OnnxBatch = 500;

    /// <summary>
    /// The test accuracy of an ONNX classifier (one input taking a batch of samples, one output of class scores or
    /// probabilities): its largest output per sample against the labels.
    /// </summary>
    private static int EvalOnnx(string file, Shinso.Backends.IBackend backend, string? data, string? testData, bool json)
    {
        var onnx = InspectCommand.Load(file);
        if (onnx.Inputs.Count != 1 || onnx.Outputs.Count != 1)
            throw new UsageException($"{file}: a classifier has one input and one output; this graph has {onnx.Inputs.Count} and {onnx.Outputs.Count}.");
        var info = onnx.Inputs[0];
        var loaded = CommonOptions.LoadData(data, testData);
        var test = loaded.Test;
        int width = test.FeatureCount;
        int[] sample = info.Shape is { Count: >= 2 } declared && declared.Skip(1).All(d => d is not null)
            ? declared.Skip(1).Select(d => (int)d!.Value).ToArray()
            : [width];
        if (Shinso.Onnx.Import.OnnxValue.CountOf(sample) != width)
            throw new UsageException($"{file}: input '{info.Name}' takes samples of {info.ShapeText()} ({Shinso.Onnx.Import.OnnxValue.CountOf(sample)} values); {loaded.Description} has {width} per sample.");
        // A graph exported with a fixed batch (PyTorch's default is 1) is fed batches of that size; the last one must be whole.
        long? declaredBatch = info.Shape is { Count: >= 1 } dims ? dims[0] : null;
        int batch = declaredBatch is long fixedBatch ? (int)Math.Clamp(fixedBatch, 1, OnnxBatch) : OnnxBatch;
        if (declaredBatch is not null && test.Count % batch != 0)
            throw new UsageException($"{file}: input '{info.Name}' takes exactly {batch} samples at a time, which does not divide the {test.Count} test samples.");
        int correct = 0, classes = -1;
        var rows = new float[batch * width];
        for (int first = 0; first < test.Count; first += batch)
        {
            int n = Math.Min(batch, test.Count - first);
            test.Features.AsSpan(first * width, n * width).CopyTo(rows);
            IReadOnlyDictionary<string, Shinso.Onnx.Import.OnnxValue> outputs;
            try { outputs = onnx.Run(backend, new Dictionary<string, Shinso.Onnx.Import.OnnxValue> { [info.Name] = Shinso.Onnx.Import.OnnxValue.FromFloats([n, .. sample], rows[..(n * width)]) }); }
            catch (Shinso.Onnx.Import.OnnxImportException e) { throw new UsageException(e.Message); }
            var scores = outputs[onnx.Outputs[0].Name];
            if (scores.Floats is null || scores.Rank != 2 || scores.Shape[0] != n)
                throw new UsageException($"{file}: output '{onnx.Outputs[0].Name}' is {scores}; a classifier gives [batch, classes] float scores.");
            classes = scores.Shape[1];
            for (int i = 0; i < n; i++)
            {
                var row = scores.Floats.AsSpan(i * classes, classes);
                if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == test.Labels[first + i]) correct++;
            }
        }
        if (test.ClassCount > classes)
            throw new UsageException($"{file}: gives {classes} class scores but {loaded.Description} has {test.ClassCount} classes.");
        double accuracy = (double)correct / test.Count;
        CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(loaded.Description)}");
        CommonOptions.Err.MarkupLine($"test accuracy [bold]{accuracy:P2}[/] on {test.Count} samples ({Markup.Escape(file)}, {onnx.Producer})");
        if (json) Console.WriteLine(new JsonObject { ["model"] = file, ["accuracy"] = accuracy, ["samples"] = test.Count, ["classes"] = classes }.ToJsonString());
        return 0;
    }
}
