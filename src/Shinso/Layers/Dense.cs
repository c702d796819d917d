using Shinso.Backends;
using Shinso.Tensors;
using Shinso.Operations;
using static Shinso.Layers.GraphAttribute;

namespace Shinso.Layers;

/// <summary>
/// A fully connected layer <c>Y = X W + b</c>, with W stored inputs x units so that each unit's
/// incoming weights are a column (what max-norm constrains).
/// </summary>
public sealed class Dense : ILayer, IRepeatedInputGradient
{
    private readonly IBackend _backend;
    private readonly BatchBuffer _output;
    private readonly BatchBuffer _inputGradient;
    private Tensor? _input;
    private Tensor? _packedWeights;
    private InferenceWeightLayout _packedLayout;

    /// <summary>Creates a dense layer with zero weights; call <see cref="WeightInitializer"/> or load values.</summary>
    public Dense(IBackend backend, int inputs, int units, string name = "dense")
    {
        if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), $"A dense layer needs at least one input, got {inputs}.");
        if (units < 1) throw new ArgumentOutOfRangeException(nameof(units), $"A dense layer needs at least one unit, got {units}.");
        _backend = backend;
        Inputs = inputs;
        Units = units;
        Weight = new Parameter(name + ".weight", backend.Allocate(inputs, units), ParameterRole.Weight);
        Bias = new Parameter(name + ".bias", backend.Allocate(units), ParameterRole.Bias);
        Parameters = [Weight, Bias];
        _output = new BatchBuffer(backend);
        _inputGradient = new BatchBuffer(backend);
    }

    /// <inheritdoc />
    public string Kind => "dense";

    /// <summary>Input features per sample.</summary>
    public int Inputs { get; }

    /// <summary>Output units.</summary>
    public int Units { get; }

    /// <summary>W, inputs x units.</summary>
    public Parameter Weight { get; }

    /// <summary>b, one per unit.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The input of the last forward pass (valid until the layer below runs again): K-FAC's activation statistics.</summary>
    internal Tensor? LastInput => _input;

    /// <summary>dLoss/dOutput given to the last backward pass (valid until the layer above runs again): K-FAC's gradient statistics.</summary>
    internal Tensor? LastOutputGradient { get; private set; }

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
        if (_packedWeights is not null && !context.Training)
        {
            if (_packedLayout == InferenceWeightLayout.ColumnPanels)
            {
                _backend.AffineColumnPanels(x, _packedWeights, Bias.Value, y);
                return y;
            }
            _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, x, _packedWeights, 0f, y);
            _backend.AddRowVector(y, Bias.Value);
            return y;
        }
        _backend.Gemm(Transpose.None, Transpose.None, 1f, x, Weight.Value, 0f, y);
        _backend.AddRowVector(y, Bias.Value);
        return y;
    }

    /// <summary>
    /// Copies the weights as they are now into the layout <see cref="InferenceWeightLayouts.For"/> picks for this shape,
    /// which every inference pass then reads instead of <see cref="Weight"/>. For a net that owns its weights and never
    /// changes them again (a predictor's replica): later writes to <see cref="Weight"/> do not reach the copy (the bias is
    /// still read where it is). Folding a standardisation in drops the copy.
    /// </summary>
    internal void PackWeightsForInference()
    {
        _packedLayout = InferenceWeightLayouts.For(Inputs, Units);
        if (_packedLayout == InferenceWeightLayout.Transposed)
        {
            _packedWeights = _backend.Allocate(Units, Inputs);
            _backend.SwapLeadingAxes(Weight.Value, Inputs, Units, _packedWeights);
        }
        else
        {
            _packedWeights = _backend.Allocate(ColumnPanels.Shape(Inputs, Units));
            _backend.PackColumnPanels(Weight.Value, _packedWeights);
        }
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        var x = _input ?? throw new InvalidOperationException("Backward called before Forward.");
        LastOutputGradient = outputGradient;
        // dW = Xᵀ dY (added to the share of a layer tied to this weight), db = column sums of dY, dX = dY Wᵀ.
        _backend.Gemm(Transpose.Transposed, Transpose.None, 1f, x, outputGradient, Weight.NextGradientBeta(), Weight.Gradient);
        _backend.SumColumns(outputGradient, Bias.Gradient);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Get(x.Rows, [Inputs]);
        _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, outputGradient, Weight.Value, 0f, dx);
        return dx;
    }

    /// <summary>dX = dY Wᵀ alone: sensitivity analysis needs no weight gradient, which would cost a GEMM as large.</summary>
    public Tensor InputGradient(Tensor outputGradient) => RepeatedInputGradient(outputGradient, 1);

    /// <inheritdoc />
    public Tensor RepeatedInputGradient(Tensor outputGradient, int copies)
    {
        var x = _input ?? throw new InvalidOperationException("InputGradient called before Forward.");
        RepeatedRows.Check(outputGradient, x.Rows, copies, Kind);
        // K-FAC pairs the output gradient with the last input row for row: repeated rows have no such pairing.
        LastOutputGradient = copies == 1 ? outputGradient : null;
        var dx = _inputGradient.Get(outputGradient.Rows, [Inputs]);
        _backend.Gemm(Transpose.None, Transpose.Transposed, 1f, outputGradient, Weight.Value, 0f, dx);
        return dx;
    }

    /// <summary>
    /// Folds a per-input standardisation <c>z_j = (x_j - mean_j) * inverseScale_j</c> into this layer, so that it gives
    /// on raw inputs x what it gave on standardised inputs z: <c>W'_jk = inverseScale_j W_jk</c> and
    /// <c>b'_k = b_k - sum_j mean_j W'_jk</c> (the sum in double precision). A model trained on standardised inputs is
    /// saved this way so that it takes the inputs in their own units and its coefficients read in those units.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length is not <see cref="Inputs"/>.</exception>
    public void AbsorbInputStandardization(ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseScale)
    {
        if (mean.Length != Inputs || inverseScale.Length != Inputs)
            throw new ArgumentException($"A standardisation of {mean.Length} means and {inverseScale.Length} scales does not fit a dense layer of {Inputs} inputs.", nameof(mean));
        var w = InferenceForms.Host(Weight.Value);
        var b = InferenceForms.Host(Bias.Value);
        var shift = new double[Units];
        for (int j = 0; j < Inputs; j++)
        {
            var row = w.AsSpan(j * Units, Units);
            for (int k = 0; k < Units; k++)
            {
                row[k] *= inverseScale[j];
                shift[k] += (double)mean[j] * row[k];
            }
        }
        for (int k = 0; k < Units; k++) b[k] = (float)(b[k] - shift[k]);
        _backend.Upload(w, Weight.Value);
        _backend.Upload(b, Bias.Value);
        _packedWeights = null;
    }

    /// <summary>
    /// Folds a standardisation of the targets <c>t = mean + deviation * z</c> into this layer, when it is the last one of a
    /// net trained to predict z: <c>W' = deviation W</c>, <c>b' = deviation b + mean</c> (one mean and deviation per unit).
    /// </summary>
    /// <exception cref="ArgumentException">A span's length is not <see cref="Units"/>.</exception>
    public void AbsorbOutputStandardization(ReadOnlySpan<double> mean, ReadOnlySpan<double> deviation)
    {
        if (mean.Length != Units || deviation.Length != Units)
            throw new ArgumentException($"A standardisation of {mean.Length} means and {deviation.Length} deviations does not fit a dense layer of {Units} units.", nameof(mean));
        var w = InferenceForms.Host(Weight.Value);
        var b = InferenceForms.Host(Bias.Value);
        for (int j = 0; j < Inputs; j++)
            for (int k = 0; k < Units; k++) w[j * Units + k] = (float)(w[j * Units + k] * deviation[k]);
        for (int k = 0; k < Units; k++) b[k] = (float)(b[k] * deviation[k] + mean[k]);
        _backend.Upload(w, Weight.Value);
        _backend.Upload(b, Bias.Value);
        _packedWeights = null;
    }

    private void CheckInput(ReadOnlySpan<int> sampleShape)
    {
        long n = 1;
        foreach (int d in sampleShape) n *= d;
        if (n != Inputs)
            throw new ArgumentException(
                $"Dense layer expects {Inputs} input features per sample but got shape {Tensor.ShapeText(sampleShape)} ({n}).", "input");
    }

    /// <inheritdoc />
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name)
    {
        // Shinso's dense layer reads any sample shape as a vector.
        return InferenceForms.Affine(graph, input, inputShape, name, Weight.Name, Inputs, Units, InferenceForms.Host(Weight.Value),
            Bias.Name, InferenceForms.Host(Bias.Value));
    }
}
