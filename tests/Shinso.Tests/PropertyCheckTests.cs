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
        // FsCheck reports a falsified property with the case and the assertion that failed on it; any other exception
        // (a crash in the harness itself) is not a failing property.
        var e = Assert.ThrowsAny<Exception>(() => PropertyCheck.ForAll(Gen.Choose(1, 10), v => Assert.True(v < 5, $"case {v} is not below 5")));
        Assert.StartsWith("Falsifiable, after ", e.Message);
        var failing = System.Text.RegularExpressions.Regex.Match(e.Message, @"Original:\s*(\d+)");
        Assert.True(failing.Success, e.Message);
        int value = int.Parse(failing.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(value, 5, 10);
        Assert.Contains($"case {value} is not below 5", e.Message);
    }
}
