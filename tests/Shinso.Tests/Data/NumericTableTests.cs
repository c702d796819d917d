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
    public void A_first_row_of_numbers_with_a_bad_cell_is_data_not_a_header()
    {
        // NaN parses as a number: the row is data, and an error, rather than a header that would swallow it.
        string path = Write("1,NaN\n2,3\n");
        Assert.Equal($"{path}: line 1, column 2 (column 2): is 'NaN'; expected a finite number", Assert.Throws<DataFormatException>(() => NumericTable.Read(path)).Message);
        string mixed = Write("x,1.5\n2,3\n");
        Assert.Contains("line 1, column 2: is '1.5' on a line of column names", Assert.Throws<DataFormatException>(() => NumericTable.Read(mixed)).Message);
    }

    [Fact]
    public void Two_columns_may_not_share_a_name()
    {
        string path = Write("a,b,A\n1,2,3\n");
        Assert.Equal($"{path}: line 1, column 3: is named 'A' like column 1; every column needs a name of its own (compared ignoring case)",
            Assert.Throws<DataFormatException>(() => NumericTable.Read(path)).Message);
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
