using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Shinso.Numerics;

namespace Shinso.Random;

/// <summary>One 128-bit output block of <see cref="Philox4x32"/>: four 32-bit words.</summary>
/// <param name="X0">Word 0.</param>
/// <param name="X1">Word 1.</param>
/// <param name="X2">Word 2.</param>
/// <param name="X3">Word 3.</param>
public readonly record struct PhiloxBlock(uint X0, uint X1, uint X2, uint X3)
{
    /// <summary>Word <paramref name="index"/> (0..3).</summary>
    public uint this[int index] => index switch
    {
        0 => X0,
        1 => X1,
        2 => X2,
        3 => X3,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "A Philox block has words 0..3."),
    };
}

/// <summary>
/// The Philox4x32-10 counter-based generator (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3", SC 2011), bit-compatible with Random123's <c>philox4x32_10</c>.
/// </summary>
/// <remarks>
/// <para>
/// The mapping used for drawing (<see cref="RandomStream.Derive"/> uses the generator differently, to make child streams):
/// for a <see cref="RandomStream"/>(Seed, Stream) and block index b, the
/// key is <c>(lo32(Seed), hi32(Seed))</c> and the counter is <c>(lo32(b), hi32(b), lo32(Stream), hi32(Stream))</c>.
/// Stream position p is word <c>p % 4</c> of block <c>p / 4</c>.
/// </para>
/// <para>
/// A word x becomes a uniform float <c>(x &gt;&gt; 8) * 2^-24</c> in [0, 1) (24 random bits, exact).
/// Normal deviates come by Box-Muller from the word pairs (w0, w1) and (w2, w3) of a block:
/// <c>u1 = ((w0 &gt;&gt; 8) + 1) * 2^-24</c> in (0, 1], <c>u2 = (w1 &gt;&gt; 8) * 2^-24</c> in [0, 1),
/// <c>r = sqrt(-2 ln u1)</c>, <c>z0 = r cos(2 pi u2)</c> (position of w0) and <c>z1 = r sin(2 pi u2)</c>
/// (position of w1). They are computed in float with the kernels' own ln and sin/cos (about 1-2 ulp; the
/// angle is reduced exactly in turns of u2), identically on every CPU path.
/// </para>
/// </remarks>
public static class Philox4x32
{
    /// <summary>The multiplier applied to counter word 0.</summary>
    public const uint Multiplier0 = 0xD251_1F53;
    /// <summary>The multiplier applied to counter word 2.</summary>
    public const uint Multiplier1 = 0xCD9E_8D57;
    /// <summary>The Weyl increment of key word 0 (golden ratio).</summary>
    public const uint Weyl0 = 0x9E37_79B9;
    /// <summary>The Weyl increment of key word 1 (sqrt(3) - 1).</summary>
    public const uint Weyl1 = 0xBB67_AE85;
    /// <summary>Number of rounds.</summary>
    public const int Rounds = 10;

    /// <summary>2^-24, the weight of one step of a 24-bit uniform.</summary>
    internal const float UniformScale = 5.9604644775390625E-8f;

