using Shinso.Backends;

namespace Shinso.Tests.Backends;

public sealed class WorkspaceTests
{
    [Fact]
    public void A_purpose_and_shape_get_the_same_tensor_and_anything_else_a_new_one()
    {
        using var backend = new CpuBackend();
        var workspace = new Workspace(backend);
        var a = workspace.Get("hidden-input", 4, 3);
        Assert.Same(a, workspace.Get("hidden-input", 4, 3));
        Assert.Equal([4, 3], a.Shape.ToArray());
        Assert.NotSame(a, workspace.Get("hidden-input", 5, 3));
        Assert.NotSame(a, workspace.Get("visible-mean", 4, 3));
        Assert.NotSame(workspace.Get("up-pass", 0, 4, 3), workspace.Get("up-pass", 1, 4, 3));
        Assert.Same(a, workspace.Get("hidden-input", 0, 4, 3));
        Assert.Equal(5, workspace.Count);
        Assert.Throws<ArgumentException>(() => workspace.Get("", 1, 1));
    }
}
