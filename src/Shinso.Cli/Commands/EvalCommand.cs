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
        var aisRuns = new Option<int>("--ais-runs") { Description = "RBM models: AIS runs for the log-likelihood estimate", DefaultValueFactory = _ => 100 };
        var seed = CommonOptions.Seed();
        var command = new Command("eval", "Evaluate a saved model on a test set (--data; default Fashion-MNIST) (RBMs: AIS test log-likelihood; DBNs, nets and perceptrons: accuracy; " +
            "regression nets with --target: MSE and R² on a table)");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { data, testData, target, threads, path, json, aisRuns, seed }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
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
}
