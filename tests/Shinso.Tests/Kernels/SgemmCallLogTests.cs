using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SgemmCallLogCollection
{
    /// <summary>The one log a process may have open: its tests never run beside another test that opens one.</summary>
    public const string Name = "SgemmCallLog";
}

[Collection(SgemmCallLogCollection.Name)]
public class SgemmCallLogTests
{
    // Other tests multiply concurrently in this process and the log sees every thread, so the calls checked here have
    // shapes and strides no other test uses.
    [Fact]
    public void The_log_records_each_call_with_what_its_speed_depends_on_and_which_thread_made_it()
    {
        var a = new float[19 * 14];
        var b = new float[19 * 18];
        var c = new float[13 * 23];
        float[][] partC = [new float[13 * 23], new float[13 * 23]];
        var options = new CpuKernelOptions(SimdPath.Auto, 1);
        var log = SgemmCallLog.Start();
        Assert.Throws<InvalidOperationException>(() => SgemmCallLog.Start());
        Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 0f, c, 23, options);
        // A part of a parallel kernel: the bound a benchmark derives must not replay such calls one at a time.
        KernelThreadPool.Run(new MultiplyInParts(part => Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 1f, partC[part], 23, options)), 2);
        // Calls that do not multiply (alpha 0, k 0) are not recorded.
        Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 0f, a, 14, b, 18, 1f, c, 23, options);
        log.Dispose();
        Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 0.5f, c, 23, options);

        var ours = log.Calls.Where(x => x is { M: 13, N: 17, K: 19, Lda: 14, Ldb: 18, Ldc: 23 }).ToList();
        Assert.Equal(3, ours.Count);
        Assert.Equal(new SgemmCall(Transpose.Transposed, Transpose.None, 13, 17, 19, 14, 18, 23, false, options, false), ours[0]);
        // Both parts ran it, and each is flagged, whichever thread claimed it.
        Assert.All(ours.Skip(1), x => Assert.Equal(ours[0] with { ReadsC = true, InParallelPart = true }, x));
        // Once disposed the log records nothing more (the last call read C with InParallelPart false), and another can open.
        Assert.DoesNotContain(log.Calls, x => x is { M: 13, Ldc: 23, ReadsC: true, InParallelPart: false });
        using var next = SgemmCallLog.Start();
    }

    private sealed class MultiplyInParts(Action<int> multiply) : KernelWork
    {
        public override void Execute(int index, int count) => multiply(index);
    }
}
