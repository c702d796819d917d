using Spectre.Console;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.Cli.ModelKinds;
using Shinso.IO;
using Shinso.Models.Autoencoders;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso train PRESET|CONFIG.json</c>: trains a model of any registered family on any data set <c>--data</c> names.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("preset-or-config") { Description = $"A preset ({string.Join(", ", AllPresetNames)}) or a config JSON file" };
        var data = CommonOptions.Data();
        var testData = CommonOptions.TestData();
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to train (total, counting resumed ones; DBN presets: the backprop phase)" };
        var batch = new Option<int?>("--batch") { Description = "Minibatch size (1 = online, 0 = full batch; DBN presets: the backprop phase only)" };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop, adadelta or adam" };
        var lr = new Option<float?>("--lr") { Description = "Learning rate (DBN presets: the backprop phase only; RBM presets: CD)" };
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var output = new Option<string?>("--out") { Description = "Run folder for checkpoints and the final model (default runs/NAME)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this folder" };
        var json = CommonOptions.Json();
        var pretrainEpochs = new Option<int?>("--pretrain-epochs") { Description = "DBN presets: greedy CD epochs per layer (and for the top RBM)" };
        var upDownEpochs = new Option<int?>("--updown-epochs") { Description = "DBN presets: up-down fine-tuning epochs" };
        var fineTuneEpochs = new Option<int?>("--finetune-epochs")
        {
            Description = "DBM presets: backprop epochs of the unrolled net; sparse-coding presets: epochs of the classifiers on codes and pixels (0 skips them); " +
                          "tiled-cnn: epochs of its classifier; conv-rbm and cdbn: backprop epochs of the stack as a convolutional net (0 skips it)",
        };
        var labels = new Option<bool>("--labels")
        {
            Description = "DBM presets: attach softmax label units (one per class) to the top layer and train on (image, label) pairs; the machine then classifies " +
                          "by its mean-field q(y | v) and samples with a label clamped",
        };
        var aisRuns = new Option<int?>("--ais-runs") { Description = "RBM and DBM presets: AIS runs for the log-likelihood (RBM) or log Z (DBM) estimate (default 100)" };
        var target = CommonOptions.Target();
        var code = new Option<int?>("--code") { Description = "Autoencoder presets: units of the code (e.g. 2 for a picture of the codes); sparse-coding presets: atoms" };
        var tile = new Option<int?>("--tile") { Description = "tiled-cnn: k, the period of the tiled layer's weight tying (1 is a convolution; default 2)" };
        var pretrainer = new Option<string?>("--pretrainer") { Description = "deep-autoencoder and stacked-autoencoder: pretrain each layer as an rbm or an autoencoder" };
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "Feed-forward presets and configs: start from an ONNX file's layer chain and weights (e.g. a net PyTorch trained; its architecture replaces the preset's), " +
                          "or from a saved .shinso net's first --copy-layers weight layers (the preset's or config's architecture is kept, its other layers freshly initialised)",
        };
        var copyLayers = new Option<int?>("--copy-layers")
        {
            Description = "With --init-from MODEL.shinso: how many weight layers (conv, dense; counted from the input, as Yosinski et al.'s n) to copy; default all",
        };
        var gradientNorms = new Option<string?>("--gradient-norms")
        {
            Description = "Feed-forward presets and configs: write every update's gradient norm, per parameter and in all, to this CSV file (for diagnosing a run; a resumed run appends)",
        };
        var augment = new Option<string?>("--augment")
        {
            Description = "Feed-forward presets and configs: distort each training minibatch, e.g. shift:2,flip,elastic:34:4 (shift:K, crop:P, flip, elastic:ALPHA[:SIGMA]; replaces the config's)",
        };
        var teacher = new Option<string[]>("--teacher")
        {
            Description = "Feed-forward presets and configs: distil from this saved classifier (model compression); repeat it for an ensemble, whose logits are averaged",
        };
        var distill = new Option<string?>("--distill")
        {
            Description = "With --teacher: match the teachers' logits (logits: squared error, Ba & Caruana) or their probabilities softened at temperature T (soft:T, Hinton et al.); default logits",
        };
        var labelWeight = new Option<float?>("--label-weight")
        {
            Description = "With --teacher: the labels' share of the objective, in [0, 1] (default 0: the teachers' outputs alone)",
        };
        var validation = new Option<double?>("--validation")
        {
            Description = "Feed-forward presets and configs, RBM and DBN presets: hold out this fraction of the training rows (e.g. 0.1) and report the validation accuracy and loss (an RBM's reconstruction error; a DBN's in every phase) each epoch; the rows follow --seed (replaces a config's)",
        };
        var freeze = new Option<bool>("--freeze") { Description = "With --init-from MODEL.shinso: keep the copied layers fixed (only the layers above train)" };
        var copiedLr = new Option<float?>("--copied-lr")
        {
            Description = "With --init-from MODEL.shinso: the copied layers' learning rate as a multiple of --lr (e.g. 0.1 to fine-tune them gently)",
        };
        var standardize = new Option<bool?>("--standardize")
        {
            Description = "Standardise each input with the training rows' mean and deviation (true/false; folded into the first dense layer, " +
                          "so the saved model takes raw inputs; default: the preset's or config's setting)",
        };

        var command = new Command("train", "Train a feed-forward net (a preset or a JSON config), an RBM, a deep belief net or a perceptron on any --data set, " +
                                           "or fit a regression to a CSV table's --target column");
        command.Arguments.Add(what);
        foreach (var o in new Option[] { data, testData, target, standardize, initFrom, copyLayers, freeze, copiedLr, augment, teacher, distill, labelWeight, validation, gradientNorms, epochs, batch, optimizer, lr, seed, threads, path, output, resume, json, pretrainEpochs, upDownEpochs, fineTuneEpochs, labels, aisRuns, code, pretrainer, tile })
            command.Options.Add(o);
        command.Options.Add(ProfilingSession.Profile);
        command.Options.Add(ProfilingSession.Trace);
        command.SetAction(r =>
        {
            string source = r.GetValue(what)!;
            // A preset names its family; a config file describes a feed-forward net.
            var kind = ModelKindRegistry.ForPreset(source) ?? (File.Exists(source) ? ModelKindRegistry.All.OfType<FeedForwardKind>().Single() : null)
                ?? throw new UsageException($"'{source}' is neither a preset ({string.Join(", ", AllPresetNames)}) nor an existing config file.");
            if ((r.GetValue(target) is not null || r.GetValue(standardize) is not null) && kind is not FeedForwardKind)
                throw new UsageException($"--target and --standardize apply to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), not to {source}.");
            if (r.GetValue(initFrom) is not null && kind is not FeedForwardKind)
                throw new UsageException($"--init-from applies to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), not to {source}.");
            if ((r.GetValue(copyLayers) is not null || r.GetValue(freeze) || r.GetValue(copiedLr) is not null) && r.GetValue(initFrom) is null)
                throw new UsageException("--copy-layers, --freeze and --copied-lr say what to take from the net --init-from names; give it.");
            if (r.GetValue(gradientNorms) is not null && kind is not FeedForwardKind)
                throw new UsageException($"--gradient-norms applies to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), not to {source}.");
            if (r.GetValue(augment) is not null && kind is not FeedForwardKind)
                throw new UsageException($"--augment applies to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), not to {source}.");
            bool distilling = r.GetValue(teacher) is { Length: > 0 } || r.GetValue(distill) is not null || r.GetValue(labelWeight) is not null;
            if (distilling && kind is not FeedForwardKind)
                throw new UsageException($"--teacher, --distill and --label-weight apply to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), not to {source}.");
            if (r.GetValue(validation) is not null && kind is not (FeedForwardKind or RbmKind or DbnKind))
                throw new UsageException($"--validation applies to feed-forward nets (a config file or {string.Join(", ", ModelKindRegistry.All.OfType<FeedForwardKind>().Single().Presets)}), " +
                                         $"the RBM presets ({string.Join(", ", ModelKindRegistry.All.OfType<RbmKind>().Single().Presets)}) " +
                                         $"and the DBN presets ({string.Join(", ", ModelKindRegistry.All.OfType<DbnKind>().Single().Presets)}), not to {source}.");
            if (r.GetValue(tile) is not null && kind is not TiledCnnKind)
                throw new UsageException($"--tile applies to {string.Join(", ", Shinso.Models.TiledNetworks.TiledCnnPresets.Names)}, not to {source}.");
            if (r.GetValue(fineTuneEpochs) is not null && kind is not (DbmKind or SparseCodingKind or TiledCnnKind or ConvolutionalDbnKind))
                throw new UsageException($"--finetune-epochs applies to the DBM presets ({string.Join(", ", Shinso.Models.DeepBoltzmann.DbmPresets.Names)}) " +
                                         $"the sparse-coding presets ({string.Join(", ", Shinso.Models.SparseCoding.SparseCodingPresets.Names)}) , tiled-cnn, conv-rbm and cdbn, not to {source}.");
            if (r.GetValue(labels) && kind is not DbmKind)
                throw new UsageException($"--labels applies to the DBM presets ({string.Join(", ", Shinso.Models.DeepBoltzmann.DbmPresets.Names)}), not to {source}.");
            if (r.GetValue(pretrainer) is not null && kind is not AutoencoderKind)
                throw new UsageException($"--pretrainer applies to deep-autoencoder and stacked-autoencoder, not to {source}.");
            if (r.GetValue(code) is not null && kind is not (AutoencoderKind or FeedForwardKind or SparseCodingKind))
                throw new UsageException($"--code applies to the autoencoder presets ({string.Join(", ", AutoencoderPresets.Names)}) and, as the number of atoms, " +
                                         $"to the sparse-coding presets, not to {source}.");
            try
            {
                return kind.Train(new TrainArguments(r, source, r.GetValue(data), r.GetValue(testData), r.GetValue(epochs), r.GetValue(batch), r.GetValue(optimizer),
                r.GetValue(lr), r.GetValue(seed), r.GetValue(threads), r.GetValue(path)!, r.GetValue(output), r.GetValue(resume), r.GetValue(json),
                r.GetValue(pretrainEpochs), r.GetValue(upDownEpochs), r.GetValue(aisRuns), r.GetValue(target), r.GetValue(standardize), r.GetValue(code), r.GetValue(pretrainer), r.GetValue(fineTuneEpochs), r.GetValue(tile), r.GetValue(initFrom))
                {
                    CopyLayers = r.GetValue(copyLayers), Freeze = r.GetValue(freeze), CopiedLearningRate = r.GetValue(copiedLr), Augment = r.GetValue(augment), GradientNorms = r.GetValue(gradientNorms),
                    Teachers = r.GetValue(teacher) ?? [], Distill = r.GetValue(distill), LabelWeight = r.GetValue(labelWeight), Validation = r.GetValue(validation),
                    Labels = r.GetValue(labels),
                });
            }
            catch (Shinso.OpenCL.Native.OpenClException e) when (Shinso.OpenCL.Native.OpenClException.IsDeviceFault(e.Code))
            {
                // The device failed mid-run: say what is on disk and how to go on, on the device or without it. A run is named
                // by its preset, or by its config file's name without the extension.
                string runName = kind is FeedForwardKind && File.Exists(source) ? Path.GetFileNameWithoutExtension(source) : source;
                string directory = r.GetValue(resume) ?? r.GetValue(output) ?? Path.Combine("runs", runName);
                var fault = new Shinso.OpenCL.Native.OpenClDeviceFaultException(e, StoppedRun(source, directory));
                if (r.GetValue(json))
                    Console.WriteLine(new JsonObject { ["model"] = source, ["device_fault"] = true, ["code"] = fault.CodeName, ["run_directory"] = directory, ["message"] = fault.Message }.ToJsonString());
                throw fault;
            }
            catch (TrainingDivergedException e) when (r.GetValue(json))
            {
                // --json promises one object as the last stdout line: a diverged run's says where it diverged.
                Console.WriteLine(new JsonObject
                {
                    ["model"] = source, ["diverged"] = true, ["stage"] = e.Stage, ["epoch"] = e.Epoch, ["step"] = e.Step, ["parameter"] = e.Parameter,
                    ["value"] = e.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), ["message"] = e.Message,
                }.ToJsonString());
                throw;
            }
        });
        return command;
    }

    private static IEnumerable<string> AllPresetNames => ModelKindRegistry.PresetNames;

    /// <summary>
    /// What a run stopped by its device left: its files are each written whole, so its last checkpoint (the epoch it holds,
    /// where the folder has a feed-forward or RBM one) resumes on any backend.
    /// </summary>
    internal static string StoppedRun(string source, string directory)
    {
        string checkpoint = Path.Combine(directory, Checkpoint.FileName);
        if (!Directory.Exists(directory) || Directory.GetFiles(directory, "*.shinso").Length == 0)
            return $"Training stopped before {directory} held a checkpoint; start it again (--backend cpu trains without the device).";
        string epoch = "";
        try
        {
            if (File.Exists(checkpoint) && ModelFile.ReadHeader(checkpoint).Metadata["epochsDone"] is JsonValue done && done.TryGetValue<int>(out int epochs))
                epoch = $" ({Checkpoint.FileName} holds epoch {epochs})";
        }
        catch (Exception e) when (e is ModelFileException or IOException) { epoch = ""; }
        return $"Training stopped; every file in {directory} was written whole{epoch}: `shinso train {source} --resume {directory}` continues from the last " +
               "checkpoint, and with --backend cpu without the device.";
    }


    /// <summary>A preset by name, or a config file (its name without extension names the run).</summary>
    public static (string Name, TrainingConfig Config) LoadConfig(string source)
    {
        if (Presets.Find(source) is { } preset) return (source, preset);
        if (!File.Exists(source))
            throw new UsageException($"'{source}' is neither a preset ({string.Join(", ", AllPresetNames)}) nor an existing config file.");
        JsonNode? node;
        try
        {
            // A key given twice is refused here, as model headers refuse it (objects are otherwise built on first access, where it would throw).
            node = JsonNode.Parse(File.ReadAllText(source),
                documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON ({e.Message}).");
        }
        return (System.IO.Path.GetFileNameWithoutExtension(source), TrainingConfig.FromJson(node, source));
    }
}
