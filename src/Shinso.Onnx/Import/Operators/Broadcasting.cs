namespace Shinso.Onnx.Import.Operators;

/// <summary>Numpy-style multidirectional broadcasting (ONNX's rule for Add, Mul, Max, Where, ...).</summary>
internal static class Broadcasting
{
    /// <summary>The broadcast shape of <paramref name="shapes"/>, or null when two dimensions are neither equal nor 1.</summary>
    public static int[]? Shape(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var result = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int i = d - (rank - s.Length);
                if (i < 0) continue;
                int n = s[i];
                if (n == size || n == 1) continue;
                if (size != 1) return null;
                size = n;
            }
            // A zero-size dimension broadcasts against 1 to 0.
            foreach (var s in shapes)
            {
                int i = d - (rank - s.Length);
                if (i >= 0 && s[i] == 0) size = 0;
            }
            result[d] = size;
        }
        return result;
    }

    /// <summary>For each element of <paramref name="output"/>'s shape, the index of the element of <paramref name="input"/> it reads.</summary>
    public static int[] SourceIndices(int[] input, int[] output)
    {
        int count = OnnxValue.CountOf(output), rank = output.Length;
        var strides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int i = d - (rank - input.Length);
            int size = i >= 0 ? input[i] : 1;
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        var indices = new int[count];
        var position = new int[rank];
        int source = 0;
        for (int k = 0; k < count; k++)
        {
            indices[k] = source;
            for (int d = rank - 1; d >= 0; d--)
            {
                position[d]++;
                source += strides[d];
                if (position[d] < output[d]) break;
                source -= strides[d] * position[d];
                position[d] = 0;
            }
        }
        return indices;
    }
}
