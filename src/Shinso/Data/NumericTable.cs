using System.Globalization;

namespace Shinso.Data;

/// <summary>
/// A table of numbers read from CSV for regression: every row has the same columns and every cell is a finite number.
/// A first line of names (fields that are not numbers, or quoted ones such as <c>"2019"</c>) is a header that names the
/// columns, each name its own; without one the columns are named by their
/// 1-based position (<c>column 1</c>, <c>column 2</c>, ...). Blank lines and lines whose first
/// non-blank character is <c>#</c> (a source note) are skipped. Values are kept in double precision.
/// </summary>
public sealed class NumericTable
{
    private readonly double[] _values;
    private readonly string[] _columnNames;

    private NumericTable(string path, string[] columnNames, bool hasHeader, double[] values, int[] lineNumbers)
    {
        Path = path;
        _columnNames = columnNames;
        HasHeader = hasHeader;
        _values = values;
        LineNumbers = lineNumbers;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The column names: the header's, or <c>column 1</c>, <c>column 2</c>, ... when there is none.</summary>
    public IReadOnlyList<string> ColumnNames => _columnNames;

    /// <summary>Whether the first line was a header.</summary>
    public bool HasHeader { get; }

    /// <summary>The number of columns.</summary>
    public int ColumnCount => _columnNames.Length;

    /// <summary>The number of data rows.</summary>
    public int RowCount => LineNumbers.Count;

    /// <summary>The line of the file each data row was read from (1-based), for messages about a row.</summary>
    public IReadOnlyList<int> LineNumbers { get; }

    /// <summary>The cells, row-major (<see cref="RowCount"/> x <see cref="ColumnCount"/>).</summary>
    public ReadOnlySpan<double> Values => _values;

    /// <summary>The cell at <paramref name="row"/> (0-based data row) and <paramref name="column"/> (0-based).</summary>
    public double this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} is outside [0, {RowCount}).");
            if ((uint)column >= (uint)ColumnCount) throw new ArgumentOutOfRangeException(nameof(column), $"Column {column} is outside [0, {ColumnCount}).");
            return _values[row * ColumnCount + column];
        }
    }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">A cell is empty (a missing value) or not a finite number, a row has another
    /// number of columns than the first, the header repeats a name, or the file holds no data rows; the message names the
    /// line and the column.</exception>
    public static NumericTable Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        string[]? names = null;
        bool header = false;
        var values = new List<double>();
        var lines = new List<int>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            var text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '#') continue;
            var fields = SplitFields(text, out var quoted);
            if (names is null)
            {
                // A name is a field that is not a number, or a quoted one ("2019"); NaN, Infinity and 1e999 parse as numbers.
                // A line of names (and empty fields) is the header. A line of mostly names with a bare number among them is
                // a header whose numeric name needs quotes; any other line is data, whose stray text (a typo, a word) is
                // reported below as the cell it is, so no data row is ever taken for a header.
                int named = 0, numbers = 0, firstNumber = -1;
                for (int c = 0; c < fields.Count; c++)
                {
                    if (quoted[c] || (fields[c].Length > 0 && !IsNumber(fields[c]))) named++;
                    else if (fields[c].Length > 0 && numbers++ == 0) firstNumber = c;
                }
                if (named > 0 && numbers == 0)
                {
                    names = ReadHeader(path, lineNumber, fields);
                    header = true;
                    continue;
                }
                if (named > numbers)
                    throw new DataFormatException(path, $"line {lineNumber}, column {firstNumber + 1}",
                        $"is '{fields[firstNumber]}' among column names; a header names every column, and a name that is a number goes in quotes (\"{fields[firstNumber]}\")");
                names = new string[fields.Count];
                for (int c = 0; c < names.Length; c++) names[c] = PositionalName(c);
            }
            if (fields.Count != names.Length)
            {
                string like = header ? "the header" : "the first row";
                // The column named is where the row departs from the expected width: its first extra or first missing cell.
                int column = Math.Min(fields.Count, names.Length) + 1;
                throw new DataFormatException(path, $"line {lineNumber}, column {column}",
                    $"the row has {fields.Count} column{(fields.Count == 1 ? "" : "s")}; expected {names.Length} like {like}");
            }
            for (int c = 0; c < fields.Count; c++)
            {
                var field = fields[c];
                if (field.Length == 0)
                    throw new DataFormatException(path, $"line {lineNumber}, column {c + 1} ({names[c]})", "is empty (a missing value); expected a number");
                if (!TryParse(field, out double value))
                    throw new DataFormatException(path, $"line {lineNumber}, column {c + 1} ({names[c]})",
                        $"is '{field}'; expected a finite number" +
                        // The first row of a headerless file may have been meant as a header.
                        (!header && lines.Count == 0 ? " (if this line is a header, every field must be a name; quote a name that is a number: \"2019\")" : ""));
                values.Add(value);
            }
            lines.Add(lineNumber);
        }
        if (lines.Count == 0) throw new DataFormatException(path, "rows", names is null ? "the file holds no data rows" : "the file holds a header but no data rows");
        return new NumericTable(path, names!, header, values.ToArray(), lines.ToArray());
    }

    /// <summary>
    /// The 0-based index of the column <paramref name="nameOrNumber"/> names: a header name (as written, else ignoring case
    /// when only one column matches so), else a 1-based column number as this table's messages count them.
    /// </summary>
    /// <exception cref="ArgumentException">No column has that name or number, or several match it ignoring case; the message lists them.</exception>
    public int ColumnIndex(string nameOrNumber)
    {
        ArgumentNullException.ThrowIfNull(nameOrNumber);
        string wanted = nameOrNumber.Trim();
        // A name is looked up before a column number: exactly (names are unique, Read checks), then ignoring case when
        // that finds one column.
        int exact = Array.IndexOf(_columnNames, wanted);
        if (exact >= 0) return exact;
        var folded = Enumerable.Range(0, ColumnCount).Where(c => string.Equals(_columnNames[c], wanted, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (folded.Length == 1) return folded[0];
        if (folded.Length > 1)
            throw new ArgumentException($"{Path}: column '{wanted}' matches {string.Join(" and ", folded.Select(c => $"'{_columnNames[c]}' (column {c + 1})"))} but neither exactly; give the name as written or the number.", nameof(nameOrNumber));
        if (int.TryParse(wanted, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= 1 && number <= ColumnCount)
            return number - 1;
        throw new ArgumentException(
            $"{Path}: no column '{wanted}'; the {ColumnCount} columns are {string.Join(", ", _columnNames.Select((n, i) => $"{i + 1} ({n})"))}; name one or give its 1-based number.",
            nameof(nameOrNumber));
    }

    private static string PositionalName(int column) => $"column {column + 1}";

    /// <summary>The header's names; an empty one is named by its position; two columns may not share a name.</summary>
    private static string[] ReadHeader(string path, int lineNumber, List<string> fields)
    {
        var names = new string[fields.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < names.Length; c++)
        {
            names[c] = fields[c].Length == 0 ? PositionalName(c) : fields[c];
            if (seen.TryGetValue(names[c], out int first))
                throw new DataFormatException(path, $"line {lineNumber}, column {c + 1}",
                    $"is named '{names[c]}' like column {first + 1}; every column needs a name of its own");
            seen[names[c]] = c;
        }
        return names;
    }

    /// <summary>
    /// The comma-separated fields of a line, trimmed and with one pair of enclosing double quotes removed (a table of numbers
    /// has no commas inside its fields; a quoted name with a comma reads as two columns).
    /// </summary>
    private static List<string> SplitFields(ReadOnlySpan<char> line, out List<bool> quoted)
    {
        var fields = new List<string>();
        quoted = [];
        foreach (var range in line.Split(','))
        {
            var field = line[range].Trim();
            bool inQuotes = field.Length >= 2 && field[0] == '"' && field[^1] == '"';
            if (inQuotes) field = field[1..^1].Trim();
            fields.Add(field.ToString());
            quoted.Add(inQuotes);
        }
        return fields;
    }

    private static bool TryParse(ReadOnlySpan<char> field, out double value) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static bool IsNumber(ReadOnlySpan<char> field) => double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
