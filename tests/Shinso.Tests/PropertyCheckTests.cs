using FsCheck.Fluent;

namespace Shinso.Tests;

public class PropertyCheckTests
{
    [Fact]
    public void Same_seed_draws_the_same_cases()
    {
        var first = new List<int>();
        var second = new List<int>();
        PropertyCheck.ForAll(Gen.Choose(1, 1000), first.Add, maxTests: 20);
        PropertyCheck.ForAll(Gen.Choose(1, 1000), second.Add, maxTests: 20);
        Assert.Equal(20, first.Count);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_failing_property_fails_the_test()
    {
        Assert.ThrowsAny<Exception>(() => PropertyCheck.ForAll(Gen.Choose(1, 10), v => Assert.True(v < 5)));
    }
}
