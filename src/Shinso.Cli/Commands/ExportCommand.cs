using Spectre.Console;
using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Cli.ModelKinds;
using Shinso.Onnx;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso export MODEL --onnx out.onnx [--opset N] [--part encoder|decoder] [--dense gemm|matmul-add]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = $"A model file written by shinso ({string.Join(", ", Shinso.Onnx.OnnxExporter.ExportableKinds)})" };
        var onnx = new Option<string?>("--onnx") { Description = "The ONNX file to write" };
        var opset = new Option<int>("--opset")
        {
            Description = $"ONNX operator set, {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}",
            DefaultValueFactory = _ => OnnxExporter.DefaultOpset,
        };
        var part = new Option<string?>("--part")
        {
            Description = "For an RBM: encoder (visible -> hidden probabilities, the default) or decoder (hidden -> visible mean); for an autoencoder: encoder (input -> code) or decoder (code -> reconstruction)",
        };
        var dense = new Option<string>("--dense") { Description = "Dense layers as gemm or matmul-add", DefaultValueFactory = _ => "gemm" };
        var json = CommonOptions.Json();
        var command = new Command("export", "Export a model's feed-forward form to ONNX (IR 8) with a dynamic batch dimension");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { onnx, opset, part, dense, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            string output = r.GetValue(onnx) ?? throw new UsageException("--onnx: expected the path of the ONNX file to write, e.g. --onnx model.onnx.");
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            int version = r.GetValue(opset);
            if (version < OnnxExporter.MinOpset || version > OnnxExporter.MaxOpset)
                throw new UsageException($"--opset: expected {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}, got {version}.");
            var header = ModelFile.ReadHeader(file);
            string kind = header.Kind;
            var modelKind = ModelKindRegistry.ForFile(file, kind, ModelAction.Export);
            modelKind.CheckInputs(file, header);
            string? chosenPart = r.GetValue(part);
            if (chosenPart is not null && !modelKind.ExportParts.Contains(chosenPart))
                throw new UsageException(modelKind.ExportParts.Count == 0
                    ? $"--part: applies to {string.Join(", ", ModelKindRegistry.All.Where(k => k.ExportParts.Count > 0).Select(k => k.FileKind))} models only; {file} holds a '{kind}' model."
                    : $"--part: expected {string.Join(" or ", modelKind.ExportParts)}, got '{chosenPart}'.");
            var options = new OnnxExportOptions
            {
                Opset = version,
                RbmPart = chosenPart switch
                {
                    null or "encoder" => RbmPart.Encoder,
                    "decoder" => RbmPart.Decoder,
                    var other => throw new UsageException($"--part: expected encoder or decoder, got '{other}'."),
                },
                Dense = r.GetValue(dense) switch
                {
                    "gemm" => DenseOperator.Gemm,
                    "matmul-add" => DenseOperator.MatMulAdd,
                    var other => throw new UsageException($"--dense: expected gemm or matmul-add, got '{other}'."),
                },
            };
            OnnxExporter.ExportModelFile(file, output, options);
            string what = modelKind.ExportedForm(kind, chosenPart);
            CommonOptions.Err.MarkupLine($"wrote [bold]{Markup.Escape(output)}[/] ({Markup.Escape(what)}, opset {version})");
            if (r.GetValue(json))
                Console.WriteLine(new JsonObject { ["model"] = file, ["onnx"] = output, ["kind"] = kind, ["opset"] = version }.ToJsonString());
            return 0;
        });
        return command;
    }
}
