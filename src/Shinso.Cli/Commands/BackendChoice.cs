using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.OpenCL;
using Shinso.OpenCL.Native;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>Turns --backend / --device / $SHINSO_BACKEND into a backend.</summary>
internal static class BackendChoice
{
    /// <summary>The environment variable that picks the backend when --backend is not given.</summary>
    public const string EnvironmentVariable = "SHINSO_BACKEND";

    public static IBackend Create(string? choice, int? device, int threads, SimdPath path)
    {
        var backend = Open(choice, device, threads, path);
        ProfilingSession.Current?.Attach(backend);
        return backend;
    }

    private static IBackend Open(string? choice, int? device, int threads, SimdPath path)
    {
        // A profiled run times every OpenCL launch with the device's own events.
        bool profileKernels = ProfilingSession.Current is not null;
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        string source = choice is not null ? "--backend" : $"${EnvironmentVariable}";
        choice ??= string.IsNullOrWhiteSpace(fromEnvironment) ? "cpu" : fromEnvironment.Trim();
        switch (choice)
        {
            case "cpu":
                return new CpuBackend(new CpuKernelOptions(path, threads));
            case "opencl":
                return new OpenClBackend(device ?? 0, profileKernels);
            case "auto":
                try
                {
                    var devices = OpenClDevices.List();
                    var pick = device is int d ? devices.FirstOrDefault(x => x.Index == d) : devices.FirstOrDefault(x => x.Type is "gpu" or "accelerator");
                    if (pick is not null) return new OpenClBackend(pick.Index, profileKernels);
                    Warn(device is int missing
                        ? $"auto: OpenCL device {missing} does not exist; using the CPU."
                        : "auto: no OpenCL GPU found (" + string.Join("; ", devices.Select(x => $"{x.Index}: {x.Name}, {x.Type}")) + "); using the CPU.");
                }
                catch (OpenClException e)
                {
                    Warn($"auto: {e.Message} Using the CPU.");
                }
                return new CpuBackend(new CpuKernelOptions(path, threads));
            default:
                throw new UsageException($"{source} must be cpu, opencl or auto, not '{choice}'.");
        }
    }

    private static void Warn(string message) => CommonOptions.Err.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
}
