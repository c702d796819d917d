using BenchmarkDotNet.Attributes;
using Shinso.Kernels.Cpu;
using Shinso.Random;

namespace Shinso.Perf;

/// <summary>The RBM inner step: fused sigmoid + Bernoulli sampling over a 100 x 500 hidden layer, per path.</summary>
[MemoryDiagnoser]
public class SamplingBenchmarks
{
    private readonly float[] _x = new float[100 * 500];
    private readonly float[] _p = new float[100 * 500];
    private readonly float[] _s = new float[100 * 500];
    private ulong _counter;

    [Params(SimdPath.Avx512, SimdPath.Avx2, SimdPath.Scalar)]
    public SimdPath Path { get; set; }

    [GlobalSetup]
    public void Setup() => RandomKernels.Gaussian(RandomStream.Root(1).Derive("bench-inputs"), 0, 0f, 2f, _x);

    [Benchmark]
    public void SigmoidBernoulli() =>
        RandomKernels.SigmoidBernoulli(RandomStream.Root(2).Derive("gibbs"), _counter += 20000, _x, _p, _s, new CpuKernelOptions(Path, 1));
}
