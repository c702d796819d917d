using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Onnx.Import;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso run model.onnx --input x.npy --output y.npy</c>: runs an ONNX model that another tool (or Shinso) wrote on NumPy
/// arrays, on any backend. A model with several inputs takes <c>--input NAME=FILE</c> for each; the first output goes to
/// <c>--output</c>, and with several outputs the others go next to it as <c>STEM.NAME.npy</c>.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An ONNX file (.onnx)" };
        var input = new Option<string[]>("--input") { Description = "A .npy file for the model's input, or NAME=FILE for each of several inputs", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--output") { Description = "The .npy file for the first output (written atomically)", Required = true };
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("run", "Run an ONNX model on NumPy arrays (.npy) and write its outputs as .npy");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { input, output, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var onnx = InspectCommand.Load(r.GetValue(model)!);
            var inputs = ReadInputs(onnx, r.GetValue(input)!);
            string first = r.GetValue(output)!;
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            IReadOnlyDictionary<string, OnnxValue> results;
            try { results = onnx.Run(backend, inputs); }
            catch (OnnxImportException e) { throw new UsageException(e.Message); }
            var written = new JsonArray();
            for (int k = 0; k < onnx.Outputs.Count; k++)
            {
                string name = onnx.Outputs[k].Name;
                string file = k == 0 ? first : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(first))!, $"{Path.GetFileNameWithoutExtension(first)}.{Safe(name)}.npy");
                var value = results[name];
                Shinso.IO.AtomicFile.Write(file, stream =>
                {
                    if (value.Floats is { } f) NumpyArchive.WriteArray(stream, value.Shape, f);
                    else NumpyArchive.WriteArray(stream, value.Shape, value.Integers!);
                });
                written.Add(new JsonObject { ["name"] = name, ["file"] = file, ["type"] = value.ElementType.ToString().ToLowerInvariant(), ["shape"] = new JsonArray(value.Shape.Select(d => (JsonNode)d).ToArray()) });
                if (!r.GetValue(json)) Console.WriteLine($"{name}: {value} -> {file}");
            }
            if (r.GetValue(json)) Console.WriteLine(new JsonObject { ["model"] = onnx.Source, ["outputs"] = written }.WithBackend(backend).ToJsonString());
            return 0;
        });
        return command;
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));

    private static Dictionary<string, OnnxValue> ReadInputs(OnnxModel onnx, string[] arguments)
    {
        var inputs = new Dictionary<string, OnnxValue>(StringComparer.Ordinal);
        foreach (string argument in arguments)
        {
            int equals = argument.IndexOf('=');
            string name, file;
            if (equals > 0 && !File.Exists(argument)) (name, file) = (argument[..equals], argument[(equals + 1)..]);
            else if (onnx.Inputs.Count == 1) (name, file) = (onnx.Inputs[0].Name, argument);
            else throw new UsageException($"--input: {onnx.Source} has {onnx.Inputs.Count} inputs ({string.Join(", ", onnx.Inputs.Select(i => i.Name))}); give each as NAME=FILE.");
            if (!onnx.Inputs.Any(i => i.Name == name)) throw new UsageException($"--input: {onnx.Source} has no input '{name}'; its inputs are {string.Join(", ", onnx.Inputs.Select(i => i.Name))}.");
            if (!File.Exists(file)) throw new UsageException($"--input: {file} does not exist.");
            NumpyArray array;
            try
            {
                using var stream = File.OpenRead(file);
                array = NumpyArchive.ReadArray(stream, file, name);
            }
            catch (DataFormatException e) { throw new UsageException($"--input: {e.Message}"); }
            int[] shape = array.Shape.ToArray();
            // Integer arrays take the element type the model declares for the input (int64 when it declares none).
            var declared = (OnnxElementType)onnx.Inputs.First(i => i.Name == name).ElementType;
            var integerType = array.Type == NumpyType.Bool ? OnnxElementType.Bool : declared == OnnxElementType.Int32 ? OnnxElementType.Int32 : OnnxElementType.Int64;
            inputs[name] = array.IsInteger
                ? OnnxValue.FromIntegers(integerType, shape, Enumerable.Range(0, (int)array.Length).Select(i => (long)array[i]).ToArray())
                : OnnxValue.FromFloats(shape, array.ToFloats());
        }
        foreach (var i in onnx.Inputs)
            if (!inputs.ContainsKey(i.Name)) throw new UsageException($"--input: {onnx.Source} needs input '{i.Name}'; give it as --input {i.Name}=FILE.");
        return inputs;
    }
}
