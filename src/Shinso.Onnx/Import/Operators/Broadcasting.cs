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
            result[d] = size;
        }
        return result;
    }

    /// <summary>
    /// The broadcast shape of a node's operands and, for each, the index it reads at every element of that shape; an error naming
    /// the node and the shapes when they do not broadcast.
    /// </summary>
    public static (int[] Shape, int[][] Sources) Operands(NodeContext n, params OnnxValue[] values)
    {
        var shape = Shape(values.Select(v => v.Shape).ToArray())
            ?? throw n.Error($"shapes {string.Join(", ", values.Select(v => OnnxValue.ShapeText(v.Shape)))} do not broadcast.");
        return (shape, values.Select(v => SourceIndices(v.Shape, shape)).ToArray());
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
