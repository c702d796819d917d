using Shinso.Tests.Onnx;
using Xunit.Abstractions;

namespace Shinso.Tests.OpenCL;

/// <summary>The ONNX node conformance cases through the importer on the OpenCL backend: the same cases pass as on the CPU.</summary>
[Collection(OpenClCollection.Name)]
public sealed class OpenClOnnxConformanceTests(TwinBackends twins, ITestOutputHelper output)
{
    [Fact]
    public void Every_case_of_a_supported_operator_passes_on_opencl()
    {
        var (table, failures) = OnnxNodeConformanceTests.RunSuite(twins.Device);
        output.WriteLine(table);
        var unexpected = failures.Where(f => !OnnxNodeConformanceTests.KnownFailures.ContainsKey(f.Case)).ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} conformance case(s) failed on {twins.Device.Name}:\n{string.Join("\n", unexpected.Select(f => $"{f.Case}: {f.Reason}"))}");
    }
}
