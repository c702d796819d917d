using System.Globalization;

namespace Shinso.Data;

/// <summary>
/// A labelled table read from CSV: one sample per line, the integer class label in the first column and the
/// features after it (the layout of the common <c>mnist_train.csv</c>). A first line whose label field is not a
/// number (or that numbers the columns 0, 1, 2, ... as pandas does) is a header and is skipped; blank lines are skipped.
/// </summary>
public sealed class CsvTable
{
    private CsvTable(string path, float[] values, int[] labels, int featureCount, bool byteValued, float maxValue, bool hadHeader)
    {
        MaxValue = maxValue;
        Path = path;
        Values = values;
        Labels = labels;
        FeatureCount = featureCount;
        IsByteValued = byteValued;
        HadHeader = hadHeader;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The features as written, row-major.</summary>
    public float[] Values { get; }

    /// <summary>The label of each row.</summary>
    public int[] Labels { get; }

    /// <summary>Features per row.</summary>
    public int FeatureCount { get; }

    /// <summary>Whether every feature is a whole number in 0..255 (pixels written as bytes).</summary>
    public bool IsByteValued { get; }

    /// <summary>The largest feature value.</summary>
    public float MaxValue { get; }

    /// <summary>Whether the first line was a header.</summary>
    public bool HadHeader { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">A field is not a number, a label is not a non-negative integer, or a row has another column count; the message names the line and column.</exception>
    public static CsvTable Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        var values = new List<float>();
        var labels = new List<int>();
        int columns = -1;
        bool byteValued = true, header = false;
        float maxValue = float.NegativeInfinity;
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            var text = line.AsSpan().Trim();
            if (text.IsEmpty) continue;
            int fields = 1;
            foreach (char c in text) if (c == ',') fields++;
            if (columns < 0 && !header && (!IsNumber(FirstField(text)) || IsColumnNumbering(text)))
            {
                header = true;
                continue;
            }
            if (columns < 0)
            {
                if (fields < 2)
                    throw new DataFormatException(path, $"line {lineNumber}", $"has {fields} column; expected the label and at least one feature");
                columns = fields;
            }
            else if (fields != columns)
            {
                throw new DataFormatException(path, $"line {lineNumber}", $"has {fields} columns; expected {columns} like the first row");
            }
            int column = 0;
            foreach (var range in text.Split(','))
            {
                column++;
                var field = Unquote(text[range].Trim());
                if (column == 1)
                {
                    if (!int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int label) || label < 0 || label > MaxLabel)
                    {
                        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double asReal) && asReal >= 0
                            && asReal == Math.Floor(asReal) && asReal <= MaxLabel)
                            label = (int)asReal;
                        else
                            throw new DataFormatException(path, $"line {lineNumber}, column 1 (label)", $"is '{field}'; expected a class label 0, 1, 2, ... (at most {MaxLabel})");
                    }
                    labels.Add(label);
                    continue;
                }
                if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                    throw new DataFormatException(path, $"line {lineNumber}, column {column}", $"is '{field}'; expected a finite number");
                if (byteValued && !(value >= 0f && value <= 255f && value == MathF.Floor(value))) byteValued = false;
                if (value > maxValue) maxValue = value;
                values.Add(value);
            }
        }
        if (labels.Count == 0) throw new DataFormatException(path, "rows", "the file holds no data rows");
        return new CsvTable(path, values.ToArray(), labels.ToArray(), columns - 1, byteValued, maxValue, header);
    }

    /// <summary>The table as a data set of flat samples; every feature is divided by <paramref name="divisor"/>.</summary>
    public Dataset ToDataset(int classCount, float divisor = 1f)
    {
        var features = Values;
        if (divisor != 1f)
        {
            features = new float[Values.Length];
            for (int i = 0; i < features.Length; i++) features[i] = Values[i] / divisor;
        }
        return new Dataset(features, Labels, classCount, FeatureCount);
    }

    /// <summary>The largest class label accepted (a larger one is far more likely a misplaced feature than a class).</summary>
    public const int MaxLabel = 65_535;

    /// <summary>A first row <c>0,1,...,n-1</c> or <c>1,...,n</c> of ten or more columns: the column names pandas writes for an unnamed frame.</summary>
    private static bool IsColumnNumbering(ReadOnlySpan<char> line)
    {
        int expected = -1, column = 0;
        foreach (var range in line.Split(','))
        {
            if (!int.TryParse(Unquote(line[range].Trim()), NumberStyles.None, CultureInfo.InvariantCulture, out int value)) return false;
            if (column == 0)
            {
                if (value is not (0 or 1)) return false;
                expected = value;
            }
            else if (value != expected + column) return false;
            column++;
        }
        // Ten columns or more: a short data row such as 0,1,2 stays data.
        return column >= 10;
    }

    private static ReadOnlySpan<char> FirstField(ReadOnlySpan<char> line)
    {
        int comma = line.IndexOf(',');
        return Unquote((comma < 0 ? line : line[..comma]).Trim());
    }

    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> field) =>
        field.Length >= 2 && field[0] == '"' && field[^1] == '"' ? field[1..^1] : field;

    private static bool IsNumber(ReadOnlySpan<char> field) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
