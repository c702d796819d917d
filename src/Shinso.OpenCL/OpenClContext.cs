using System.Reflection;
using System.Text;
using Shinso.OpenCL.Native;
using static Shinso.OpenCL.Native.OpenClApi;

namespace Shinso.OpenCL;

/// <summary>
/// A context and in-order queue on one device, with its programs compiled once and its kernels
/// created once. Not thread-safe: clSetKernelArg on a shared kernel object must not race.
/// </summary>
internal sealed unsafe class OpenClContext : IDisposable
{
    /// <summary>
    /// Every kernel file but the GEMM's, which builds once per tile shape: <c>philox.cl</c> first, since the samplers of
    /// the others call it, then the rest by name, so a new kernel file joins the main program without being listed.
    /// </summary>
    private static readonly string[] MainProgramFiles =
    [
        PhiloxFile,
        .. typeof(OpenClContext).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".cl", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..])
            .Where(f => f is not (PhiloxFile or GemmFile))
            .Order(StringComparer.Ordinal),
    ];

    private const string ResourcePrefix = "kernels/";
    private const string PhiloxFile = "philox.cl";
    private const string GemmFile = "gemm.cl";

    /// <summary>
    /// Tuning knob: compiler options added to every program build, such as NVIDIA's <c>-cl-nv-verbose</c> or
    /// <c>-cl-nv-maxrregcount=128</c>. While it is set, each build's log goes to standard error, which is where
    /// <c>-cl-nv-verbose</c> reports registers and spills per kernel.
    /// </summary>
    public const string BuildOptionsVariable = "SHINSO_OPENCL_BUILD_OPTIONS";

    private readonly string _extraOptions = Environment.GetEnvironmentVariable(BuildOptionsVariable)?.Trim() ?? "";

    /// <summary>
    /// Fault injection, for testing what a run does when its device fails: <c>launch:N</c> makes every kernel launch after
    /// the first N fail with CL_DEVICE_NOT_AVAILABLE (a device lost mid-run), <c>alloc:N</c> every buffer allocation after
    /// the first N with CL_MEM_OBJECT_ALLOCATION_FAILURE (device memory exhausted).
    /// </summary>
    public const string FaultVariable = "SHINSO_OPENCL_FAULT";

    private readonly (bool Launches, long After)? _fault = ParseFault(Environment.GetEnvironmentVariable(FaultVariable));
    private long _allocations;
    private readonly Dictionary<string, nint> _programs = new();
    private readonly Dictionary<(string Program, string Kernel), nint> _kernels = new();
    private nint _context, _queue;

    public OpenClContext(OpenClDeviceInfo device, bool profileKernels)
    {
        Device = device;
        nint handle = device.DeviceHandle;
        int error;
        nint* properties = stackalloc nint[3];
        properties[0] = 0x1084;   // CL_CONTEXT_PLATFORM
        properties[1] = device.PlatformHandle;
        properties[2] = 0;
        _context = clCreateContext(properties, 1, &handle, 0, 0, &error);
        OpenClException.Check(error, "clCreateContext");
        _printProfile = Environment.GetEnvironmentVariable(KernelProfiler.EnvironmentVariable) is "1" or "true";
        if (profileKernels || _printProfile) Profiler = new KernelProfiler();
        _queue = clCreateCommandQueue(_context, handle, Profiler is null ? 0ul : CL_QUEUE_PROFILING_ENABLE, &error);
        OpenClException.Check(error, "clCreateCommandQueue");
    }

    public OpenClDeviceInfo Device { get; }

    private const ulong CL_QUEUE_PROFILING_ENABLE = 1ul << 1;

    /// <summary>Times every kernel launch when asked to or when <c>SHINSO_OPENCL_PROFILE=1</c>; null otherwise.</summary>
    public KernelProfiler? Profiler { get; }

    /// <summary>Whether the profile goes to standard error at <see cref="Dispose"/> (<c>SHINSO_OPENCL_PROFILE=1</c>).</summary>
    private readonly bool _printProfile;

    public nint Queue => _queue;

    /// <summary>A kernel of the main program.</summary>
    public nint Kernel(string name) => Kernel("main", "", name);

    /// <summary>A kernel of the GEMM program compiled with <paramref name="options"/> (the tile shape).</summary>
    public nint GemmKernel(string options, string name) => Kernel("gemm", options, name);

    private nint Kernel(string program, string options, string name)
    {
        string key = program + "|" + options;
        if (_kernels.TryGetValue((key, name), out nint kernel)) return kernel;
        nint built = Program(program, options);
        int error;
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* n = utf8) kernel = clCreateKernel(built, n, &error);
        OpenClException.Check(error, $"clCreateKernel({name})");
        _kernels[(key, name)] = kernel;
        return kernel;
    }

    private nint Program(string program, string options)
    {
        string key = program + "|" + options;
        if (_programs.TryGetValue(key, out nint built)) return built;
        string source = program == "main"
            ? string.Join("\n", MainProgramFiles.Select(KernelSource))
            : KernelSource(program + ".cl");
        byte[] text = Encoding.UTF8.GetBytes(source);
        int error;
        fixed (byte* s = text)
        {
            byte* strings = s;
            nuint length = (nuint)text.Length;
            built = clCreateProgramWithSource(_context, 1, &strings, &length, &error);
        }
        OpenClException.Check(error, "clCreateProgramWithSource");
        nint device = Device.DeviceHandle;
        string allOptions = $"-cl-std=CL1.2 {options} {_extraOptions}".Trim();
        byte[] flags = Encoding.UTF8.GetBytes(allOptions + "\0");
        int status;
        fixed (byte* f = flags) status = clBuildProgram(built, 1, &device, f, 0, 0);
        if (status != 0)
        {
            string log = BuildLog(built, device);
            clReleaseProgram(built);
            if (status == -11) throw new OpenClBuildException(program + ".cl " + allOptions, Device.Name, log);
            OpenClException.Check(status, "clBuildProgram");
        }
        if (_extraOptions.Length > 0)
            Console.Error.WriteLine($"OpenCL build of {program}.cl on {Device.Name} with '{allOptions}':\n{BuildLog(built, device)}");
        _programs[key] = built;
        return built;
    }

    private static string BuildLog(nint program, nint device)
    {
        nuint size = 0;
        if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, &size) != 0 || size == 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    /// <summary>The text of a kernel file embedded from the repository's kernels/ folder.</summary>
    public static string KernelSource(string file)
    {
        using Stream? stream = typeof(OpenClContext).Assembly.GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new InvalidOperationException($"The kernel file kernels/{file} is not embedded in {typeof(OpenClContext).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Kernels enqueued on this context so far: a profile's count, and the clock <see cref="FaultVariable"/> runs by.</summary>
    public long KernelLaunches { get; private set; }

    /// <summary>Counts a launch about to be enqueued; fails it when <see cref="FaultVariable"/> says the device is lost by now.</summary>
    public void CountLaunch(string kernel)
    {
        KernelLaunches++;
        if (_fault is { Launches: true } fault && KernelLaunches > fault.After)
            OpenClException.Check(CL_DEVICE_NOT_AVAILABLE, $"clEnqueueNDRangeKernel({kernel}) (launch {KernelLaunches}; {FaultVariable}=launch:{fault.After})");
    }

    private const int CL_DEVICE_NOT_AVAILABLE = -2, CL_MEM_OBJECT_ALLOCATION_FAILURE = -4;

    private static (bool Launches, long After)? ParseFault(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var parts = value.Trim().Split(':');
        if (parts.Length == 2 && parts[0] is "launch" or "alloc" && long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long after))
            return (parts[0] == "launch", after);
        throw new OpenClException($"${FaultVariable} must be launch:N or alloc:N (N a count), not '{value}'.");
    }

    public BufferHandle CreateBuffer(long bytes)
    {
        _allocations++;
        if (_fault is { Launches: false } fault && _allocations > fault.After)
            OpenClException.Check(CL_MEM_OBJECT_ALLOCATION_FAILURE, $"clCreateBuffer({bytes} bytes) (allocation {_allocations}; {FaultVariable}=alloc:{fault.After})");
        int error;
        nint memory = clCreateBuffer(_context, CL_MEM_READ_WRITE, (nuint)Math.Max(bytes, 4), null, &error);
        OpenClException.Check(error, $"clCreateBuffer({bytes} bytes)");
        return new BufferHandle(memory);
    }

    public void Finish() => OpenClException.Check(clFinish(_queue), "clFinish");

    public void Dispose()
    {
        foreach (nint kernel in _kernels.Values) clReleaseKernel(kernel);
        _kernels.Clear();
        foreach (nint program in _programs.Values) clReleaseProgram(program);
        _programs.Clear();
        if (_queue != 0)
        {
            clFinish(_queue);
            // The last launches' device times reach the running Shinso profiler before the queue goes.
            Profiler?.Collect();
            if (_printProfile) Console.Error.Write(Profiler!.Report(Device.Name));
            clReleaseCommandQueue(_queue);
            _queue = 0;
        }
        if (_context != 0) { clReleaseContext(_context); _context = 0; }
    }
}
