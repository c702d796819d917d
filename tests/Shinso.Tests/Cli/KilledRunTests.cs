using System.Diagnostics;
using Shinso.IO;
using Xunit.Abstractions;

namespace Shinso.Tests.Cli;

/// <summary>
/// Real <c>shinso train</c> processes killed with SIGKILL at random points, then resumed: every family with resume ends with
/// exactly the parameters of a run that was never interrupted, and after every kill each model or checkpoint file in the
/// run folder is either absent or whole.
/// </summary>
public sealed class KilledRunTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-killed-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static Process Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Shinso.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        // Drain both pipes so that a chatty run never blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Every <c>.shinso</c> file in the folder reads back whole (ModelFile.Read checks lengths and checksums).</summary>
    private static void AssertFilesWhole(string folder, string when)
    {
        if (!Directory.Exists(folder)) return;
        foreach (string file in Directory.GetFiles(folder, "*.shinso"))
        {
            try
            {
                ModelFile.Read(file);
            }
            catch (Exception e)
            {
                Assert.Fail($"{when}: {Path.GetFileName(file)} is damaged: {e.Message}");
            }
        }
    }

    /// <summary>Each family's options, the model files compared, and the file whose presence makes a restart a resume.</summary>
    public static TheoryData<string, string[], string[], string> Families => new()
    {
        { "logistic", ["--epochs", "60"], ["model.shinso"], "checkpoint.shinso" },
        { "rbm", ["--epochs", "5", "--ais-runs", "2"], ["model.shinso"], "checkpoint.shinso" },
        // One epoch a greedy stage keeps the run short; a kill inside a longer stage resuming from greedy-stage.shinso is
        // DbnRunTests' case.
        { "dbn-mnist", ["--pretrain-epochs", "1", "--updown-epochs", "2", "--epochs", "2"], ["dbn.shinso", "model.shinso"], "dbn.shinso" },
        { "autoencoder", ["--epochs", "12"], ["model.shinso"], "checkpoint.shinso" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void A_run_killed_three_times_resumes_to_the_parameters_of_an_uninterrupted_run(string preset, string[] options, string[] models, string resumeFrom) =>
        KillAndResume(preset, [.. options, "--data", TestData.EmbeddedSubset], models, resumeFrom);

    [Fact]
    public void A_dbm_run_killed_three_times_resumes_to_the_parameters_of_an_uninterrupted_run()
    {
        // 784-500-1000 is the preset's shape: 600 images keep each joint epoch short enough for three kills in a run.
        using var data = new Shinso.Tests.Data.TempDirectory();
        string npz = Shinso.Tests.SparseCoding.SparseCodingCliTests.SubsetNpz(data, 600, 100);
        // A resumed DBM run keeps its pretraining (its checkpoint holds it), so --pretrain-epochs goes to fresh starts only.
        KillAndResume("dbm-2layer", ["--epochs", "6", "--finetune-epochs", "3", "--ais-runs", "2", "--data", npz],
            ["model.shinso", "classifier.shinso"], "checkpoint.shinso", freshOnly: ["--pretrain-epochs", "1"]);
    }

    private void KillAndResume(string preset, string[] options, string[] models, string resumeFrom, string[]? freshOnly = null)
    {
        string[] common = [.. options, "--threads", "1"];
        string[] fresh = [.. common, .. freshOnly ?? []];
        string whole = Path.Combine(_dir, "whole"), killed = Path.Combine(_dir, "killed");
        var clock = Stopwatch.StartNew();
        var (code, _, stderr) = CliTests.Shinso(["train", preset, .. fresh, "--out", whole]);
        Assert.True(code == 0, stderr);
        double seconds = clock.Elapsed.TotalSeconds;

        var random = new System.Random(preset.Length * 7919 + options.Length);
        int kills = 0, starts = 0, resumes = 0;
        while (kills < 3)
        {
            bool resume = File.Exists(Path.Combine(killed, resumeFrom));
            string[] args = resume ? ["train", preset, .. common, "--resume", killed] : ["train", preset, .. fresh, "--out", killed];
            using var process = Start(args);
            starts++;
            if (resume) resumes++;
            // A random point past the ~0.3 s start-up, within the first third of a whole run, so that three kills fit in one.
            int delay = (int)(1000 * (0.3 + random.NextDouble() * Math.Max(0.2, (seconds - 0.3) / 3)));
            if (process.WaitForExit(delay))
            {
                Assert.True(process.ExitCode == 0, $"start {starts} ({(resume ? "resume" : "fresh")}) exited with {process.ExitCode}");
                break; // the run finished before the kill: nothing left to interrupt
            }
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            kills++;
            AssertFilesWhole(killed, $"after kill {kills} at {delay} ms");
        }
        output.WriteLine($"{preset}: uninterrupted {seconds:F1} s; {kills} kills over {starts} starts, {resumes} of them resumes");
        Assert.True(kills >= 2, $"{preset}: the run finished after {kills} kill(s); the test needs a longer run to interrupt");
        bool finalResume = File.Exists(Path.Combine(killed, resumeFrom));
        (code, _, stderr) = CliTests.Shinso(finalResume ? ["train", preset, .. common, "--resume", killed] : ["train", preset, .. fresh, "--out", killed]);
        Assert.True(code == 0, stderr);

        foreach (string model in models)
        {
            var expected = ModelFile.Read(Path.Combine(whole, model));
            var actual = ModelFile.Read(Path.Combine(killed, model));
            Assert.Equal(expected.Tensors.Select(t => t.Name), actual.Tensors.Select(t => t.Name));
            for (int i = 0; i < expected.Tensors.Count; i++)
                Assert.True(expected.Tensors[i].Data.AsSpan().SequenceEqual(actual.Tensors[i].Data),
                    $"{preset}: {model} tensor {expected.Tensors[i].Name} differs from the uninterrupted run's after {kills} kills");
        }
    }

    [Fact]
    public void A_run_folder_from_another_preset_or_family_is_refused_with_what_differs()
    {
        string logistic = Path.Combine(_dir, "logistic"), autoencoder = Path.Combine(_dir, "autoencoder"), rbm = Path.Combine(_dir, "rbm");
        string[] data = ["--data", TestData.EmbeddedSubset, "--threads", "1"];
        foreach (var (preset, folder, extra) in new[] { ("logistic", logistic, new string[0]), ("autoencoder", autoencoder, []), ("rbm", rbm, ["--ais-runs", "2"]) })
        {
            var (code, _, stderr) = CliTests.Shinso(["train", preset, "--epochs", "1", .. extra, .. data, "--out", folder]);
            Assert.True(code == 0, stderr);
        }
        var refusals = new (string Preset, string Folder, string Message)[]
        {
            ("mlp-dropout", logistic, $"--resume: the run in {logistic} is 'logistic' (it saves 'feedforward' models), not 'mlp-dropout'"),
            ("sparse-autoencoder", autoencoder, $"--resume: the run in {autoencoder} is 'autoencoder' (it saves 'autoencoder' models), not 'sparse-autoencoder'"),
            ("autoencoder", logistic, "not 'autoencoder' (a 'autoencoder' run)"),
            ("logistic", autoencoder, "not 'logistic' (a 'feedforward' run)"),
            ("rbm", logistic, "is a 'feedforward-checkpoint' checkpoint, not an RBM run's"),
            ("rbm-gaussian", rbm, "has Bernoulli visible units, not the preset's Gaussian"),
        };
        foreach (var (preset, folder, message) in refusals)
        {
            var (code, _, stderr) = CliTests.Shinso(["train", preset, "--resume", folder, .. data]);
            Assert.True(code == 2, $"train {preset} --resume {Path.GetFileName(folder)} exited with {code}: {stderr}");
            Assert.Contains(message, stderr);
        }

        // A checkpoint written by a newer format version: the version word follows the 8-byte magic.
        string checkpoint = Path.Combine(logistic, Shinso.Training.Checkpoint.FileName);
        var bytes = File.ReadAllBytes(checkpoint);
        Assert.Equal((uint)ModelFile.CurrentVersion, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)ModelFile.CurrentVersion + 1);
        File.WriteAllBytes(checkpoint, bytes);
        var (exit, _, error) = CliTests.Shinso(["train", "logistic", "--resume", logistic, .. data]);
        Assert.NotEqual(0, exit);
        Assert.Contains(checkpoint, error);
        Assert.Contains($"the file has format version {ModelFile.CurrentVersion + 1}: it was written by a newer Shinso", error);
        Assert.DoesNotContain("   at ", error);
    }
}
