using Shinso.Tests.OpenCL;

namespace Shinso.Tests.BackendOperations;

/// <summary>
/// The harness on the OpenCL device (POCL in CI), with the convolution passes also at small column chunks; the cases are
/// the CPU rows' (<see cref="BackendOperationHarnessTests.CasesOf"/>), which move with <see cref="PropertyCheck.RunSeed"/>.
/// </summary>
[Collection(OpenClCollection.Name)]
public sealed class BackendOperationOpenClTests(TwinBackends twins)
{
    public static TheoryData<string, int> DeviceRows()
    {
        var rows = new TheoryData<string, int>();
        foreach (var operation in BackendOperationTable.All)
        {
            rows.Add(operation.Name, 0);
            if (BackendOperationHarnessTests.ChunkedOperations.Contains(operation.Name))
            {
                rows.Add(operation.Name, 1);
                rows.Add(operation.Name, 64);
            }
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(DeviceRows))]
    public void The_opencl_backend_matches_the_reference(string operation, int chunkFloats)
    {
        var backend = chunkFloats == 0 ? twins.Device : twins.Chunked(chunkFloats);
        foreach (var c in BackendOperationHarnessTests.CasesOf(operation))
            c.AssertOn(backend, $"{operation} on {backend.Name}{(chunkFloats == 0 ? "" : $", chunks of {chunkFloats} floats")}:");
    }
}
