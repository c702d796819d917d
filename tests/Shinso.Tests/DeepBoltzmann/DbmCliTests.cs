using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Tests.Cli;

namespace Shinso.Tests.DeepBoltzmann;

/// <summary>The DBM presets through the real shinso executable: train, resume, eval, sample, complete.</summary>
public sealed class DbmCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-dbm-cli-{Guid.NewGuid():N}");

    public DbmCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject LastJsonLine(string stdout) =>
        (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    private static string[] Train(string run, params string[] more) =>
        ["train", "dbm-2layer", "--pretrain-epochs", "1", "--ais-runs", "2", "--data", TestData.EmbeddedSubset, "--out", run, "--json", "--threads", "1", .. more];

    [Fact]
    public void Dbm_preset_trains_resumes_exactly_and_reports_its_bound_samples_and_completions()
    {
        string whole = Path.Combine(_dir, "whole"), cut = Path.Combine(_dir, "cut");
        var (code, stdout, stderr) = CliTests.Shinso(Train(whole, "--epochs", "2", "--finetune-epochs", "2"));
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        double bound = (double)result["test_log_probability_bound"]!, logZ = (double)result["log_z"]!;
        Assert.True(bound < 0 && bound > -784 * Math.Log(2), $"bound {bound} nats");
        Assert.True(logZ > 0 && double.IsFinite(logZ));
        Assert.Equal(2, (int)result["epochs"]!);
        // Fine-tuned on the pixels and the machine's q(h2): a classifier well above chance after two epochs.
        double accuracy = (double)result["accuracy"]!;
        Assert.True(accuracy > 0.6, $"fine-tuned accuracy {accuracy}");
        Assert.True(File.Exists(Path.Combine(whole, "classifier.shinso")));
        // The record: joint training and fine-tuning epoch by epoch, and the fine-tuned net's confusion matrix, whose
        // diagonal over the 2,000 test images is the accuracy printed.
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "run.json")))!;
        Assert.Equal(["pretraining stage 0", "pretraining stage 1", "joint", "fine-tuning"], record["phases"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Equal([1, 1, 2, 2], record["phases"]!.AsArray().Select(p => p!["epochs"]!.AsArray().Count));
        var counts = record["confusion"]!["counts"]!.AsArray().Select(c => (int)c!).ToArray();
        Assert.Equal(2000, counts.Sum());
        Assert.Equal(accuracy, Enumerable.Range(0, 10).Sum(i => counts[i * 10 + i]) / 2000.0, 9);
        Assert.Contains("fine-tuning: epoch   2/2", stderr);
        Assert.Contains("pretraining stage 1 epoch", stderr);
        Assert.Contains("joint epoch   2/2", stderr);

        (code, _, stderr) = CliTests.Shinso(Train(cut, "--epochs", "1", "--finetune-epochs", "0"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliTests.Shinso(["train", "dbm-2layer", "--resume", cut, "--epochs", "2", "--ais-runs", "2", "--finetune-epochs", "0",
            "--data", TestData.EmbeddedSubset, "--threads", "1"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming dbm-2layer after joint epoch 1; epochs 1 -> 2", stderr);
        var a = ModelFile.Read(Path.Combine(whole, "model.shinso"));
        var b = ModelFile.Read(Path.Combine(cut, "model.shinso"));
        foreach (var t in a.Tensors)
            Assert.True(t.Data.AsSpan().SequenceEqual(b.Tensors.Single(u => u.Name == t.Name).Data), $"{t.Name} differs after resuming");
        // The resumed run's record still holds the pretraining its first invocation did, as the checkpoint kept it.
        var resumedPhases = JsonNode.Parse(File.ReadAllText(Path.Combine(cut, "run.json")))!["phases"]!.AsArray();
        Assert.Equal(["pretraining stage 0: 1", "pretraining stage 1: 1", "joint: 2"],
            resumedPhases.Select(p => $"{(string)p!["name"]!}: {p["epochs"]!.AsArray().Count}"));

        // Another family's run is refused by name.
        (code, _, stderr) = CliTests.Shinso(["train", "dbm-3layer", "--resume", cut, "--data", TestData.EmbeddedSubset, "--threads", "1"]);
        Assert.NotEqual(0, code);
        Assert.Contains("was trained with layers [784,500,1000]", stderr);

        string model = Path.Combine(whole, "model.shinso"), png = Path.Combine(_dir, "samples.png");
        (code, stdout, stderr) = CliTests.Shinso("sample", model, "--out", png, "--count", "16", "--steps", "20", "--json");
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(png).Length > 100);
        Assert.Equal(16, (int)LastJsonLine(stdout)["samples"]!);
        Assert.True((double)LastJsonLine(stdout)["blank_fraction"]! < 1, "every sample is blank");
        (code, stdout, stderr) = CliTests.Shinso("sample", model, "--out", png, "--count", "4", "--steps", "0", "--json");
        Assert.True(code == 0, stderr);
        Assert.True((double)LastJsonLine(stdout)["blank_fraction"]! < 1, "with no sweep the samples are the start's reconstructions, not blank");

        (code, stdout, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--mask", "right", "--images", "50",
            "--method", "gibbs,mean-field", "--steps", "20", "--json", "--out", Path.Combine(_dir, "completions.png"));
        Assert.True(code == 0, stderr);
        var completion = LastJsonLine(stdout);
        foreach (var row in completion["methods"]!.AsArray())
        {
            double error = (double)row!["squared_error"]!;
            Assert.True(error > 0 && error < 1, $"{row["method"]}: squared error {error}");
        }
        (code, _, stderr) = CliTests.Shinso("complete", model, "--data", TestData.EmbeddedSubset, "--mask", "right", "--method", "marginalized-mean-field");
        Assert.NotEqual(0, code);
        Assert.Contains("methods that apply: gibbs, mean-field", stderr);
    }

    [Fact]
    public void Dbm_preset_with_label_units_classifies_by_itself_and_draws_label_clamped_samples_a_classifier_reads()
    {
        string run = Path.Combine(_dir, "labelled"), cut = Path.Combine(_dir, "labelled-cut");
        var (code, stdout, stderr) = CliTests.Shinso(Train(run, "--labels", "--epochs", "2", "--finetune-epochs", "0"));
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Contains("DBM 784-500-1000 + 10 labels", stderr);

        // Cut after one joint epoch and resumed: the label units, their weights and the chains' label group come back exactly.
        (code, _, stderr) = CliTests.Shinso(Train(cut, "--labels", "--epochs", "1", "--finetune-epochs", "0"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliTests.Shinso(["train", "dbm-2layer", "--resume", cut, "--epochs", "2", "--ais-runs", "2", "--finetune-epochs", "0",
            "--data", TestData.EmbeddedSubset, "--threads", "1"]);
        Assert.True(code == 0, stderr);
        var whole = ModelFile.Read(Path.Combine(run, "model.shinso"));
        var resumed = ModelFile.Read(Path.Combine(cut, "model.shinso"));
        Assert.Contains(whole.Tensors, t => t.Name == "label-weights");
        foreach (var t in whole.Tensors)
            Assert.True(t.Data.AsSpan().SequenceEqual(resumed.Tensors.Single(u => u.Name == t.Name).Data), $"{t.Name} differs after resuming");
        Assert.Equal(10, (int)result["label_units"]!);
        double labelAccuracy = (double)result["label_accuracy"]!;
        Assert.True(labelAccuracy > 0.3, $"q(y | v) classifies {labelAccuracy} of the test images");
        Assert.True(double.IsFinite((double)result["test_log_probability_bound"]!));

        string classifier = Path.Combine(_dir, "logistic");
        (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", classifier, "--threads", "1");
        Assert.True(code == 0, stderr);
        string model = Path.Combine(run, "model.shinso"), png = Path.Combine(_dir, "labelled-samples.png");
        (code, stdout, stderr) = CliTests.Shinso("sample", model, "--out", png, "--count", "3", "--steps", "10", "--classifier", Path.Combine(classifier, "model.shinso"), "--json");
        Assert.True(code == 0, stderr);
        var quality = LastJsonLine(stdout);
        Assert.Equal(30, (int)quality["samples"]!);
        Assert.NotNull(quality["label_agreement"]);
        Assert.Contains("read as their label by", stderr);

        (code, _, stderr) = CliTests.Shinso(["train", "dbm-2layer", "--resume", run, "--labels", "--data", TestData.EmbeddedSubset, "--threads", "1"]);
        Assert.NotEqual(0, code);
        Assert.Contains("label units", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--labels", "--data", TestData.EmbeddedSubset);
        Assert.NotEqual(0, code);
        Assert.Contains("--labels applies to the DBM presets", stderr);
    }
}
