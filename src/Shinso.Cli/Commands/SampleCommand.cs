using Shinso.Cli.ModelKinds;
using System.CommandLine;
using System.Diagnostics;
using Shinso.Training;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso sample MODEL --out samples.png --filters filters.png</c>: pictures of what an RBM or a DBN has learned.</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An rbm, dbn or dbm model file (shinso train rbm / rbm-pcd / dbn-mnist / dbm-2layer)" };
        var output = new Option<string?>("--out") { Description = "PNG of Gibbs samples (RBM, DBM) or of generated images per clamped label (DBN, DBM with --labels)" };
        var filters = new Option<string?>("--filters") { Description = "PNG of the bottom layer's weights, one tile per hidden unit" };
        var count = new Option<int>("--count") { Description = "RBM and DBM: chains (and filters) to draw; DBN and labelled DBM: images per label", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Gibbs steps (RBM chains, the DBN's top RBM, full DBM sweeps)", DefaultValueFactory = _ => 1000 };
        var from = new Option<string>("--from") { Description = "RBM and DBM chains start from 'random' bits or 'data' (binarised test images)", DefaultValueFactory = _ => "random" };
        var classifier = new Option<string?>("--classifier")
        {
            Description = "DBN and labelled DBM: a feed-forward model that reads the generated images (a DBN's default: model.shinso beside it, the net its run fine-tuned)",
        };
        var data = CommonOptions.Data();
        var testData = CommonOptions.TestData();
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var command = new Command("sample", "Draw samples from an RBM, a deep belief net or a deep Boltzmann machine, or its filters, as PNG image grids");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { output, filters, count, steps, from, classifier, data, testData, seed, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string file = r.GetValue(model)!;
            if (!File.Exists(file)) throw new UsageException($"{file}: no such model file.");
            string? samplesPath = r.GetValue(output), filtersPath = r.GetValue(filters);
            if (samplesPath is null && filtersPath is null) throw new UsageException("Give --out samples.png, --filters filters.png or both.");
            int n = r.GetValue(count), k = r.GetValue(steps);
            if (n < 0) throw new UsageException($"--count must be >= 0, got {n}.");
            if (k < 0) throw new UsageException($"--steps must be >= 0, got {k}.");
            string start = r.GetValue(from)!;
            if (start is not ("random" or "data")) throw new UsageException($"--from must be 'random' or 'data', not '{start}'.");
            ulong s = r.GetValue(seed) ?? 1;
            var document = ModelFile.Read(file);
            var kind = ModelKindRegistry.ForFile(file, document.Kind, ModelAction.Sample);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), "auto");
            return kind.Sample(new SampleArguments(file, document, backend, samplesPath, filtersPath, n, k, start, r.GetValue(data), r.GetValue(testData), s,
                r.GetValue(classifier), r.GetValue(json)));
        });
        return command;
    }

    /// <summary>Runs <paramref name="steps"/> Gibbs steps on each chain and returns <c>p(v | h)</c> of the last hidden sample.</summary>
    public static float[] SampleRbm(RestrictedBoltzmannMachine rbm, float[] starts, int chains, int steps, RandomStream stream)
    {
        var be = rbm.Backend;
        var v = be.Allocate(chains, rbm.VisibleCount);
        be.Upload(starts, v);
        ulong counter = 0;
        var clock = Stopwatch.StartNew();
        long started = Stopwatch.GetTimestamp();
        int chunk = Math.Max(1, steps / 10);
        for (int done = 0; done < steps; done += chunk)
        {
            int now = Math.Min(chunk, steps - done);
            counter = rbm.Gibbs(v, now, stream, counter);
            // The log line first: writing it erases the bar, which the report then draws again for the next chunk.
            if (steps >= 100) CommonOptions.Err.MarkupLine(Markup.Escape($"gibbs: {done + now}/{steps} steps ({clock.Elapsed.TotalSeconds:F1} s)"));
            WorkProgress.Report("Gibbs sampling", done + now, steps, started);
        }
        var hp = be.Allocate(chains, rbm.HiddenCount);
        var hs = be.Allocate(chains, rbm.HiddenCount);
        rbm.SampleHidden(v, stream, counter, hp, hs);
        var mean = be.Allocate(chains, rbm.VisibleCount);
        rbm.VisibleMean(hs, mean);
        return RestrictedBoltzmannMachine.Download(mean);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> full Gibbs sweeps of a DBM from <paramref name="starts"/> (the hidden layers sampled from one
    /// mean-field sweep on the starts), each chain's label clamped when <paramref name="labels"/> is given, and returns
    /// <c>p(v | h1)</c> of the final state.
    /// </summary>
    public static float[] SampleDbm(Shinso.Models.DeepBoltzmann.DeepBoltzmannMachine dbm, float[] starts, int chains, int steps, RandomStream stream, int[]? labels = null)
    {
        var clock = Stopwatch.StartNew();
        long started = Stopwatch.GetTimestamp();
        return Shinso.Models.DeepBoltzmann.DbmSampling.Sample(dbm, starts, chains, steps, stream, labels, done =>
        {
            if (steps >= 100 && done % Math.Max(1, steps / 10) == 0)
                CommonOptions.Err.MarkupLine(Markup.Escape($"gibbs: {done}/{steps} sweeps ({clock.Elapsed.TotalSeconds:F1} s)"));
            WorkProgress.Report("Gibbs sweeps", done, steps, started);
        });
    }

    /// <summary><paramref name="perLabel"/> generated images for each label in turn, label 0 first.</summary>
    public static float[] GenerateDbn(DeepBeliefNet dbn, int perLabel, int steps, RandomStream stream)
    {
        var all = new float[perLabel * dbn.LabelCount * dbn.VisibleCount];
        var clock = Stopwatch.StartNew();
        long started = Stopwatch.GetTimestamp();
        for (int label = 0; label < dbn.LabelCount; label++)
        {
            var images = dbn.Generate(label, perLabel, steps, stream.Derive("label", label));
            images.CopyTo(all.AsSpan(label * perLabel * dbn.VisibleCount));
            CommonOptions.Err.MarkupLine(Markup.Escape($"generate: label {label + 1}/{dbn.LabelCount} ({clock.Elapsed.TotalSeconds:F1} s)"));
            WorkProgress.Report("generating per label", label + 1, dbn.LabelCount, started);
        }
        return all;
    }

    /// <summary>
    /// The quality of <paramref name="perLabel"/> generated images per label (label 0 first), read by <paramref name="classifier"/> when
    /// given; prints one line.
    /// </summary>
    internal static SampleQualityReport MeasureLabelledSamples(float[] images, int perLabel, int labels, Shinso.Models.FeedForward.FeedForwardNet? classifier, string? classifierName)
    {
        var targets = new int[perLabel * labels];
        for (int i = 0; i < targets.Length; i++) targets[i] = i / perLabel;
        var report = SampleQuality.Measure(images, targets, classifier);
        string agreement = report.LabelAgreement is { } a ? $", {a:P0} read as their label by {classifierName}" : " (no classifier to read them)";
        CommonOptions.Err.MarkupLine(Markup.Escape($"samples: {report.BlankFraction:P0} of {report.Count} blank (mean intensity < {SampleQuality.BlankIntensity}){agreement}"));
        return report;
    }

    /// <summary>The <c>--classifier</c> net that reads generated images of <paramref name="pixels"/> pixels into <paramref name="labels"/>
    /// classes, or null when no path is given.</summary>
    /// <exception cref="UsageException">The file is missing or the net's shape does not fit the <paramref name="model"/>'s images.</exception>
    internal static Shinso.Models.FeedForward.FeedForwardNet? LoadClassifier(string? path, Shinso.Backends.IBackend backend, int pixels, int labels, string model)
    {
        if (path is null) return null;
        if (!File.Exists(path)) throw new UsageException($"--classifier: {path}: no such model file.");
        var classifier = Shinso.Models.FeedForward.FeedForwardModelFile.Load(path, backend);
        if (classifier.Spec.InputLength != pixels || classifier.Spec.OutputLength != labels)
            throw new UsageException($"--classifier: {path} maps {classifier.Spec.InputLength} inputs to {classifier.Spec.OutputLength} outputs; " +
                                     $"the {model}'s images have {pixels} pixels and {labels} labels.");
        return classifier;
    }

    /// <summary>The JSON entries of a sample-quality report.</summary>
    internal static System.Text.Json.Nodes.JsonObject ToJson(SampleQualityReport report, string? classifier) => new()
    {
        ["samples"] = report.Count, ["blank_fraction"] = report.BlankFraction, ["label_agreement"] = report.LabelAgreement, ["classifier"] = classifier,
    };

    internal static float[] RandomBits(int n, ulong seed)
    {
        var u = new float[n];
        Shinso.Kernels.Cpu.RandomKernels.Uniform(RandomStream.Root(seed).Derive("start-bits"), 0, u);
        for (int i = 0; i < n; i++) u[i] = u[i] < 0.5f ? 1f : 0f;
        return u;
    }

    internal static float[] DataStarts(string? dataOption, string? testDataOption, int n, int visible)
    {
        var test = CommonOptions.LoadData(dataOption, testDataOption).Test;
        if (test.FeatureCount != visible) throw new UsageException($"The data has {test.FeatureCount} features per image but the model has {visible} visible units.");
        if (test.Count < n) throw new UsageException($"--count {n} chains need {n} test images; the data has {test.Count}.");
        return test.Binarize().Features.AsSpan(0, n * visible).ToArray();
    }

    /// <summary>The first <paramref name="count"/> columns of a [rows, columns] weight matrix, one row each.</summary>
    internal static float[] Transposed(Shinso.Tensors.Tensor weights, int rows, int columns, int count)
    {
        count = Math.Min(count, columns);
        var w = RestrictedBoltzmannMachine.Download(weights);
        var t = new float[count * rows];
        for (int j = 0; j < count; j++)
            for (int i = 0; i < rows; i++) t[j * rows + i] = w[i * columns + j];
        return t;
    }

    internal static void Write(string path, float[] images, int count, int visible, int columns, bool normalizeEach)
    {
        int side = (int)Math.Round(Math.Sqrt(visible));
        var (h, w) = side * side == visible ? (side, side) : (1, visible);
        PngImage.WriteGrid(path, images, count, h, w, columns, normalizeEach);
        CommonOptions.Err.MarkupLine(Markup.Escape($"wrote {path}: {count} images of {h}x{w}"));
    }
}
