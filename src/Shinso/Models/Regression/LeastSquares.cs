namespace Shinso.Models.Regression;

/// <summary>
/// The closed-form least-squares fit of a linear model, from the normal equations in double precision: the reference
/// that gradient descent is checked against and reported beside.
/// </summary>
public static class LeastSquares
{
    /// <summary>
    /// Minimises <c>sum_i (y_i - x_i . b - a)^2</c> over the slopes b and, when <paramref name="withIntercept"/>, the
    /// intercept a. With an intercept the inputs and targets are centred first (the normal equations of the centred
    /// problem have the same slopes and a better condition); the Gram matrix is factored by Cholesky.
    /// </summary>
    /// <param name="inputs">Row-major inputs, <paramref name="count"/> rows of <paramref name="inputCount"/> values.</param>
    /// <param name="targets">One target per row.</param>
    /// <param name="count">The number of rows.</param>
    /// <param name="inputCount">The number of inputs per row.</param>
    /// <param name="withIntercept">Fit a constant term (false: a line through the origin).</param>
    /// <exception cref="ArgumentException">The lengths do not agree, there are fewer rows than unknowns, or the inputs are
    /// collinear (the message names the first input that is a combination of the ones before it).</exception>
    public static LinearFit Fit(ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets, int count, int inputCount, bool withIntercept = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputCount);
        if (inputs.Length != (long)count * inputCount || targets.Length != count)
            throw new ArgumentException($"{count} rows of {inputCount} inputs and one target need {(long)count * inputCount} and {count} values; {inputs.Length} and {targets.Length} were given.", nameof(inputs));
        int unknowns = inputCount + (withIntercept ? 1 : 0);
        if (count < unknowns)
            throw new ArgumentException($"{count} rows cannot determine {unknowns} unknowns; a least-squares fit needs at least as many rows.", nameof(count));
        int k = inputCount;
        var inputMean = new double[k];
        double targetMean = 0;
        if (withIntercept)
        {
            for (int i = 0; i < count; i++)
            {
                var row = inputs.Slice(i * k, k);
                for (int j = 0; j < k; j++) inputMean[j] += row[j];
                targetMean += targets[i];
            }
            for (int j = 0; j < k; j++) inputMean[j] /= count;
            targetMean /= count;
        }
        // Gram matrix G = Xc^T Xc (lower triangle) and right-hand side r = Xc^T yc.
        var gram = new double[k * k];
        var rhs = new double[k];
        var centred = new double[k];
        for (int i = 0; i < count; i++)
        {
            var row = inputs.Slice(i * k, k);
            for (int j = 0; j < k; j++) centred[j] = row[j] - inputMean[j];
            double y = targets[i] - targetMean;
            for (int a = 0; a < k; a++)
            {
                rhs[a] += centred[a] * y;
                for (int b = 0; b <= a; b++) gram[a * k + b] += centred[a] * centred[b];
            }
        }
        var slopes = SolveSymmetricPositiveDefinite(gram, rhs, k, withIntercept);
        double intercept = 0;
        if (withIntercept)
        {
            intercept = targetMean;
            for (int j = 0; j < k; j++) intercept -= slopes[j] * inputMean[j];
        }
        return new LinearFit(slopes, intercept);
    }

    /// <summary>Solves G s = r for a symmetric positive definite G given by its lower triangle (overwritten by its Cholesky factor).</summary>
    private static double[] SolveSymmetricPositiveDefinite(double[] g, double[] r, int k, bool centred)
    {
        for (int j = 0; j < k; j++)
        {
            double diagonal = g[j * k + j];
            double original = diagonal;
            for (int p = 0; p < j; p++) diagonal -= g[j * k + p] * g[j * k + p];
            // A pivot lost to rounding (relative to the column's own scale) means input j adds no direction of its own.
            if (!(diagonal > 1e-12 * Math.Max(original, double.Epsilon)))
                throw new ArgumentException(
                    original == 0
                        ? $"Input {j + 1} is {(centred ? "constant over the rows" : "zero in every row")}, so its slope is not determined; drop it."
                        : $"Input {j + 1} is a linear combination of the inputs before it (the inputs are collinear), so the slopes are not determined; drop it.",
                    "inputs");
            double l = Math.Sqrt(diagonal);
            g[j * k + j] = l;
            for (int i = j + 1; i < k; i++)
            {
                double v = g[i * k + j];
                for (int p = 0; p < j; p++) v -= g[i * k + p] * g[j * k + p];
                g[i * k + j] = v / l;
            }
        }
        var s = new double[k];
        for (int i = 0; i < k; i++)
        {
            double v = r[i];
            for (int p = 0; p < i; p++) v -= g[i * k + p] * s[p];
            s[i] = v / g[i * k + i];
        }
        for (int i = k - 1; i >= 0; i--)
        {
            double v = s[i];
            for (int p = i + 1; p < k; p++) v -= g[p * k + i] * s[p];
            s[i] = v / g[i * k + i];
        }
        return s;
    }
}
