using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.SparseCoding;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso bench sparse-coding</c>: the workload of ../shared/peers/sparse_coding_bench.py — lasso codes of centred unit-norm 8x8
/// Fashion-MNIST patches under a random unit-norm 256-atom dictionary, then dictionary learning — with the seconds and the mean
/// objective each reaches. <c>--problem FILE.npz</c> (written by <c>perf/sparse-coding-problem.py</c> from the yardstick's own code)
/// codes the yardstick's very patches and dictionary, so the objectives compare exactly.
/// </summary>
public static class BenchSparseCodingCommand
{
    /// <summary>Builds the <c>sparse-coding</c> command.</summary>
    public static Command Create()
    {
        var problem = new Option<string?>("--problem") { Description = "An .npz with 'patches' [N, F] and 'dictionary' [atoms, F] (perf/sparse-coding-problem.py)" };
        var patches = new Option<int>("--patches") { Description = "Patches to draw when there is no --problem", DefaultValueFactory = _ => 20000 };
        var atoms = new Option<int>("--atoms") { Description = "Atoms of the random dictionary when there is no --problem", DefaultValueFactory = _ => 256 };
        var lambda = new Option<float>("--lambda") { Description = "The L1 weight", DefaultValueFactory = _ => 0.1f };
        var tolerance = new Option<double>("--tolerance") { Description = "FISTA's relative objective change to stop at", DefaultValueFactory = _ => new FistaOptions().Tolerance };
        var epochs = new Option<int>("--epochs") { Description = "Dictionary-learning passes (0: encoding only)", DefaultValueFactory = _ => new DictionaryLearningOptions().Epochs };
        var blockRows = new Option<int>("--block-rows") { Description = "Rows FISTA codes together", DefaultValueFactory = _ => new FistaOptions().BlockRows };
        var learnBatch = new Option<int>("--learn-batch") { Description = "Rows coded per dictionary update", DefaultValueFactory = _ => new DictionaryLearningOptions().BatchRows };
        var sweeps = new Option<int>("--sweeps") { Description = "Coordinate-descent sweeps over the atoms per update", DefaultValueFactory = _ => new DictionaryLearningOptions().Sweeps };
        var repeat = new Option<int>("--repeat") { Description = "Timed encodings (best and median)", DefaultValueFactory = _ => 3 };
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var json = CommonOptions.Json();
        var command = new Command("sparse-coding", "Seconds and mean objective of lasso encoding and dictionary learning on 8x8 image patches");
        foreach (var o in new Option[] { problem, patches, atoms, lambda, tolerance, blockRows, learnBatch, sweeps, epochs, repeat, data, threads, path, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            float l = r.GetValue(lambda);
            if (!(l > 0)) throw new UsageException($"--lambda must be positive, got {l}.");
            if (!(r.GetValue(tolerance) >= 0)) throw new UsageException($"--tolerance must be >= 0, got {r.GetValue(tolerance)}.");
            foreach (var (option, name) in new[] { (blockRows, "--block-rows"), (learnBatch, "--learn-batch"), (sweeps, "--sweeps") })
                if (r.GetValue(option) < 1) throw new UsageException($"{name} must be >= 1, got {r.GetValue(option)}.");
            if (r.GetValue(epochs) < 0) throw new UsageException($"--epochs must be >= 0, got {r.GetValue(epochs)}.");
            if (r.GetValue(problem) is not null && (r.GetResult(patches) is { Implicit: false } || r.GetResult(atoms) is { Implicit: false } || r.GetValue(data) is not null))
                throw new UsageException("--problem holds its patches and dictionary: --patches, --atoms and --data do not apply with it.");
            var (x, features, dictionary, k, source) = Load(r.GetValue(problem), r.GetValue(data), r.GetValue(patches), r.GetValue(atoms));
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var encoder = new FistaOptions { Lambda = l, Tolerance = r.GetValue(tolerance), BlockRows = r.GetValue(blockRows) };
            var atomsTensor = backend.Allocate(k, features);
            backend.Upload(dictionary, atomsTensor);
            FistaEncoder.Encode(backend, x.AsSpan(0, Math.Min(x.Length, 256 * features)), features, atomsTensor, encoder);
            var times = new List<double>();
            SparseCodes codes = null!;
            for (int i = 0; i < Math.Max(1, r.GetValue(repeat)); i++)
            {
                var clock = Stopwatch.StartNew();
                codes = FistaEncoder.Encode(backend, x, features, atomsTensor, encoder);
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            var result = new JsonObject
            {
                ["benchmark"] = "sparse-coding", ["problem"] = source, ["patches"] = x.Length / features, ["features"] = features, ["atoms"] = k, ["lambda"] = l,
                ["encode_seconds_best"] = Math.Round(times[0], 3), ["encode_seconds_median"] = Math.Round(times[times.Count / 2], 3),
                ["encode_mean_objective"] = Math.Round(codes.MeanObjective, 6), ["encode_mean_nonzeros"] = Math.Round(codes.MeanNonZeros, 2),
                ["encode_iterations"] = codes.Iterations, ["encode_converged"] = codes.Converged,
            };
            CommonOptions.Err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encode: {times[0]:F3} s best, {times[times.Count / 2]:F3} median; mean objective {codes.MeanObjective:F5}, {codes.MeanNonZeros:F1} non-zeros, {codes.Iterations} iterations at most"));
            int e = r.GetValue(epochs);
            if (e > 0)
            {
                var options = new DictionaryLearningOptions { Atoms = k, Epochs = e, Encoder = encoder, BatchRows = r.GetValue(learnBatch), Sweeps = r.GetValue(sweeps) };
                var clock = Stopwatch.StartNew();
                var (learned, reports) = DictionaryLearning.Learn(backend, x, features, options, progress: report =>
                {
                    CommonOptions.Err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"pass {report.Epoch + 1}: objective {report.MeanObjective:F5} (each batch under the atoms of its time), {report.MeanNonZeros:F1} non-zeros, " +
                        $"{report.Iterations} iterations, {report.RestartedAtoms} atoms restarted, {clock.Elapsed.TotalSeconds:F2} s"));
                });
                double learnSeconds = clock.Elapsed.TotalSeconds;
                backend.Upload(learned, atomsTensor);
                var final = FistaEncoder.Encode(backend, x, features, atomsTensor, encoder);
                double total = clock.Elapsed.TotalSeconds;
                CommonOptions.Err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dictionary: {e} passes {learnSeconds:F2} s, final objective {final.MeanObjective:F5} (codes to tolerance {encoder.Tolerance}), {total:F2} s with the final coding"));
                result["dictionary_epochs"] = e;
                result["dictionary_seconds"] = Math.Round(learnSeconds, 3);
                result["dictionary_seconds_with_final_codes"] = Math.Round(total, 3);
                result["dictionary_mean_objective"] = Math.Round(final.MeanObjective, 6);
                var trajectory = new JsonArray();
                foreach (var report in reports) trajectory.Add(Math.Round(report.MeanObjective, 6));
                result["dictionary_objective_by_epoch"] = trajectory;
            }
            if (r.GetValue(json)) Console.WriteLine(result.WithBackend(backend).ToJsonString());
            return 0;
        });
        return command;
    }

    private static (float[] Patches, int Features, float[] Dictionary, int Atoms, string Source) Load(string? problem, string? data, int count, int atoms)
    {
        if (problem is not null)
        {
            var arrays = NumpyArchive.ReadArchive(problem);
            if (!arrays.TryGetValue("patches", out var p) || p.Shape.Count != 2 || p.Shape[0] < 1 || p.Shape[1] < 1)
                throw new UsageException($"{problem}: patches: expected an array 'patches' of shape [N, features], N and features at least 1.");
            if (!arrays.TryGetValue("dictionary", out var d) || d.Shape.Count != 2 || d.Shape[0] < 1 || d.Shape[1] != p.Shape[1])
                throw new UsageException($"{problem}: dictionary: expected an array 'dictionary' of shape [atoms, {p.Shape[1]}], at least one atom.");
            var (patchValues, atomsValues) = (p.ToFloats(), d.ToFloats());
            foreach (var (values, name) in new[] { (patchValues, "patches"), (atomsValues, "dictionary") })
            {
                int bad = Array.FindIndex(values, v => !float.IsFinite(v));
                if (bad >= 0) throw new UsageException($"{problem}: {name}: element {bad} is {values[bad]}; expected finite values.");
            }
            return (patchValues, p.Shape[1], atomsValues, d.Shape[0], problem);
        }
        if (count < 1) throw new UsageException($"--patches must be >= 1, got {count}.");
        if (atoms < 1) throw new UsageException($"--atoms must be >= 1, got {atoms}.");
        var (directory, description) = CommonOptions.ResolveData(data);
        if (data is null && directory == FashionMnist.EmbeddedSubsetDirectory)
            CommonOptions.Err.WriteLine(Markup.Escape($"{FashionMnist.DefaultDirectory} is missing: using {description}."));
        var (train, _) = FashionMnist.Load(directory, null);
        var root = RandomStream.Root(1).Derive("bench-sparse-coding");
        var x = ImagePatches.Sample(train, new PatchOptions(8), count, root.Derive("patches"));
        int features = 64;
        var dictionary = new float[atoms * features];
        var gaussian = root.Derive("dictionary");
        for (int a = 0; a < atoms; a++)
        {
            double squares = 0;
            for (int f = 0; f < features; f++)
            {
                float g = Philox4x32.Gaussian(gaussian, (ulong)(a * features + f));
                dictionary[a * features + f] = g;
                squares += (double)g * g;
            }
            for (int f = 0; f < features; f++) dictionary[a * features + f] = (float)(dictionary[a * features + f] / Math.Sqrt(squares));
        }
        return (x, features, dictionary, atoms, description);
    }
}
