using System.Diagnostics;
using System.Text.Json;

namespace Shinso.Profiling;

/// <summary>What a recorded span measured.</summary>
public enum SpanCategory : byte
{
    /// <summary>One training update: a minibatch step of any family.</summary>
    Step,
    /// <summary>A layer's forward or backward pass, or the update of its parameters.</summary>
    Layer,
    /// <summary>One backend operation, timed on the thread that called it.</summary>
    Kernel,
    /// <summary>The part of a kernel that one thread of the CPU kernel pool ran.</summary>
    Work,
    /// <summary>One kernel launch, timed by the device itself (OpenCL profiling events).</summary>
    DeviceKernel,
}

/// <summary>Which pass of a layer a span measured.</summary>
public enum LayerPass : byte
{
    /// <summary>The forward pass.</summary>
    Forward,
    /// <summary>The backward pass (input and parameter gradients).</summary>
    Backward,
    /// <summary>The optimizer's update of the layer's parameters.</summary>
    Update,
}

/// <summary>The totals of one kernel over a profiled run.</summary>
/// <param name="Name">The backend operation's name (CPU) or the launched kernel's (OpenCL).</param>
/// <param name="Calls">Calls, or launches.</param>
/// <param name="Seconds">Total time.</param>
/// <param name="Flops">Floating-point operations performed, where the operation defines them (GEMM, convolution passes), else 0.</param>
public readonly record struct KernelTotals(string Name, long Calls, double Seconds, double Flops)
{
    /// <summary>Mean time per call.</summary>
    public double MeanSeconds => Calls > 0 ? Seconds / Calls : 0;

    /// <summary>The rate reached, or null where the operation defines no operation count.</summary>
    public double? GigaflopsPerSecond => Flops > 0 && Seconds > 0 ? Flops / Seconds / 1e9 : null;
}

/// <summary>The totals of one layer over a profiled run.</summary>
/// <param name="Layer">The layer's label (its index and description), or a parameter's name where no layer claimed it.</param>
/// <param name="ForwardSeconds">Time in its forward passes.</param>
/// <param name="BackwardSeconds">Time in its backward passes.</param>
/// <param name="UpdateSeconds">Time in the optimizer's updates of its parameters.</param>
/// <param name="ForwardCalls">Forward passes.</param>
public readonly record struct LayerTotals(string Layer, double ForwardSeconds, double BackwardSeconds, double UpdateSeconds, long ForwardCalls)
{
    /// <summary>All three.</summary>
    public double TotalSeconds => ForwardSeconds + BackwardSeconds + UpdateSeconds;
}

/// <summary>
/// Times steps, layers and kernels while it is <see cref="Active"/>: backends, layers, optimizers and the training loop
/// open a <see cref="ProfileScope"/> around their work, which costs one static read when no profiler runs. It sums
/// time per kernel and per layer pass and, when asked, keeps every span for a Chrome trace
/// (<see cref="WriteChromeTrace"/>) with one track per thread of the kernel pool.
/// </summary>
/// <remarks>One profiler runs at a time (<see cref="Start"/>, <see cref="Stop"/>). Kernel spans nest only once: a backend
/// operation that calls another is timed as one kernel.</remarks>
public sealed class Profiler
{
    private static Profiler? s_active;
    [ThreadStatic] private static int t_kernelDepth;
    [ThreadStatic] private static Track? t_track;

    private readonly object _gate = new();
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly Dictionary<int, (long Calls, long Ticks, double Flops)> _kernels = [];
    private readonly Dictionary<int, (long Calls, long Ticks, double Flops)> _deviceKernels = [];
    private readonly Dictionary<(int Layer, LayerPass Pass), (long Calls, long Ticks)> _layers = [];
    private readonly List<int> _layerOrder = [];
    private readonly Dictionary<object, int> _updateLabels = new(ReferenceEqualityComparer.Instance);
    private readonly List<Track> _tracks = [];
    private readonly long _startTicks = Stopwatch.GetTimestamp();
    private long _stopTicks;
    private volatile bool _stopped;
    private static int s_profilers;
    private long _steps, _stepTicks;
    private long? _deviceOffsetTicks;
    private ulong? _firstDeviceStart;
    private volatile int _currentKernel = -1;

