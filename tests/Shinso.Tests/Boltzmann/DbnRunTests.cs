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
        foreach (string file in new[] { "dbn.shinso", "model.shinso" })
            IO.ModelFileAssert.SameTensors(Path.Combine(whole, file), Path.Combine(cut, file), file);
    }
}
