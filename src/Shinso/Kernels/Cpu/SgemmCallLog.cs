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
/// <param name="Options">The path and thread count it ran with.</param>
/// <param name="OnStartingThread">Whether the thread that opened the log made it (false: a part of a parallel kernel did).</param>
public readonly record struct SgemmCall(Transpose TransA, Transpose TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    bool ReadsC, CpuKernelOptions Options, bool OnStartingThread)
{
    /// <summary>Floating-point operations of the call, 2 m n k.</summary>
    public double Flops => 2.0 * M * N * K;
}

/// <summary>
/// Records every <see cref="Sgemm.Compute"/> call, on any thread, from <see cref="Start"/> until disposed: the GEMMs a
/// piece of work (a training step) makes, so that a benchmark can time them alone and say how near the work comes to the
/// bound they set. One log is open at a time; while none is, a call costs one null check.
/// </summary>
public sealed class SgemmCallLog : IDisposable
{
    private static SgemmCallLog? s_open;
    private readonly List<SgemmCall> _calls = [];
    private readonly int _startingThread = Environment.CurrentManagedThreadId;

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

    /// <summary>The calls recorded so far, in the order they started.</summary>
    public IReadOnlyList<SgemmCall> Calls
    {
        get { lock (_calls) return _calls.ToArray(); }
    }

    /// <summary>Stops recording; the calls stay readable.</summary>
    public void Dispose() => Interlocked.CompareExchange(ref s_open, null, this);

    internal static void Record(Transpose transA, Transpose transB, int m, int n, int k, int lda, int ldb, int ldc, float beta, in CpuKernelOptions options)
    {
        if (Volatile.Read(ref s_open) is not { } log) return;
        var call = new SgemmCall(transA, transB, m, n, k, lda, ldb, ldc, beta != 0f, options, Environment.CurrentManagedThreadId == log._startingThread);
        lock (log._calls) log._calls.Add(call);
    }
}
