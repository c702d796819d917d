using Shinso.Data;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Models.Regression;

/// <summary>
/// A regression problem read from a <see cref="NumericTable"/>: one column is the target and every other column is an
/// input. Values stay in double precision (for the closed-form fit and the reported figures) and become float rows for
/// training through <see cref="ToSupervisedData"/>.
/// </summary>
public sealed class RegressionTable
{
    private readonly double[] _inputs;
    private readonly double[] _targets;
    private readonly string[] _inputNames;

    private readonly int[] _inputColumns;

    private RegressionTable(string source, string[] inputNames, string targetName, int[] inputColumns, int targetColumn, double[] inputs, double[] targets)
    {
        Source = source;
        _inputNames = inputNames;
        TargetName = targetName;
        _inputColumns = inputColumns;
        TargetColumn = targetColumn;
        _inputs = inputs;
        _targets = targets;
    }

    /// <summary>The 0-based column of the source table each input came from.</summary>
    public IReadOnlyList<int> InputColumns => _inputColumns;

    /// <summary>The 0-based column of the source table the target came from.</summary>
    public int TargetColumn { get; }

    /// <summary>The file (or files) the rows came from.</summary>
    public string Source { get; }

    /// <summary>The input columns' names, in the order of the inputs.</summary>
    public IReadOnlyList<string> InputNames => _inputNames;

    /// <summary>The target column's name.</summary>
    public string TargetName { get; }

    /// <summary>The number of rows.</summary>
    public int Count => _targets.Length;

    /// <summary>Inputs per row.</summary>
    public int InputCount => _inputNames.Length;

    /// <summary>The inputs, row-major (<see cref="Count"/> x <see cref="InputCount"/>).</summary>
    public ReadOnlySpan<double> Inputs => _inputs;

    /// <summary>The target of each row.</summary>
    public ReadOnlySpan<double> Targets => _targets;

    /// <summary>The problem of predicting column <paramref name="target"/> (a name or a 1-based number) from the other columns.</summary>
    /// <exception cref="ArgumentException">No such column, or the table has no other column to use as an input.</exception>
    public static RegressionTable FromTable(NumericTable table, string target)
    {
        ArgumentNullException.ThrowIfNull(table);
        int targetColumn = table.ColumnIndex(target);
        if (table.ColumnCount < 2)
            throw new ArgumentException($"{table.Path}: the table has one column ({table.ColumnNames[0]}); a regression needs the target and at least one input column.", nameof(target));
        var inputColumns = Enumerable.Range(0, table.ColumnCount).Where(c => c != targetColumn).ToArray();
        return Select(table, table.Path, inputColumns, targetColumn);
    }

    /// <summary>The problem of predicting column <paramref name="target"/> from the columns named <paramref name="inputs"/>, in that order.</summary>
    /// <exception cref="ArgumentException">A column is missing (the message lists the table's columns) or the target is among the inputs.</exception>
    public static RegressionTable FromTable(NumericTable table, string target, IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(inputs);
        int targetColumn = table.ColumnIndex(target);
        var inputColumns = inputs.Select(table.ColumnIndex).ToArray();
        if (Array.IndexOf(inputColumns, targetColumn) >= 0)
            throw new ArgumentException($"{table.Path}: column '{table.ColumnNames[targetColumn]}' cannot be both the target and an input.", nameof(target));
        return Select(table, table.Path, inputColumns, targetColumn);
    }

