using Shinso.Kernels.Cpu;
using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Backends.KernelPairs;

/// <summary>
/// Local response normalization across the <paramref name="Channels"/> of <c>[N, channels, spatial]</c> images (see
/// <see cref="LrnParameters"/>); <paramref name="Scale"/> (same shape) receives the denominators' bases
/// <c>Bias + Alpha/Size * sum a^2</c> for <see cref="LrnBackward"/>. CPU: <see cref="Normalization.LrnForward"/>;
/// OpenCL: <c>lrn_forward</c> in <c>kernels/normalization.cl</c>.
/// </summary>
/// <param name="Input">The images.</param>
/// <param name="Channels">Channels per image.</param>
/// <param name="Parameters">Size, alpha, beta and bias.</param>
/// <param name="Output">The normalized images (same shape).</param>
/// <param name="Scale">The denominators' bases (same shape).</param>
public readonly record struct LrnForward(Tensor Input, int Channels, LrnParameters Parameters, Tensor Output, Tensor Scale) : IKernelPair
{
    /// <inheritdoc />
    public void Validate()
    {
        Parameters.Validate();
        BackendArguments.SameLength(Input, Output, nameof(Input), nameof(Output));
        BackendArguments.SameLength(Input, Scale, nameof(Input), nameof(Scale));
        BackendArguments.Spatial(Input, Channels, nameof(Input));
    }

    /// <inheritdoc />
    public void RunOnCpu(ICpuKernelHost host) =>
        Normalization.LrnForward(host.Host(Input, nameof(Input)), Input.Rows, Channels, Input.Columns / Channels, Parameters,
            host.Host(Output, nameof(Output)), host.Host(Scale, nameof(Scale)), host.Options);

    /// <inheritdoc />
    public void Enqueue(IDeviceKernels device)
    {
        int spatial = Input.Columns / Channels;
        device.Launch("lrn_forward").Tensor(Input, nameof(Input)).Tensor(Output, nameof(Output)).Tensor(Scale, nameof(Scale))
            .Int(Channels).Int(spatial).Int(Input.Rows).Int(Parameters.Before).Int(Parameters.After)
            .Float(Parameters.Alpha / Parameters.Size).Float(Parameters.Beta).Float(Parameters.Bias)
            .Run(spatial, Channels, Input.Rows);
    }
}

/// <summary>
/// The gradient of <see cref="LrnForward"/>:
/// <c>dx[i] = dy[i] s[i]^-Beta - 2 Alpha Beta / Size * x[i] * sum_{j: i in window(j)} dy[j] y[j] / s[j]</c>.
/// CPU: <see cref="Normalization.LrnBackward"/>; OpenCL: <c>lrn_backward</c> in <c>kernels/normalization.cl</c>.
/// </summary>
/// <param name="Input">The forward pass's images.</param>
/// <param name="Output">The forward pass's output.</param>
/// <param name="Scale">The forward pass's denominators' bases.</param>
/// <param name="OutputGradient">The loss's gradient with respect to <paramref name="Output"/>.</param>
/// <param name="Channels">Channels per image.</param>
/// <param name="Parameters">Size, alpha, beta and bias.</param>
/// <param name="InputGradient">Receives the loss's gradient with respect to <paramref name="Input"/>.</param>
public readonly record struct LrnBackward(Tensor Input, Tensor Output, Tensor Scale, Tensor OutputGradient, int Channels, LrnParameters Parameters,
    Tensor InputGradient) : IKernelPair
{
    /// <inheritdoc />
    public void Validate()
    {
        new LrnForward(Input, Channels, Parameters, Output, Scale).Validate();
        BackendArguments.SameLength(Input, OutputGradient, nameof(Input), nameof(OutputGradient));
        BackendArguments.SameLength(Input, InputGradient, nameof(Input), nameof(InputGradient));
    }

    /// <inheritdoc />
    public void RunOnCpu(ICpuKernelHost host)
    {
        int spatial = Input.Columns / Channels;
        var scratch = host.Scratch(Normalization.LrnScratchLength(Input.Rows, Channels, spatial));
        Normalization.LrnBackward(host.Host(Input, nameof(Input)), host.Host(Output, nameof(Output)), host.Host(Scale, nameof(Scale)),
            host.Host(OutputGradient, nameof(OutputGradient)), Input.Rows, Channels, spatial, Parameters, host.Host(InputGradient, nameof(InputGradient)),
            scratch, host.Options);
    }

    /// <inheritdoc />
    public void Enqueue(IDeviceKernels device)
    {
        int spatial = Input.Columns / Channels;
        device.Launch("lrn_backward").Tensor(Input, nameof(Input)).Tensor(Output, nameof(Output)).Tensor(Scale, nameof(Scale))
            .Tensor(OutputGradient, nameof(OutputGradient)).Tensor(InputGradient, nameof(InputGradient))
            .Int(Channels).Int(spatial).Int(Input.Rows).Int(Parameters.Before).Int(Parameters.After)
            .Float(-2f * Parameters.Alpha * Parameters.Beta / Parameters.Size).Float(Parameters.Beta)
            .Run(spatial, Channels, Input.Rows);
    }
}
