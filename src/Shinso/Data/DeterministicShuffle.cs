using Shinso.Random;

namespace Shinso.Data;

/// <summary>
/// Seeded shuffles for host-side data preparation: a Fisher-Yates shuffle driven by SplitMix64
/// with unbiased bounded draws, so a (count, seed) pair gives the same permutation on every
/// platform and .NET version (unlike <see cref="System.Random"/>, whose seeded sequence is not
/// guaranteed across versions).
/// </summary>
public static class DeterministicShuffle
{
    /// <summary>A permutation of <c>[0, count)</c> determined by <paramref name="seed"/>.</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = new int[count];
        for (int i = 0; i < count; i++) result[i] = i;
        Shuffle(result, seed);
        return result;
    }

    /// <summary>The permutation for epoch <paramref name="epoch"/> of a run seeded with <paramref name="seed"/> (its <c>epoch-order</c> stream).</summary>
    public static int[] EpochPermutation(int count, int epoch, ulong seed) =>
        EpochPermutation(count, epoch, RandomStream.Root(seed).Derive(EpochOrderPurpose));

    /// <summary>The purpose name of the stream that orders a run's epochs.</summary>
    public const string EpochOrderPurpose = "epoch-order";

    /// <summary>
    /// The permutation for epoch <paramref name="epoch"/> of a run whose sample order comes from <paramref name="order"/>:
    /// the shuffle is seeded by words 0-1 of the stream's Philox block <paramref name="epoch"/>.
    /// </summary>
    public static int[] EpochPermutation(int count, int epoch, RandomStream order)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var block = Philox4x32.Generate(order, (ulong)epoch);
        return Permutation(count, block.X0 | (ulong)block.X1 << 32);
    }

    /// <summary>
    /// Splits <c>[0, count)</c> into <paramref name="heldCount"/> held-out indices and the rest, by the permutation seeded
    /// with words 0-1 of block 0 of <paramref name="split"/>; both parts are sorted, so they keep the data's order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heldCount"/> is outside [0, count].</exception>
    public static (int[] Held, int[] Others) SplitIndices(int count, int heldCount, RandomStream split)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heldCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(heldCount, count);
        var block = Philox4x32.Generate(split, 0);
        var order = Permutation(count, block.X0 | (ulong)block.X1 << 32);
        int[] held = order[..heldCount], rest = order[heldCount..];
        Array.Sort(held);
        Array.Sort(rest);
        return (held, rest);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher-Yates) with a generator seeded by <paramref name="seed"/>.</summary>
    public static void Shuffle<T>(Span<T> items, ulong seed)
    {
        ulong state = seed;
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Below(ref state, (uint)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An unbiased draw from [0, bound) (Lemire's multiply-and-reject).</summary>
    private static int Below(ref ulong state, uint bound)
    {
        ulong product = (ulong)(uint)(Next(ref state) >> 32) * bound;
        uint low = (uint)product;
        if (low < bound)
        {
            uint threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                product = (ulong)(uint)(Next(ref state) >> 32) * bound;
                low = (uint)product;
            }
        }
        return (int)(product >> 32);
    }
}
