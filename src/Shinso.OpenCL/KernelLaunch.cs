using Shinso.OpenCL.Native;
using Shinso.Tensors;
using static Shinso.OpenCL.Native.OpenClApi;

namespace Shinso.OpenCL;

/// <summary>
/// Sets a kernel's arguments in order and enqueues it: <c>Launch("axpy").Float(a).Tensor(x).Tensor(y).Int(n).Run(n)</c>.
/// A tensor is two arguments, its buffer and its element offset.
/// </summary>
internal readonly unsafe struct KernelLaunch(nint kernel, OpenClContext context, string name, uint index)
{
    /// <summary>Work-items per group for the one-item-per-element kernels.</summary>
    public const int GroupSize = 64;

    private KernelLaunch Set(nuint size, void* value)
    {
        int status = clSetKernelArg(kernel, index, size, value);
        if (status != 0) OpenClException.Check(status, $"clSetKernelArg({name}, {index})");
        return new KernelLaunch(kernel, context, name, index + 1);
    }

    public KernelLaunch Tensor(Tensor t)
    {
        nint memory = ((DeviceStorage)t.Storage).Buffer.DangerousGetHandle();
        return Set((nuint)sizeof(nint), &memory).Int(t.Offset);
    }

    public KernelLaunch Buffer(BufferHandle buffer)
    {
        nint memory = buffer.DangerousGetHandle();
        return Set((nuint)sizeof(nint), &memory);
    }

    public KernelLaunch Int(int value) => Set(sizeof(int), &value);

    public KernelLaunch Float(float value) => Set(sizeof(float), &value);

    public KernelLaunch ULong(ulong value) => Set(sizeof(ulong), &value);

    /// <summary>One item per element for <paramref name="count"/> elements (nothing when 0).</summary>
    public void Run(int count) => Run(count, 1, 1, GroupSize, 1);

    /// <summary>A 2-D range whose first axis is rounded up to whole groups of <see cref="GroupSize"/>.</summary>
    public void Run(int x, int y) => Run(x, y, 1, GroupSize, 1);

    /// <summary>A 3-D range whose first axis is rounded up to whole groups of <see cref="GroupSize"/>.</summary>
    public void Run(int x, int y, int z) => Run(x, y, z, GroupSize, 1);

    /// <summary>An explicit range; each global size is rounded up to a multiple of its local size.</summary>
    public void Run(long x, long y, long z, int localX, int localY)
    {
        if (x <= 0 || y <= 0 || z <= 0) return;
        nuint* global = stackalloc nuint[3];
        nuint* local = stackalloc nuint[3];
        global[0] = (nuint)((x + localX - 1) / localX * localX);
        global[1] = (nuint)((y + localY - 1) / localY * localY);
        global[2] = (nuint)z;
        local[0] = (nuint)localX;
        local[1] = (nuint)localY;
        local[2] = 1;
        context.CountLaunch(name);
        var profiler = context.Profiler;
        nint evt = 0;
        int status = clEnqueueNDRangeKernel(context.Queue, kernel, 3, null, global, local, 0, null, profiler is null ? null : &evt);
        if (status != 0) OpenClException.Check(status, $"clEnqueueNDRangeKernel({name})");
        profiler?.Record(name, evt);
    }
}
