using BenchmarkDotNet.Attributes;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Perf;

/// <summary>One training step (forward, fused loss, backward, update) of each preset at batch 100, single thread.</summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private FeedForwardNet _net = null!;
    private Optimizer _optimizer = null!;
    private Tensor _x = null!, _t = null!;
    private long _step;

    [Params("mlp-dbn-shape", "mlp-dropout")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var config = Presets.Find(Model)!;
        var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 1));
        _net = new FeedForwardNet(backend, config.Architecture, 1);
        _optimizer = config.CreateOptimizer();
        _x = backend.Allocate(100, config.Architecture.InputLength);
        _t = backend.Allocate(100, config.Architecture.OutputLength);
        backend.SampleUniform(RandomStream.Root(1).Derive("bench-inputs"), 0, _x);
        var oneHot = new float[_t.Length];
        for (int i = 0; i < 100; i++) oneHot[i * 10 + i % 10] = 1f;
        backend.Upload(oneHot, _t);
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public void TrainingStepPerSample()
    {
        _net.Forward(_x, new ForwardContext(true, RandomStream.Root(1).Derive("stochastic-layers"), _step++));
        _net.ComputeLoss(_t, out _);
        _net.Backward();
        _optimizer.Step(_net.Parameters, 0);
    }
}
