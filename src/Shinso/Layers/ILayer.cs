using Shinso.Backends;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// One stage of a feed-forward network: a forward pass, a backward pass and its parameters,
/// nothing else. Layers call only the backend, never kernels.
/// </summary>
/// <remarks>
/// The first dimension of every tensor is the batch. A layer keeps its output and gradient
/// buffers between calls (sized for the largest batch seen), so the tensors it returns are
/// valid until its next call.
/// </remarks>
public interface ILayer
{
    /// <summary>A short name of the layer type, e.g. <c>dense</c>; used in model files.</summary>
    string Kind { get; }

    /// <summary>The shape of one output sample for one input sample of shape <paramref name="inputShape"/>.</summary>
    int[] OutputShape(ReadOnlySpan<int> inputShape);

    /// <summary>Trainable parameters (empty for parameter-free layers).</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Computes the output for a batch; <paramref name="context"/> says whether this is training.</summary>
    Tensor Forward(Tensor input, in ForwardContext context);

    /// <summary>
    /// Given dLoss/dOutput for the batch of the last <see cref="Forward"/>, writes the parameter
    /// gradients and returns dLoss/dInput (or null when <paramref name="needInputGradient"/> is false).
    /// Layers may read the input of that forward pass again, so it must not have changed since.
    /// </summary>
    Tensor? Backward(Tensor outputGradient, bool needInputGradient);

    /// <summary>
    /// dLoss/dInput for dLoss/dOutput of the last <see cref="Forward"/>, for sensitivity analysis rather than training. A layer
    /// whose parameter gradients cost a pass of their own (dense) skips them; the others compute them as
    /// <see cref="Backward"/> does, so parameter gradients are left unspecified.
    /// </summary>
    Tensor InputGradient(Tensor outputGradient) =>
        Backward(outputGradient, needInputGradient: true) ?? throw new InvalidOperationException($"The {Kind} layer gave no input gradient.");

    /// <summary>
    /// Writes the layer's inference form into <paramref name="graph"/> with the standard operators of the same definition
    /// (composed where ONNX has no single one) and returns the name of its output value.
    /// </summary>
    /// <param name="graph">The graph being written.</param>
    /// <param name="input">The name of the input value, [batch, ...<paramref name="inputShape"/>].</param>
    /// <param name="inputShape">The shape of one input sample.</param>
    /// <param name="name">A prefix for the names of the nodes and constants the layer adds, e.g. <c>layer3_conv</c>.</param>
    /// <exception cref="NotSupportedException">The layer's configuration has no such form (the message says why).</exception>
    string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name);
}

/// <summary>What a forward pass needs besides its input.</summary>
/// <param name="Training">True during training (dropout active), false for inference.</param>
/// <param name="Random">The stream stochastic layers draw from.</param>
/// <param name="Step">The training step; stochastic layers address their random numbers by it, so a resumed run draws the same ones.</param>
public readonly record struct ForwardContext(bool Training, RandomStream Random, long Step)
{
    /// <summary>An inference pass (no dropout, no randomness).</summary>
    public static ForwardContext Inference => new(false, default, 0);
}

/// <summary>A batch-major buffer that grows to the largest batch seen and hands out row views.</summary>
internal sealed class BatchBuffer
{
    private readonly IBackend _backend;
    private Tensor? _storage;

    public BatchBuffer(IBackend backend) => _backend = backend;

    /// <summary>A [batch, sampleShape...] view, reallocating only when the batch grows or the sample shape changes.</summary>
    public Tensor Get(int batch, ReadOnlySpan<int> sampleShape)
    {
        int sampleLength = 1;
        foreach (int d in sampleShape) sampleLength *= d;
        if (_storage is null || _storage.Rows < batch || _storage.Columns != sampleLength)
        {
            var shape = new int[sampleShape.Length + 1];
            shape[0] = batch;
            sampleShape.CopyTo(shape.AsSpan(1));
            _storage = _backend.Allocate(shape);
        }
        var view = _storage.SliceRows(0, batch);
        if (view.Rank != sampleShape.Length + 1 || !view.Shape[1..].SequenceEqual(sampleShape))
        {
            var shape = new int[sampleShape.Length + 1];
            shape[0] = batch;
            sampleShape.CopyTo(shape.AsSpan(1));
            view = view.Reshape(shape);
        }
        return view;
    }
}
