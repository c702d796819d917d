using System.Runtime.Intrinsics.X86;

namespace Shinso.Kernels.Cpu;

/// <summary>Which instruction set a CPU kernel runs on.</summary>
public enum SimdPath
{
    /// <summary>The widest path this CPU supports.</summary>
    Auto,
    /// <summary>512-bit AVX-512F code.</summary>
    Avx512,
    /// <summary>256-bit AVX2 + FMA code.</summary>
    Avx2,
    /// <summary>Plain scalar code, on any CPU.</summary>
    Scalar,
}

/// <summary>Settings for the CPU kernels: instruction-set path and thread count.</summary>
/// <param name="Path">The path to run; <see cref="SimdPath.Auto"/> picks the widest supported.</param>
/// <param name="Threads">Worker threads; 0 means all cores.</param>
public readonly record struct CpuKernelOptions(SimdPath Path = SimdPath.Auto, int Threads = 0)
{
    /// <summary>The path that will actually run.</summary>
    /// <exception cref="PlatformNotSupportedException">A path was forced that this CPU lacks.</exception>
    public SimdPath ResolvedPath => Resolve(Path);

    /// <summary>The thread count that will actually be used (at least 1).</summary>
    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>True when the CPU can run <paramref name="path"/>.</summary>
    public static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Auto or SimdPath.Scalar => true,
        SimdPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        // Vector512.IsHardwareAccelerated is false on Skylake-SP although AVX-512F runs at full
        // width there, so the ISA check is the one that counts.
        SimdPath.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>Maps <see cref="SimdPath.Auto"/> to the widest supported path and checks forced ones.</summary>
    public static SimdPath Resolve(SimdPath path)
    {
        if (path == SimdPath.Auto)
            return IsSupported(SimdPath.Avx512) ? SimdPath.Avx512 : IsSupported(SimdPath.Avx2) ? SimdPath.Avx2 : SimdPath.Scalar;
        if (!IsSupported(path))
            throw new PlatformNotSupportedException($"The {path} kernel path was requested but this CPU does not support it.");
        return path;
    }
}
