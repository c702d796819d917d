using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Onnx.Import;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso inspect model.onnx [--json]</c>: an ONNX file's inputs, outputs, operators and parameter count, after the importer has validated it.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An ONNX file (.onnx)" };
        var json = CommonOptions.Json();
        var command = new Command("inspect", "Validate an ONNX file and print its inputs, outputs, operators and parameter count");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.SetAction(r =>
        {
            var onnx = Load(r.GetValue(model)!);
            var operators = onnx.Operators;
            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["model"] = onnx.Source, ["ir_version"] = onnx.IrVersion, ["opset"] = onnx.Opset, ["producer"] = onnx.Producer,
                    ["nodes"] = onnx.NodeCount, ["parameters"] = onnx.ParameterCount,
                    ["operators"] = new JsonArray(operators.Select(o => (JsonNode)o).ToArray()),
                    ["inputs"] = Describe(onnx.Inputs), ["outputs"] = Describe(onnx.Outputs),
                }.ToJsonString());
                return 0;
            }
            Console.WriteLine($"{onnx.Source}: IR {onnx.IrVersion}, opset {onnx.Opset}{(onnx.Producer.Length > 0 ? $", written by {onnx.Producer}" : "")}");
            foreach (var i in onnx.Inputs) Console.WriteLine($"  input  {i.Name}: {TypeName(i.ElementType)} {i.ShapeText()}");
            foreach (var o in onnx.Outputs) Console.WriteLine($"  output {o.Name}: {TypeName(o.ElementType)} {o.ShapeText()}");
            Console.WriteLine($"  {onnx.NodeCount} nodes: {string.Join(", ", operators)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {onnx.ParameterCount:N0} parameters"));
            return 0;
        });
        return command;
    }

    /// <summary>Reads and validates an ONNX file, turning its errors into usage errors that name the file.</summary>
    public static OnnxModel Load(string path)
    {
        try { return OnnxModel.Load(path); }
        catch (OnnxImportException e) { throw new UsageException(e.Message); }
    }

    private static JsonArray Describe(IReadOnlyList<OnnxValueInfo> values) =>
        new(values.Select(v => (JsonNode)new JsonObject
        {
            ["name"] = v.Name, ["type"] = TypeName(v.ElementType),
            ["shape"] = v.Shape is null ? null : new JsonArray(v.Shape.Select(d => d is long n ? (JsonNode)n : null).ToArray()),
        }).ToArray());

    private static string TypeName(int type) => Enum.IsDefined((OnnxElementType)type) ? ((OnnxElementType)type).ToString().ToLowerInvariant() : type == 0 ? "(undeclared)" : $"type {type}";
}
