namespace Shinso.Random;

/// <summary>
/// A stream of counter-based random numbers: Philox4x32-10 keyed by <see cref="Seed"/>,
/// with <see cref="Stream"/> in the upper half of the counter. Position p of the stream is word
/// <c>p % 4</c> of the block at counter <c>(p / 4, Stream)</c>, so any element can be produced
/// on its own, on any backend and by any thread, with the same value.
/// </summary>
/// <remarks>
/// Streams are not numbered by hand: a run starts from <see cref="Root"/>(seed) and every stream it draws from is
/// <see cref="Derive"/>d from that root by purpose and index, e.g.
/// <c>RandomStream.Root(seed).Derive("greedy-layer", 1).Derive("gibbs")</c>, in the spirit of JAX's <c>fold_in</c>.
/// </remarks>
/// <param name="Seed">The 64-bit Philox key.</param>
/// <param name="Stream">Selects an independent stream under the same key.</param>
public readonly record struct RandomStream(ulong Seed, ulong Stream)
{
    /// <summary>The root of the streams of a run seeded with <paramref name="seed"/>; draw from streams derived from it.</summary>
    public static RandomStream Root(ulong seed) => new(seed, 0);

    /// <summary>
    /// The child stream for <paramref name="purpose"/> (e.g. <c>"gibbs"</c>, <c>"epoch-order"</c>) and
    /// <paramref name="index"/> (e.g. a layer's position): the Philox4x32-10 block keyed by <see cref="Seed"/> at counter
    /// <c>(lo32(Stream), hi32(Stream), FNV-1a(purpose), index)</c>, whose words 0-1 are the child's seed and 2-3 its stream.
    /// </summary>
    /// <remarks>
    /// For a fixed key Philox is a bijection of the counter, so children of one parent (and of parents that share a key)
    /// with different indices or purpose hashes are different streams, never overlapping ones; streams under different keys
    /// coincide with probability 2^-128. The derivation reads the block that a hand-made stream
    /// <c>(Seed, hash | index &lt;&lt; 32)</c> would draw at position <c>Stream * 4</c>; streams are only ever derived, so none is.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="purpose"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public RandomStream Derive(string purpose, int index = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var block = Philox4x32.Generate((uint)Seed, (uint)(Seed >> 32), (uint)Stream, (uint)(Stream >> 32), PurposeHash(purpose), (uint)index);
        return new RandomStream(block.X0 | (ulong)block.X1 << 32, block.X2 | (ulong)block.X3 << 32);
    }

    /// <summary>32-bit FNV-1a over the UTF-16 code units of <paramref name="purpose"/>.</summary>
    internal static uint PurposeHash(string purpose)
    {
        uint hash = 2166136261;
        foreach (char c in purpose)
        {
            hash = (hash ^ (byte)c) * 16777619;
            hash = (hash ^ (byte)(c >> 8)) * 16777619;
        }
        return hash;
    }
}
