using Shinso.Backends;
using Shinso.Data;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Tests.Data;
using Shinso.Training;

namespace Shinso.Tests.Boltzmann;

/// <summary>A DBN run's phases and their resume, in the library without the CLI.</summary>
public sealed class DbnRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DbnPreset Small(int upDownEpochs, int backpropEpochs)
    {
        var preset = BoltzmannPresets.FindDbn("dbn-mnist")!;
        return preset with
        {
            LayerSizes = [784, 40, 40, 60],
            Greedy = preset.Greedy with { LayerEpochs = 1, TopEpochs = 1 },
            UpDownEpochs = upDownEpochs,
            Backprop = preset.Backprop with { Training = preset.Backprop.Training with { Epochs = backpropEpochs } },
        };
    }

    [Fact]
    public void A_run_stopped_after_each_phase_and_resumed_ends_with_the_parameters_of_an_uninterrupted_one()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 100);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        string whole = _dir.File("whole"), split = _dir.File("split");
        var lines = new List<string>();
        DbnRun.Run("small", Small(2, 2), backend, train, test, whole);

        DbnRun.Run("small", Small(1, 0), backend, train, test, split);
        DbnRun.Run("small", Small(2, 1), backend, train, test, split,
            new DbnRunOptions { Resume = new DbnResume(new ResumeOverrides { Epochs = 1 }, null, null, 2), Progress = lines.Add });
        Assert.Contains("resuming up-down after epoch 1", lines);
        lines.Clear();
        // Budgets not asked for again come from the run: two up-down epochs, as saved.
        var summary = DbnRun.Run("small", Small(0, 2), backend, train, test, split,
            new DbnRunOptions { Resume = new DbnResume(new ResumeOverrides { Epochs = 2 }, null, null, null), Progress = lines.Add });
        Assert.Contains("resuming backprop after epoch 1", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("up-down: epoch", StringComparison.Ordinal));
        Assert.Equal(2, (int)summary["updown_epochs"]!);

        foreach (string file in new[] { "dbn.shinso", "model.shinso" })
            IO.ModelFileAssert.SameTensors(Path.Combine(whole, file), Path.Combine(split, file), file);
        // The up-down epochs of both invocations are the run's history, as the uninterrupted run's (times aside).
        var wholeUpDown = DbnRun.ReadHistories(Path.Combine(whole, "dbn.shinso")).UpDown;
        var splitUpDown = DbnRun.ReadHistories(Path.Combine(split, "dbn.shinso")).UpDown;
        Assert.Equal([1, 2], splitUpDown.Select(m => m.Epoch));
        Assert.Equal(wholeUpDown.Select(m => m.TrainLoss), splitUpDown.Select(m => m.TrainLoss));

        var e = Assert.Throws<ResumeRefusedException>(() => DbnRun.Run("small", Small(2, 2), backend, train, test, split,
            new DbnRunOptions { Resume = new DbnResume(new ResumeOverrides(), 7, null, null) }));
        Assert.StartsWith("seed:", e.Message);
        e = Assert.Throws<ResumeRefusedException>(() => DbnRun.Run("small", Small(2, 2), backend, train, test, _dir.File("empty"),
            new DbnRunOptions { Resume = new DbnResume(new ResumeOverrides(), null, null, null) }));
        Assert.StartsWith("resume:", e.Message);
    }
    [Fact]
    public void A_run_cut_off_inside_greedy_stages_resumes_each_from_its_last_epoch_and_ends_as_an_uninterrupted_one()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 100);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        var preset = Small(0, 1);
        preset = preset with { Greedy = preset.Greedy with { LayerEpochs = 3, TopEpochs = 2 } };
        string whole = _dir.File("whole"), cut = _dir.File("cut");
        DbnRun.Run("small", preset, backend, train, test, whole);

        // Each cut stops the run as its progress line for that epoch is printed: the epoch has trained but not been saved.
        var cuts = new[] { "greedy layer 0: epoch   2/3", "greedy layer 1: epoch   3/3", "greedy top: epoch   2/2" };
        var lines = new List<string>();
        for (int k = 0; k <= cuts.Length; k++)
        {
            lines.Clear();
            void Progress(string line)
            {
                lines.Add(line);
                if (k < cuts.Length && line.StartsWith(cuts[k], StringComparison.Ordinal)) throw new OperationCanceledException(cuts[k]);
            }
            var options = new DbnRunOptions { Resume = k == 0 ? null : new DbnResume(new ResumeOverrides(), null, null, null), Progress = Progress };
            if (k < cuts.Length) Assert.Throws<OperationCanceledException>(() => DbnRun.Run("small", preset, backend, train, test, cut, options));
            else DbnRun.Run("small", preset, backend, train, test, cut, options);
            if (k == 0) continue;
            // The resumed stage starts at the epoch the cut lost, not at its first.
            string resumed = cuts[k - 1][..cuts[k - 1].IndexOf("epoch", StringComparison.Ordinal)];
            var epochs = lines.Where(l => l.StartsWith(resumed, StringComparison.Ordinal)).ToList();
            Assert.StartsWith(cuts[k - 1], epochs[0]);
        }
        Assert.False(File.Exists(Path.Combine(cut, "greedy-stage.shinso")), "the finished greedy phase left its stage file behind");
        // Every stage's history has each epoch once, with the figures of the uninterrupted run (times aside).
        var (wholeGreedy, _) = DbnRun.ReadHistories(Path.Combine(whole, "dbn.shinso"));
        var (cutGreedy, _) = DbnRun.ReadHistories(Path.Combine(cut, "dbn.shinso"));
        Assert.Equal(["layer 0", "layer 1", "top"], cutGreedy.Select(h => h.Stage));
        Assert.Equal([[1, 2, 3], [1, 2, 3], [1, 2]], cutGreedy.Select(h => h.Epochs.Select(m => m.Epoch).ToArray()));
        Assert.Equal(wholeGreedy.Select(h => h.Epochs.Select(m => m.TrainLoss).ToArray()), cutGreedy.Select(h => h.Epochs.Select(m => m.TrainLoss).ToArray()));
        foreach (string file in new[] { "dbn.shinso", "model.shinso" })
            IO.ModelFileAssert.SameTensors(Path.Combine(whole, file), Path.Combine(cut, file), file);
    }
    [Fact]
    public void Validation_rows_are_measured_in_every_phase_never_trained_on_and_kept_by_a_resumed_run()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 100);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        var preset = Small(1, 1);
        string validated = _dir.File("validated"), plain = _dir.File("plain");
        var lines = new List<string>();
        var summary = DbnRun.Run("small", preset, backend, train, test, validated, new DbnRunOptions { ValidationFraction = 0.25, Progress = lines.Add });

        Assert.Contains(lines, l => l.StartsWith("validation: 100 of the training images held out (25", StringComparison.Ordinal));
        foreach (string phase in new[] { "greedy layer 0: epoch   1/1", "greedy layer 1: epoch   1/1" })
            Assert.Matches(@"reconstruction error \d+\.\d{3}, validation reconstruction error \d+\.\d{3}, ", Assert.Single(lines, l => l.StartsWith(phase, StringComparison.Ordinal)));
        foreach (string phase in new[] { "greedy top: epoch   1/1", "up-down: epoch   1/1", "backprop: epoch   1/1" })
            Assert.Matches(@", validation cross-entropy \d+\.\d{4}, accuracy \d+\.\d{2} ?%", Assert.Single(lines, l => l.StartsWith(phase, StringComparison.Ordinal)));
        Assert.Equal(300, (int)summary["train_samples"]!);
        Assert.Equal(100, (int)summary["validation_samples"]!);

        // The held-out rows are the seed's, and the figures are those of the saved models on them.
        var (rest, heldOut) = train.Split(0.25, preset.Greedy.Layer.Seed);
        var dbn = DbnModelFile.Load(Path.Combine(validated, "dbn.shinso"), backend);
        Assert.Equal(dbn.Evaluate(heldOut).Accuracy!.Value, (double)summary["updown_validation_accuracy"]!, 12);
        var net = Shinso.Models.FeedForward.FeedForwardModelFile.Load(Path.Combine(validated, "model.shinso"), backend);
        Assert.Equal(Trainer.Evaluate(net, SupervisedData.FromDataset(heldOut)).Accuracy!.Value, (double)summary["validation_accuracy"]!, 12);

        // Measuring changes nothing: the run equals one given only the other rows, tensor for tensor.
        DbnRun.Run("small", preset, backend, rest, test, plain);
        foreach (string file in new[] { "dbn.shinso", "model.shinso" })
            IO.ModelFileAssert.SameTensors(Path.Combine(plain, file), Path.Combine(validated, file), file);

        var resume = new DbnResume(new ResumeOverrides { Epochs = 2 }, null, null, null);
        var e = Assert.Throws<ResumeRefusedException>(() => DbnRun.Run("small", Small(1, 2), backend, train, test, validated,
            new DbnRunOptions { Resume = resume, ValidationFraction = 0.5 }));
        Assert.StartsWith("validation: the run in", e.Message);
        lines.Clear();
        summary = DbnRun.Run("small", Small(1, 2), backend, train, test, validated, new DbnRunOptions { Resume = resume, Progress = lines.Add });
        Assert.Contains(lines, l => l.StartsWith("validation: 100 of the training images held out (25", StringComparison.Ordinal));
        Assert.Matches(@", validation cross-entropy \d+\.\d{4}, ", Assert.Single(lines, l => l.StartsWith("backprop: epoch   2/2", StringComparison.Ordinal)));
        Assert.Equal(300, (int)summary["train_samples"]!);
    }
}
