using System.Text;
using Shinso.OpenCL.Native;
using static Shinso.OpenCL.Native.OpenClApi;

namespace Shinso.OpenCL;

/// <summary>One OpenCL device as the ICD loader reports it.</summary>
/// <param name="Index">The device's number across all platforms, as <c>--device N</c> takes it.</param>
/// <param name="Platform">The platform's name, e.g. <c>NVIDIA CUDA</c> or <c>Portable Computing Language</c>.</param>
/// <param name="Name">The device's name.</param>
/// <param name="Vendor">The device's vendor.</param>
/// <param name="Version">The OpenCL version string the device reports.</param>
/// <param name="DriverVersion">The driver's version string.</param>
/// <param name="Type">gpu, cpu, accelerator or other.</param>
/// <param name="GlobalMemoryBytes">Global memory in bytes.</param>
/// <param name="MaxAllocationBytes">The largest single buffer in bytes.</param>
/// <param name="LocalMemoryBytes">Local (work-group shared) memory in bytes.</param>
/// <param name="ComputeUnits">Compute units (streaming multiprocessors, CPU cores, ...).</param>
/// <param name="ClockMegahertz">The maximum clock frequency in MHz.</param>
/// <param name="MaxWorkGroupSize">The largest work-group the device runs.</param>
public sealed record OpenClDeviceInfo(
    int Index, string Platform, string Name, string Vendor, string Version, string DriverVersion, string Type,
    ulong GlobalMemoryBytes, ulong MaxAllocationBytes, ulong LocalMemoryBytes, uint ComputeUnits, uint ClockMegahertz, ulong MaxWorkGroupSize)
{
    internal nint PlatformHandle { get; init; }
    internal nint DeviceHandle { get; init; }
}

/// <summary>Finds the OpenCL platforms and devices on this machine.</summary>
public static unsafe class OpenClDevices
{
    /// <summary>What to install when OpenCL is missing, for error messages.</summary>
    public const string InstallHint =
        "install the OpenCL ICD loader and a driver: on Debian `sudo apt-get install ocl-icd-libopencl1 pocl-opencl-icd` " +
        "(POCL runs on the CPU), or your GPU vendor's OpenCL driver";

    /// <summary>
    /// All devices of all platforms, numbered in platform order.
    /// </summary>
    /// <exception cref="OpenClException">libOpenCL.so.1 is missing or no platform is installed; the message says what to install.</exception>
    public static IReadOnlyList<OpenClDeviceInfo> List()
    {
        uint platformCount = 0;
        int status;
        try
        {
            status = clGetPlatformIDs(0, null, &platformCount);
        }
        catch (DllNotFoundException e)
        {
            throw new OpenClException($"OpenCL is not available: {Library} was not found; {InstallHint}.", e);
        }
        // The Khronos ICD loader reports "no platform" as CL_PLATFORM_NOT_FOUND_KHR rather than a zero count.
        if (status == -1001 || (status == 0 && platformCount == 0))
            throw new OpenClException($"OpenCL is not available: {Library} found no platform (check OCL_ICD_VENDORS and /etc/OpenCL/vendors); {InstallHint}.");
        OpenClException.Check(status, "clGetPlatformIDs");

        var platforms = new nint[platformCount];
        fixed (nint* p = platforms) OpenClException.Check(clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");
        var devices = new List<OpenClDeviceInfo>();
        foreach (nint platform in platforms)
        {
            string platformName = PlatformString(platform, CL_PLATFORM_NAME);
            uint count = 0;
            int found = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, &count);
            if (found == -1 || count == 0) continue;   // CL_DEVICE_NOT_FOUND: a platform with no devices
            OpenClException.Check(found, "clGetDeviceIDs");
            var ids = new nint[count];
            fixed (nint* d = ids) OpenClException.Check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, d, null), "clGetDeviceIDs");
            foreach (nint device in ids)
            {
                ulong type = DeviceValue<ulong>(device, CL_DEVICE_TYPE_INFO);
                devices.Add(new OpenClDeviceInfo(
                    devices.Count, platformName, DeviceString(device, CL_DEVICE_NAME), DeviceString(device, CL_DEVICE_VENDOR),
                    DeviceString(device, CL_DEVICE_VERSION), DeviceString(device, CL_DRIVER_VERSION),
                    (type & CL_DEVICE_TYPE_GPU) != 0 ? "gpu" : (type & CL_DEVICE_TYPE_CPU) != 0 ? "cpu" : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other",
                    DeviceValue<ulong>(device, CL_DEVICE_GLOBAL_MEM_SIZE), DeviceValue<ulong>(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                    DeviceValue<ulong>(device, CL_DEVICE_LOCAL_MEM_SIZE), DeviceValue<uint>(device, CL_DEVICE_MAX_COMPUTE_UNITS),
                    DeviceValue<uint>(device, CL_DEVICE_MAX_CLOCK_FREQUENCY), DeviceValue<nuint>(device, CL_DEVICE_MAX_WORK_GROUP_SIZE))
                {
                    PlatformHandle = platform,
                    DeviceHandle = device,
                });
            }
        }
        if (devices.Count == 0)
            throw new OpenClException($"OpenCL is not available: {platformCount} platform(s) but no device; {InstallHint}.");
        return devices;
    }

    private delegate int InfoQuery(nuint size, void* value, nuint* sizeReturned);

    private static string PlatformString(nint platform, uint name) =>
        InfoString((size, value, returned) => clGetPlatformInfo(platform, name, size, value, returned), "clGetPlatformInfo");

    private static string DeviceString(nint device, uint name) =>
        InfoString((size, value, returned) => clGetDeviceInfo(device, name, size, value, returned), "clGetDeviceInfo");

    // OpenCL's two-call idiom: ask for the size, then for the null-terminated text.
    private static string InfoString(InfoQuery query, string call)
    {
        nuint size = 0;
        OpenClException.Check(query(0, null, &size), call);
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenClException.Check(query(size, b, null), call);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static T DeviceValue<T>(nint device, uint name) where T : unmanaged
    {
        T value = default;
        OpenClException.Check(clGetDeviceInfo(device, name, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }
}
