using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// Marks an autoencoder's code: the encoder is every layer before it, the decoder every layer after. The identity.
/// </summary>
public sealed class CodeLayer : ILayer
{
    /// <inheritdoc />
    public string Kind => "code";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context) => input;

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient) => needInputGradient ? outputGradient : null;

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => input;
}
