namespace Shinso.Random;

/// <summary>
/// A named stream of counter-based random numbers: Philox4x32-10 keyed by <see cref="Seed"/>,
/// with <see cref="Stream"/> in the upper half of the counter. Position p of the stream is word
/// <c>p % 4</c> of the block at counter <c>(p / 4, Stream)</c>, so any element can be produced
/// on its own, on any backend and by any thread, with the same value.
/// </summary>
/// <param name="Seed">The 64-bit Philox key.</param>
/// <param name="Stream">Selects an independent stream under the same seed (e.g. one per layer or purpose).</param>
public readonly record struct RandomStream(ulong Seed, ulong Stream);
