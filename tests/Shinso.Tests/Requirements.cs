using Shinso.Data;
using Shinso.Kernels.Cpu;

namespace Shinso.Tests;

/// <summary>
/// What a test needs from the machine, decided when the tests are discovered: where it is missing, xunit reports the
/// test as skipped with the reason (and test.sh lists the skips under CI=true), never as a silent pass.
/// </summary>
internal static class Requirements
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The rows of <paramref name="wanted"/> this CPU can run; the missing ones are reported by <see cref="SimdCoverageTests"/>.</summary>
    public static TheoryData<SimdPath> SupportedPaths(params SimdPath[] wanted)
    {
        var data = new TheoryData<SimdPath>();
        foreach (var path in wanted) if (CpuKernelOptions.IsSupported(path)) data.Add(path);
        return data;
    }

    /// <summary>Where Debian's chromium package installs the browser (null: not installed).</summary>
    public static string? ChromiumPath => File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : null;

    /// <summary>Where Debian's dataset-fashion-mnist installs the full set's test labels.</summary>
    public static bool FullFashionMnistInstalled =>
        File.Exists(Path.Combine(FashionMnist.DefaultDirectory, FashionMnist.TestLabelsFile + ".gz"));
}

/// <summary>A fact that needs the AVX-512 kernels: skipped, with the reason, on a CPU without them.</summary>
public sealed class RequiresAvx512FactAttribute : FactAttribute
{
    public RequiresAvx512FactAttribute()
    {
        if (!CpuKernelOptions.IsSupported(SimdPath.Avx512)) Skip = "this CPU has no AVX-512 (AVX512F): the AVX-512 kernels cannot run here";
    }
}

/// <summary>A fact that needs the AVX2 + FMA kernels: skipped, with the reason, on a CPU without them.</summary>
public sealed class RequiresAvx2FactAttribute : FactAttribute
{
    public RequiresAvx2FactAttribute()
    {
        if (!CpuKernelOptions.IsSupported(SimdPath.Avx2)) Skip = "this CPU has no AVX2 + FMA: the AVX2 kernels cannot run here";
    }
}

/// <summary>
/// A fact that needs the full Fashion-MNIST from Debian's dataset-fashion-mnist. Skipped (with the reason) where it is
/// not installed, except under CI=true: test.sh installs it there, so its absence is a failure the test reports.
/// </summary>
public sealed class RequiresFullFashionMnistFactAttribute : FactAttribute
{
    public RequiresFullFashionMnistFactAttribute()
    {
        if (!Requirements.FullFashionMnistInstalled && !Requirements.InCi)
            Skip = $"the full Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory} (apt-get install dataset-fashion-mnist)";
    }
}

/// <summary>
/// A fact that renders pages in headless Chromium (Debian's chromium). Skipped (with the reason) where it is not installed,
/// except under CI=true: test.sh installs it there, so its absence is a failure the test reports.
/// </summary>
public sealed class RequiresChromiumFactAttribute : FactAttribute
{
    public RequiresChromiumFactAttribute()
    {
        if (Requirements.ChromiumPath is null && !Requirements.InCi)
            Skip = "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)";
    }
}

/// <summary>One test per instruction-set path: skipped with the reason where this CPU lacks the path, so the theories'
/// missing rows (they run only the paths this CPU has) show in the results.</summary>
public class SimdCoverageTests
{
    [RequiresAvx512Fact]
    public void The_avx512_rows_of_the_simd_theories_run_on_this_cpu() => Assert.True(CpuKernelOptions.IsSupported(SimdPath.Avx512));

    [RequiresAvx2Fact]
    public void The_avx2_rows_of_the_simd_theories_run_on_this_cpu() => Assert.True(CpuKernelOptions.IsSupported(SimdPath.Avx2));
}
