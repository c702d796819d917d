using Shinso.Backends;

namespace Shinso.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void Views_share_storage_and_report_their_shape()
    {
        var backend = new CpuBackend();
        var t = backend.Allocate(4, 3, 2);
        Assert.Equal(24, t.Length);
        Assert.Equal(4, t.Rows);
        Assert.Equal(6, t.Columns);
        var rows = t.SliceRows(1, 2);
        Assert.Equal([2, 3, 2], rows.Shape.ToArray());
        Assert.Equal(6, rows.Offset);
        rows.Span.Fill(7f);
        Assert.Equal(0f, t.Span[5]);
        Assert.Equal(7f, t.Span[6]);
        Assert.Equal(7f, t.Span[17]);
        Assert.Equal(0f, t.Span[18]);
        var flat = rows.Reshape(12);
        flat.Span[0] = 1f;
        Assert.Equal(1f, t.Span[6]);
    }

    [Fact]
    public void Bad_reshapes_and_slices_name_the_sizes()
    {
        var t = new CpuBackend().Allocate(4, 3);
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(5, 2));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[5, 2]", e.Message);
        var s = Assert.Throws<ArgumentOutOfRangeException>(() => t.SliceRows(3, 2));
        Assert.Contains("[3, 5)", s.Message);
        Assert.Throws<ArgumentException>(() => new CpuBackend().Allocate(2, -1));
    }

    [Fact]
    public void A_zero_length_tensor_is_allowed()
    {
        var t = new CpuBackend().Allocate(0, 5);
        Assert.Equal(0, t.Length);
        Assert.Equal(0, t.Columns);
        Assert.True(t.Span.IsEmpty);
    }
}
