using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Cli.ModelKinds;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Robustness;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso robustness MODEL --sigma 0.05,0.1 [--mc K] [--noise gaussian|uniform] [--competitors all|N] [--limit N] [--csv FILE] [--json]</c>:
/// how often a classifier errs on test inputs with added noise, by the one-pass test and, with --mc, by K noisy copies per input.
/// </summary>
internal static class RobustnessCommand
{
    /// <summary>The noise levels used when --sigma is not given.</summary>
    private const string DefaultSigmas = "0.05,0.1,0.2,0.3";

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A feed-forward classifier written by shinso train (MLP or CNN)" };
        var data = CommonOptions.Data();
        var testData = CommonOptions.TestData();
        var sigma = new Option<string>("--sigma") { Description = "Noise standard deviations, comma-separated, in the inputs' units", DefaultValueFactory = _ => DefaultSigmas };
        var noise = new Option<string>("--noise") { Description = "gaussian or uniform (the same standard deviation)", DefaultValueFactory = _ => "gaussian" };
        var mc = new Option<int?>("--mc") { Description = "Also run the Monte Carlo test with K noisy copies per input" };
        var competitors = new Option<string>("--competitors")
        {
            Description = "Competing classes the one-pass test follows per input: all, or the N with the highest clean scores",
            DefaultValueFactory = _ => "all",
        };
        var limit = new Option<int?>("--limit") { Description = "Test only the first N test inputs" };
        var csv = new Option<string?>("--csv") { Description = "Write the per-input estimates to this CSV file" };
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("robustness", "Misclassification rate of a classifier under input noise: the one-pass test (first-order in the noise) " +
            "and, with --mc K, the Monte Carlo test it replaces (K noisy copies per input), with the seconds of each");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { data, testData, sigma, noise, mc, competitors, limit, csv, seed, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            var levels = ParseSigmas(r.GetValue(sigma)!);
            NoiseDistribution law;
            try { law = NoiseSampling.Parse(r.GetValue(noise)!); }
            catch (ArgumentException e) { throw new UsageException("--noise: " + CommonOptions.WithoutParameter(e)); }
            int? copies = r.GetValue(mc);
            if (copies is <= 0) throw new UsageException($"--mc: expected a positive number of copies per input, got {copies}.");
            int kept = ParseCompetitors(r.GetValue(competitors)!);
            if (r.GetValue(limit) is <= 0) throw new UsageException($"--limit: expected a positive number of inputs, got {r.GetValue(limit)}.");

            var header = ModelFile.ReadHeader(file);
            if (ModelKindRegistry.ForFile(file, header.Kind, ModelAction.Eval) is not FeedForwardKind feedForward)
                throw new UsageException($"{file}: a '{header.Kind}' model; the robustness test differentiates a feed-forward classifier's scores " +
                                         $"(a '{FeedForwardModelFile.Kind}' model: MLPs and CNNs, and DBNs and DBMs fine-tuned into one).");
            feedForward.CheckInputs(file, header);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var net = FeedForwardModelFile.Load(file, backend);
            if (net.Spec.OutputLength < 2)
                throw new UsageException($"{file}: {net.Spec.OutputLength} output; a classifier gives one score per class.");
            var loaded = CommonOptions.LoadData(r.GetValue(data), r.GetValue(testData));
            CommonOptions.RequireFeatures(loaded, net.Spec.InputLength, file);
            var test = CommonOptions.FitClasses(loaded.Test, net.Spec.OutputLength, file);
            if (r.GetValue(limit) is int n && n < test.Count) test = test.Take(n);
            ulong runSeed = r.GetValue(seed) ?? 1;
            CommonOptions.Err.MarkupLine($"[grey]data:[/] {Markup.Escape(loaded.Description)}; {test.Count} test inputs; {Markup.Escape(CommonOptions.Describe(backend))}");

            var root = RandomStream.Root(runSeed).Derive("robustness-monte-carlo");
            if (copies is not null) RobustnessWarmUp.Run(net, test, kept, law, root.Derive("warm-up"), HostThreads(backend));
            var clock = Stopwatch.StartNew();
            var margins = OnePassRobustness.Linearize(net, test, kept);
            double linearizeSeconds = clock.Elapsed.TotalSeconds;
            int cleanCorrect = 0;
            for (int i = 0; i < test.Count; i++) if (margins.Predictions[i] == test.Labels[i]) cleanCorrect++;
            var rows = new List<Level>();
            for (int s = 0; s < levels.Length; s++)
            {
                clock.Restart();
                var estimates = margins.MisclassificationProbabilities(levels[s], HostThreads(backend));
                double onePassSeconds = linearizeSeconds + clock.Elapsed.TotalSeconds;
                MonteCarloEstimate? monteCarlo = null;
                double monteCarloSeconds = 0;
                if (copies is int k)
                {
                    clock.Restart();
                    monteCarlo = MonteCarloRobustness.Run(net, test, law, (float)levels[s], k, root.Derive("sigma", s));
                    monteCarloSeconds = clock.Elapsed.TotalSeconds;
                }
                rows.Add(new Level(levels[s], estimates, onePassSeconds, monteCarlo, monteCarloSeconds));
            }
            Print(rows, test.Count, cleanCorrect, margins.Competitors, linearizeSeconds);
            if (r.GetValue(csv) is { } csvPath) WriteCsv(csvPath, margins, rows);
            if (r.GetValue(json))
            {
                var levelsJson = new JsonArray();
                foreach (var level in rows) levelsJson.Add(level.ToJson());
                Console.WriteLine(new JsonObject
                {
                    ["model"] = file, ["samples"] = test.Count, ["clean_accuracy"] = (double)cleanCorrect / Math.Max(test.Count, 1),
                    ["noise"] = law.ToString().ToLowerInvariant(), ["competitors"] = margins.Competitors, ["linearize_seconds"] = linearizeSeconds,
                    ["mc_copies"] = copies, ["seed"] = runSeed, ["levels"] = levelsJson,
                }.WithBackend(backend).ToJsonString());
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The threads the one-pass test's integrals (on the host) may use: the CPU backend's, as the Monte Carlo test's kernels
    /// get; beside a device, every core.
    /// </summary>
    internal static int HostThreads(IBackend backend) => backend is CpuBackend cpu ? cpu.Options.ResolvedThreads : 0;

    /// <summary>One noise level's figures.</summary>
    private sealed record Level(double Sigma, double[] OnePass, double OnePassSeconds, MonteCarloEstimate? MonteCarlo, double MonteCarloSeconds)
    {
        public double OnePassRate => OnePass.Length == 0 ? 0 : OnePass.Average();

        public JsonObject ToJson()
        {
            var json = new JsonObject { ["sigma"] = Sigma, ["one_pass_rate"] = OnePassRate, ["one_pass_seconds"] = OnePassSeconds };
            if (MonteCarlo is { } mc)
            {
                var (lower, upper) = mc.ConfidenceInterval();
                var (inside, absolute, correlation) = mc.Agreement(OnePass);
                json["mc_rate"] = mc.Rate();
                json["mc_lower"] = lower;
                json["mc_upper"] = upper;
                json["mc_seconds"] = MonteCarloSeconds;
                json["per_input_inside_interval"] = inside;
                json["per_input_mean_absolute_difference"] = absolute;
                json["per_input_correlation"] = double.IsNaN(correlation) ? null : correlation;
                json["speedup"] = MonteCarloSeconds / OnePassSeconds;
            }
            return json;
        }
    }

    private static void Print(List<Level> rows, int count, int cleanCorrect, int competitors, double linearizeSeconds)
    {
        CommonOptions.Err.MarkupLine($"clean accuracy {(double)cleanCorrect / Math.Max(count, 1):P2}; one pass (linearisation, {competitors} competitor(s) per input): {linearizeSeconds:F2} s for every noise level");
        var table = new Table().AddColumns("sigma", "one-pass rate", "s");
        bool monteCarlo = rows.Any(l => l.MonteCarlo is not null);
        if (monteCarlo) table.AddColumns("Monte Carlo rate [[95 % interval]]", "s", "per-input inside", "speed-up");
        foreach (var level in rows)
        {
            var cells = new List<string> { Number(level.Sigma), $"{level.OnePassRate:P2}", $"{level.OnePassSeconds:F2}" };
            if (level.MonteCarlo is { } mc)
            {
                var (lower, upper) = mc.ConfidenceInterval();
                cells.AddRange([$"{mc.Rate():P2} [{lower:P2}, {upper:P2}]", $"{level.MonteCarloSeconds:F2}", $"{mc.Agreement(level.OnePass).InsideInterval:P1}",
                                $"{level.MonteCarloSeconds / level.OnePassSeconds:G3}x"]);
            }
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }
        CommonOptions.Err.Write(table);
    }

    /// <summary>One row per input and noise level: the one-pass estimate and, when run, the Monte Carlo rate and its Wilson interval.</summary>
    private static void WriteCsv(string path, LinearizedMargins margins, List<Level> rows)
    {
        var text = new StringBuilder("input,label,prediction,sigma,one_pass,mc_rate,mc_lower,mc_upper\n");
        foreach (var level in rows)
            for (int i = 0; i < margins.Count; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{i},{margins.Labels[i]},{margins.Predictions[i]},{Number(level.Sigma)},{level.OnePass[i]:R}");
                if (level.MonteCarlo is { } mc)
                {
                    var (lower, upper) = mc.ConfidenceInterval(i);
                    text.Append(CultureInfo.InvariantCulture, $",{mc.Rate(i):R},{lower:R},{upper:R}\n");
                }
                else text.Append(",,,\n");
            }
        try { AtomicFile.WriteAllText(path, text.ToString()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"--csv: cannot write {path}: {e.Message}"); }
        CommonOptions.Err.MarkupLine($"per-input estimates: {Markup.Escape(path)}");
    }

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>The --sigma list: finite, non-negative, at least one.</summary>
    private static double[] ParseSigmas(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sigmas = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out sigmas[i]) || !double.IsFinite(sigmas[i]) || sigmas[i] < 0)
                throw new UsageException($"--sigma: expected comma-separated noise standard deviations >= 0, e.g. {DefaultSigmas}; '{parts[i]}' is not one.");
        return sigmas;
    }

    private static int ParseCompetitors(string text)
    {
        if (text == "all") return int.MaxValue;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0) return n;
        throw new UsageException($"--competitors: expected all or a positive number of classes, got '{text}'.");
    }
}
