using BenchmarkDotNet.Attributes;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Perf;

/// <summary>SGEMM on the shapes the issues set targets for: squares and the three GEMMs of a 784-500 layer at batch 100.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>m x n x k, transposes, as "m,n,k,ta,tb".</summary>
    [Params("256,256,256,N,N", "512,512,512,N,N", "1024,1024,1024,N,N", "100,500,784,N,N", "100,784,500,N,T", "784,500,100,T,N")]
    public string Shape { get; set; } = "";

    [Params(SimdPath.Avx512, SimdPath.Avx2)]
    public SimdPath Path { get; set; }

    [Params(1)]
    public int Threads { get; set; }

    private int _m, _n, _k;
    private Transpose _ta, _tb;

    [GlobalSetup]
    public void Setup()
    {
        var p = Shape.Split(',');
        (_m, _n, _k) = (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
        _ta = p[3] == "T" ? Transpose.Transposed : Transpose.None;
        _tb = p[4] == "T" ? Transpose.Transposed : Transpose.None;
        var rng = new System.Random(1);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = new float[_m * _n];
    }

    [Benchmark]
    public void Sgemm() => Shinso.Kernels.Cpu.Sgemm.Compute(_ta, _tb, _m, _n, _k, 1f, _a, _ta == Transpose.None ? _k : _m,
        _b, _tb == Transpose.None ? _n : _k, 0f, _c, _n, new CpuKernelOptions(Path, Threads));
}
