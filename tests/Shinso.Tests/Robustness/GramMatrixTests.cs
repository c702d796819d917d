using Shinso.Numerics;

namespace Shinso.Tests.Robustness;

public sealed class GramMatrixTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(9, 784)]
    [InlineData(4, 789)]
    [InlineData(0, 5)]
    public void The_gram_matrix_is_every_pair_of_rows_dotted_in_double(int count, int width)
    {
        var random = new System.Random(count * 1000 + width);
        var rows = new float[count * width];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)(random.NextDouble() * 2 - 1);
        var gram = new double[count * count];
        GramMatrix.Compute(rows, count, width, gram);
        for (int k = 0; k < count; k++)
            for (int l = 0; l < count; l++)
            {
                // The naive twin: one product at a time, in double.
                double expected = 0;
                for (int j = 0; j < width; j++) expected += (double)rows[k * width + j] * rows[l * width + j];
                Assert.True(Math.Abs(gram[k * count + l] - expected) <= 1e-13 * Math.Max(1, Math.Abs(expected)), $"G[{k},{l}] = {gram[k * count + l]:R}, naive {expected:R}");
                Assert.Equal(gram[k * count + l], gram[l * count + k]);
            }
        Assert.Throws<ArgumentException>(() => GramMatrix.Compute(rows, count + 1, width, new double[(count + 1) * (count + 1)]));
        Assert.Throws<ArgumentException>(() => GramMatrix.Compute(rows, count, width, new double[count * count + 1]));
    }
}
