using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>A layer that adds a term to the training objective; the net adds <see cref="Penalty"/> to the loss of each training pass.</summary>
public interface IPenaltyLayer
{
    /// <summary>The term's value for the last training forward pass (0 after an inference pass).</summary>
    double Penalty { get; }
}

/// <summary>
/// The sparse autoencoder's penalty (as in Ng's UFLDL notes): <c>beta * sum_j KL(rho || rho_hat_j)</c>, where
/// <c>rho_hat_j</c> is hidden unit j's mean activation over the minibatch and
/// <c>KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q))</c>. The identity on values; in the backward
/// pass it adds <c>beta (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j)) / m</c> to each of unit j's m gradients. It
/// follows a sigmoid layer, whose activations lie in (0, 1).
/// </summary>
/// <remarks>
/// The penalty is a function of one vector of units, so its value and derivative are formed on the host in double
/// precision: one download and one upload of that vector a step, beside the loss read back every step anyway.
/// A mean that rounds to 0 or 1 (every unit saturated) is clamped to [1e-6, 1 - 1e-6], so the penalty stays finite.
/// </remarks>
public sealed class SparsityPenalty : ILayer, IPenaltyLayer
{
    /// <summary>The clamp of a mean activation away from 0 and 1.</summary>
    public const double MeanFloor = 1e-6;

    private readonly IBackend _backend;
    private readonly BatchBuffer _inputGradient;
    private readonly BatchBuffer _means;
    private readonly BatchBuffer _meanGradient;
    private float[] _hostMeans = [];
    private float[] _hostGradient = [];
    private bool _active;

    /// <summary>Creates the penalty.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="target">rho, the target mean activation, in (0, 1).</param>
    /// <param name="weight">beta, the penalty's weight, >= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public SparsityPenalty(IBackend backend, float target, float weight)
    {
        if (!(target > 0f && target < 1f)) throw new ArgumentOutOfRangeException(nameof(target), target, "The sparsity target must lie in (0, 1).");
        if (!(weight >= 0f) || float.IsInfinity(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "The sparsity weight must be finite and >= 0.");
        _backend = backend;
        Target = target;
        Weight = weight;
        _inputGradient = new BatchBuffer(backend);
        _means = new BatchBuffer(backend);
        _meanGradient = new BatchBuffer(backend);
    }

    /// <summary>rho.</summary>
    public float Target { get; }

    /// <summary>beta.</summary>
    public float Weight { get; }

    /// <inheritdoc />
    public string Kind => "sparsity";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public double Penalty { get; private set; }

    /// <inheritdoc />
    public int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public Tensor Forward(Tensor input, in ForwardContext context)
    {
        _active = context.Training && Weight > 0f;
        Penalty = 0;
        if (!_active) return input;
        int rows = input.Rows, units = input.Columns;
        var flat = input.Rank == 2 ? input : input.Reshape(rows, units);
        var sums = _means.Get(1, [units]).Reshape(units);
        _backend.SumColumns(flat, sums);
        if (_hostMeans.Length != units)
        {
            _hostMeans = new float[units];
            _hostGradient = new float[units];
        }
        _backend.Download(sums, _hostMeans);
        double rho = Target, penalty = 0;
        for (int j = 0; j < units; j++)
        {
            double q = Math.Clamp((double)_hostMeans[j] / rows, MeanFloor, 1 - MeanFloor);
            penalty += rho * Math.Log(rho / q) + (1 - rho) * Math.Log((1 - rho) / (1 - q));
            _hostGradient[j] = (float)(Weight * (-rho / q + (1 - rho) / (1 - q)) / rows);
        }
        Penalty = Weight * penalty;
        _backend.Upload(_hostGradient, _meanGradient.Get(1, [units]).Reshape(units));
        return input;
    }

    /// <inheritdoc />
    public Tensor? Backward(Tensor outputGradient, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        if (!_active) return outputGradient;
        int rows = outputGradient.Rows, units = outputGradient.Columns;
        var dx = _inputGradient.Get(rows, outputGradient.Shape[1..]);
        _backend.Copy(outputGradient, dx);
        _backend.AddRowVector(dx.Rank == 2 ? dx : dx.Reshape(rows, units), _meanGradient.Get(1, [units]).Reshape(units));
        return dx;
    }

    /// <summary>The identity: the penalty shapes training only.</summary>
    public string WriteInference(IInferenceGraph graph, string input, IReadOnlyList<int> inputShape, string name) => input;
}
