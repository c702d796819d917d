namespace Shinso.OpenCL.Native;

/// <summary>An OpenCL call failed; <see cref="Code"/> is the cl_int error and <see cref="CodeName"/> its name.</summary>
public class OpenClException : Exception
{
    /// <summary>Creates an exception for <paramref name="code"/> returned by <paramref name="call"/>.</summary>
    public OpenClException(int code, string call, string? detail = null)
        : base($"{call} failed with {NameOf(code)} ({code}){(detail is null ? "." : ": " + detail)}")
    {
        Code = code;
        CodeName = NameOf(code);
    }

    /// <summary>Creates an exception with a message of its own (no OpenCL call failed, but OpenCL cannot be used).</summary>
    public OpenClException(string message, Exception? inner = null) : base(message, inner)
    {
        CodeName = "";
    }

    /// <summary>Creates an exception for <paramref name="failure"/>'s call and code with more to say after its message.</summary>
    protected OpenClException(OpenClException failure, string detail)
        : base(WithSentence(failure.Message) + " " + detail, failure)
    {
        Code = failure.Code;
        CodeName = failure.CodeName;
    }

    private static string WithSentence(string message)
    {
        message = message.TrimEnd();
        return message.EndsWith('.') ? message : message + ".";
    }

    /// <summary>Whether <paramref name="code"/> says the device failed while it ran (lost, or out of memory or resources), not that it was called wrongly.</summary>
    public static bool IsDeviceFault(int code) => code is -2 or -4 or -5 or -6 or -61;

    /// <summary>The cl_int error code (0 when the failure was not an OpenCL call).</summary>
    public int Code { get; }

    /// <summary>The error's name from cl.h, such as <c>CL_OUT_OF_RESOURCES</c>.</summary>
    public string CodeName { get; }

    /// <summary>Throws the matching exception unless <paramref name="code"/> is CL_SUCCESS.</summary>
    internal static void Check(int code, string call)
    {
        if (code == 0) return;
        if (code is -4 or -5 or -6 or -61)
            throw new OpenClOutOfMemoryException(code, call);
        throw new OpenClException(code, call);
    }

    /// <summary>The name cl.h gives an error code.</summary>
    public static string NameOf(int code) => code switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -7 => "CL_PROFILING_INFO_NOT_AVAILABLE",
        -8 => "CL_MEM_COPY_OVERLAP",
        -9 => "CL_IMAGE_FORMAT_MISMATCH",
        -10 => "CL_IMAGE_FORMAT_NOT_SUPPORTED",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -12 => "CL_MAP_FAILURE",
        -13 => "CL_MISALIGNED_SUB_BUFFER_OFFSET",
        -14 => "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -15 => "CL_COMPILE_PROGRAM_FAILURE",
        -16 => "CL_LINKER_NOT_AVAILABLE",
        -17 => "CL_LINK_PROGRAM_FAILURE",
        -18 => "CL_DEVICE_PARTITION_FAILED",
        -19 => "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
        -30 => "CL_INVALID_VALUE",
        -31 => "CL_INVALID_DEVICE_TYPE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -35 => "CL_INVALID_QUEUE_PROPERTIES",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -37 => "CL_INVALID_HOST_PTR",
        -38 => "CL_INVALID_MEM_OBJECT",
        -39 => "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
        -40 => "CL_INVALID_IMAGE_SIZE",
        -41 => "CL_INVALID_SAMPLER",
        -42 => "CL_INVALID_BINARY",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -47 => "CL_INVALID_KERNEL_DEFINITION",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET",
        -57 => "CL_INVALID_EVENT_WAIT_LIST",
        -58 => "CL_INVALID_EVENT",
        -59 => "CL_INVALID_OPERATION",
        -60 => "CL_INVALID_GL_OBJECT",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -62 => "CL_INVALID_MIP_LEVEL",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -64 => "CL_INVALID_PROPERTY",
        -65 => "CL_INVALID_IMAGE_DESCRIPTOR",
        -66 => "CL_INVALID_COMPILER_OPTIONS",
        -67 => "CL_INVALID_LINKER_OPTIONS",
        -68 => "CL_INVALID_DEVICE_PARTITION_COUNT",
        -69 => "CL_INVALID_PIPE_SIZE",
        -70 => "CL_INVALID_DEVICE_QUEUE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "an unknown OpenCL error",
    };
}

/// <summary>The device ran out of memory (or of the resources a launch needs).</summary>
public sealed class OpenClOutOfMemoryException(int code, string call)
    : OpenClException(code, call, "the device is out of memory; use a smaller batch or model, or a device with more memory");

/// <summary>
/// The device failed during a run (<see cref="OpenClException.IsDeviceFault"/>): the failure, with what the run left and how to
/// go on. <see cref="Exception.InnerException"/> is the failure itself.
/// </summary>
public sealed class OpenClDeviceFaultException(OpenClException failure, string whatWasLeft) : OpenClException(failure, whatWasLeft);

/// <summary>A kernel program failed to compile; <see cref="BuildLog"/> holds the compiler's output.</summary>
public sealed class OpenClBuildException(string program, string device, string buildLog)
    : OpenClException($"Building the OpenCL program '{program}' for {device} failed:\n{buildLog}")
{
    /// <summary>The compiler's log.</summary>
    public string BuildLog { get; } = buildLog;
}
