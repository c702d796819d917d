using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Tests.Data;

namespace Shinso.Tests.Cli;

/// <summary>The CLI on every data format, resume flags that apply or are refused, and actions a model kind lacks.</summary>
public sealed class DataAndKindCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int, string, string) Shinso(params string[] args) => CliTests.Shinso(args);

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    /// <summary>The first training and test images of the embedded subset as an .npz of uint8 and as two CSV files of bytes.</summary>
    private (string Npz, string TrainCsv, string TestCsv) SubsetAsNpzAndCsv(int trainCount, int testCount)
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, trainCount, testCount);
        static byte[] Pixels(Dataset d) => [.. d.Features.Select(v => (byte)MathF.Round(v * 255f))];
        static long[] Labels(Dataset d) => [.. d.Labels.Select(l => (long)l)];
        string npz = _dir.File("subset.npz");
        NumpyFiles.Archive(npz,
            ("x_train", NumpyFiles.Array("|u1", [train.Count, 28, 28], Pixels(train))), ("y_train", NumpyFiles.Array("<i8", [train.Count], NumpyFiles.Int64s(Labels(train)))),
            ("x_test", NumpyFiles.Array("|u1", [test.Count, 28, 28], Pixels(test))), ("y_test", NumpyFiles.Array("<i8", [test.Count], NumpyFiles.Int64s(Labels(test)))));
        string Csv(Dataset d, string name)
        {
            string path = _dir.File(name);
            var pixels = Pixels(d);
            using var writer = new StreamWriter(path);
            writer.WriteLine("label," + string.Join(",", Enumerable.Range(0, 784).Select(i => $"pixel{i}")));
            for (int s = 0; s < d.Count; s++) writer.WriteLine(d.Labels[s] + "," + string.Join(",", pixels.Skip(s * 784).Take(784)));
            return path;
        }
        return (npz, Csv(train, "train.csv"), Csv(test, "test.csv"));
    }

    [Fact]
    public void The_same_images_as_npz_and_as_csv_train_to_the_same_model_and_the_progress_line_names_the_format()
    {
        var (npz, trainCsv, testCsv) = SubsetAsNpzAndCsv(600, 200);
        var (code, stdout, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", npz, "--out", _dir.File("npz"), "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("NumPy .npz", stderr);
        var fromNpz = LastJsonLine(stdout);
        (code, stdout, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", trainCsv, "--test-data", testCsv, "--out", _dir.File("csv"), "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("data: CSV", stderr);
        var fromCsv = LastJsonLine(stdout);
        Assert.Equal(600, (int)fromNpz["train_samples"]!);
        Assert.Equal(200, (int)fromCsv["test_samples"]!);
        Assert.Equal((double)fromNpz["accuracy"]!, (double)fromCsv["accuracy"]!);
        Assert.Equal((double)fromNpz["loss"]!, (double)fromCsv["loss"]!);

        // eval reads a format other than the one trained on.
        (code, stdout, stderr) = Shinso("eval", _dir.File("npz/model.shinso"), "--data", trainCsv, "--test-data", testCsv, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal((double)fromNpz["accuracy"]!, (double)LastJsonLine(stdout)["accuracy"]!, 6);

        // A CSV without its test split is a one-line usage error.
        (code, _, stderr) = Shinso("train", "linreg", "--data", trainCsv, "--out", _dir.File("x"));
        Assert.Equal(2, code);
        Assert.Contains("--test-data", stderr);
    }

    [Fact]
    public void Cifar_18pct_trains_on_a_cifar10_folder_and_lenet5_refuses_its_shape()
    {
        string cifar = Directory.CreateDirectory(_dir.File("cifar")).FullName;
        var rng = new System.Random(3);
        foreach (var name in Cifar10.TrainFiles.Append(Cifar10.TestFile))
        {
            var bytes = new byte[20 * Cifar10.RecordLength];
            rng.NextBytes(bytes);
            for (int r = 0; r < 20; r++) bytes[r * Cifar10.RecordLength] = (byte)(r % 10);
            File.WriteAllBytes(Path.Combine(cifar, name), bytes);
        }
        var (code, stdout, stderr) = Shinso("train", "cifar-18pct", "--epochs", "1", "--batch", "25", "--data", cifar, "--out", _dir.File("c"), "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("CIFAR-10 binary folder", stderr);
        Assert.Equal(100, (int)LastJsonLine(stdout)["train_samples"]!);

        (code, _, stderr) = Shinso("train", "lenet5", "--epochs", "1", "--data", cifar, "--out", _dir.File("l"));
        Assert.Equal(2, code);
        Assert.Contains("3x32x32", stderr);
        Assert.Contains("784", stderr);
    }

    [Fact]
    public void Resume_applies_batch_and_learning_rate_from_the_next_epoch_and_refuses_a_new_seed_or_optimizer()
    {
        string run = _dir.File("run");
        var (code, _, stderr) = Shinso("train", "linreg", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);

        (code, _, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", TestData.EmbeddedSubset, "--resume", run, "--seed", "9");
        Assert.Equal(2, code);
        Assert.Contains("--seed", stderr);
        Assert.Contains("seed 1", stderr);
        (code, _, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", TestData.EmbeddedSubset, "--resume", run, "--optimizer", "adam");
        Assert.Equal(2, code);
        Assert.Contains("--optimizer", stderr);

        (code, var stdout, stderr) = Shinso("train", "linreg", "--epochs", "2", "--data", TestData.EmbeddedSubset, "--resume", run,
            "--batch", "50", "--lr", "0.005", "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("batch 100 -> 50 from epoch 2 on", stderr);
        Assert.Contains("learning rate 0.01 -> 0.005 from epoch 2 on", stderr);
        var epochTwo = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).First(j => (int?)j["epoch"] == 2);
        Assert.Equal(0.005, (double)epochTwo["learningRate"]!, 6);
        // 10,000 images: 100 steps of 100 in epoch 1, then 200 of 50 in epoch 2.
        var checkpoint = global::Shinso.IO.ModelFile.ReadHeader(Path.Combine(run, "checkpoint.shinso"));
        Assert.Equal(300, (long)checkpoint.Metadata["step"]!);

        // Without --epochs the saved budget holds (2, not the preset's 20); a budget below the epochs done is refused.
        (code, stdout, stderr) = Shinso("train", "linreg", "--data", TestData.EmbeddedSubset, "--resume", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Equal(2, (int)LastJsonLine(stdout)["epochs"]!);
        (code, _, stderr) = Shinso("train", "linreg", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--resume", run);
        Assert.Equal(2, code);
        Assert.Contains("already trained 2 epochs", stderr);
    }

    [Fact]
    public void A_new_learning_rate_under_a_decaying_schedule_says_what_the_next_epoch_runs_at()
    {
        string config = _dir.File("decay.json");
        File.WriteAllText(config, """
            { "architecture": { "input": [784], "loss": "softmax-cross-entropy", "layers": [ { "type": "dense", "units": 10 } ] },
              "optimizer": { "name": "sgd", "lr": 0.1, "schedule": "exponential", "decayFactor": 0.5 },
              "training": { "epochs": 1, "batch": 500 } }
            """);
        string run = _dir.File("decay");
        var (code, _, stderr) = Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = Shinso("train", config, "--epochs", "2", "--lr", "0.2", "--data", TestData.EmbeddedSubset, "--resume", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("learning rate 0.1 -> 0.2 (the exponential schedule's start; epoch 2 runs at 0.1)", stderr);
        var epochTwo = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).First(j => (int?)j["epoch"] == 2);
        Assert.Equal(0.1, (double)epochTwo["learningRate"]!, 6);
    }

    [Fact]
    public void A_resumed_dbn_run_keeps_the_phase_budgets_it_was_started_with()
    {
        var (npz, _, _) = SubsetAsNpzAndCsv(500, 100);
        string run = _dir.File("dbn");
        string[] common = ["--data", npz, "--threads", "1"];
        var (code, _, stderr) = Shinso(["train", "dbn-mnist", "--pretrain-epochs", "1", "--updown-epochs", "0", "--epochs", "1", "--out", run, .. common]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = Shinso(["train", "dbn-mnist", "--resume", run, .. common]);
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming backprop after epoch 1", stderr);
        Assert.DoesNotContain("up-down: epoch", stderr);
        Assert.DoesNotContain("greedy layer", stderr);
        (code, _, stderr) = Shinso(["train", "dbn-mnist", "--resume", run, "--seed", "4", .. common]);
        Assert.Equal(2, code);
        Assert.Contains("started with seed 1", stderr);
    }

    [Fact]
    public void An_action_a_model_kind_lacks_names_the_kind_and_what_it_supports()
    {
        string run = _dir.File("net");
        var (code, _, stderr) = Shinso("train", "linreg", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = Shinso("sample", Path.Combine(run, "model.shinso"), "--out", _dir.File("s.png"));
        Assert.Equal(2, code);
        Assert.Contains("'feedforward' model", stderr);
        Assert.Contains("supports train, eval, export, not sample", stderr);
        (code, _, stderr) = Shinso("export", Path.Combine(run, "model.shinso"), "--onnx", _dir.File("m.onnx"), "--part", "decoder");
        Assert.Equal(2, code);
        Assert.Contains("--part: applies to rbm, autoencoder models only", stderr);
    }

    [Fact]
    public void The_perceptron_preset_trains_evaluates_exports_and_refuses_what_it_lacks()
    {
        string run = _dir.File("perceptron");
        var (code, stdout, stderr) = Shinso("train", "perceptron", "--data", TestData.EmbeddedSubset, "--out", run, "--json");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.InRange((double)result["accuracy"]!, 0.6, 1.0);
        Assert.Equal(1, (int)result["epochs"]!);
        Assert.Contains("epoch   1/1:", stderr);
        string model = Path.Combine(run, "model.shinso");
        (code, stdout, stderr) = Shinso("eval", model, "--data", TestData.EmbeddedSubset, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal((double)result["accuracy"]!, (double)LastJsonLine(stdout)["accuracy"]!, 9);
        (code, _, stderr) = Shinso("export", model, "--onnx", _dir.File("perceptron.onnx"));
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(_dir.File("perceptron.onnx")));
        (code, _, stderr) = Shinso("sample", model, "--out", _dir.File("p.png"));
        Assert.Equal(2, code);
        Assert.Contains("'perceptron' model (Rosenblatt perceptron) supports train, eval, export, not sample", stderr);
        (code, _, stderr) = Shinso("train", "perceptron", "--resume", run);
        Assert.Equal(2, code);
        Assert.Contains("--resume", stderr);
    }

    [Fact]
    public void Validation_holds_out_the_fraction_it_is_given_and_a_resumed_run_keeps_its_rows()
    {
        string run = _dir.File("validated");
        var (code, stdout, stderr) = Shinso("train", "logistic", "--epochs", "1", "--validation", "0.2", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        Assert.Matches(@"epoch +1/1: .*, validation \d+\.\d\d % \(loss", stderr);
        // The embedded subset's 10,000 training images, a fifth held out.
        Assert.Equal(8000, (int)LastJsonLine(stdout)["train_samples"]!);

        (code, _, stderr) = Shinso("train", "logistic", "--resume", run, "--epochs", "2", "--validation", "0.1", "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("--validation: a resumed run keeps the rows it held out", stderr);

        (code, _, stderr) = Shinso("train", "logistic", "--epochs", "1", "--validation", "1", "--data", TestData.EmbeddedSubset, "--out", _dir.File("v"));
        Assert.Equal(2, code);
        Assert.Contains("--validation must be in [0, 1), got 1", stderr);
    }
}
