using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Profiling;
using Shinso.Random;
using Shinso.Models.Autoencoders;
using Shinso.Training;
using Shinso.Cli.ModelKinds;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso bench</c>: kernel and training benchmarks that print one JSON line each.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks (GFLOP/s, samples/s) for comparison with the peers in ../shared/peers");
        command.Subcommands.Add(BenchGemmCommand.Create());
        command.Subcommands.Add(BenchRbmCommand.Create());
        command.Subcommands.Add(BenchDbmCommand.Create());
        command.Subcommands.Add(BenchSparseCodingCommand.Create());
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateInfer());
        command.Options.Add(ProfilingSession.Profile);
        command.Options.Add(ProfilingSession.Trace);
        return command;
    }

    /// <summary>
    /// <c>shinso bench infer</c>: latency of one prediction call as a user makes it (host input uploaded, forward pass
    /// with the output nonlinearity, predictions downloaded), timed like ../shared/peers/ort_bench.cjs: warm-up, then
    /// samples of at least --min-time seconds, best and median milliseconds per batch.
    /// </summary>
    private static Command CreateInfer()
    {
        var model = new Option<string>("--model")
        {
            Description = $"A preset ({string.Join(", ", BenchPresetNames)}) or a saved feed-forward model file (e.g. runs/lenet5/model.shinso)", Required = true,
        };
        var batch = new Option<int>("--batch") { Description = "Images per prediction call", DefaultValueFactory = _ => 1 };
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var repeat = new Option<int>("--repeat") { Description = "Timed samples", DefaultValueFactory = _ => 7 };
        var minTime = new Option<double>("--min-time") { Description = "Seconds per timed sample", DefaultValueFactory = _ => 0.2 };
        var json = CommonOptions.Json();
        var command = new Command("infer", "Inference latency (upload, forward, download) of a preset's net, ms per batch");
        foreach (var o in new Option[] { model, batch, threads, path, repeat, minTime, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string name = r.GetValue(model)!;
            // A saved net is timed with its own weights; a preset's with the seed-1 initial ones (the cost is the same).
            bool file = File.Exists(name) && !Presets.Names.Contains(name);
            var config = file ? null : Preset(name, BenchPresetNames);
            int b = r.GetValue(batch);
            if (b < 1) throw new UsageException($"--batch must be >= 1, got {b}.");
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var net = config is null ? FeedForwardKind.LoadSavedNet(name, backend, "--model", "bench infer times feed-forward nets")
                : new FeedForwardNet(backend, config.Architecture, 1);
            int inputs = net.Spec.InputLength, outputs = net.Spec.OutputLength;
            var host = new float[b * inputs];
            var random = new System.Random(7);
            for (int i = 0; i < host.Length; i++) host[i] = random.NextSingle();
            var predictions = new float[b * outputs];
            var x = backend.Allocate(b, inputs);
            void Predict()
            {
                backend.Upload(host, x);
                backend.Download(net.Predict(x), predictions);
            }
            var (best, median) = BenchTiming.Measure(Predict, () => { }, r.GetValue(repeat), r.GetValue(minTime));
            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["benchmark"] = "infer", ["model"] = name, ["batch"] = b,
                    ["ms_per_batch_best"] = Math.Round(best * 1e3, 4), ["ms_per_batch_median"] = Math.Round(median * 1e3, 4),
                    ["samples_per_second_best"] = Math.Round(b / best, 1),
                }.WithBackend(backend).ToJsonString());
            }
            else
            {
                Console.WriteLine($"infer {name} batch {b}, {CommonOptions.Describe(backend)}: " +
                                  $"{best * 1e3:F4} ms/batch best, {median * 1e3:F4} median ({b / best:N0} samples/s)");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The presets the benchmarks take: the feed-forward ones and the autoencoders' nets on 784 inputs (Fashion-MNIST's).</summary>
    private static IEnumerable<string> BenchPresetNames => Presets.Names.Concat(AutoencoderPresets.Names.Where(n => n != "stacked-autoencoder"));

    private static TrainingConfig Preset(string name, IEnumerable<string> accepted) =>
        Presets.Find(name) ?? (name != "stacked-autoencoder" ? AutoencoderPresets.Find(name, 784)?.Config : null)
        ?? throw new UsageException($"--model: unknown preset '{name}'; expected one of {string.Join(", ", accepted)}.");

    /// <summary>
    /// <c>shinso bench train</c>: samples/s of a feed-forward preset's training step on random data, or, for a convolutional RBM
    /// preset, seconds per CD-1 epoch over the training images (<see cref="BenchConvolutionalRbm"/>).
    /// </summary>
    private static Command CreateTrain()
    {
        var names = BenchPresetNames.Concat(BenchConvolutionalRbm.Names).ToList();
        var model = new Option<string>("--model") { Description = $"A preset: {string.Join(", ", names)}", Required = true };
        var batch = new Option<int?>("--batch") { Description = "Minibatch size (default 100; conv-rbm: its preset's, 50)" };
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var repeat = new Option<int?>("--repeat") { Description = "Timed samples (default 5; conv-rbm: timed epochs after a warm-up one, default 2)" };
        var minTime = new Option<double>("--min-time") { Description = "Seconds per timed sample (feed-forward presets)", DefaultValueFactory = _ => 1.0 };
        var json = CommonOptions.Json();
        var optimizerName = new Option<string?>("--optimizer") { Description = "Time this update rule instead of the preset's (a peer's, e.g. momentum for PyTorch's SGD with momentum)" };
        var data = CommonOptions.Data();
        data.Description = "conv-rbm: the training images (default: Fashion-MNIST from the Debian package, else the embedded subset); feed-forward presets train on random data";
        var limit = new Option<int?>("--limit") { Description = "conv-rbm: use only the first N training images" };
        var command = new Command("train", "Training throughput: samples/s of a feed-forward step on random data, or seconds per CD-1 epoch of conv-rbm on the training images");
        foreach (var o in new Option[] { model, batch, threads, path, repeat, minTime, optimizerName, data, limit, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string name = r.GetValue(model)!;
            if (BenchConvolutionalRbm.Names.Contains(name))
            {
                if (r.GetValue(optimizerName) is not null) throw new UsageException("--optimizer: conv-rbm trains with its preset's momentum schedule; the option applies to feed-forward presets.");
                int epochs = r.GetValue(repeat) ?? 2;
                if (epochs < 1) throw new UsageException($"--repeat must be >= 1, got {epochs}.");
                if (r.GetValue(limit) is int l && l < 1) throw new UsageException($"--limit must be >= 1, got {l}.");
                var loaded = CommonOptions.LoadData(r.GetValue(data), null);
                using var rbmBackend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
                BenchConvolutionalRbm.Run(rbmBackend, name, loaded, r.GetValue(limit), r.GetValue(batch), epochs, r.GetValue(json));
                return 0;
            }
            if (r.GetValue(data) is not null || r.GetValue(limit) is not null)
                throw new UsageException($"--data and --limit apply to {string.Join(", ", BenchConvolutionalRbm.Names)}; feed-forward presets train on random data.");
            int samples = r.GetValue(repeat) ?? 5;
            if (samples < 1) throw new UsageException($"--repeat must be >= 1, got {samples}.");
            var config = Preset(name, names);
            int b = r.GetValue(batch) ?? 100;
            if (b < 1) throw new UsageException($"--batch must be >= 1, got {b}.");
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var net = new FeedForwardNet(backend, config.Architecture, 1);
            if (r.GetValue(optimizerName) is { } rule)
            {
                try { config = config with { Optimizer = OptimizerConfig.Defaults(rule) }; }
                catch (ArgumentException e) { throw new UsageException("--optimizer: " + e.Message); }
            }
            var optimizer = config.CreateOptimizer();
            int inputs = config.Architecture.InputLength, outputs = config.Architecture.OutputLength;
            var x = backend.Allocate(b, inputs);
            var benchStreams = RandomStream.Root(1);
            backend.SampleUniform(benchStreams.Derive("bench-inputs"), 0, x);
            // An autoencoder's targets are its inputs; a classifier's one class per row.
            var t = x;
            if (config.Architecture.CodeIndex < 0)
            {
                t = backend.Allocate(b, outputs);
                var oneHot = new float[b * outputs];
                for (int i = 0; i < b; i++) oneHot[i * outputs + i % outputs] = 1f;
                backend.Upload(oneHot, t);
            }
            var random = benchStreams.Derive("stochastic-layers");
            long step = 0;
            void Step()
            {
                using var span = Profiler.Step();
                net.Forward(x, new ForwardContext(true, random, step++));
                net.ComputeLoss(t, out _);
                net.Backward();
                optimizer.Step(net.Parameters, 0);
            }
            var (bestSeconds, medianSeconds) = BenchTiming.Measure(Step, () => { }, samples, r.GetValue(minTime));
            double best = b / bestSeconds, median = b / medianSeconds;
            // The bound's samples are no longer than the step's own, and at most 50 ms (bench gemm's default is 100 ms):
            // a net makes a few dozen distinct calls, and the bound should not take longer than the timing it frames.
            // A profile covers the net's own steps, not the GEMMs the bound times alone.
            BenchGemmBound? bound;
            string? noBound;
            using (Profiler.Suspend()) bound = BenchGemmBound.Measure(Step, samples, Math.Min(r.GetValue(minTime), 0.05), out noBound);
            if (r.GetValue(json))
            {
                var result = new JsonObject
                {
                    ["benchmark"] = "train", ["model"] = name, ["batch"] = b, ["optimizer"] = config.Optimizer.Name,
                    ["samples_per_second_best"] = Math.Round(best, 1), ["samples_per_second_median"] = Math.Round(median, 1),
                };
                if (bound is not null)
                {
                    result["gemm_calls_per_step"] = bound.Calls;
                    result["gemm_bound_samples_per_second_best"] = Math.Round(b / bound.SecondsBest, 1);
                    result["gemm_bound_samples_per_second_median"] = Math.Round(b / bound.SecondsMedian, 1);
                    result["gemm_bound_fraction_best"] = Math.Round(bound.SecondsBest / bestSeconds, 4);
                    result["gemm_bound_fraction_median"] = Math.Round(bound.SecondsMedian / medianSeconds, 4);
                }
                else result["gemm_bound"] = "not measured: " + noBound;
                Console.WriteLine(result.WithBackend(backend).ToJsonString());
            }
            else
            {
                Console.WriteLine($"train {name} batch {b}, {CommonOptions.Describe(backend)}: " +
                                  $"{best:N0} samples/s best, {median:N0} median");
                Console.WriteLine(bound is null
                    ? $"GEMM bound not measured: {noBound}."
                    : $"GEMM bound ({bound.Calls} GEMM calls per step, each timed alone): {b / bound.SecondsBest:N0} samples/s best, " +
                      $"{b / bound.SecondsMedian:N0} median; reached {bound.SecondsBest / bestSeconds:P0} best, {bound.SecondsMedian / medianSeconds:P0} median");
            }
            return 0;
        });
        return command;
    }
}