    private Profiler(bool recordTrace)
    {
        RecordsTrace = recordTrace;
        Number = Interlocked.Increment(ref s_profilers);
    }

    /// <summary>This profiler's number in the process (1, 2, ...): what code that remembers a profiler keeps instead of a
    /// reference, so a stopped profiler and its spans are not kept alive.</summary>
    public int Number { get; }

    /// <summary>The running profiler, or null. Instrumented code reads it once per span.</summary>
    public static Profiler? Active => Volatile.Read(ref s_active);

    /// <summary>Whether every span is kept for <see cref="WriteChromeTrace"/>, not only the totals.</summary>
    public bool RecordsTrace { get; }

    /// <summary>
    /// Called before a step or layer span ends, so that it covers the work it queued on an asynchronous device (an
    /// OpenCL backend's queue finish); null for the CPU, whose operations return when they are done.
    /// </summary>
    public Action? Synchronize { get; set; }

    /// <summary>Starts profiling everything this process runs until <see cref="Stop"/>.</summary>
    /// <param name="recordTrace">Keep every span for a Chrome trace, not only the totals.</param>
    /// <exception cref="InvalidOperationException">A profiler is already running.</exception>
    public static Profiler Start(bool recordTrace = false)
    {
        var profiler = new Profiler(recordTrace);
        if (Interlocked.CompareExchange(ref s_active, profiler, null) is not null)
            throw new InvalidOperationException("A profiler is already running; stop it before starting another.");
        return profiler;
    }

    /// <summary>Stops recording (a second call does nothing); the totals and the trace stay readable.</summary>
    public void Stop()
    {
        if (_stopped) return;
        // Launches still queued on a device report their times while this profiler is active; a device that cannot say
        // (closed, failed) costs those times, not the stop.
        if (Active == this) TrySynchronize();
        _stopped = true;
        Interlocked.CompareExchange(ref s_active, null, this);
        _stopTicks = Stopwatch.GetTimestamp();
    }

    private void TrySynchronize()
    {
        try { Synchronize?.Invoke(); }
        catch (Exception) when (!_stopped)
        {
            // A span ending because its work threw must not replace that exception with the device's; the timing is lost.
        }
    }

    /// <summary>
    /// Stops recording until the returned value is disposed (work that is not the run's own, such as a benchmark's
    /// reference timings); nothing while no profiler runs.
    /// </summary>
    public static Suspension Suspend()
    {
        var profiler = Active;
        return profiler is not null && Interlocked.CompareExchange(ref s_active, null, profiler) == profiler ? new Suspension(profiler) : default;
    }

    /// <summary>A profiler taken off recording by <see cref="Suspend"/>; disposing it resumes recording.</summary>
    public readonly struct Suspension : IDisposable
    {
        private readonly Profiler? _profiler;

        internal Suspension(Profiler profiler) => _profiler = profiler;

        /// <summary>Resumes recording, unless another profiler started meanwhile.</summary>
        public void Dispose()
        {
            if (_profiler is { _stopped: false }) Interlocked.CompareExchange(ref s_active, _profiler, null);
        }
    }

    /// <summary>Opens a span around one backend operation (a no-op scope when no profiler runs).</summary>
    /// <param name="name">The operation's name.</param>
    /// <param name="flops">Its floating-point operation count, where defined (2mnk for a GEMM), else 0.</param>
    public static ProfileScope Kernel(string name, double flops = 0) => Active is { } p ? p.BeginKernel(name, flops) : default;

    /// <summary>Opens a span around a layer's forward or backward pass.</summary>
    /// <param name="layer">The layer's label, the same for every pass of that layer.</param>
    /// <param name="pass">The pass.</param>
    public static ProfileScope Layer(string layer, LayerPass pass) => Active is { } p ? p.Begin(SpanCategory.Layer, p.Id(layer), pass) : default;

