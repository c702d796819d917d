using System.Runtime.CompilerServices;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>One <see cref="Sgemm.Compute"/> call as <see cref="SgemmCallLog"/> saw it: what its speed depends on, not its data.</summary>
/// <param name="TransA">Whether A was stored transposed.</param>
/// <param name="TransB">Whether B was stored transposed.</param>
/// <param name="M">Rows of C.</param>
/// <param name="N">Columns of C.</param>
/// <param name="K">The inner dimension.</param>
/// <param name="Lda">Row stride of A's storage.</param>
/// <param name="Ldb">Row stride of B's storage.</param>
/// <param name="Ldc">Row stride of C.</param>
/// <param name="ReadsC">Whether beta was not 0, so the call read C.</param>
/// <param name="Options">The options as the caller passed them (a path or thread count of 0 means the defaults).</param>
/// <param name="InParallelPart">Whether a part of a parallel kernel made the call, concurrently with the other parts.</param>
public readonly record struct SgemmCall(Transpose TransA, Transpose TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    bool ReadsC, CpuKernelOptions Options, bool InParallelPart);

/// <summary>
/// Records the <see cref="Sgemm.Compute"/> calls that multiply (m, n and k not 0, alpha not 0), on any thread, from
/// <see cref="Start"/> until disposed: the GEMMs a piece of work (a training step) makes, so that a benchmark can time
/// them alone and say how near the work comes to the bound they set. One log is open at a time; while none is, a call
/// costs a static read and a null check.
/// </summary>
public sealed class SgemmCallLog : IDisposable
{
    private static SgemmCallLog? s_open;
    private readonly List<SgemmCall> _calls = [];
    private bool _closed;

    private SgemmCallLog() { }

    /// <summary>Opens the log.</summary>
    /// <exception cref="InvalidOperationException">A log is already open.</exception>
    public static SgemmCallLog Start()
    {
        var log = new SgemmCallLog();
        if (Interlocked.CompareExchange(ref s_open, log, null) is not null)
            throw new InvalidOperationException("An SgemmCallLog is already open; dispose it before starting another.");
        return log;
    }

    /// <summary>The calls recorded so far, in the order they were recorded.</summary>
    public IReadOnlyList<SgemmCall> Calls
    {
        get { lock (_calls) return _calls.ToArray(); }
    }

    /// <summary>Stops recording (a call still in flight is not added); the calls stay readable.</summary>
    public void Dispose()
    {
        lock (_calls) _closed = true;
        Interlocked.CompareExchange(ref s_open, null, this);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Record(Transpose transA, Transpose transB, int m, int n, int k, int lda, int ldb, int ldc, float beta, in CpuKernelOptions options)
    {
        if (Volatile.Read(ref s_open) is { } log) log.Add(new SgemmCall(transA, transB, m, n, k, lda, ldb, ldc, beta != 0f, options, KernelThreadPool.IsInsideRun));
    }

    private void Add(in SgemmCall call)
    {
        lock (_calls)
            if (!_closed) _calls.Add(call);
    }
}
