using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Tests.Data;
using Shinso.Training;

namespace Shinso.Tests.Boltzmann;

/// <summary>An RBM run's checkpoints: a resumed run ends with the parameters of an uninterrupted one.</summary>
public sealed class RbmRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RbmPreset Small(string name, int epochs) => BoltzmannPresets.FindRbm(name)! with { Hidden = 24, Epochs = epochs };

    [Theory]
    [InlineData("rbm")]
    [InlineData("rbm-pcd")]
    public void A_run_stopped_after_each_epoch_and_resumed_ends_with_the_parameters_of_an_uninterrupted_one(string name)
    {
        var (train, held) = FashionMnist.Load(TestData.EmbeddedSubset, 300, 100);
        train = train.Binarize(0.5f);
        held = held.Binarize(0.5f);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        // Seven epochs cross the momentum switch at epoch 5, so the velocities and the schedule's position must survive;
        // the validation record (patience 5, never reached) survives too.
        string whole = _dir.File(name + "-whole"), split = _dir.File(name + "-split");
        var straightLines = new List<string>();
        var (straight, _) = RbmRun.Train("small", Small(name, 7), backend, train, whole, progress: straightLines.Add, validation: held, patience: 5);
        Assert.Contains(straightLines, l => l.StartsWith("epoch   7/7: reconstruction error", StringComparison.Ordinal) && l.Contains(", validation "));
        RbmRun.Train("small", Small(name, 3), backend, train, split, validation: held, patience: 5);
        var lines = new List<string>();
        RbmRun.Train("small", Small(name, 3), backend, train, split, new ResumeOverrides { Epochs = 5 }, lines.Add, validation: held, patience: 5);
        Assert.Equal("resuming after epoch 3; from epoch 4: epochs 3 -> 5", lines[0]);
        var (resumed, preset) = RbmRun.Train("small", Small(name, 3), backend, train, split, new ResumeOverrides { Epochs = 7 }, validation: held, patience: 5);
        Assert.Equal(7, preset.Epochs);
        foreach (var (a, b) in new[] { (straight.Weights, resumed.Weights), (straight.VisibleBias, resumed.VisibleBias), (straight.HiddenBias, resumed.HiddenBias) })
            Assert.True(a.Span.SequenceEqual(b.Span), $"{name}: the resumed machine differs from the uninterrupted one");
        // Resuming a finished run with no new budget trains nothing and changes nothing.
        var (again, _) = RbmRun.Train("small", Small(name, 3), backend, train, split, new ResumeOverrides(), validation: held, patience: 5);
        Assert.True(again.Weights.Span.SequenceEqual(straight.Weights.Span));
        // Without its validation set the run's early stopping would change: refused.
        var e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small(name, 3), backend, train, split, new ResumeOverrides()));
        Assert.Contains("with a validation set and patience 5", e.Message);
    }

    [Fact]
    public void A_resume_that_cannot_continue_the_run_is_refused_naming_the_option()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 200, 10);
        train = train.Binarize(0.5f);
        using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        string pcd = _dir.File("pcd");
        RbmRun.Train("small", Small("rbm-pcd", 1), backend, train, pcd);
        string Option(string o) => "--" + o;
        var e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small("rbm-pcd", 1), backend, train, pcd, new ResumeOverrides { Seed = 9 }, optionName: Option));
        Assert.StartsWith("--seed: the run was started with seed 1", e.Message);
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small("rbm-pcd", 1), backend, train, pcd, new ResumeOverrides { Epochs = 0 }, optionName: Option));
        Assert.StartsWith("--epochs: the run has already trained 1 epochs", e.Message);
        var otherDecay = Small("rbm-pcd", 1) with { Options = Small("rbm-pcd", 1).Options with { WeightDecay = 0.01f } };
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", otherDecay, backend, train, pcd, new ResumeOverrides(), optionName: Option));
        Assert.Contains("was trained with weight_decay", e.Message);
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small("rbm-pcd", 1) with { Hidden = 30 }, backend, train, pcd, new ResumeOverrides(), optionName: Option));
        Assert.Contains("has 24 hidden units, not the preset's 30", e.Message);
        // PCD with one chain per batch sample cannot change its batch; with a fixed chain count it can.
        string perSample = _dir.File("pcd-per-sample");
        var chainPerSample = Small("rbm-pcd", 1) with { Options = Small("rbm-pcd", 1).Options with { PersistentChains = 0 } };
        RbmRun.Train("small", chainPerSample, backend, train, perSample);
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", chainPerSample, backend, train, perSample, new ResumeOverrides { BatchSize = 50 }, optionName: Option));
        Assert.StartsWith("--batch:", e.Message);
        var (_, pcdPreset) = RbmRun.Train("small", Small("rbm-pcd", 1), backend, train, pcd, new ResumeOverrides { Epochs = 2, BatchSize = 50 });
        Assert.Equal(50, pcdPreset.Options.BatchSize);
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small("rbm", 1), backend, train, pcd, new ResumeOverrides(), optionName: Option));
        Assert.Contains("trains by pcd, not cd", e.Message);
        e = Assert.Throws<ResumeRefusedException>(() => RbmRun.Train("small", Small("rbm", 1), backend, train, _dir.File("none"), new ResumeOverrides(), optionName: Option));
        Assert.StartsWith("--resume:", e.Message);
        // A CD run may change its batch and rate from the next epoch.
        string cd = _dir.File("cd");
        RbmRun.Train("small", Small("rbm", 1), backend, train, cd);
        var lines = new List<string>();
        var (_, preset) = RbmRun.Train("small", Small("rbm", 1), backend, train, cd, new ResumeOverrides { Epochs = 2, BatchSize = 50, LearningRate = 0.05f }, lines.Add);
        Assert.Equal((50, 0.05f, 2), (preset.Options.BatchSize, preset.Options.LearningRate, preset.Epochs));
        Assert.Equal("resuming after epoch 1; from epoch 2: epochs 1 -> 2, batch 100 -> 50, learning rate 0.1 -> 0.05", lines[0]);
        Assert.Equal(RbmRun.CheckpointFileName, Path.GetFileName(Directory.GetFiles(cd).Single()));
    }
}
