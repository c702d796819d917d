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

    private RegressionTable(string source, string[] inputNames, string targetName, double[] inputs, double[] targets)
    {
        Source = source;
        _inputNames = inputNames;
        TargetName = targetName;
        _inputs = inputs;
        _targets = targets;
    }

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

    /// <summary>
    /// The same problem on another table (a test split): the same columns, found by name when both tables have headers,
    /// else by position.
    /// </summary>
    /// <exception cref="ArgumentException">A column is missing from <paramref name="other"/> or its column count differs.</exception>
    public RegressionTable SameColumnsFrom(NumericTable other, bool byName)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!byName)
        {
            if (other.ColumnCount != InputCount + 1)
                throw new DataFormatException(other.Path, "columns", $"has {other.ColumnCount} columns but the training table {Source} has {InputCount + 1}");
            int target = other.ColumnIndex(TargetName);
            return Select(other, other.Path, Enumerable.Range(0, other.ColumnCount).Where(c => c != target).ToArray(), target);
        }
        int Find(string name)
        {
            for (int c = 0; c < other.ColumnCount; c++) if (other.ColumnNames[c] == name) return c;
            throw new DataFormatException(other.Path, "header", $"has no column '{name}', which the training table {Source} has; its columns are {string.Join(", ", other.ColumnNames)}");
        }
        return Select(other, other.Path, Array.ConvertAll(_inputNames, Find), Find(TargetName));
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
        return new RegressionTable(Source, _inputNames, TargetName, inputs, targets);
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

    /// <summary>The rows as float inputs and one float target each, for training.</summary>
    public SupervisedData ToSupervisedData() =>
        new(Array.ConvertAll(_inputs, v => (float)v), InputCount, Array.ConvertAll(_targets, v => (float)v), 1);

    /// <summary>The closed-form least-squares fit of the target on the inputs (see <see cref="LeastSquares.Fit"/>).</summary>
    public LinearFit LeastSquaresFit(bool withIntercept = true) => LeastSquares.Fit(_inputs, _targets, Count, InputCount, withIntercept);

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
        return new RegressionTable(source, Array.ConvertAll(inputColumns, c => table.ColumnNames[c]), table.ColumnNames[targetColumn], inputs, targets);
    }
}
