using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Shinso.Profiling;

namespace Shinso.Kernels.Cpu;

/// <summary>A unit of parallel kernel work: <see cref="Execute"/> runs once for every index in [0, count).</summary>
/// <remarks>Callers keep and reuse one instance per calling thread, so dispatching work allocates nothing.</remarks>
internal abstract class KernelWork
{
    /// <summary>Runs part <paramref name="index"/> of <paramref name="count"/>; parts must not depend on each other.</summary>
    public abstract void Execute(int index, int count);
}

/// <summary>
/// A small pool of persistent worker threads for CPU kernels. One call splits its work into a fixed number
/// of parts and blocks until every part is done; the calling thread and the woken workers claim parts
/// from a shared counter, so a worker the OS has not scheduled yet never holds the call up.
/// </summary>
/// <remarks>
/// Kernels calls last from ~10 µs to seconds, so workers spin briefly before they sleep: back-to-back
/// calls (a training loop) then skip the kernel wake-up, while an idle process burns no CPU.
/// Parts are claimed, not assigned: with more runnable threads than cores (two processes sharing a
/// machine), a statically assigned part waits a whole scheduler time slice for its thread, once per
/// kernel call, which slowed a CNN epoch twelvefold here. Which thread runs a part never changes what
/// the part computes, so results stay independent of scheduling and thread count.
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
    // The current call's generation in the high 32 bits and its next unclaimed part in the low 32 (Closed
    // while the call is being set up). A claim is a compare-exchange on the whole value, so a worker that
    // read the work of one call can never claim a part of another: generations only grow.
    private static long s_claim;
    private const int Closed = int.MaxValue;
    private static int s_generation;
    private static KernelWork? s_work;
    private static int s_count;
    private static int s_unfinished;
    private static ExceptionDispatchInfo? s_failure;

    // True on pool workers and on a caller while it is inside Run: a nested Run then runs inline.
    [ThreadStatic] private static bool t_insideRun;

    /// <summary>Whether the current thread is running a part of a parallel call (a pool worker, or a caller inside <see cref="Run"/>).</summary>
    internal static bool IsInsideRun => t_insideRun;

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
            long generation = (long)(uint)unchecked(++s_generation) << 32;
            Volatile.Write(ref s_claim, generation | Closed);
            Volatile.Write(ref s_work, work);
            Volatile.Write(ref s_count, count);
            Volatile.Write(ref s_unfinished, count);
            Volatile.Write(ref s_claim, generation);
            for (int i = 1; i < count; i++)
                s_workers[i - 1].Wake();

            t_insideRun = true;
            try
            {
                ClaimAndRun();
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

    /// <summary>Runs unclaimed parts of the current call until none is left.</summary>
    private static void ClaimAndRun()
    {
        while (true)
        {
            long claim = Volatile.Read(ref s_claim);
            var work = Volatile.Read(ref s_work);
            int count = Volatile.Read(ref s_count);
            int index = (int)(claim & 0xFFFFFFFF);
            if (index >= count || work is null)
                return;
            // Succeeds only if no new call began since the read of claim, so work and count belong to it.
            if (Interlocked.CompareExchange(ref s_claim, claim + 1, claim) != claim)
                continue;
            long started = Profiler.BeginWork();
            try
            {
                work.Execute(index, count);
                Profiler.EndWork(started, index, count);
            }
            catch (Exception e)
            {
                // The part's failure, or the profiler's: either way the part counts as finished below, so the call ends.
                Interlocked.CompareExchange(ref s_failure, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref s_unfinished) == 0)
                s_allDone.Set();
        }
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

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _go = new(false, SpinCountBeforeSleep);

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Shinso kernel worker {id}" };
            thread.Start();
        }

        public void Wake() => _go.Set();

        // Never profiled or tiered: an instrumented copy of a loop two threads run would share counters.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            t_insideRun = true;
            while (true)
            {
                _go.Wait();
                _go.Reset();
                ClaimAndRun();
            }
        }
    }
}