    /// <summary>A problem given as arrays: row-major <paramref name="inputs"/> (<paramref name="inputCount"/> a row) and one target a row.</summary>
    /// <param name="inputs">The inputs, row-major.</param>
    /// <param name="targets">One target per row.</param>
    /// <param name="inputCount">Inputs per row.</param>
    /// <param name="source">Where the rows came from, for messages.</param>
    /// <exception cref="ArgumentException">The lengths do not agree.</exception>
    public static RegressionTable FromArrays(double[] inputs, double[] targets, int inputCount, string source = "arrays")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputCount);
        if (inputs.Length != (long)targets.Length * inputCount)
            throw new ArgumentException($"{targets.Length} rows of {inputCount} inputs need {(long)targets.Length * inputCount} values, {inputs.Length} were given.", nameof(inputs));
        var columns = Enumerable.Range(0, inputCount).ToArray();
        return new RegressionTable(source, Array.ConvertAll(columns, c => $"x{c + 1}"), "y", columns, inputCount,
            (double[])inputs.Clone(), (double[])targets.Clone());
    }

    /// <summary>
    /// The same problem on another table (a test split): the same columns, found by name when <paramref name="byName"/>
    /// (both tables have headers), else at the same positions.
    /// </summary>
    /// <exception cref="DataFormatException"><paramref name="other"/> lacks one of the columns by name, or has another number of columns.</exception>
    public RegressionTable SameColumnsFrom(NumericTable other, bool byName)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!byName)
        {
            int width = _inputColumns.Length + 1;
            if (other.ColumnCount != width)
                throw new DataFormatException(other.Path, "columns", $"has {other.ColumnCount} columns but the training table {Source} has {width}; the columns are matched by position");
            return Select(other, other.Path, _inputColumns, TargetColumn);
        }
        int Find(string name)
        {
            for (int c = 0; c < other.ColumnCount; c++)
                if (string.Equals(other.ColumnNames[c], name, StringComparison.OrdinalIgnoreCase)) return c;
            throw new DataFormatException(other.Path, "header", $"has no column '{name}', which the training table {Source} has; its columns are {string.Join(", ", other.ColumnNames)}");
        }
        return Select(other, other.Path, Array.ConvertAll(_inputNames, Find), Find(TargetName));
    }

    /// <summary>
    /// The inputs' means and deviations over these rows, in double precision. Only a constant column (to rounding) is
    /// left unscaled, with deviation 0: a table's units are the user's, so a deviation of 1e-5 is as real as one of 1e5.
    /// </summary>
    public NormalizationStatistics InputStatistics()
    {
        int k = InputCount;
        var mean = new double[k];
        var squares = new double[k];
        for (int i = 0; i < Count; i++)
            for (int j = 0; j < k; j++) mean[j] += _inputs[i * k + j];
        for (int j = 0; j < k; j++) mean[j] /= Count;
        for (int i = 0; i < Count; i++)
            for (int j = 0; j < k; j++)
            {
                double d = _inputs[i * k + j] - mean[j];
                squares[j] += d * d;
            }
        var m = new float[k];
        var s = new float[k];
        for (int j = 0; j < k; j++)
        {
            double raw = 0;
            for (int i = 0; i < Count; i++) raw += _inputs[i * k + j] * _inputs[i * k + j];
            m[j] = (float)mean[j];
            s[j] = IsConstant(squares[j], raw) ? 0f : (float)Math.Sqrt(squares[j] / Count);
        }
        return new NormalizationStatistics(m, s, minimumStandardDeviation: 0f);
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order.</summary>
    public RegressionTable Subset(ReadOnlySpan<int> rows)
    {
        int k = InputCount;
        var inputs = new double[rows.Length * k];
        var targets = new double[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            int i = rows[r];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {i} is outside [0, {Count}).");
            _inputs.AsSpan(i * k, k).CopyTo(inputs.AsSpan(r * k, k));
            targets[r] = _targets[i];
        }
        return new RegressionTable(Source, _inputNames, TargetName, _inputColumns, TargetColumn, inputs, targets);
    }

    /// <summary>
    /// Holds out <c>round(Count * testFraction)</c> rows (at least one, and at least one left to train on) chosen as
    /// <see cref="DeterministicShuffle.SplitIndices"/> chooses them; both parts keep the file's order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is outside (0, 1).</exception>
    /// <exception cref="ArgumentException">The table has fewer than two rows.</exception>
    public (RegressionTable Train, RegressionTable Test) Split(double testFraction, RandomStream split)
    {
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"The held-out fraction must lie in (0, 1); {testFraction} was given.");
        if (Count < 2) throw new ArgumentException($"{Source}: one row cannot be split into training and test rows; give a test file.", nameof(testFraction));
        int testCount = Math.Clamp((int)Math.Round(Count * testFraction, MidpointRounding.AwayFromZero), 1, Count - 1);
        var (test, train) = DeterministicShuffle.SplitIndices(Count, testCount, split);
        return (Subset(train), Subset(test));
    }

    /// <summary>The targets' mean and (population) deviation over these rows; a deviation of 0 (constant targets) is reported as 1.</summary>
    public (double Mean, double Deviation) TargetStatistics()
    {
        double mean = 0, squares = 0, raw = 0;
        foreach (double t in _targets) mean += t;
        mean /= Count;
        foreach (double t in _targets)
        {
            squares += (t - mean) * (t - mean);
            raw += t * t;
        }
        return (mean, IsConstant(squares, raw) ? 1 : Math.Sqrt(squares / Count));
    }

    /// <summary>
    /// Whether a column whose centred sum of squares is <paramref name="centred"/> (and raw sum of squares
    /// <paramref name="raw"/>) is constant: the mean of copies of 0.1 is not exactly 0.1 in binary, so a constant column
    /// centres to rounding noise, not to zero (the same relative test <see cref="LeastSquares"/> applies).
    /// </summary>
    private static bool IsConstant(double centred, double raw) => !(centred > LeastSquares.ConstantRelativeSpread * raw);

    /// <summary>
    /// The rows as float inputs and one float target each, for training; with <paramref name="standardization"/> the inputs,
    /// and with <paramref name="target"/> the targets, are standardised in double precision from the table's values before
    /// they are rounded to float.
    /// </summary>
    /// <exception cref="ArgumentException">The statistics are for another number of inputs.</exception>
    public SupervisedData ToSupervisedData(NormalizationStatistics? standardization = null, (double Mean, double Deviation)? target = null)
    {
        int k = InputCount;
        var inputs = new float[_inputs.Length];
        if (standardization is null)
        {
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)_inputs[i];
        }
        else
        {
            if (standardization.FeatureCount != k)
                throw new ArgumentException($"Statistics of {standardization.FeatureCount} features do not fit rows of {k} inputs.", nameof(standardization));
            for (int i = 0; i < inputs.Length; i++)
            {
                int j = i % k;
                inputs[i] = (float)((_inputs[i] - standardization.Mean[j]) * standardization.InverseScale[j]);
            }
        }
        var targets = target is { } t
            ? Array.ConvertAll(_targets, v => (float)((v - t.Mean) / t.Deviation))
            : Array.ConvertAll(_targets, v => (float)v);
        return new SupervisedData(inputs, k, targets, 1);
    }

    /// <summary>The closed-form least-squares fit of the target on the inputs (see <see cref="LeastSquares.Fit"/>).</summary>
    /// <exception cref="ArgumentException">Too few rows, or an input (named in the message) is constant or collinear with the ones before it.</exception>
    public LinearFit LeastSquaresFit(bool withIntercept = true)
    {
        try
        {
            return LeastSquares.Fit(_inputs, _targets, Count, InputCount, withIntercept);
        }
        catch (DegenerateInputException e)
        {
            // LeastSquares counts the inputs; the table names them and says where they stand in the file.
            throw new ArgumentException($"{Source}: input column '{_inputNames[e.Input]}' (column {_inputColumns[e.Input] + 1}) {e.Problem}", "inputs", e);
        }
    }

    private static RegressionTable Select(NumericTable table, string source, int[] inputColumns, int targetColumn)
    {
        int rows = table.RowCount, k = inputColumns.Length;
        var inputs = new double[rows * k];
        var targets = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < k; j++) inputs[i * k + j] = table[i, inputColumns[j]];
            targets[i] = table[i, targetColumn];
        }
        return new RegressionTable(source, Array.ConvertAll(inputColumns, c => table.ColumnNames[c]), table.ColumnNames[targetColumn], inputColumns, targetColumn, inputs, targets);
    }
}
