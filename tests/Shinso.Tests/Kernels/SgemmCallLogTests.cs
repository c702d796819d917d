using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Tests.Kernels;

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
        var options = new CpuKernelOptions(SimdPath.Auto, 1);
        IReadOnlyList<SgemmCall> calls;
        using (var log = SgemmCallLog.Start())
        {
            Assert.Throws<InvalidOperationException>(() => SgemmCallLog.Start());
            Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 0f, c, 23, options);
            var other = new Thread(() => Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 1f, c, 23, options));
            other.Start();
            other.Join();
            calls = log.Calls;
        }
        Sgemm.Compute(Transpose.Transposed, Transpose.None, 13, 17, 19, 1f, a, 14, b, 18, 0.5f, c, 23, options);

        var ours = calls.Where(x => x is { M: 13, N: 17, K: 19, Lda: 14, Ldb: 18, Ldc: 23 }).ToList();
        Assert.Equal(2, ours.Count);
        Assert.Equal(new SgemmCall(Transpose.Transposed, Transpose.None, 13, 17, 19, 14, 18, 23, false, options, true), ours[0]);
        Assert.Equal(ours[0] with { ReadsC = true, OnStartingThread = false }, ours[1]);
        Assert.Equal(2.0 * 13 * 17 * 19, ours[0].Flops);
        // Once disposed the log records nothing more, and another can open.
        Assert.DoesNotContain(calls, x => x is { M: 13, N: 17, K: 19, Ldc: 23, ReadsC: true, OnStartingThread: true });
        using var next = SgemmCallLog.Start();
    }
}
