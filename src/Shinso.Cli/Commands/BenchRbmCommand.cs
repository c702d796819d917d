using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.Boltzmann;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso bench rbm</c>: seconds per CD-1 epoch of an RBM over the Fashion-MNIST training images, the same update
/// as the PyTorch script in ../shared/peers/rbm_bench.py (batch 100, learning rate 0.01, no momentum or weight decay,
/// binary hidden and visible samples, positive- and negative-phase hidden probabilities as statistics).
/// </summary>
public static class BenchRbmCommand
{
    /// <summary>Builds the <c>rbm</c> command.</summary>
    public static Command Create()
    {
        var visible = new Option<int>("--visible") { Description = "Visible units (must equal the image size, 784)", DefaultValueFactory = _ => 784 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units", DefaultValueFactory = _ => 500 };
        var batch = new Option<int>("--batch") { Description = "Minibatch size", DefaultValueFactory = _ => 100 };
        var repeat = new Option<int>("--repeat") { Description = "Timed epochs (after one warm-up epoch)", DefaultValueFactory = _ => 3 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images" };
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("rbm", "Seconds per CD-1 epoch of a Bernoulli RBM on the Fashion-MNIST training images");
        foreach (var o in new Option[] { visible, hidden, batch, repeat, limit, data, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            int nh = r.GetValue(hidden), b = r.GetValue(batch), nv = r.GetValue(visible);
            int epochs = Math.Max(1, r.GetValue(repeat));
            if (nh < 1) throw new UsageException($"--hidden must be >= 1, got {nh}.");
            if (b < 1) throw new UsageException($"--batch must be >= 1, got {b}.");
            var (directory, description) = CommonOptions.ResolveData(r.GetValue(data));
            if (r.GetValue(data) is null && directory == FashionMnist.EmbeddedSubsetDirectory)
                CommonOptions.Err.WriteLine(Markup.Escape($"{FashionMnist.DefaultDirectory} is missing: using {description}."));
            var (train, _) = FashionMnist.Load(directory, r.GetValue(limit));
            if (train.FeatureCount != nv)
                throw new UsageException($"--visible {nv} does not match the data's {train.FeatureCount} features per image.");
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var rbm = new RestrictedBoltzmannMachine(backend, nv, nh, seed: 1);
            var trainer = new ContrastiveDivergence(rbm, new RbmTrainingOptions
            {
                LearningRate = 0.01f, BatchSize = b, GibbsSteps = 1, InitialMomentum = 0f, FinalMomentum = 0f,
                TrackReconstructionError = false, Seed = 1,
            });
            trainer.TrainEpoch(train, 0);
            var times = new List<double>();
            for (int e = 1; e <= epochs; e++) times.Add(trainer.TrainEpoch(train, e).Seconds);
            var sorted = times.Order().ToList();
            double best = sorted[0], median = sorted[sorted.Count / 2];
            double recon = RbmEvaluation.ReconstructionError(rbm, train.Features.AsSpan(0, Math.Min(train.Features.Length, 10_000 * nv)));
            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["benchmark"] = "rbm", ["algorithm"] = "cd1", ["visible"] = nv, ["hidden"] = nh, ["batch"] = b, ["images"] = train.Count,
                    ["data"] = description, ["epochs_timed"] = epochs,
                    ["seconds_per_epoch_best"] = Math.Round(best, 3), ["seconds_per_epoch_median"] = Math.Round(median, 3),
                    ["reconstruction_error"] = Math.Round(recon, 3),
                }.WithBackend(backend).ToJsonString());
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rbm {nv}-{nh} CD-1 batch {b}, {train.Count} images, {CommonOptions.Describe(backend)}: " +
                    $"{best:F3} s/epoch best, {median:F3} median (reconstruction error {recon:F2})"));
            }
            return 0;
        });
        return command;
    }
}
