using System.CommandLine;
using System.Globalization;
using Shinso.Backends;
using Shinso.IO;
using Shinso.OpenCL;
using Shinso.Profiling;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>--profile</c> and <c>--trace FILE</c> on <c>train</c>, <c>eval</c> and <c>bench</c>: a <see cref="Profiler"/> runs for
/// the whole command; afterwards the tables of time per layer and per kernel go to standard error (stdout keeps the
/// command's own output and its --json line) and the Chrome trace is written.
/// </summary>
internal sealed class ProfilingSession : IDisposable
{
    private readonly Profiler _profiler;
    private readonly string? _tracePath;
    private readonly bool _printTables;

    private ProfilingSession(bool printTables, string? tracePath)
    {
        _printTables = printTables;
        _tracePath = tracePath;
        _profiler = Profiler.Start(recordTrace: tracePath is not null);
    }

    /// <summary><c>--profile</c>: print the tables (on train and eval, and recursive on bench).</summary>
    public static Option<bool> Profile { get; } = new("--profile")
    {
        Description = "Print time per layer (forward, backward, update) and per kernel (calls, total, mean, GFLOP/s) to stderr after the run",
        Recursive = true,
    };

    /// <summary><c>--trace FILE</c>: write a Chrome trace (on train and eval, and recursive on bench).</summary>
    public static Option<string?> Trace { get; } = new("--trace")
    {
        Description = "Write a Chrome trace (traceEvents JSON for Perfetto or chrome://tracing): one track per kernel thread, spans for steps, layers and kernels",
        Recursive = true,
    };

    /// <summary>The session of the running command, or null when it is not profiled.</summary>
    public static ProfilingSession? Current { get; private set; }

    /// <summary>Starts a session when the parsed command asked for <c>--profile</c> or <c>--trace</c>, else returns null.</summary>
    public static ProfilingSession? StartIfAsked(ParseResult parse)
    {
        bool profile = parse.GetValue(Profile);
        string? trace = parse.GetValue(Trace);
        if (!profile && trace is null) return null;
        if (trace is not null && string.IsNullOrWhiteSpace(trace)) throw new UsageException("--trace needs a file name.");
        return Current = new ProfilingSession(profile, trace is null ? null : Path.GetFullPath(trace));
    }

    /// <summary>Makes a backend's work visible to the profiler: an OpenCL backend's layer spans wait for its queue.</summary>
    public void Attach(IBackend backend)
    {
        if (backend is OpenClBackend device) _profiler.Synchronize = device.Synchronize;
    }

    /// <summary>Stops the profiler, prints the tables (with <c>--profile</c>) and writes the trace (with <c>--trace</c>).</summary>
    public void Finish()
    {
        // The command has ended and disposed its backends, which handed their last device times over as they closed.
        _profiler.Synchronize = null;
        _profiler.Stop();
        if (_printTables) Print(CommonOptions.Err);
        if (_tracePath is not null)
        {
            AtomicFile.Write(_tracePath, _profiler.WriteChromeTrace);
            CommonOptions.Err.MarkupLine($"[grey]trace:[/] {Markup.Escape(_tracePath)} (load it in https://ui.perfetto.dev or chrome://tracing)");
        }
    }

    public void Dispose()
    {
        _profiler.Synchronize = null;
        _profiler.Stop();
        if (Current == this) Current = null;
    }

    private void Print(IAnsiConsole console)
    {
        var (steps, stepSeconds) = _profiler.Steps;
        double elapsed = _profiler.ElapsedSeconds;
        console.MarkupLine($"[bold]profile[/] over {Seconds(elapsed)}" +
                           (steps > 0 ? $": {steps.ToString("N0", CultureInfo.InvariantCulture)} training steps took {Seconds(stepSeconds)}, {Ms(stepSeconds / steps)} ms each" : ""));
        var layers = _profiler.Layers();
        if (steps == 0 && layers.Count == 0 && _profiler.Kernels().Count == 0 && _profiler.DeviceKernels().Count == 0)
        {
            // bench gemm, for one, times the SGEMM kernel directly rather than through a backend.
            console.MarkupLine("[grey]no training step, layer or backend operation ran: this command calls its kernels directly.[/]");
            return;
        }
        if (layers.Count > 0)
        {
            // Shares are of the steps' time where the run trained, else of the whole command's.
            double whole = steps > 0 ? stepSeconds : elapsed;
            var table = new Table().Title("time per layer").AddColumns("layer", "forward ms", "backward ms", "update ms", "total ms", "share");
            foreach (var column in table.Columns.Skip(1)) column.RightAligned();
            foreach (var l in layers)
                table.AddRow(Markup.Escape(l.Layer), Ms(l.ForwardSeconds), Ms(l.BackwardSeconds), Ms(l.UpdateSeconds), Ms(l.TotalSeconds), Share(l.TotalSeconds, whole));
            double inLayers = layers.Sum(l => l.TotalSeconds);
            table.AddRow("[grey]all layers[/]", Ms(layers.Sum(l => l.ForwardSeconds)), Ms(layers.Sum(l => l.BackwardSeconds)),
                Ms(layers.Sum(l => l.UpdateSeconds)), Ms(inLayers), Share(inLayers, whole));
            console.Write(table);
        }
        KernelTable(console, "time per kernel (host, in the calling thread)", _profiler.Kernels());
        KernelTable(console, "time per kernel (device, from OpenCL profiling events)", _profiler.DeviceKernels());
    }

    /// <summary>Kernels by total time, each with its share of all of them.</summary>
    private static void KernelTable(IAnsiConsole console, string title, IReadOnlyList<KernelTotals> kernels)
    {
        if (kernels.Count == 0) return;
        double all = kernels.Sum(k => k.Seconds);
        var table = new Table().Title(title).AddColumns("kernel", "calls", "total ms", "mean µs", "share", "GFLOP/s");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var k in kernels)
            table.AddRow(Markup.Escape(k.Name), k.Calls.ToString("N0", CultureInfo.InvariantCulture), Ms(k.Seconds),
                (k.MeanSeconds * 1e6).ToString("F1", CultureInfo.InvariantCulture), Share(k.Seconds, all),
                k.GigaflopsPerSecond is { } rate ? rate.ToString("F1", CultureInfo.InvariantCulture) : "");
        table.AddRow("[grey]all kernels[/]", kernels.Sum(k => k.Calls).ToString("N0", CultureInfo.InvariantCulture), Ms(all), "", "", "");
        console.Write(table);
    }

    private static string Ms(double seconds) => (seconds * 1e3).ToString(seconds < 1e-2 ? "F3" : "F1", CultureInfo.InvariantCulture);

    private static string Seconds(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

    private static string Share(double part, double whole) => whole > 0 ? (100 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + " %" : "";
}
