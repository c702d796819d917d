using Spectre.Console;
using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Data;
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
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("eval", "Evaluate a saved model on the Fashion-MNIST test set");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { data, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var net = FeedForwardModelFile.Load(file, backend);
            var (dir, description) = CommonOptions.ResolveData(r.GetValue(data));
            var (_, test) = FashionMnist.Load(dir);
            var evaluation = Trainer.Evaluate(net, SupervisedData.FromDataset(test));
            CommonOptions.Err.MarkupLine($"[grey]data:[/] {Spectre.Console.Markup.Escape(description)}");
            CommonOptions.Err.MarkupLine($"test accuracy [bold]{evaluation.Accuracy:P2}[/], loss {evaluation.Loss:F4} on {test.Count} images");
            if (r.GetValue(json))
                Console.WriteLine(new JsonObject { ["model"] = file, ["accuracy"] = evaluation.Accuracy, ["loss"] = evaluation.Loss, ["samples"] = test.Count }.ToJsonString());
            return 0;
        });
        return command;
    }
}
