using Shinso.Data;

namespace Shinso.Tests.Data;

/// <summary>The regression table reader: headers, positional names, column lookup, and errors that name the line and column.</summary>
public sealed class NumericTableTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string text)
    {
        string path = _dir.File($"t{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_header_names_the_columns_and_comments_and_blank_lines_are_skipped()
    {
        var table = NumericTable.Read(Write("# a source note\ndistance, \"velocity\"\n\n0.032,170\n 2.0 , -1.5e2 \n"));
        Assert.True(table.HasHeader);
        Assert.Equal(["distance", "velocity"], table.ColumnNames);
        Assert.Equal(2, table.RowCount);
        Assert.Equal([4, 5], table.LineNumbers);
        Assert.Equal(0.032, table[0, 0]);
        Assert.Equal(-150.0, table[1, 1]);
        Assert.Equal(1, table.ColumnIndex("velocity"));
        Assert.Equal(1, table.ColumnIndex("VELOCITY"));
        Assert.Equal(0, table.ColumnIndex("1"));
    }

    [Fact]
    public void Without_a_header_columns_are_named_by_position()
    {
        var table = NumericTable.Read(Write("1,2,3\n4,5,6\n"));
        Assert.False(table.HasHeader);
        Assert.Equal(["column 1", "column 2", "column 3"], table.ColumnNames);
        Assert.Equal(2, table.ColumnIndex("3"));
        Assert.Equal(6.0, table[1, 2]);
    }

    [Fact]
    public void An_unknown_column_is_an_error_listing_the_columns()
    {
        var table = NumericTable.Read(Write("a,b\n1,2\n"));
        var e = Assert.Throws<ArgumentException>(() => table.ColumnIndex("c"));
        Assert.Contains("no column 'c'", e.Message);
        Assert.Contains("1 (a), 2 (b)", e.Message);
        Assert.Throws<ArgumentException>(() => table.ColumnIndex("3"));
    }

    [Fact]
    public void A_missing_value_names_its_line_and_column()
    {
        string path = Write("distance,velocity\n0.1,170\n0.2,\n");
        var e = Assert.Throws<DataFormatException>(() => NumericTable.Read(path));
        Assert.Equal($"{path}: line 3, column 2 (velocity): is empty (a missing value); expected a number", e.Message);
    }

    [Fact]
    public void A_non_numeric_cell_names_its_line_and_column()
    {
        string path = Write("distance,velocity\n0.1,170\nfar,290\n");
        var e = Assert.Throws<DataFormatException>(() => NumericTable.Read(path));
        Assert.Equal($"{path}: line 3, column 1 (distance): is 'far'; expected a finite number", e.Message);
        foreach (string cell in new[] { "NaN", "Infinity", "1e999" })
        {
            string bad = Write($"x,y\n1,{cell}\n");
            Assert.Contains("line 2, column 2 (y)", Assert.Throws<DataFormatException>(() => NumericTable.Read(bad)).Message);
        }
    }

    [Fact]
    public void A_ragged_row_names_its_line_and_the_expected_width()
    {
        string path = Write("distance,velocity\n0.1,170\n0.2,290,7\n");
        var e = Assert.Throws<DataFormatException>(() => NumericTable.Read(path));
        Assert.Equal($"{path}: line 3, column 3: the row has 3 columns; expected 2 like the header", e.Message);
        string headless = Write("1,2\n3\n");
        Assert.Equal($"{headless}: line 2, column 2: the row has 1 column; expected 2 like the first row", Assert.Throws<DataFormatException>(() => NumericTable.Read(headless)).Message);
    }

    [Fact]
    public void A_first_row_with_a_bad_cell_is_data_not_a_header_and_numeric_names_need_quotes()
    {
        // NaN parses as a number: the row is data, and an error, rather than a header that would swallow it.
        string path = Write("1,NaN\n2,3\n");
        Assert.StartsWith($"{path}: line 1, column 2 (column 2): is 'NaN'; expected a finite number", Assert.Throws<DataFormatException>(() => NumericTable.Read(path)).Message);
        // A typo in a first data row is that cell's error, not a header that would swallow the row.
        string typo = Write("1.2,3.4x\n2,3\n");
        Assert.StartsWith($"{typo}: line 1, column 2 (column 2): is '3.4x'; expected a finite number", Assert.Throws<DataFormatException>(() => NumericTable.Read(typo)).Message);
        string missing = Write("1,,3\n2,3,4\n");
        Assert.StartsWith($"{missing}: line 1, column 2 (column 2): is empty", Assert.Throws<DataFormatException>(() => NumericTable.Read(missing)).Message);
        // Names with a bare number among them: a header whose numeric name wants quotes, which then reads.
        string numeric = Write("low,high,400\n1,2,3\n");
        Assert.Contains("line 1, column 3: is '400' among column names", Assert.Throws<DataFormatException>(() => NumericTable.Read(numeric)).Message);
        string mostlyNumbers = Write("wavelength,400,450\n1,2,3\n");
        Assert.Contains("line 1, column 1 (column 1): is 'wavelength'; expected a finite number (if this line is a header, every field must be a name; quote",
            Assert.Throws<DataFormatException>(() => NumericTable.Read(mostlyNumbers)).Message);
        Assert.Equal(["wavelength", "400", "450"], NumericTable.Read(Write("wavelength,\"400\",\"450\"\n1,2,3\n")).ColumnNames);
    }

    [Fact]
    public void Two_columns_may_not_share_a_name()
    {
        string path = Write("a,b,a\n1,2,3\n");
        Assert.Equal($"{path}: line 1, column 3: is named 'a' like column 1; every column needs a name of its own",
            Assert.Throws<DataFormatException>(() => NumericTable.Read(path)).Message);
        // Names that differ in case are distinct; a lookup ignoring case must then be exact.
        var cased = NumericTable.Read(Write("t,T\n1,2\n"));
        Assert.Equal(1, cased.ColumnIndex("T"));
        Assert.Equal(0, cased.ColumnIndex("t"));
        var folded = NumericTable.Read(Write("ab,AB\n1,2\n"));
        Assert.Contains("matches 'ab' (column 1) and 'AB' (column 2)", Assert.Throws<ArgumentException>(() => folded.ColumnIndex("Ab")).Message);
        Assert.Equal(0, NumericTable.Read(Write("Speed,y\n1,2\n")).ColumnIndex("speed"));
        // An empty header cell is named by its position, which a real name may not take too.
        Assert.Throws<DataFormatException>(() => NumericTable.Read(Write("column 2,\n1,2\n")));
        Assert.Equal(["a", "column 2"], NumericTable.Read(Write("a,\n1,2\n")).ColumnNames);
    }

    [Fact]
    public void A_file_without_rows_or_without_a_file_is_an_error()
    {
        string headerOnly = Write("a,b\n");
        Assert.Contains("a header but no data rows", Assert.Throws<DataFormatException>(() => NumericTable.Read(headerOnly)).Message);
        Assert.Throws<FileNotFoundException>(() => NumericTable.Read(_dir.File("absent.csv")));
    }
}
