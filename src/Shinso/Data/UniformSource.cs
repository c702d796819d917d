using Shinso.Random;

namespace Shinso.Data;

/// <summary>Uniform [0, 1) floats from a <see cref="RandomStream"/>: element k is position <c>counter + k</c> (Philox4x32-10).</summary>
internal static class UniformSource
{
    public static void Fill(RandomStream stream, ulong counter, Span<float> destination)
    {
        PhiloxBlock block = default;
        ulong loadedBlock = ulong.MaxValue;
        for (int k = 0; k < destination.Length; k++)
        {
            ulong position = counter + (ulong)k;
            ulong blockIndex = position / 4;
            if (blockIndex != loadedBlock || k == 0)
            {
                block = Philox4x32.Generate(stream, blockIndex);
                loadedBlock = blockIndex;
            }
            destination[k] = Philox4x32.ToUniform(block[(int)(position % 4)]);
        }
    }
}
