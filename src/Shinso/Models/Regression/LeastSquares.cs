namespace Shinso.Models.Regression;

/// <summary>
/// The closed-form least-squares fit of a linear model, from the normal equations in double precision: the reference
/// that gradient descent is checked against and reported beside.
/// </summary>
public static class LeastSquares
{
    /// <summary>The smallest Cholesky pivot accepted on the unit-diagonal Gram matrix: 1 - R² of an input on the ones before it.</summary>
    public const double MinimumPivot = 1e-10;

    /// <summary>A column whose centred sum of squares is at most this share of its raw sum of squares is constant (to rounding).</summary>
    public const double ConstantRelativeSpread = 1e-20;

    /// <summary>
    /// Minimises <c>sum_i (y_i - x_i . b - a)^2</c> over the slopes b and, when <paramref name="withIntercept"/>, the
    /// intercept a. With an intercept the inputs and targets are centred first (the normal equations of the centred
    /// problem have the same slopes and a better condition); the Gram matrix is scaled to a unit diagonal and factored by
    /// Cholesky.
    /// </summary>
    /// <param name="inputs">Row-major inputs, <paramref name="count"/> rows of <paramref name="inputCount"/> values.</param>
    /// <param name="targets">One target per row.</param>
    /// <param name="count">The number of rows.</param>
    /// <param name="inputCount">The number of inputs per row.</param>
    /// <param name="withIntercept">Fit a constant term (false: a line through the origin).</param>
    /// <exception cref="ArgumentException">The lengths do not agree or there are fewer rows than unknowns.</exception>
    /// <exception cref="DegenerateInputException">An input is constant, or a combination of the ones before it to within
    /// <see cref="MinimumPivot"/>.</exception>
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
        var rawSquares = new double[k];
        for (int i = 0; i < count; i++)
        {
            var row = inputs.Slice(i * k, k);
            for (int j = 0; j < k; j++)
            {
                centred[j] = row[j] - inputMean[j];
                rawSquares[j] += row[j] * row[j];
            }
            double y = targets[i] - targetMean;
            for (int a = 0; a < k; a++)
            {
                rhs[a] += centred[a] * y;
                for (int b = 0; b <= a; b++) gram[a * k + b] += centred[a] * centred[b];
            }
        }
        // Jacobi scaling to a unit diagonal: the factorisation then sees only how collinear the inputs are, not their units.
        var scale = new double[k];
        for (int j = 0; j < k; j++)
        {
            // A constant column centres to rounding noise (its mean is not exact in binary), hence the relative test.
            if (!(gram[j * k + j] > ConstantRelativeSpread * rawSquares[j]) || rawSquares[j] == 0)
                throw new DegenerateInputException(j, $"is {(withIntercept ? "constant over the rows" : "zero in every row")}, so its slope is not determined; drop it.");
            scale[j] = 1 / Math.Sqrt(gram[j * k + j]);
        }
        for (int a = 0; a < k; a++)
        {
            rhs[a] *= scale[a];
            for (int b = 0; b <= a; b++) gram[a * k + b] *= scale[a] * scale[b];
        }
        var slopes = SolveSymmetricPositiveDefinite(gram, rhs, k);
        for (int j = 0; j < k; j++) slopes[j] *= scale[j];
        double intercept = 0;
        if (withIntercept)
        {
            intercept = targetMean;
            for (int j = 0; j < k; j++) intercept -= slopes[j] * inputMean[j];
        }
        return new LinearFit(slopes, intercept);
    }

    /// <summary>
    /// Solves G s = r for a symmetric positive definite G with a unit diagonal, given by its lower triangle (overwritten by
    /// its Cholesky factor).
    /// </summary>
    private static double[] SolveSymmetricPositiveDefinite(double[] g, double[] r, int k)
    {
        for (int j = 0; j < k; j++)
        {
            double diagonal = g[j * k + j];
            for (int p = 0; p < j; p++) diagonal -= g[j * k + p] * g[j * k + p];
            // The pivot is 1 - R² of input j on the inputs before it: below 1e-10 the slopes would carry fewer than about
            // six correct digits (double precision times the condition number), so they are not reported as exact.
            if (!(diagonal > MinimumPivot))
                throw new DegenerateInputException(j,
                    $"is a linear combination of the inputs before it (R² {1 - Math.Max(diagonal, 0):G12} on them; the inputs are collinear), " +
                    "so the slopes are not determined; drop it.");
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

/// <summary>An input whose slope a least-squares fit cannot determine: constant, or collinear with the inputs before it.</summary>
public sealed class DegenerateInputException : ArgumentException
{
    /// <summary>Creates the exception for input <paramref name="input"/> (0-based); <paramref name="problem"/> continues "Input N ...".</summary>
    public DegenerateInputException(int input, string problem)
        : base($"Input {input + 1} {problem}", "inputs")
    {
        Input = input;
        Problem = problem;
    }

    /// <summary>The input, 0-based among the inputs.</summary>
    public int Input { get; }

    /// <summary>What is wrong with it, as a clause after its name.</summary>
    public string Problem { get; }
}
