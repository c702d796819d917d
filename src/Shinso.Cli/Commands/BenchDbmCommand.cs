using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.DeepBoltzmann;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso bench dbm</c>: seconds per joint-training epoch of a deep Boltzmann machine over the Fashion-MNIST training images
/// (binarised at 0.5) with <see cref="DbmTrainingOptions"/>' defaults — 10 mean-field sweeps, 100 persistent chains advanced by 5
/// full Gibbs sweeps, momentum, weight cost and the sparsity penalty — the arithmetic of ../shared/peers/dbm_bench.py (which uses
/// plain SGD and no penalty).
/// </summary>
public static class BenchDbmCommand
{
    /// <summary>Builds the <c>dbm</c> command.</summary>
    public static Command Create()
    {
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes, bottom first", DefaultValueFactory = _ => "500,1000" };
        var repeat = new Option<int>("--repeat") { Description = "Timed epochs (after one warm-up epoch)", DefaultValueFactory = _ => 2 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images" };
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("dbm", "Seconds per joint-training epoch of a deep Boltzmann machine on the Fashion-MNIST training images");
        foreach (var o in new Option[] { hidden, repeat, limit, data, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            int epochs = Math.Max(1, r.GetValue(repeat));
            var sizes = new List<int>();
            foreach (string part in r.GetValue(hidden)!.Split(','))
            {
                if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
                    throw new UsageException($"--hidden: '{part}' is not a positive layer size (give them as 500,1000).");
                sizes.Add(n);
            }
            if (sizes.Count < 2) throw new UsageException($"--hidden: a DBM needs at least two hidden layers, got {sizes.Count}.");
            var (directory, description) = CommonOptions.ResolveData(r.GetValue(data));
            if (r.GetValue(data) is null && directory == FashionMnist.EmbeddedSubsetDirectory)
                CommonOptions.Err.WriteLine(Markup.Escape($"{FashionMnist.DefaultDirectory} is missing: using {description}."));
            var (train, _) = FashionMnist.Load(directory, r.GetValue(limit));
            train = train.Binarize(0.5f);
            sizes.Insert(0, train.FeatureCount);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var dbm = new DeepBoltzmannMachine(backend, sizes, seed: 1);
            var options = new DbmTrainingOptions();
            var trainer = new DbmTrainer(dbm, options);
            trainer.TrainEpoch(train, 0);
            var times = new List<double>();
            double error = 0;
            for (int e = 1; e <= epochs; e++)
            {
                var report = trainer.TrainEpoch(train, e);
                times.Add(report.Seconds);
                error = report.ReconstructionError;
            }
            var sorted = times.Order().ToList();
            double best = sorted[0], median = sorted[sorted.Count / 2];
            string shape = string.Join("-", sizes);
            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["benchmark"] = "dbm", ["layers"] = shape, ["batch"] = options.BatchSize, ["mean_field_updates"] = options.MeanFieldUpdates,
                    ["chains"] = options.PersistentChains, ["gibbs_sweeps"] = options.GibbsSweeps, ["images"] = train.Count, ["data"] = description,
                    ["epochs_timed"] = epochs, ["seconds_per_epoch_best"] = Math.Round(best, 3), ["seconds_per_epoch_median"] = Math.Round(median, 3),
                    ["reconstruction_error"] = Math.Round(error, 3),
                }.WithBackend(backend).ToJsonString());
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dbm {shape}, {options.MeanFieldUpdates} mean-field sweeps, {options.PersistentChains} chains x {options.GibbsSweeps} sweeps, batch {options.BatchSize}, " +
                    $"{train.Count} images, {CommonOptions.Describe(backend)}: {best:F3} s/epoch best, {median:F3} median (reconstruction error {error:F2})"));
            }
            return 0;
        });
        return command;
    }
}
