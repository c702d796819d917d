using System.Globalization;
using System.Text;
using Shinso.OpenCL.Native;
using static Shinso.OpenCL.Native.OpenClApi;

namespace Shinso.OpenCL;

/// <summary>
/// Device time per kernel, from OpenCL profiling events: the queue records when each launch started and ended on
/// the device (<see cref="OpenClBackend.KernelProfile"/>; with <c>SHINSO_OPENCL_PROFILE=1</c> the backend prints the
/// totals to standard error when it is disposed). Events are read back in batches, so profiling adds a wait per
/// batch, not per launch.
/// </summary>
internal sealed unsafe class KernelProfiler
{
    public const string EnvironmentVariable = "SHINSO_OPENCL_PROFILE";

    private const uint CL_PROFILING_COMMAND_START = 0x1282;
    private const uint CL_PROFILING_COMMAND_END = 0x1283;
    private const int Batch = 1024;

    private readonly List<(string Kernel, nint Event, long EnqueuedAt, double Flops, Shinso.Profiling.Profiler? Profile)> _pending = new(Batch);
    private double _nextFlops;
    private readonly Dictionary<string, (long Launches, long Nanoseconds)> _totals = new();

    /// <summary>The floating-point operations of the next launch (a GEMM's 2mnk), for the rate in Shinso's profile.</summary>
    public void FlopsOfNextLaunch(double flops) => _nextFlops = flops;

    public void Record(string kernel, nint evt)
    {
        // The profiler recording when the launch was enqueued gets its time (none while one is suspended).
        _pending.Add((kernel, evt, System.Diagnostics.Stopwatch.GetTimestamp(), _nextFlops, Shinso.Profiling.Profiler.Active));
        _nextFlops = 0;
        if (_pending.Count >= Batch) Collect();
    }

    /// <summary>Waits for the recorded launches and adds their device time to the totals, and to the
    /// <see cref="Shinso.Profiling.Profiler"/> that was recording when each was enqueued.</summary>
    public void Collect()
    {
        foreach (var (kernel, evt, enqueuedAt, flops, profile) in _pending)
        {
            nint e = evt;
            OpenClException.Check(clWaitForEvents(1, &e), "clWaitForEvents");
            ulong start = 0, end = 0;
            OpenClException.Check(clGetEventProfilingInfo(evt, CL_PROFILING_COMMAND_START, sizeof(ulong), &start, null), "clGetEventProfilingInfo");
            OpenClException.Check(clGetEventProfilingInfo(evt, CL_PROFILING_COMMAND_END, sizeof(ulong), &end, null), "clGetEventProfilingInfo");
            clReleaseEvent(evt);
            var (launches, nanoseconds) = _totals.GetValueOrDefault(kernel);
            _totals[kernel] = (launches + 1, nanoseconds + (long)(end - start));
            profile?.RecordDeviceKernel(kernel, enqueuedAt, start, end, flops);
        }
        _pending.Clear();
    }

    /// <summary>A table of kernels by total device time: launches, total ms, share, and µs per launch.</summary>
    public string Report(string device)
    {
        Collect();
        long all = Math.Max(1, _totals.Values.Sum(t => t.Nanoseconds));
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"OpenCL kernel time on {device} ({_totals.Values.Sum(t => t.Launches)} launches, {all / 1e6:F1} ms):");
        text.AppendLine("  kernel                          launches    total ms   share   us/launch");
        foreach (var (kernel, (launches, ns)) in _totals.OrderByDescending(t => t.Value.Nanoseconds))
            text.AppendLine(inv, $"  {kernel,-30} {launches,9} {ns / 1e6,11:F2} {100.0 * ns / all,6:F1}% {ns / 1e3 / launches,11:F1}");
        return text.ToString();
    }
}
