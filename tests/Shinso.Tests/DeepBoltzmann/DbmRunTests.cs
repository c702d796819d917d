using Shinso.Backends;
using Shinso.Data;
using Shinso.Kernels.Cpu;
using Shinso.Models.DeepBoltzmann;
using Shinso.Tests.Data;

namespace Shinso.Tests.DeepBoltzmann;

/// <summary>A DBM run cut off inside its pretraining, resumed in the library without the CLI.</summary>
public sealed class DbmRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_run_cut_off_inside_pretraining_resumes_each_stage_from_its_last_epoch_and_ends_as_an_uninterrupted_one()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 300, 10);
        train = train.Binarize(0.5f);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        var preset = DbmPresets.Find("dbm-2layer")! with { LayerSizes = [784, 30, 40], Epochs = 2 };
        preset = preset with { Pretraining = preset.Pretraining with { Epochs = 3 } };
        string whole = _dir.File("whole"), cut = _dir.File("cut");
        DbmRun.Train("small", preset, backend, train, whole);

        // Each cut stops the run as that epoch's progress line is printed: the epoch has trained but its file is not written.
        var cuts = new[] { "pretraining stage 0 epoch   2/3", "pretraining stage 1 epoch   3/3" };
        var lines = new List<string>();
        for (int k = 0; k <= cuts.Length; k++)
        {
            lines.Clear();
            void Progress(string line)
            {
                lines.Add(line);
                if (k < cuts.Length && line.StartsWith(cuts[k], StringComparison.Ordinal)) throw new OperationCanceledException(cuts[k]);
            }
            if (k < cuts.Length) Assert.Throws<OperationCanceledException>(() => DbmRun.Train("small", preset, backend, train, cut, resume: k > 0, progress: Progress));
            else DbmRun.Train("small", preset, backend, train, cut, resume: true, progress: Progress);
            if (k == 0) continue;
            // The resumed stage starts at the epoch the cut lost; the stages before it are restored, not retrained.
            string stage = cuts[k - 1][..cuts[k - 1].IndexOf("epoch", StringComparison.Ordinal)];
            Assert.StartsWith(cuts[k - 1], lines.First(l => l.StartsWith("pretraining", StringComparison.Ordinal)));
            Assert.StartsWith(stage, lines.First(l => l.StartsWith("pretraining", StringComparison.Ordinal)));
        }
        Assert.Empty(Directory.GetFiles(cut, "pretraining-stage-*.shinso"));
        IO.ModelFileAssert.SameTensors(Path.Combine(whole, DbmRun.CheckpointFileName), Path.Combine(cut, DbmRun.CheckpointFileName), "checkpoint");
    }
}
