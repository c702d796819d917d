using Shinso.Layers;
using Shinso.Models.FeedForward;

namespace Shinso.Models.Regression;

/// <summary>A fitted linear model <c>y = sum_j Coefficients[j] x_j + Intercept</c>, in the inputs' own units.</summary>
/// <param name="Coefficients">One slope per input.</param>
/// <param name="Intercept">The constant term (0 for a fit through the origin).</param>
public sealed record LinearFit(double[] Coefficients, double Intercept)
{
    /// <summary>The model's prediction for one row of inputs.</summary>
    /// <exception cref="ArgumentException">The row does not have one value per coefficient.</exception>
    public double Predict(ReadOnlySpan<double> inputs)
    {
        if (inputs.Length != Coefficients.Length)
            throw new ArgumentException($"A row of {inputs.Length} inputs does not fit a linear model of {Coefficients.Length} coefficients.", nameof(inputs));
        double y = Intercept;
        for (int j = 0; j < inputs.Length; j++) y += Coefficients[j] * inputs[j];
        return y;
    }

    /// <summary>Predictions for row-major inputs (one row per target).</summary>
    public double[] Predict(ReadOnlySpan<double> inputs, int count)
    {
        int k = Coefficients.Length;
        if (inputs.Length != (long)count * k)
            throw new ArgumentException($"{count} rows of {k} inputs need {(long)count * k} values, {inputs.Length} were given.", nameof(inputs));
        var predictions = new double[count];
        for (int i = 0; i < count; i++) predictions[i] = Predict(inputs.Slice(i * k, k));
        return predictions;
    }

    /// <summary>
    /// The coefficients of <paramref name="net"/> when it is a linear model (one dense layer with one output, trained with
    /// squared error), else null. A net trained on standardised inputs reads in the inputs' units once the standardisation
    /// is folded in (<see cref="FeedForwardNet.AbsorbInputStandardization"/>).
    /// </summary>
    public static LinearFit? FromNet(FeedForwardNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (net.Layers.Count != 1 || net.Layers[0] is not Dense dense || dense.Units != 1 || net.Loss.Output != Losses.OutputFunction.Identity)
            return null;
        var weights = new float[dense.Inputs];
        var bias = new float[1];
        net.Backend.Download(dense.Weight.Value, weights);
        net.Backend.Download(dense.Bias.Value, bias);
        return new LinearFit(Array.ConvertAll(weights, w => (double)w), bias[0]);
    }
}
