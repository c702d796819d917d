using Shinso.Random;

namespace Shinso.Tests.Kernels;

public class PhiloxTests
{
    // Random123 tests/kat_vectors, "philox4x32 10" lines: counter[4], key[2] -> output[4].
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Matches_the_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        Assert.Equal(new PhiloxBlock(x0, x1, x2, x3), Philox4x32.Generate(k0, k1, c0, c1, c2, c3));
    }

    [Fact]
    public void Stream_mapping_puts_seed_in_the_key_and_block_and_stream_in_the_counter()
    {
        var stream = new RandomStream(0x299f31d0_a4093822UL, 0x03707344_13198a2eUL);
        Assert.Equal(new PhiloxBlock(0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u),
            Philox4x32.Generate(stream, 0x85a308d3_243f6a88UL));
        Assert.Equal(Philox4x32.Generate(stream, 5).X2, Philox4x32.Word(stream, 5 * 4 + 2));
    }

    [Fact]
    public void Uniform_uses_the_top_24_bits()
    {
        Assert.Equal(0f, Philox4x32.ToUniform(0xFFu));
        Assert.Equal(0.5f, Philox4x32.ToUniform(0x8000_0000u));
        Assert.Equal(1f - 1f / (1 << 24), Philox4x32.ToUniform(uint.MaxValue));
        Assert.True(Philox4x32.ToUniform(uint.MaxValue) < 1f);
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(3UL, 1)]
    [InlineData(5UL, 11)]
    [InlineData(1UL << 40, 37)]
    public void FillUniform_gives_the_values_Uniform_gives_one_position_at_a_time(ulong position, int count)
    {
        var stream = RandomStream.Root(17).Derive("fill-uniform");
        var filled = new float[count];
        Philox4x32.FillUniform(stream, position, filled);
        for (int i = 0; i < count; i++) Assert.Equal(Philox4x32.Uniform(stream, position + (ulong)i), filled[i]);
    }

    [Fact]
    public void Box_muller_matches_the_double_formula()
    {
        var random = new System.Random(7);
        for (int t = 0; t < 20000; t++)
        {
            uint w0 = (uint)random.NextInt64(0, 1L << 32), w1 = (uint)random.NextInt64(0, 1L << 32);
            if (t == 0)
                (w0, w1) = (uint.MaxValue, 0u);        // u1 = 1: radius 0
            if (t == 1)
                (w0, w1) = (0u, 0x4000_0000u);         // smallest u1, a quarter turn
            (float z0, float z1) = Philox4x32.BoxMuller(w0, w1);
            double u1 = ((w0 >> 8) + 1) / 16777216.0, u2 = (w1 >> 8) / 16777216.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            double tolerance = 4e-7 * Math.Max(1, r);
            KernelTestData.AssertClose(r * Math.Cos(2 * Math.PI * u2), z0, tolerance, $"z0({w0:x8},{w1:x8})");
            KernelTestData.AssertClose(r * Math.Sin(2 * Math.PI * u2), z1, tolerance, $"z1({w0:x8},{w1:x8})");
        }
    }

    [Fact]
    public void Consecutive_positions_walk_the_words_of_consecutive_blocks()
    {
        var stream = new RandomStream(42, 7);
        for (ulong p = 0; p < 64; p++)
            Assert.Equal(Philox4x32.Generate(stream, p / 4)[(int)(p % 4)], Philox4x32.Word(stream, p));
        Assert.NotEqual(Philox4x32.Generate(new RandomStream(42, 8), 0), Philox4x32.Generate(stream, 0));
    }
}
