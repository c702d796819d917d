using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Shinso.Kernels.Cpu;

/// <summary>A unit of parallel kernel work: <see cref="Execute"/> runs once for every index in [0, count).</summary>
/// <remarks>Callers keep and reuse one instance per calling thread, so dispatching work allocates nothing.</remarks>
internal abstract class KernelWork
{
    /// <summary>Runs part <paramref name="index"/> of <paramref name="count"/>; parts must not depend on each other.</summary>
    public abstract void Execute(int index, int count);
}

/// <summary>
/// A small pool of persistent worker threads for CPU kernels. One call fans out to at most one
/// part per thread and blocks until every part is done; the calling thread runs part 0 itself.
/// </summary>
/// <remarks>
/// Kernels calls last from ~10 µs to seconds, so workers spin briefly before they sleep: back-to-back
/// calls (a training loop) then skip the kernel wake-up, while an idle process burns no CPU.
/// A second caller arriving while the pool is busy, or a kernel calling back in from a worker, runs
/// its parts inline instead of queueing, so the pool can never deadlock on itself.
/// </remarks>
internal static class KernelThreadPool
{
    // Spin iterations before a waiting thread blocks; ~tens of microseconds on current CPUs.
    private const int SpinCountBeforeSleep = 2000;
    private const int MaxWorkers = 256;

    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    private static readonly ManualResetEventSlim s_allDone = new(false, SpinCountBeforeSleep);
    private static int s_pending;
    private static ExceptionDispatchInfo? s_failure;

    // True on pool workers and on a caller while it is inside Run: a nested Run then runs inline.
    [ThreadStatic] private static bool t_insideRun;

    /// <summary>Runs <paramref name="work"/> for indices 0..count-1, in parallel where the pool is free.</summary>
    public static void Run(KernelWork work, int count)
    {
        if (count <= 1 || t_insideRun || !Monitor.TryEnter(s_gate))
        {
            RunInline(work, count);
            return;
        }
        try
        {
            count = Math.Min(count, MaxWorkers + 1);
            EnsureWorkers(count - 1);
            s_failure = null;
            s_allDone.Reset();
            Volatile.Write(ref s_pending, count - 1);
            for (int i = 1; i < count; i++)
                s_workers[i - 1].Start(work, i, count);

            t_insideRun = true;
            try
            {
                work.Execute(0, count);
            }
            finally
            {
                t_insideRun = false;
                s_allDone.Wait();
            }
            s_failure?.Throw();
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private static void RunInline(KernelWork work, int count)
    {
        for (int i = 0; i < count; i++)
            work.Execute(i, count);
    }

    private static void EnsureWorkers(int needed)
    {
        if (s_workers.Length >= needed)
            return;
        var grown = new Worker[needed];
        Array.Copy(s_workers, grown, s_workers.Length);
        for (int i = s_workers.Length; i < needed; i++)
            grown[i] = new Worker(i + 1);
        s_workers = grown;
    }

    private static void PartDone()
    {
        if (Interlocked.Decrement(ref s_pending) == 0)
            s_allDone.Set();
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _go = new(false, SpinCountBeforeSleep);
        private KernelWork? _work;
        private int _index;
        private int _count;

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Shinso kernel worker {id}" };
            thread.Start();
        }

        public void Start(KernelWork work, int index, int count)
        {
            _work = work;
            _index = index;
            _count = count;
            _go.Set();
        }

        // Never profiled or tiered: an instrumented copy of a loop two threads run would share counters.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            t_insideRun = true;
            while (true)
            {
                _go.Wait();
                _go.Reset();
                var work = _work!;
                _work = null;
                try
                {
                    work.Execute(_index, _count);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref s_failure, ExceptionDispatchInfo.Capture(e), null);
                }
                PartDone();
            }
        }
    }
}