    /// <summary>
    /// Opens a span around an optimizer's update of <paramref name="parameter"/>, counted for the layer that
    /// <see cref="AttributeUpdates"/> named for it, else under <paramref name="name"/>.
    /// </summary>
    public static ProfileScope Update(object parameter, string name)
    {
        if (Active is not { } p) return default;
        int label;
        lock (p._gate) label = p._updateLabels.TryGetValue(parameter, out int id) ? id : p.IdLocked(name);
        return p.Begin(SpanCategory.Layer, label, LayerPass.Update);
    }

    /// <summary>Opens a span around one training update.</summary>
    public static ProfileScope Step() => Active is { } p ? p.Begin(SpanCategory.Step, p.Id("step"), LayerPass.Forward) : default;

    /// <summary>Counts the updates of <paramref name="parameter"/> under <paramref name="layer"/> in the layer totals.</summary>
    public void AttributeUpdates(object parameter, string layer)
    {
        lock (_gate) _updateLabels[parameter] = IdLocked(layer);
    }

    /// <summary>The start of a kernel-pool part, or 0 when no trace is being recorded (then <see cref="EndWork"/> does nothing).</summary>
    public static long BeginWork() => Active is { RecordsTrace: true } ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records the part <paramref name="part"/> of <paramref name="parts"/> of the current kernel that this thread ran since <paramref name="start"/>.</summary>
    public static void EndWork(long start, int part, int parts)
    {
        if (start == 0 || Active is not { } p) return;
        long end = Stopwatch.GetTimestamp();
        p.TrackOfThisThread().Events.Add(new Event(SpanCategory.Work, p._currentKernel, start, end, 0, part, parts));
    }

    /// <summary>
    /// Records one kernel launch timed by the device: <paramref name="deviceStart"/> and <paramref name="deviceEnd"/> in
    /// device nanoseconds, <paramref name="enqueuedAt"/> the <see cref="Stopwatch"/> timestamp when the host enqueued it
    /// (which places the device's clock on the host's for the trace).
    /// </summary>
    public void RecordDeviceKernel(string name, long enqueuedAt, ulong deviceStart, ulong deviceEnd, double flops)
    {
        double ticksPerNanosecond = Stopwatch.Frequency / 1e9;
        long duration = (long)((deviceEnd - deviceStart) * ticksPerNanosecond);
        lock (_gate)
        {
            if (_stopped) return;
            int id = IdLocked(name);
            var (calls, ticks, total) = _deviceKernels.GetValueOrDefault(id);
            _deviceKernels[id] = (calls + 1, ticks + duration, total + flops);
            if (!RecordsTrace) return;
            // The device's clock is placed on the host's at the first launch, which starts when it was enqueued; later ones
            // keep the device's own spacing. Differences of the 64-bit nanosecond counts are taken before any conversion.
            _firstDeviceStart ??= deviceStart;
            _deviceOffsetTicks ??= enqueuedAt;
            long start = _deviceOffsetTicks.Value + (long)((deviceStart - _firstDeviceStart.Value) * ticksPerNanosecond);
            DeviceTrack().Events.Add(new Event(SpanCategory.DeviceKernel, id, start, start + duration, 0, 0, 0));
        }
    }

    /// <summary>Seconds from <see cref="Start"/> to <see cref="Stop"/> (or to now, while running).</summary>
    public double ElapsedSeconds => Stopwatch.GetElapsedTime(_startTicks, _stopTicks != 0 ? _stopTicks : Stopwatch.GetTimestamp()).TotalSeconds;

    /// <summary>Training updates timed, and their total seconds.</summary>
    public (long Count, double Seconds) Steps
    {
        get { lock (_gate) return (_steps, Seconds(_stepTicks)); }
    }

    /// <summary>The kernels timed on the host, by total time, longest first.</summary>
    public IReadOnlyList<KernelTotals> Kernels() => Totals(_kernels);

    /// <summary>The kernel launches timed by a device, by total time, longest first (empty for the CPU).</summary>
    public IReadOnlyList<KernelTotals> DeviceKernels() => Totals(_deviceKernels);

