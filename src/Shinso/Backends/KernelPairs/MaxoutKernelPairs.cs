using Shinso.Kernels.Cpu;
using Shinso.Tensors;

namespace Shinso.Backends.KernelPairs;

/// <summary>
/// Maxout over <paramref name="Pieces"/> piece-major slabs: <c>Output[n, i] = max_j Input[n, j * units + i]</c>, where
/// <c>units</c> is <paramref name="Output"/>'s columns. CPU: <see cref="Maxout.Forward"/>; OpenCL: <c>maxout_forward</c>
/// in <c>kernels/maxout.cl</c>.
/// </summary>
/// <param name="Input">[N, pieces * units].</param>
/// <param name="Pieces">Pieces per unit (at least 1).</param>
/// <param name="Output">[N, units]; must not overlap <paramref name="Input"/>.</param>
public readonly record struct MaxoutForward(Tensor Input, int Pieces, Tensor Output) : IKernelPair
{
    /// <inheritdoc />
    public void Validate()
    {
        MaxoutShapes.Check(Input, Pieces, Output);
        BackendArguments.Disjoint(Input, Output, nameof(Input), nameof(Output));
    }

    /// <inheritdoc />
    public void RunOnCpu(ICpuKernelHost host) =>
        Maxout.Forward(host.Host(Input, nameof(Input)), Input.Rows, Pieces, host.Host(Output, nameof(Output)), host.Options);

    /// <inheritdoc />
    public void Enqueue(IDeviceKernels device) =>
        device.Launch("maxout_forward").Tensor(Input, nameof(Input)).Tensor(Output, nameof(Output)).Int(Output.Columns).Int(Pieces)
            .Run(Output.Columns, Output.Rows);
}

/// <summary>
/// The gradient of <see cref="MaxoutForward"/>: <c>InputGradient[n, j * units + i] = OutputGradient[n, i]</c> for the
/// first piece <c>j</c> whose input equals <c>Output[n, i]</c>, 0 for the others. CPU: <see cref="Maxout.Backward"/>;
/// OpenCL: <c>maxout_backward</c> in <c>kernels/maxout.cl</c>.
/// </summary>
/// <param name="Input">The forward pass's input, [N, pieces * units].</param>
/// <param name="Output">The forward pass's output, [N, units].</param>
/// <param name="OutputGradient">The loss's gradient with respect to <paramref name="Output"/>.</param>
/// <param name="Pieces">Pieces per unit.</param>
/// <param name="InputGradient">Receives the loss's gradient with respect to <paramref name="Input"/>; must not overlap the others.</param>
public readonly record struct MaxoutBackward(Tensor Input, Tensor Output, Tensor OutputGradient, int Pieces, Tensor InputGradient) : IKernelPair
{
    /// <inheritdoc />
    public void Validate()
    {
        MaxoutShapes.Check(Input, Pieces, Output);
        BackendArguments.SameLength(Output, OutputGradient, nameof(Output), nameof(OutputGradient));
        BackendArguments.SameLength(Input, InputGradient, nameof(Input), nameof(InputGradient));
        BackendArguments.Disjoint(Input, InputGradient, nameof(Input), nameof(InputGradient));
        BackendArguments.Disjoint(Output, InputGradient, nameof(Output), nameof(InputGradient));
        BackendArguments.Disjoint(OutputGradient, InputGradient, nameof(OutputGradient), nameof(InputGradient));
    }

    /// <inheritdoc />
    public void RunOnCpu(ICpuKernelHost host) =>
        Maxout.Backward(host.Host(Input, nameof(Input)), host.Host(Output, nameof(Output)), host.Host(OutputGradient, nameof(OutputGradient)),
            Input.Rows, Pieces, host.Host(InputGradient, nameof(InputGradient)), host.Options);

    /// <inheritdoc />
    public void Enqueue(IDeviceKernels device) =>
        device.Launch("maxout_backward").Tensor(Input, nameof(Input)).Tensor(Output, nameof(Output)).Tensor(OutputGradient, nameof(OutputGradient))
            .Tensor(InputGradient, nameof(InputGradient)).Int(Output.Columns).Int(Pieces)
            .Run(Output.Columns, Output.Rows);
}

file static class MaxoutShapes
{
    public static void Check(Tensor input, int pieces, Tensor output)
    {
        if (pieces < 1) throw new ArgumentOutOfRangeException("Pieces", pieces, "Maxout needs at least one piece.");
        if (input.Rows != output.Rows)
            throw new ArgumentException($"Output {Tensor.ShapeText(output.Shape)} has other rows than Input {Tensor.ShapeText(input.Shape)}.", "Output");
        if ((long)output.Columns * pieces != input.Columns)
            throw new ArgumentException($"Input has {input.Columns} values per row but Output's {output.Columns} units x {pieces} pieces need {(long)output.Columns * pieces}.", "Input");
    }
}
