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
    public void An_unknown_or_ambiguous_column_is_an_error_listing_the_columns()
    {
        var table = NumericTable.Read(Write("a,b\n1,2\n"));
        var e = Assert.Throws<ArgumentException>(() => table.ColumnIndex("c"));
        Assert.Contains("no column 'c'", e.Message);
        Assert.Contains("1 (a), 2 (b)", e.Message);
        Assert.Throws<ArgumentException>(() => table.ColumnIndex("3"));
        var twice = NumericTable.Read(Write("a,a\n1,2\n"));
        Assert.Contains("ambiguous", Assert.Throws<ArgumentException>(() => twice.ColumnIndex("a")).Message);
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
        Assert.Equal($"{path}: line 3: has 3 columns; expected 2 like the header", e.Message);
        string headless = Write("1,2\n3\n");
        Assert.Equal($"{headless}: line 2: has 1 column; expected 2 like the first row", Assert.Throws<DataFormatException>(() => NumericTable.Read(headless)).Message);
    }

    [Fact]
    public void A_file_without_rows_or_without_a_file_is_an_error()
    {
        string headerOnly = Write("a,b\n");
        Assert.Contains("a header but no data rows", Assert.Throws<DataFormatException>(() => NumericTable.Read(headerOnly)).Message);
        Assert.Throws<FileNotFoundException>(() => NumericTable.Read(_dir.File("absent.csv")));
    }
}
