using Shinso.Backends;
using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>
/// A fully connected layer that uses another dense layer's weights transposed, <c>Y = X Wᵀ + b</c>: the decoder of an
/// autoencoder with tied weights (<c>W' = Wᵀ</c>). The weight is one <see cref="Parameter"/> shared by both layers, so
/// the optimizer updates it once with the sum of both layers' gradients; the bias is this layer's own.
/// </summary>
public sealed class TiedDense : ILayer
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;

    /// <summary>Creates the layer on <paramref name="tiedTo"/>'s weight (inputs x units), mapping its units back to its inputs.</summary>
    /// <param name="backend">The backend of <paramref name="tiedTo"/>.</param>
    /// <param name="tiedTo">The dense layer whose weight this layer transposes.</param>
    /// <param name="name">The prefix of the bias's name, e.g. <c>layer4</c>.</param>
    public TiedDense(IBackend backend, Dense tiedTo, string name = "tied")
    {
        ArgumentNullException.ThrowIfNull(tiedTo);
        _backend = backend;
        TiedTo = tiedTo;
        Bias = new Parameter(name + ".bias", backend.Allocate(tiedTo.Inputs), ParameterRole.Bias);
        // The shared weight is listed here too; a net lists each parameter once.
        Parameters = [tiedTo.Weight, Bias];
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "tied";

    /// <summary>The dense layer whose weight is shared.</summary>
    public Dense TiedTo { get; }

    /// <summary>The shared weight, stored as the other layer's inputs x units.</summary>
    public Parameter Weight => TiedTo.Weight;

    /// <summary>This layer's bias, one per output (the other layer's inputs).</summary>
    public Parameter Bias { get; }

    /// <summary>Input features per sample: the other layer's units.</summary>
    public int Inputs => TiedTo.Units;

    /// <summary>Outputs per sample: the other layer's inputs.</summary>
    public int Units => TiedTo.Inputs;

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        CheckInput(inputShape);
        return [Units];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        CheckInput(input.Shape[1..]);
        var x = input.Rank == 2 ? input : input.Reshape(input.Rows, Inputs);
        _input = x;
        Weight.BeginPass();
        var y = _output.Get(x.Rows, [Units]);
        _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, x, Weight.Value, 0f, y);
        _backend.AddRowVector(y, Bias.Value);
        return y;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        // Y = X Wᵀ: dW = dYᵀ X (inputs x units, as W is stored), added to the other layer's share; dX = dY W.
        _backend.Gemm(Transpose.Transposed, Transpose.None, 1f, outputGradient, x, Weight.NextGradientBeta(), Weight.Gradient);
        _backend.SumColumns(outputGradient, Bias.Gradient);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(x.Rows, [Inputs]);
        _backend.Gemm(Transpose.None, Transpose.None, 1f, outputGradient, Weight.Value, 0f, dx);
        return dx;
    }

    /// <summary>The transposed weight as a constant of its own, so that a decoder exported alone carries it.</summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) =>
        InferenceForms.Affine(graph, input, inputShape, name, name + "_weight_transposed", Inputs, Units, InferenceForms.HostTransposed(Weight.Value),
            Bias.Name, InferenceForms.Host(Bias.Value));

    private void CheckInput(ReadOnlySpan<int> sampleShape)
    {
        long n = 1;
        foreach (int d in sampleShape) n *= d;
        if (n != Inputs)
            throw new ArgumentException(
                $"A layer tied to a dense layer of {Units} inputs and {Inputs} units expects {Inputs} input features per sample but got shape {Tensor.ShapeText(sampleShape)} ({n}).", "input");
    }
}