    /// <summary>The layers in the order their first pass ran (a net's input layer first), then parameters no layer claimed.</summary>
    public IReadOnlyList<LayerTotals> Layers()
    {
        lock (_gate)
        {
            var rows = new List<LayerTotals>(_layerOrder.Count);
            foreach (int id in _layerOrder)
            {
                var forward = _layers.GetValueOrDefault((id, LayerPass.Forward));
                rows.Add(new LayerTotals(_names[id], Seconds(forward.Ticks), Seconds(_layers.GetValueOrDefault((id, LayerPass.Backward)).Ticks),
                    Seconds(_layers.GetValueOrDefault((id, LayerPass.Update)).Ticks), forward.Calls));
            }
            return rows;
        }
    }

    /// <summary>
    /// Writes the spans as a Chrome trace (the <c>traceEvents</c> JSON that Perfetto and chrome://tracing load): one track
    /// per thread that ran kernels (the caller and each kernel-pool worker), and one for a device's launches.
    /// </summary>
    /// <exception cref="InvalidOperationException">The profiler was started without <c>recordTrace</c>.</exception>
    public void WriteChromeTrace(Stream output)
    {
        if (!RecordsTrace) throw new InvalidOperationException("This profiler kept no spans: start it with recordTrace: true.");
        // Threads append to their own tracks without a lock while it records.
        if (!_stopped) throw new InvalidOperationException("Stop the profiler before writing its trace.");
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ms");
        json.WriteStartArray("traceEvents");
        lock (_gate)
        {
            Metadata(json, "process_name", 0, "shinso");
            foreach (var track in _tracks)
            {
                Metadata(json, "thread_name", track.Id, track.Name);
                json.WriteStartObject();
                json.WriteString("ph", "M");
                json.WriteString("name", "thread_sort_index");
                json.WriteNumber("pid", 1);
                json.WriteNumber("tid", track.Id);
                json.WriteStartObject("args");
                json.WriteNumber("sort_index", track.Id);
                json.WriteEndObject();
                json.WriteEndObject();
                // A worker thread appends to its own list; the pool is idle once the run has returned.
                foreach (var e in track.Events)
                {
                    json.WriteStartObject();
                    json.WriteString("name", e.Name >= 0 ? _names[e.Name] : "kernel");
                    json.WriteString("cat", e.Category switch
                    {
                        SpanCategory.Step => "step", SpanCategory.Layer => "layer", SpanCategory.Kernel => "kernel",
                        SpanCategory.Work => "kernel part", _ => "device kernel",
                    });
                    json.WriteString("ph", "X");
                    json.WriteNumber("ts", Microseconds(e.Start - _startTicks));
                    json.WriteNumber("dur", Microseconds(e.End - e.Start));
                    json.WriteNumber("pid", 1);
                    json.WriteNumber("tid", track.Id);
                    if (e.Category is SpanCategory.Layer || e.Category is SpanCategory.Work || e.Flops > 0)
                    {
                        json.WriteStartObject("args");
                        if (e.Category is SpanCategory.Layer) json.WriteString("pass", ((LayerPass)e.Extra).ToString().ToLowerInvariant());
                        else if (e.Category is SpanCategory.Work) { json.WriteNumber("part", e.Part); json.WriteNumber("parts", e.Extra); }
                        else json.WriteNumber("gflop", e.Flops / 1e9);
                        json.WriteEndObject();
                    }
                    json.WriteEndObject();
                }
            }
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Metadata(Utf8JsonWriter json, string kind, int thread, string name)
    {
        json.WriteStartObject();
        json.WriteString("ph", "M");
        json.WriteString("name", kind);
        json.WriteNumber("pid", 1);
        json.WriteNumber("tid", thread);
        json.WriteStartObject("args");
        json.WriteString("name", name);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private ProfileScope BeginKernel(string name, double flops)
    {
        if (t_kernelDepth++ > 0) return new ProfileScope(this, -1, 0, 0, SpanCategory.Kernel, 0);
        int id = Id(name);
        _currentKernel = id;
        return new ProfileScope(this, id, Stopwatch.GetTimestamp(), flops, SpanCategory.Kernel, 0);
    }

    private ProfileScope Begin(SpanCategory category, int id, LayerPass pass) =>
        new(this, id, Stopwatch.GetTimestamp(), 0, category, (byte)pass);

    internal void End(in ProfileScope scope)
    {
        if (scope.Category == SpanCategory.Kernel)
        {
            t_kernelDepth--;
            if (scope.Name < 0) return;
        }
        else TrySynchronize();
        if (_stopped) return;
        long end = Stopwatch.GetTimestamp(), ticks = end - scope.Start;
        lock (_gate)
        {
            switch (scope.Category)
            {
                case SpanCategory.Kernel:
                    var (calls, total, flops) = _kernels.GetValueOrDefault(scope.Name);
                    _kernels[scope.Name] = (calls + 1, total + ticks, flops + scope.Flops);
                    break;
                case SpanCategory.Layer:
                    var key = (scope.Name, (LayerPass)scope.Extra);
                    if (!_layers.TryGetValue(key, out var layer) && !_layerOrder.Contains(scope.Name)) _layerOrder.Add(scope.Name);
                    _layers[key] = (layer.Calls + 1, layer.Ticks + ticks);
                    break;
                default:
                    _steps++;
                    _stepTicks += ticks;
                    break;
            }
        }
        if (RecordsTrace) TrackOfThisThread().Events.Add(new Event(scope.Category, scope.Name, scope.Start, end, scope.Flops, 0, scope.Extra));
    }

    private int Id(string name)
    {
        lock (_gate) return IdLocked(name);
    }

    private int IdLocked(string name)
    {
        if (_ids.TryGetValue(name, out int id)) return id;
        _names.Add(name);
        return _ids[name] = _names.Count - 1;
    }

    private Track TrackOfThisThread()
    {
        var track = t_track;
        if (track is not null && track.Owner == this) return track;
        lock (_gate)
        {
            var thread = Thread.CurrentThread;
            track = new Track(this, _tracks.Count + 1, thread.Name ?? $"thread {thread.ManagedThreadId}");
            _tracks.Add(track);
        }
        return t_track = track;
    }

    private Track DeviceTrack()
    {
        foreach (var track in _tracks) if (track.IsDevice) return track;
        var device = new Track(this, _tracks.Count + 1, "device (OpenCL)") { IsDevice = true };
        _tracks.Add(device);
        return device;
    }

    private IReadOnlyList<KernelTotals> Totals(Dictionary<int, (long Calls, long Ticks, double Flops)> totals)
    {
        lock (_gate)
            return [.. totals.Select(t => new KernelTotals(_names[t.Key], t.Value.Calls, Seconds(t.Value.Ticks), t.Value.Flops)).OrderByDescending(t => t.Seconds)];
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static double Microseconds(long ticks) => Math.Round(ticks * 1e6 / Stopwatch.Frequency, 3);

    /// <summary>One span: <paramref name="Part"/> is a kernel-pool part's index, <paramref name="Extra"/> a layer span's pass or a part's count of parts.</summary>
    private readonly record struct Event(SpanCategory Category, int Name, long Start, long End, double Flops, int Part, int Extra);

    private sealed class Track(Profiler owner, int id, string name)
    {
        public Profiler Owner { get; } = owner;
        public int Id { get; } = id;
        public string Name { get; } = name;
        public bool IsDevice { get; init; }
        public List<Event> Events { get; } = [];
    }
}

/// <summary>A span that ends when disposed: <c>using var span = Profiler.Kernel("Gemm", 2.0 * m * n * k);</c>. The default
/// value, which every opener returns while no profiler runs, does nothing.</summary>
public readonly struct ProfileScope : IDisposable
{
    private readonly Profiler? _profiler;

    internal ProfileScope(Profiler profiler, int name, long start, double flops, SpanCategory category, byte extra)
    {
        _profiler = profiler;
        Name = name;
        Start = start;
        Flops = flops;
        Category = category;
        Extra = extra;
    }

    internal int Name { get; }
    internal long Start { get; }
    internal double Flops { get; }
    internal SpanCategory Category { get; }
    internal byte Extra { get; }

    /// <summary>Ends the span.</summary>
    public void Dispose() => _profiler?.End(this);
}
