using System.Diagnostics;

namespace Shinso.Training;

/// <summary>How far one piece of long work has come: the batches of an epoch, the temperatures of an AIS run, the
/// sweeps of a sampler.</summary>
/// <param name="Task">What runs, for a person: <c>epoch 3</c>, <c>AIS</c>, <c>Gibbs sampling</c>.</param>
/// <param name="Done">Units done (batches, temperatures, sweeps).</param>
/// <param name="Total">Units in all.</param>
/// <param name="Elapsed">Time since the work began.</param>
/// <param name="Samples">Samples visited so far, for a rate (0 where the units are not samples).</param>
/// <param name="Loss">The mean loss so far, where the work measures one.</param>
public readonly record struct WorkProgress(string Task, long Done, long Total, TimeSpan Elapsed, long Samples = 0, double? Loss = null)
{
    /// <summary>Samples per second so far, or null where the work counts none.</summary>
    public double? SamplesPerSecond => Samples > 0 && Elapsed > TimeSpan.Zero ? Samples / Elapsed.TotalSeconds : null;

    /// <summary>The time left at the rate so far, or null before the first unit is done.</summary>
    public TimeSpan? Remaining => Done > 0 && Total >= Done ? Elapsed * ((double)(Total - Done) / Done) : null;

    /// <summary>
    /// Where the work on this thread reports, or null: set with <see cref="Listen"/> by a program that shows progress (the
    /// CLI's live bar). Each thread has its own, so work that other threads run (another test, a server's requests) never
    /// reaches it. Reporting costs a thread-static read while no one listens.
    /// </summary>
    [field: ThreadStatic]
    public static Action<WorkProgress>? Listener { get; private set; }

    /// <summary>Sends the progress of the work this thread runs to <paramref name="listener"/> until the result is disposed.</summary>
    public static Listening Listen(Action<WorkProgress> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var previous = Listener;
        Listener = listener;
        return new Listening(previous);
    }

    /// <summary>Reports to the listener, if any.</summary>
    public static void Report(in WorkProgress progress) => Listener?.Invoke(progress);

    /// <summary>Reports unit <paramref name="done"/> of <paramref name="total"/> of <paramref name="task"/>, timed from <paramref name="started"/>
    /// (a <see cref="Stopwatch"/> timestamp); nothing while no one listens.</summary>
    public static void Report(string task, long done, long total, long started)
    {
        if (Listener is { } listener) listener(new WorkProgress(task, done, total, Stopwatch.GetElapsedTime(started)));
    }

    /// <summary>The listening that <see cref="Listen"/> started; disposing it restores the listener before it.</summary>
    public readonly struct Listening : IDisposable
    {
        private readonly Action<WorkProgress>? _previous;

        internal Listening(Action<WorkProgress>? previous) => _previous = previous;

        /// <summary>Stops listening.</summary>
        public void Dispose() => Listener = _previous;
    }
}
