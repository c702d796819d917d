using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Operations;

namespace Shinso.Tests.Backends;

public class CpuBackendTests
{
    [Fact]
    public void Gemm_on_tensors_multiplies_with_transposes()
    {
        var backend = new CpuBackend();
        var a = backend.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);     // 2 x 3
        var b = backend.FromArray([1f, 0f, 0f, 1f, 1f, 1f], 2, 3);     // stored 2 x 3, used transposed (3 x 2)
        var c = backend.Allocate(2, 2);
        backend.Gemm(Transpose.None, Transpose.Transposed, 1f, a, b, 0f, c);
        // op(b) = [[1, 1], [0, 1], [0, 1]]: row i of C is (a[i,0], a[i,0] + a[i,1] + a[i,2]).
        Assert.Equal([1f, 6f, 4f, 15f], c.Span.ToArray());
    }

    [Fact]
    public void Gemm_shape_mismatches_name_the_argument_and_the_shapes()
    {
        var backend = new CpuBackend();
        var a = backend.Allocate(2, 3);
        var b = backend.Allocate(4, 5);
        var e = Assert.Throws<ArgumentException>(() => backend.Gemm(Transpose.None, Transpose.None, 1f, a, b, 0f, backend.Allocate(2, 5)));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("[4, 5]", e.Message);
        var c = Assert.Throws<ArgumentException>(() => backend.Gemm(Transpose.None, Transpose.None, 1f, a, backend.Allocate(3, 5), 0f, backend.Allocate(3, 5)));
        Assert.Equal("c", c.ParamName);
    }

    [Fact]
    public void Tensors_from_another_backend_are_rejected()
    {
        var one = new CpuBackend();
        var other = new CpuBackend();
        var e = Assert.Throws<ArgumentException>(() => one.Fill(other.Allocate(3), 1f));
        Assert.Equal("tensor", e.ParamName);
    }

    [Fact]
    public void A_forced_path_the_cpu_lacks_is_refused_and_every_supported_path_gives_the_same_activations()
    {
        float[]? reference = null;
        foreach (var path in new[] { SimdPath.Scalar, SimdPath.Avx2, SimdPath.Avx512 })
        {
            if (!CpuKernelOptions.IsSupported(path))
            {
                Assert.Throws<PlatformNotSupportedException>(() => new CpuBackend(new CpuKernelOptions(path)));
                continue;
            }
            var backend = new CpuBackend(new CpuKernelOptions(path, 1));
            var x = backend.Allocate(37);
            backend.SampleUniform(new Shinso.Random.RandomStream(3, 4), 0, x);
            // Inputs on both sides of the kink: ReLU is the identity on [0, 1), so uniform draws alone would not test it.
            var inputs = x.Span.ToArray().Select(u => 2f * u - 1f).ToArray();
            backend.Upload(inputs, x);
            backend.Activate(Activation.Relu, x, x);
            var outputs = x.Span.ToArray();
            Assert.Contains(inputs, v => v < 0);
            Assert.Equal(inputs.Select(v => v > 0 ? v : 0f), outputs);
            reference ??= outputs;
            Assert.Equal(reference, outputs);
        }
    }

    [Fact]
    public void Upload_and_download_check_lengths()
    {
        var backend = new CpuBackend();
        var t = backend.Allocate(4);
        backend.Upload([1f, 2f, 3f, 4f], t);
        var back = new float[4];
        backend.Download(t, back);
        Assert.Equal([1f, 2f, 3f, 4f], back);
        var e = Assert.Throws<ArgumentException>(() => backend.Upload([1f, 2f], t));
        Assert.Contains("2", e.Message);
        Assert.Contains("4", e.Message);
    }
}
