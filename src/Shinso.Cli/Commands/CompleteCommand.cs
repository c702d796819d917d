using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Cli.ModelKinds;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso complete MODEL --mask left|right|top|bottom|random:F --method M[,M...] --out completions.png</c>: occlude part of each
/// test image, infer the hidden pixels from the model, and report the squared error on them per method with its seconds.
/// </summary>
internal static class CompleteCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An rbm model file (shinso train rbm / rbm-pcd / rbm-gaussian) or a DBN's dbn.shinso" };
        var mask = new Option<string>("--mask") { Description = $"Pixels to hide: {Occlusion.Forms}", DefaultValueFactory = _ => "right" };
        var method = new Option<string?>("--method")
        {
            Description = "gibbs, mean-field or marginalized-mean-field (Gaussian RBMs), or several joined by commas (default: every method that applies)",
        };
        var steps = new Option<int?>("--steps") { Description = "Gibbs steps (default 200) or the mean-field iteration cap (default 50)" };
        var images = new Option<int>("--images") { Description = "Test images to complete (0 = all)", DefaultValueFactory = _ => 1000 };
        var show = new Option<int>("--show") { Description = "Images in the picture", DefaultValueFactory = _ => 10 };
        var output = new Option<string?>("--out") { Description = "PNG: originals, occluded, then one row per method" };
        var data = CommonOptions.Data();
        var testData = CommonOptions.TestData();
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var command = new Command("complete", "Fill in occluded pixels of test images from a model, by Gibbs sampling or mean-field inference");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { mask, method, steps, images, show, output, data, testData, seed, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            Occlusion occlusion;
            try
            {
                occlusion = Occlusion.Parse(r.GetValue(mask)!);
            }
            catch (FormatException e)
            {
                throw new UsageException("--mask: " + e.Message);
            }
            int? k = r.GetValue(steps);
            if (k is < 1) throw new UsageException($"--steps must be >= 1, got {k}.");
            int n = r.GetValue(images), shown = r.GetValue(show);
            if (n < 0) throw new UsageException($"--images must be >= 0, got {n}.");
            if (shown < 0) throw new UsageException($"--show must be >= 0, got {shown}.");
            var methods = r.GetValue(method)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var document = ModelFile.Read(file);
            var kind = ModelKindRegistry.ForFile(file, document.Kind, ModelAction.Complete);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), "auto");
            return kind.Complete(new CompleteArguments(file, document, backend, r.GetValue(data), r.GetValue(testData), occlusion, methods, k, n, shown,
                r.GetValue(output), r.GetValue(seed) ?? 1, r.GetValue(json)));
        });
        return command;
    }

    /// <summary>Completes test images from an RBM by each asked method; prints the table and, with --json, one JSON line.</summary>
    public static int CompleteRbm(RestrictedBoltzmannMachine rbm, CompleteArguments a)
    {
        var methods = AskedMethods(a, RbmCompletion.Applicable(rbm), $"an RBM with {rbm.Units.ToString().ToLowerInvariant()} visible units");
        var loaded = LoadFor(a, rbm.VisibleCount);
        var (train, test) = RbmKind.ModelUnits(rbm, a.File, a.Document.Metadata, loaded.Train, loaded.Test);
        var centering = rbm.Units == VisibleUnits.Gaussian ? VisibleCentering.FromMetadata(a.Document.Metadata, a.File, rbm.VisibleCount) : null;
        return Run(a, loaded.Description, train, test, centering, methods, rbm.Backend,
            (m, inputs, observed, steps, stream) => RbmCompletion.Complete(rbm, inputs, observed, m, steps, stream));
    }

    /// <summary>Completes test images from a deep belief net by clamped up-down sampling (its pixels as it was trained on them).</summary>
    public static int CompleteDbn(DeepBeliefNet dbn, CompleteArguments a)
    {
        var methods = AskedMethods(a, DbnCompletion.Applicable, "a deep belief net (its directed layers have no mean-field form here)");
        var loaded = LoadFor(a, dbn.VisibleCount);
        return Run(a, loaded.Description, loaded.Train, loaded.Test, null, methods, dbn.Backend,
            (_, inputs, observed, steps, stream) => DbnCompletion.Complete(dbn, inputs, observed, steps, stream));
    }

    /// <summary>Completes test images from a deep Boltzmann machine by clamped Gibbs sweeps or mean-field (its binarised pixels).</summary>
    public static int CompleteDbm(Shinso.Models.DeepBoltzmann.DeepBoltzmannMachine dbm, CompleteArguments a)
    {
        var methods = AskedMethods(a, Shinso.Models.DeepBoltzmann.DbmCompletion.Applicable, "a deep Boltzmann machine (binary visible units: nothing to integrate out)");
        var loaded = LoadFor(a, dbm.VisibleCount);
        float threshold = CommonOptions.BinarizeThreshold(a.Document.Metadata);
        return Run(a, loaded.Description, loaded.Train.Binarize(threshold), loaded.Test.Binarize(threshold), null, methods, dbm.Backend,
            (m, inputs, observed, steps, stream) => Shinso.Models.DeepBoltzmann.DbmCompletion.Complete(dbm, inputs, observed, m, steps, stream));
    }

    private delegate CompletionResult Completer(CompletionMethod method, float[] inputs, float[] observed, int steps, RandomStream stream);

    /// <summary>The --method list, each checked to apply; every method that applies when none is asked.</summary>
    private static List<CompletionMethod> AskedMethods(CompleteArguments a, IReadOnlyList<CompletionMethod> applicable, string model)
    {
        var methods = new List<CompletionMethod>();
        foreach (string name in a.Methods ?? applicable.Select(RbmCompletion.Name))
        {
            var m = RbmCompletion.Parse(name)
                    ?? throw new UsageException($"--method: '{name}' is not a method; methods: gibbs, mean-field, marginalized-mean-field.");
            if (!applicable.Contains(m))
                throw new UsageException($"--method: '{name}' does not apply to {a.File}, {model}; methods that apply: {string.Join(", ", applicable.Select(RbmCompletion.Name))}.");
            if (!methods.Contains(m)) methods.Add(m);
        }
        return methods;
    }

    private static LoadedData LoadFor(CompleteArguments a, int visible)
    {
        var loaded = CommonOptions.LoadData(a.Data, a.TestData);
        if (loaded.Test.FeatureCount != visible)
            throw new UsageException($"--data: samples have {loaded.Test.FeatureCount} features but {a.File} has {visible} visible units.");
        return loaded;
    }

    private static int Run(CompleteArguments a, string dataDescription, Dataset train, Dataset test, VisibleCentering? centering,
        List<CompletionMethod> methods, Shinso.Backends.IBackend backend, Completer complete)
    {
        int count = a.Images == 0 ? test.Count : Math.Min(a.Images, test.Count);
        int nv = test.FeatureCount;
        // Errors are measured in pixel values: the binarised pixels a Bernoulli RBM models, the raw ones a Gaussian RBM's centring maps back to.
        float[] ToPixels(ReadOnlySpan<float> modelValues)
        {
            var pixels = modelValues.ToArray();
            centering?.Invert(pixels);
            return pixels;
        }
        var inputs = test.Features.AsSpan(0, count * nv).ToArray();
        var truth = ToPixels(inputs);
        int side = (int)Math.Round(Math.Sqrt(nv));
        var (height, width) = side * side == nv ? (side, side) : (1, nv);
        var root = RandomStream.Root(a.Seed);
        var observed = a.Mask.ObservedMask(count, height, width, root.Derive("occlusion"));
        long hiddenPixels = 0;
        foreach (float o in observed) if (o == 0f) hiddenPixels++;
        if (hiddenPixels == 0) throw new UsageException($"--mask {a.Mask}: no pixel of the {count} images is hidden.");

        double SquaredError(float[] pixels)
        {
            double sum = 0;
            for (int k = 0; k < pixels.Length; k++)
                if (observed[k] == 0f) sum += (double)(pixels[k] - truth[k]) * (pixels[k] - truth[k]);
            return sum / hiddenPixels;
        }

        // The yardstick: each hidden pixel filled with its training mean.
        var pixelSums = new double[nv];
        var trainPixels = ToPixels(train.Features);
        for (int s = 0; s < train.Count; s++)
            for (int i = 0; i < nv; i++) pixelSums[i] += trainPixels[s * nv + i];
        var meanFill = new float[truth.Length];
        for (int k = 0; k < truth.Length; k++) meanFill[k] = observed[k] == 1f ? truth[k] : (float)(pixelSums[k % nv] / train.Count);
        double baseline = SquaredError(meanFill);
        CommonOptions.Err.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"data: {dataDescription}; {count} test images, mask {a.Mask} ({hiddenPixels / (double)count:F0} hidden pixels each); training-mean fill: squared error {baseline:F4}")));

        var rows = new JsonArray();
        var completed = new List<float[]>();
        foreach (var m in methods)
        {
            int steps = a.Steps ?? (m == CompletionMethod.Gibbs ? 200 : new MeanFieldOptions().MaxIterations);
            var clock = Stopwatch.StartNew();
            var estimate = complete(m, inputs, observed, steps, root.Derive("completion-gibbs"));
            double seconds = clock.Elapsed.TotalSeconds;
            var pixels = ToPixels(estimate.Values);
            double error = SquaredError(pixels);
            completed.Add(pixels);
            string relative = baseline > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({error / baseline:P0} of the training-mean fill)") : "";
            string work = m == CompletionMethod.Gibbs
                ? $"{steps} steps"
                : $"{estimate.Iterations} of at most {steps} iterations, {(estimate.Converged ? "converged" : "NOT converged")}";
            CommonOptions.Err.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{RbmCompletion.Name(m),-24} squared error {error:F4} per hidden pixel{relative}, {seconds:F2} s, {work}")));
            rows.Add(new JsonObject
            {
                ["method"] = RbmCompletion.Name(m), ["squared_error"] = double.IsFinite(error) ? error : null, ["seconds"] = Math.Round(seconds, 3),
                ["steps"] = steps, ["iterations"] = estimate.Iterations, ["converged"] = estimate.Converged,
            });
        }

        string? picture = null;
        if (a.OutPath is not null && a.Shown > 0)
        {
            int k = Math.Min(a.Shown, count);
            var grid = new List<float>();
            grid.AddRange(truth.AsSpan(0, k * nv).ToArray());
            for (int j = 0; j < k * nv; j++) grid.Add(observed[j] == 1f ? truth[j] : 0.5f);
            foreach (var pixels in completed) grid.AddRange(pixels.AsSpan(0, k * nv).ToArray());
            PngImage.WriteGrid(a.OutPath, grid.ToArray(), grid.Count / nv, height, width, k);
            CommonOptions.Err.MarkupLine(Markup.Escape($"wrote {a.OutPath}: originals, occluded (grey), then {string.Join(", ", methods.Select(RbmCompletion.Name))}; {k} images each"));
            picture = a.OutPath;
        }
        if (a.Json)
        {
            var result = new JsonObject
            {
                ["model"] = a.File, ["mask"] = a.Mask.ToString(), ["images"] = count, ["hidden_pixels"] = hiddenPixels,
                ["mean_fill_squared_error"] = baseline, ["methods"] = rows, ["picture"] = picture,
            };
            Console.WriteLine(result.WithBackend(backend).ToJsonString());
        }
        return 0;
    }
}
