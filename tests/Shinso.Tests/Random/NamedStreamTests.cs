using FsCheck.Fluent;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Kernels.Cpu;
using Shinso.Models.Boltzmann;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Tests.Data;

namespace Shinso.Tests.Random;

/// <summary>Streams derived by name: distinct purposes and indices never share Philox blocks.</summary>
public sealed class NamedStreamTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Derived_streams_are_deterministic_and_differ_by_purpose_index_and_parent()
    {
        var gen = from seed in Gen.Choose(int.MinValue, int.MaxValue)
                  from index in Gen.Choose(0, 1000)
                  select (seed: (ulong)(uint)seed * 0x9E3779B97F4A7C15UL, index);
        PropertyCheck.ForAll(gen, c =>
        {
            var root = RandomStream.Root(c.seed);
            var child = root.Derive("gibbs", c.index);
            Assert.Equal(child, RandomStream.Root(c.seed).Derive("gibbs", c.index));
            Assert.NotEqual(child, root.Derive("gibbs", c.index + 1));
            Assert.NotEqual(child, root.Derive("epoch-order", c.index));
            Assert.NotEqual(child, RandomStream.Root(c.seed + 1).Derive("gibbs", c.index));
            Assert.NotEqual(child, child.Derive("gibbs", c.index));
            // The old arithmetic let layer 1 at seed s share a key with layer 0 at seed s + 1.
            Assert.NotEqual(root.Derive("layer-weights", 1), RandomStream.Root(c.seed + 1).Derive("layer-weights", 0));
        });
        Assert.Throws<ArgumentException>(() => RandomStream.Root(1).Derive(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomStream.Root(1).Derive("gibbs", -1));
    }

    [Fact]
    public void Every_stream_a_DBN_run_and_its_MLP_phase_draw_from_is_listed_and_no_Philox_block_is_read_twice()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 200, 50);
        using var cpu = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, Threads: 1));
        var draws = new List<Draw>();
        cpu.DrawObserver = (method, stream, counter, elements) => draws.Add(new Draw(method, stream, counter, RestrictedBoltzmannMachine.BlocksFor(elements)));
        var preset = BoltzmannPresets.FindDbn("dbn-mnist")!;
        preset = preset with
        {
            LayerSizes = [784, 40, 30, 60],
            Greedy = preset.Greedy with { LayerEpochs = 1, TopEpochs = 1 },
            UpDownEpochs = 1,
            Backprop = preset.Backprop with { Training = preset.Backprop.Training with { Epochs = 1 } },
        };
        Assert.True(preset.BackpropDropout > 0, "the MLP phase must draw dropout masks for this test to cover them");
        DbnRun.Run("small", preset, cpu, train, test, _dir.File("run"));

        // The enumeration, by name, of what the run draws from on the backend; host-side shuffles are listed after it.
        const ulong seed = 1;
        Assert.All(new[] { preset.Greedy.Layer.Seed, preset.Greedy.Top.Seed, preset.UpDown.Seed, preset.Backprop.Training.Seed }, s => Assert.Equal(seed, s));
        int lower = preset.LayerSizes.Length - 2;
        var (expected, hostSide) = Enumerate(RandomStream.Root(seed), lower);

        var drawn = draws.Select(d => d.Stream).ToHashSet();
        var unlisted = drawn.Except(expected.Values).ToList();
        Assert.True(unlisted.Count == 0, $"{unlisted.Count} drawn stream(s) are not in the enumeration: {string.Join(", ", unlisted)}");
        var undrawn = expected.Where(e => !drawn.Contains(e.Value)).Select(e => e.Key).ToList();
        Assert.True(undrawn.Count == 0, $"listed but never drawn: {string.Join(", ", undrawn)}");

        var all = expected.Values.Concat(hostSide.Values).ToList();
        Assert.Equal(expected.Count + hostSide.Count, all.Distinct().Count());
        // The same run at the next seed shares none of them.
        var (nextExpected, nextHostSide) = Enumerate(RandomStream.Root(seed + 1), lower);
        Assert.Empty(all.Intersect(nextExpected.Values.Concat(nextHostSide.Values)));

        // Within each stream the draws read disjoint block ranges.
        foreach (var group in draws.GroupBy(d => d.Stream))
        {
            var ordered = group.OrderBy(d => d.Counter).ToList();
            for (int i = 1; i < ordered.Count; i++)
                Assert.True(ordered[i - 1].Counter + ordered[i - 1].Blocks <= ordered[i].Counter,
                    $"{ordered[i - 1].Method} and {ordered[i].Method} both read block {ordered[i].Counter} of {group.Key}");
        }
    }

    /// <summary>The streams a DBN run with <paramref name="lower"/> directed layers draws from: on the backend, and host-side shuffles.</summary>
    private static (Dictionary<string, RandomStream> Backend, Dictionary<string, RandomStream> Host) Enumerate(RandomStream root, int lower)
    {
        var backend = new Dictionary<string, RandomStream>();
        var host = new Dictionary<string, RandomStream>();
        for (int l = 0; l < lower; l++)
        {
            backend[$"recognition-weights/{l}"] = root.Derive("recognition-weights", l);
            backend[$"greedy-layer/{l}/rbm-weights"] = root.Derive("greedy-layer", l).Derive("rbm-weights");
            backend[$"greedy-layer/{l}/gibbs"] = root.Derive("greedy-layer", l).Derive("gibbs");
        }
        backend["associative-memory/penultimate-weights"] = root.Derive("associative-memory").Derive("penultimate-weights");
        backend["associative-memory/label-weights"] = root.Derive("associative-memory").Derive("label-weights");
        backend[$"greedy-layer/{lower}/gibbs"] = root.Derive("greedy-layer", lower).Derive("gibbs");
        backend["up-down/gibbs"] = root.Derive("up-down").Derive("gibbs");
        // The converted net: [dense, sigmoid, dropout] per hidden layer, then the output dense layer.
        for (int h = 0; h <= lower; h++)
        {
            backend[$"layer-weights/{3 * h}"] = root.Derive("layer-weights", 3 * h);
            backend[$"stochastic-layers/dropout-mask/{3 * h + 2}"] = root.Derive("stochastic-layers").Derive("dropout-mask", 3 * h + 2);
        }
        backend[$"layer-weights/{3 * (lower + 1)}"] = root.Derive("layer-weights", 3 * (lower + 1));
        for (int l = 0; l <= lower; l++) host[$"greedy-layer/{l}/epoch-order"] = root.Derive("greedy-layer", l).Derive("epoch-order");
        host["up-down/epoch-order"] = root.Derive("up-down").Derive("epoch-order");
        host["epoch-order"] = root.Derive("epoch-order");
        return (backend, host);
    }

    private readonly record struct Draw(string Method, RandomStream Stream, ulong Counter, ulong Blocks);
}
