using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Shinso.Tests;

/// <summary>
/// Runs FsCheck properties from xunit with a fixed replay seed, so every run of the suite
/// draws the same cases and a failure is reproducible (FsCheck.Xunit is not served here).
/// </summary>
internal static class PropertyCheck
{
    public const ulong DefaultSeed = 0x5EED_5EED_0001UL;

    /// <summary>Checks <paramref name="property"/> on <paramref name="maxTests"/> values drawn from <paramref name="generator"/>;
    /// the property throws (an xunit assertion) to fail.</summary>
    public static void ForAll<T>(Gen<T> generator, Action<T> property, int maxTests = 100, ulong seed = DefaultSeed)
    {
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(maxTests)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
        var prop = Prop.ForAll(Arb.From(generator), (T value) => { property(value); return true; });
        Check.One(config, prop);
    }
}