    /// <summary>The block for raw key words and counter words.</summary>
    public static PhiloxBlock Generate(uint key0, uint key1, uint counter0, uint counter1, uint counter2, uint counter3)
    {
        uint c0 = counter0, c1 = counter1, c2 = counter2, c3 = counter3;
        uint k0 = key0, k1 = key1;
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
            {
                k0 += Weyl0;
                k1 += Weyl1;
            }
            ulong p0 = (ulong)Multiplier0 * c0;
            ulong p1 = (ulong)Multiplier1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
        }
        return new PhiloxBlock(c0, c1, c2, c3);
    }

    /// <summary>Block <paramref name="blockIndex"/> of <paramref name="stream"/> (see the class remarks for the mapping).</summary>
    public static PhiloxBlock Generate(RandomStream stream, ulong blockIndex) =>
        Generate((uint)stream.Seed, (uint)(stream.Seed >> 32),
            (uint)blockIndex, (uint)(blockIndex >> 32), (uint)stream.Stream, (uint)(stream.Stream >> 32));

    /// <summary>The word at <paramref name="position"/> of <paramref name="stream"/>.</summary>
    public static uint Word(RandomStream stream, ulong position) => Generate(stream, position / 4)[(int)(position % 4)];

    /// <summary>The uniform [0, 1) float of a word: <c>(word &gt;&gt; 8) * 2^-24</c>.</summary>
    public static float ToUniform(uint word) => (word >> 8) * UniformScale;

    /// <summary>The uniform [0, 1) float at <paramref name="position"/> of <paramref name="stream"/>.</summary>
    public static float Uniform(RandomStream stream, ulong position) => ToUniform(Word(stream, position));

    /// <summary>
    /// Fills <paramref name="destination"/> with <c>Uniform(stream, position + i)</c>, generating each Philox block once
    /// (a quarter of the rounds of calling <see cref="Uniform"/> per value).
    /// </summary>
    public static void FillUniform(RandomStream stream, ulong position, Span<float> destination)
    {
        int i = 0;
        while (i < destination.Length)
        {
            ulong at = position + (ulong)i;
            var block = Generate(stream, at / 4);
            for (int word = (int)(at % 4); word < 4 && i < destination.Length; word++, i++) destination[i] = ToUniform(block[word]);
        }
    }

    /// <summary>The Box-Muller pair of words (w0, w1) as two standard normal deviates (see the class remarks).</summary>
    public static (float Z0, float Z1) BoxMuller(uint w0, uint w1)
    {
        float u1 = ((w0 >> 8) + 1) * UniformScale;
        float u2 = (w1 >> 8) * UniformScale;
        float r = MathF.Sqrt(-2f * SimdMath.LogPositive(u1));
        SimdMath.SinCosTurns(u2, out float s, out float c);
        return (r * c, r * s);
    }

    /// <summary>The standard normal deviate at <paramref name="position"/> of <paramref name="stream"/>.</summary>
    public static float Gaussian(RandomStream stream, ulong position)
    {
        PhiloxBlock block = Generate(stream, position / 4);
        int word = (int)(position % 4);
        (float z0, float z1) = word < 2 ? BoxMuller(block.X0, block.X1) : BoxMuller(block.X2, block.X3);
        return (word & 1) == 0 ? z0 : z1;
    }

    // ---- vectorized generation: blocks laid out as in memory, [b.w0 b.w1 b.w2 b.w3 b+1.w0 ...] ----
    // Seen as 64-bit lanes a counter vector is [b, Stream, b+1, Stream, ...]. A round multiplies the even
    // words (vpmuludq against [M0, M1] per 64-bit lane), giving [lo0 hi0 lo1 hi1] per block; a shuffle
    // reorders that to [hi1 lo1 hi0 lo0] and the odd words shifted down give [c1 0 c3 0] to xor in.

    /// <summary>Four consecutive blocks starting at the counter in <paramref name="counter"/> (64-bit lanes [b, s, b+1, s, ...]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Generate4(Vector512<ulong> counter, uint key0, uint key1)
    {
        // vpmuludq reads the low dword of each qword: M0 goes in qword 0 of a block, M1 in qword 1.
        Vector512<uint> multipliers = Vector512.Create(Multiplier0, 0u, Multiplier1, 0u, Multiplier0, 0u, Multiplier1, 0u,
            Multiplier0, 0u, Multiplier1, 0u, Multiplier0, 0u, Multiplier1, 0u);
        Vector512<uint> key = Vector512.Create(key0, 0u, key1, 0u, key0, 0u, key1, 0u, key0, 0u, key1, 0u, key0, 0u, key1, 0u);
        Vector512<uint> weyl = Vector512.Create(Weyl0, 0u, Weyl1, 0u, Weyl0, 0u, Weyl1, 0u, Weyl0, 0u, Weyl1, 0u, Weyl0, 0u, Weyl1, 0u);
        Vector512<uint> s = counter.AsUInt32();
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
                key = Avx512F.Add(key, weyl);
            Vector512<uint> products = Avx512F.Multiply(s, multipliers).AsUInt32();
            Vector512<uint> odd = Avx512F.ShiftRightLogical(s.AsUInt64(), 32).AsUInt32();
            s = Avx512F.Xor(Avx512F.Xor(Avx512F.Shuffle(products, 0x1B), odd), key);
        }
        return s;
    }

    /// <summary>Two consecutive blocks starting at the counter in <paramref name="counter"/> (64-bit lanes [b, s, b+1, s]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Generate2(Vector256<ulong> counter, uint key0, uint key1)
    {
        Vector256<uint> multipliers = Vector256.Create(Multiplier0, 0u, Multiplier1, 0u, Multiplier0, 0u, Multiplier1, 0u);
        Vector256<uint> key = Vector256.Create(key0, 0u, key1, 0u, key0, 0u, key1, 0u);
        Vector256<uint> weyl = Vector256.Create(Weyl0, 0u, Weyl1, 0u, Weyl0, 0u, Weyl1, 0u);
        Vector256<uint> s = counter.AsUInt32();
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
                key = Avx2.Add(key, weyl);
            Vector256<uint> products = Avx2.Multiply(s, multipliers).AsUInt32();
            Vector256<uint> odd = Avx2.ShiftRightLogical(s.AsUInt64(), 32).AsUInt32();
            s = Avx2.Xor(Avx2.Xor(Avx2.Shuffle(products, 0x1B), odd), key);
        }
        return s;
    }
}
