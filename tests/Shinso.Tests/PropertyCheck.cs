using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Shinso.Tests;

/// <summary>
/// Runs FsCheck properties from xunit with a fixed replay seed, so every run of the suite draws the same cases and a
/// failure is reproducible; <c>SHINSO_TEST_SEED</c> moves every property to new cases (tests/explore-properties.sh
/// runs the properties with fresh seeds for a while and prints any seed that fails).
/// </summary>
internal static class PropertyCheck
{
    public const ulong DefaultSeed = 0x5EED_5EED_0001UL;

    /// <summary>The variable that replaces the fixed replay seed.</summary>
    public const string SeedVariable = "SHINSO_TEST_SEED";

    /// <summary><c>$SHINSO_TEST_SEED</c> (decimal, or hex with 0x) when set, else <see cref="DefaultSeed"/>.</summary>
    public static ulong RunSeed { get; } = ParseSeed(Environment.GetEnvironmentVariable(SeedVariable));

    /// <summary>Checks <paramref name="property"/> on <paramref name="maxTests"/> values drawn from <paramref name="generator"/>;
    /// the property throws (an xunit assertion) to fail. A failure names the seed that replays it.</summary>
    public static void ForAll<T>(Gen<T> generator, Action<T> property, int maxTests = 100, ulong seed = DefaultSeed)
    {
        // Without SHINSO_TEST_SEED this is the caller's seed; with it, every property moves to cases of its own.
        ulong effective = seed ^ RunSeed ^ DefaultSeed;
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(maxTests)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(effective, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
        var prop = Prop.ForAll(Arb.From(generator), (T value) => { property(value); return true; });
        try
        {
            Check.One(config, prop);
        }
        catch (Exception e) when (RunSeed != DefaultSeed)
        {
            throw new Exception($"{e.Message}\n({SeedVariable}={RunSeed} replays this failure.)", e);
        }
    }

    private static ulong ParseSeed(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return DefaultSeed;
        string t = text.Trim();
        bool parsed = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong seed)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out seed);
        return parsed ? seed : throw new InvalidOperationException($"{SeedVariable}='{t}' is not a seed; expected a non-negative integer (decimal, or hex with 0x).");
    }
}
