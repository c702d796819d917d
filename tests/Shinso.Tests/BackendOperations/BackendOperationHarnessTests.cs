using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.OpenCL;
using Shinso.Tests.Kernels;
using Shinso.Tests.OpenCL;

namespace Shinso.Tests.BackendOperations;

/// <summary>
/// Runs every <see cref="BackendOperationTable"/> entry against its naive double-precision reference on each CPU path this
/// machine has (<see cref="SimdCoverageTests"/> reports the others as skipped) and on the OpenCL device, with generated
/// shapes; the convolution passes also run with column chunks of 1 and 64 floats, so a batch unfolds in several chunks.
/// Every backend sees the same cases; the cases move with <c>SHINSO_TEST_SEED</c>.
/// </summary>
public sealed class BackendOperationHarnessTests
{
    /// <summary>Cases per operation and backend.</summary>
    internal const int Cases = 8;

    /// <summary>The operations whose result depends on how the batch is chunked.</summary>
    internal static readonly string[] ChunkedOperations = [nameof(IBackend.ConvolutionForward), nameof(IBackend.ConvolutionBackward), nameof(IBackend.ConvolutionInputGradient)];

    /// <summary>The cases of <paramref name="operation"/>: its own stream (FNV-1a of its name, not the process-randomised string hash) mixed with the run seed.</summary>
    internal static IEnumerable<OperationCase> CasesOf(string operation)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in operation) hash = (hash ^ c) * 1099511628211UL;
        var random = new System.Random((int)((hash ^ PropertyCheck.RunSeed) % int.MaxValue));
        var entry = BackendOperationTable.Find(operation);
        for (int i = 0; i < Cases; i++) yield return entry.Generate(random);
    }

    public static TheoryData<string, SimdPath, int> CpuRows()
    {
        var rows = new TheoryData<string, SimdPath, int>();
        foreach (var operation in BackendOperationTable.All)
            foreach (var path in KernelTestData.ExplicitPaths())
            {
                rows.Add(operation.Name, path, 0);
                if (ChunkedOperations.Contains(operation.Name))
                {
                    rows.Add(operation.Name, path, 1);
                    rows.Add(operation.Name, path, 64);
                }
            }
        return rows;
    }

    /// <summary>One operation on one CPU path; <paramref name="chunkFloats"/> 0 keeps the default column chunk.</summary>
    [Theory]
    [MemberData(nameof(CpuRows))]
    public void The_cpu_backend_matches_the_reference(string operation, SimdPath path, int chunkFloats)
    {
        var options = new CpuKernelOptions(path);
        using var backend = chunkFloats == 0 ? new CpuBackend(options) : new CpuBackend(options) { ColumnChunkFloats = chunkFloats };
        foreach (var c in CasesOf(operation)) c.AssertOn(backend, $"{operation} on cpu {path}{(chunkFloats == 0 ? "" : $", chunks of {chunkFloats} floats")}:");
    }

    [Fact]
    public void Every_operation_of_the_backend_seam_has_an_entry_and_every_entry_names_one()
    {
        var seam = BackendOperationTable.SeamOperations().ToHashSet();
        var entries = BackendOperationTable.All.Select(o => o.Name).ToList();
        Assert.Equal(entries.Count, entries.Distinct().Count());
        var missing = seam.Except(entries).Except(BackendOperationTable.StagingOperations).Order().ToList();
        Assert.True(missing.Count == 0, $"Backend operations without a harness entry in BackendOperationTable: {string.Join(", ", missing)}");
        Assert.Empty(entries.Except(seam));
        Assert.All(BackendOperationTable.StagingOperations, name => Assert.Contains(name, seam));
        Assert.All(ChunkedOperations, name => Assert.Contains(name, entries));
    }

    [Fact]
    public void The_cases_are_the_same_on_every_call_so_every_backend_sees_them()
    {
        var first = CasesOf(nameof(IBackend.Gemm)).Select(c => c.Description).ToArray();
        Assert.Equal(first, CasesOf(nameof(IBackend.Gemm)).Select(c => c.Description).ToArray());
        Assert.True(first.Distinct().Count() > 1, "the generator drew one shape only");
    }
}
