using System.Diagnostics;
using System.Globalization;
using System.Text;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary>
/// The live progress line on a terminal's stderr: every <see cref="WorkProgress"/> the command's thread reports (the
/// batches of each epoch of every family, AIS temperatures, Gibbs sweeps, fuzzing cases) redraws one line with a bar, the
/// count, samples/s, the time left and the loss so far. Any other write to stderr first erases the line, so the per-epoch
/// lines, warnings and tables print as they do in logs, and the bar comes back with the next report.
/// </summary>
/// <remarks>Shown only when stderr is a terminal and the command was not asked for <c>--json</c>; <c>SHINSO_PROGRESS=0</c>
/// turns it off and <c>SHINSO_PROGRESS=1</c> on (for a terminal the program cannot see, or a test).</remarks>
internal sealed class ProgressBar
{
    /// <summary>The environment variable that forces the bar off (0) or on (1).</summary>
    public const string EnvironmentVariable = "SHINSO_PROGRESS";

    private const int BarCells = 24;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _terminal;
    private readonly Func<int> _width;
    private readonly Func<long> _clock;
    private readonly object _gate = new();
    private long _lastDraw = long.MinValue;
    private bool _shown;
    private bool _broken;

    /// <param name="terminal">Where the line is drawn (the real stderr).</param>
    /// <param name="width">The terminal's width in columns.</param>
    /// <param name="clock">A <see cref="Stopwatch"/> timestamp source (a test's own).</param>
    public ProgressBar(TextWriter terminal, Func<int> width, Func<long>? clock = null)
    {
        _terminal = terminal;
        _width = width;
        _clock = clock ?? Stopwatch.GetTimestamp;
    }

    /// <summary>Whether this run shows the bar: the environment variable, else a terminal stderr and no <c>--json</c>.</summary>
    public static bool Wanted(IReadOnlyList<string> args) => Environment.GetEnvironmentVariable(EnvironmentVariable) switch
    {
        "0" => false,
        "1" => true,
        _ => !Console.IsErrorRedirected && !args.Contains("--json"),
    };

    /// <summary>
    /// Shows the bar for the rest of the process: stderr becomes a writer that erases the line before anything else is
    /// written, and the calling thread's work reports to the bar. Call it before anything captures <see cref="Console.Error"/>.
    /// </summary>
    public static WorkProgress.Listening Install()
    {
        var terminal = Console.Error;
        var bar = new ProgressBar(terminal, () => Console.IsErrorRedirected ? 100 : Math.Max(20, Console.WindowWidth));
        Console.SetError(bar.ErasingWriterOver(terminal));
        return WorkProgress.Listen(bar.Report);
    }

    /// <summary>Draws <paramref name="progress"/>, at most every 100 ms; the last unit of a piece of work erases the line instead.</summary>
    public void Report(WorkProgress progress)
    {
        lock (_gate)
        {
            if (_broken) return;
            try { ReportLocked(progress); }
            catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException)
            {
                // A terminal that cannot be measured or written to costs the bar, never the work that reports to it.
                _broken = true;
            }
        }
    }

    private void ReportLocked(WorkProgress progress)
    {
        if (progress.Done >= progress.Total)
        {
            EraseLocked();
            return;
        }
        long now = _clock();
        if (_lastDraw != long.MinValue && Stopwatch.GetElapsedTime(_lastDraw, now) < RedrawInterval) return;
        _lastDraw = now;
        string line = Format(progress, _width() - 1);
        _terminal.Write("\r\u001b[2K" + line);
        _terminal.Flush();
        _shown = true;
    }

    /// <summary>A writer over <paramref name="inner"/> that erases this bar's line before each write.</summary>
    internal TextWriter ErasingWriterOver(TextWriter inner) => new ErasingWriter(inner, this);

    /// <summary>Erases the line and runs <paramref name="write"/> under the bar's lock, so no redraw lands between the two.</summary>
    private void EraseThen<T>(T state, Action<T> write)
    {
        lock (_gate)
        {
            EraseLocked();
            write(state);
        }
    }

    private void EraseLocked()
    {
        if (!_shown) return;
        _terminal.Write("\r\u001b[2K");
        _terminal.Flush();
        _shown = false;
        // The next report draws at once: the line was just taken away.
        _lastDraw = long.MinValue;
    }

    /// <summary>The line for <paramref name="progress"/>, at most <paramref name="width"/> characters:
    /// <c>epoch 3 [██████░░░░] 420/600  9,120 samples/s  ETA 0:04  loss 0.3412</c>.</summary>
    public static string Format(WorkProgress progress, int width)
    {
        var inv = CultureInfo.InvariantCulture;
        double fraction = progress.Total > 0 ? Math.Clamp((double)progress.Done / progress.Total, 0, 1) : 0;
        int filled = (int)Math.Round(fraction * BarCells);
        var line = new StringBuilder();
        line.Append(progress.Task).Append(" [").Append('█', filled).Append('░', BarCells - filled).Append("] ")
            .Append(progress.Done.ToString("N0", inv)).Append('/').Append(progress.Total.ToString("N0", inv));
        if (progress.SamplesPerSecond is { } rate) line.Append("  ").Append(rate.ToString("N0", inv)).Append(" samples/s");
        if (progress.Remaining is { } left) line.Append("  ETA ").Append(Duration(left));
        if (progress.Loss is { } loss && double.IsFinite(loss)) line.Append("  loss ").Append(loss.ToString("F4", inv));
        return line.Length <= width ? line.ToString() : line.ToString(0, Math.Max(0, width));
    }

    private static string Duration(TimeSpan t) => t.TotalHours >= 1
        ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}"
        : $"{t.Minutes}:{t.Seconds:D2}";

    /// <summary>stderr as the program sees it once the bar is shown: every write first erases the bar's line.</summary>
    private sealed class ErasingWriter(TextWriter inner, ProgressBar bar) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override IFormatProvider FormatProvider => inner.FormatProvider;

        public override string NewLine
        {
            get => inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter takes a nullable value; null means the default, as for the inner writer.
            set => inner.NewLine = value;
#pragma warning restore CS8765
        }

        public override void Write(char value) => bar.EraseThen(value, v => inner.Write(v));

        public override void Write(string? value) => bar.EraseThen(value, v => inner.Write(v));

        public override void Write(char[] buffer, int index, int count) => bar.EraseThen((buffer, index, count), a => inner.Write(a.buffer, a.index, a.count));

        public override void Write(ReadOnlySpan<char> buffer) => Write(buffer.ToString());

        public override void WriteLine(string? value) => bar.EraseThen(value, v => inner.WriteLine(v));

        public override void Flush() => inner.Flush();
    }
}
