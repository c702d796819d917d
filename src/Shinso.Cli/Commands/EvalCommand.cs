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
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var aisRuns = new Option<int>("--ais-runs") { Description = "RBM models: AIS runs for the log-likelihood estimate", DefaultValueFactory = _ => 100 };
        var seed = CommonOptions.Seed();
        var command = new Command("eval", "Evaluate a saved model on the Fashion-MNIST test set (RBMs: AIS test log-likelihood; DBNs and nets: accuracy)");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { data, threads, path, json, aisRuns, seed }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var header = ModelFile.ReadHeader(file);
            if (header.Kind is RbmModelFile.Kind or DbnModelFile.Kind)
            {
                var (energyDir, energyDescription) = CommonOptions.ResolveData(r.GetValue(data));
                CommonOptions.Err.MarkupLine($"[grey]data:[/] {Spectre.Console.Markup.Escape(energyDescription)}");
                var (energyTrain, energyTest) = FashionMnist.Load(energyDir);
                JsonObject result;
                if (header.Kind == RbmModelFile.Kind)
                {
                    if (r.GetValue(aisRuns) < 2) throw new UsageException($"--ais-runs must be >= 2, got {r.GetValue(aisRuns)}.");
                    var rbm = RbmModelFile.Load(file, backend);
                    float threshold = header.Metadata["binarize_threshold"] is JsonValue t && t.TryGetValue<float>(out float f) ? f : 0.5f;
                    result = BoltzmannRuns.RbmLikelihood(rbm, energyTrain.Binarize(threshold), energyTest.Binarize(threshold), r.GetValue(aisRuns), r.GetValue(seed) ?? 1);
                }
                else
                {
                    var dbn = DbnModelFile.Load(file, backend);
                    double accuracy = dbn.Accuracy(energyTest);
                    CommonOptions.Err.MarkupLine($"test accuracy [bold]{accuracy:P2}[/] (free energy of each label in the top RBM) on {energyTest.Count} images");
                    result = new JsonObject { ["accuracy"] = accuracy, ["samples"] = energyTest.Count };
                }
                result["model"] = file;
                if (r.GetValue(json)) Console.WriteLine(result.ToJsonString());
                return 0;
            }
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
