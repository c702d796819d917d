using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.OpenCL;

public sealed partial class OpenClBackend : IDeviceKernels
{
    private DeviceKernelLaunch? _kernelPairLaunch;

    /// <inheritdoc />
    public void Run<TKernel>(TKernel kernel) where TKernel : struct, IKernelPair
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        kernel.Validate();
        kernel.Enqueue(this);
    }

    IDeviceKernelLaunch IDeviceKernels.Launch(string kernel)
    {
        _kernelPairLaunch ??= new DeviceKernelLaunch(this);
        _kernelPairLaunch.Start(Launch(kernel));
        return _kernelPairLaunch;
    }

    /// <summary>The one launch a kernel pair builds at a time (the backend is used from one thread), reused so a run allocates nothing.</summary>
    private sealed class DeviceKernelLaunch(OpenClBackend backend) : IDeviceKernelLaunch
    {
        private KernelLaunch _launch;

        public void Start(KernelLaunch launch) => _launch = launch;

        public IDeviceKernelLaunch Tensor(Tensor tensor, string argument)
        {
            backend.Device(tensor, argument);
            _launch = _launch.Tensor(tensor);
            return this;
        }

        public IDeviceKernelLaunch Int(int value)
        {
            _launch = _launch.Int(value);
            return this;
        }

        public IDeviceKernelLaunch Float(float value)
        {
            _launch = _launch.Float(value);
            return this;
        }

        public void Run(int x, int y = 1, int z = 1) => _launch.Run(x, y, z);
    }
}
