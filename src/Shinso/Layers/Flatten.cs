using Shinso.Tensors;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>Reshapes each sample to a vector (a view: nothing is copied in either direction).</summary>
public sealed class Flatten : ILayer, IRepeatedInputGradient
{
    private int[]? _inputShape;
    private int _forwardRows;

    /// <inheritdoc />
    public string Kind => "flatten";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        int n = 1;
        foreach (int d in inputShape) n *= d;
        return [n];
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _inputShape = input.Shape.ToArray();
        _forwardRows = input.Rows;
        return input.Rank == 2 ? input : input.Reshape(input.Rows, input.Columns);
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var forward = _inputShape ?? throw new InvalidOperationException("Backward called before Forward.");
        if (!needInputGradient) return null;
        var shape = (int[])forward.Clone();
        shape[0] = outputGradient.Rows;
        return outputGradient.Reshape(shape);
    }

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        if (_inputShape is null) throw new InvalidOperationException("InputGradient called before Forward.");
        RepeatedRows.Check(outputGradient, _forwardRows, copies, Kind);
        return Backward(outputGradient, needInputGradient: true)!;
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) =>
        inputShape.Count > 1 ? graph.Node("Flatten", name, [input], Int("axis", 1)) : input;
}
