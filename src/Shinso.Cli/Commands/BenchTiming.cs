using System.Diagnostics;

namespace Shinso.Cli.Commands;

/// <summary>
/// The benchmarks' timer, timeit-style like ../shared/peers: warm up, calibrate the calls per sample to at least a
/// minimum duration, then time repeated samples and report the best and the median seconds per call.
/// </summary>
internal static class BenchTiming
{
    /// <param name="call">The operation timed.</param>
    /// <param name="finish">Waits for queued work (a device queue) at the end of each sample; a no-op on the CPU.</param>
    /// <param name="repeat">Timed samples.</param>
    /// <param name="minTime">Seconds per sample, at least.</param>
    public static (double BestSeconds, double MedianSeconds) Measure(Action call, Action finish, int repeat, double minTime)
    {
        // Warm-up lets the JIT reach its final tier, the packing buffers (or device programs) their final state.
        // Each call is waited for: a device queue accepts calls far faster than it runs them, so a warm-up timed
        // by enqueueing alone could queue minutes of work.
        var warmup = Stopwatch.StartNew();
        do
        {
            call();
            finish();
        }
        while (warmup.Elapsed.TotalSeconds < Math.Min(0.2, minTime * 2));

        long t0 = Stopwatch.GetTimestamp();
        call();
        finish();
        double one = Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-7);
        int calls = Math.Max(1, (int)(minTime / one));

        var seconds = new double[Math.Max(1, repeat)];
        for (int s = 0; s < seconds.Length; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
                call();
            finish();
            seconds[s] = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        }
        Array.Sort(seconds);
        int n = seconds.Length;
        double median = n % 2 == 1 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
        return (seconds[0], median);
    }
}
