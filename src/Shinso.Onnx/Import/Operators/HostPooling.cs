namespace Shinso.Onnx.Import.Operators;

/// <summary>The pooling operators' reductions.</summary>
internal enum PoolKind { Max, Average, Lp }

/// <summary>
/// MaxPool, AveragePool and LpPool over any number of spatial dimensions on the host: the forms the backend's 2-D pooling
/// does not cover (3-D images, such as PyTorch's export of LocalResponseNorm; dilated windows; MaxPool's Indices output). Each axis's window taps are
/// listed once per output position, so a window's real cells are the product of its axes' real taps and its divisor the
/// product of their counts (padding included or not). With count_include_pad, a ceil-mode window that runs past the end
/// padding counts only the cells up to it, as PyTorch and ONNX Runtime divide (ONNX's newest reference divides by the
/// whole window there).
/// </summary>
internal static class HostPooling
{
    /// <summary>The taps of one output position along one axis: the input positions inside the image, and how many taps fall inside the padded image.</summary>
    private readonly record struct Taps(int[] Positions, int Padded);

    public static OnnxValue[] Run(NodeContext n, PoolKind kind)
    {
        var x = n.Input(0);
        if (x.Rank < 3) throw n.Error($"X {x} needs a batch, a channel and at least one spatial dimension.");
        int dims = x.Rank - 2;
        var kernel = Values(n, "kernel_shape", dims, null) ?? throw n.Error("kernel_shape is required.");
        var strides = Values(n, "strides", dims, 1)!;
        var dilations = Values(n, "dilations", dims, 1)!;
        if (kernel.Any(v => v < 1) || strides.Any(v => v < 1) || dilations.Any(v => v < 1)) throw n.Error("kernel_shape, strides and dilations must be positive.");
        bool ceil = n.Int("ceil_mode", 0) != 0;
        bool includePad = n.Int("count_include_pad", 0) != 0;
        int p = checked((int)n.Int("p", 2));
        if (kind == PoolKind.Lp && p < 1) throw n.Error($"p is {p}; an Lp norm needs p >= 1.");
        var begin = new int[dims];
        var end = new int[dims];
        string autoPad = n.String("auto_pad", "NOTSET");
        for (int d = 0; d < dims; d++)
        {
            int size = x.Shape[d + 2], window = checked((kernel[d] - 1) * dilations[d] + 1);
            if (autoPad is "SAME_UPPER" or "SAME_LOWER") (begin[d], end[d]) = ConvolutionOperators.Same(size, window, strides[d], autoPad == "SAME_UPPER");
            else if (autoPad is not ("NOTSET" or "VALID")) throw n.Error($"auto_pad is '{autoPad}'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID.");
        }
        if (autoPad == "NOTSET" && n.Ints("pads") is { } pads)
        {
            if (pads.Length != 2 * dims) throw n.Error($"pads has {pads.Length} values; expected {2 * dims}.");
            if (pads.Any(v => v < 0)) throw n.Unsupported($"negative pads [{string.Join(", ", pads)}] are not supported.");
            for (int d = 0; d < dims; d++)
            {
                (begin[d], end[d]) = (checked((int)pads[d]), checked((int)pads[d + dims]));
                // As ONNX Runtime requires: a window never lies wholly in padding.
                if (Math.Max(begin[d], end[d]) >= checked((kernel[d] - 1) * dilations[d] + 1))
                    throw n.Error($"pads [{string.Join(", ", pads)}] are not all smaller than the window along spatial axis {d}.");
            }
        }

        var taps = new Taps[dims][];
        var outShape = new int[x.Rank];
        outShape[0] = x.Shape[0];
        outShape[1] = x.Shape[1];
        for (int d = 0; d < dims; d++)
        {
            int size = x.Shape[d + 2], window = checked((kernel[d] - 1) * dilations[d] + 1), span = checked(size + begin[d] + end[d] - window);
            if (span < 0) throw n.Error($"the window of {window} along spatial axis {d} is larger than the padded size {size + begin[d] + end[d]}.");
            int count = (ceil ? (int)(((long)span + strides[d] - 1) / strides[d]) : span / strides[d]) + 1;
            // As PyTorch and the ONNX reference do, a ceil-mode window must start inside the image or its leading padding.
            if (ceil && (long)(count - 1) * strides[d] >= (long)size + begin[d]) count--;
            outShape[d + 2] = count;
            taps[d] = new Taps[count];
            for (int o = 0; o < count; o++)
            {
                var positions = new List<int>(Math.Min(kernel[d], size));
                int padded = 0;
                for (int t = 0; t < kernel[d]; t++)
                {
                    long position = (long)o * strides[d] - begin[d] + (long)t * dilations[d];
                    if (position < size + end[d]) padded++;
                    if (position >= 0 && position < size) positions.Add((int)position);
                }
                taps[d][o] = new Taps([.. positions], padded);
            }
        }

        var data = n.Floats(0);
        var y = new float[OnnxValue.CountOf(outShape)];
        // MaxPool's Indices: each maximum's offset in X flattened, its spatial part row-major or (storage_order 1) column-major.
        long[]? indices = kind == PoolKind.Max && n.OutputCount > 1 ? new long[y.Length] : null;
        bool columnMajor = n.Int("storage_order", 0) != 0;
        int inPlane = 1, outPlane = 1;
        for (int d = 0; d < dims; d++) { inPlane *= x.Shape[d + 2]; outPlane *= outShape[d + 2]; }
        var inStride = new int[dims];
        for (int d = dims - 1, s = 1; d >= 0; d--) { inStride[d] = s; s *= x.Shape[d + 2]; }
        var indexStride = inStride;
        if (columnMajor)
        {
            indexStride = new int[dims];
            for (int d = 0, s = 1; d < dims; d++) { indexStride[d] = s; s *= x.Shape[d + 2]; }
        }
        var at = new int[dims];
        var tap = new int[dims];
        for (int plane = 0; plane < x.Shape[0] * x.Shape[1]; plane++)
        {
            var input = data.AsSpan(plane * inPlane, inPlane);
            Array.Clear(at);
            for (int o = 0; o < outPlane; o++)
            {
                double sum = 0;
                float largest = float.NegativeInfinity;
                long argmax = -1;
                int real = 1, padded = 1;
                for (int d = 0; d < dims; d++) { real *= taps[d][at[d]].Positions.Length; padded *= taps[d][at[d]].Padded; }
                Array.Clear(tap);
                for (int k = 0; k < real; k++)
                {
                    int offset = 0;
                    for (int d = 0; d < dims; d++) offset += taps[d][at[d]].Positions[tap[d]] * inStride[d];
                    float v = input[offset];
                    switch (kind)
                    {
                        case PoolKind.Max:
                            if (argmax < 0 || v > largest || float.IsNaN(v) && !float.IsNaN(largest)) // the first NaN wins, as in MathF.Max
                            {
                                argmax = 0;
                                if (indices is not null)
                                    for (int d = 0; d < dims; d++) argmax += taps[d][at[d]].Positions[tap[d]] * indexStride[d];
                            }
                            largest = MathF.Max(largest, v);
                            break;
                        case PoolKind.Average: sum += v; break;
                        default: sum += Math.Pow(Math.Abs(v), p); break;
                    }
                    for (int d = dims - 1; d >= 0 && ++tap[d] == taps[d][at[d]].Positions.Length; d--) tap[d] = 0;
                }
                y[plane * outPlane + o] = kind switch
                {
                    PoolKind.Max => largest,
                    PoolKind.Average => (float)(sum / (includePad ? padded : real)),
                    _ => (float)Math.Pow(sum, 1.0 / p),
                };
                if (indices is not null) indices[plane * outPlane + o] = argmax < 0 ? -1 : (long)plane * inPlane + argmax;
                for (int d = dims - 1; d >= 0 && ++at[d] == outShape[d + 2]; d--) at[d] = 0;
            }
        }
        var pooled = OnnxValue.FromFloats(outShape, y);
        return indices is null ? [pooled] : [pooled, OnnxValue.FromIntegers(OnnxElementType.Int64, outShape, indices)];
    }

    private static int[]? Values(NodeContext n, string name, int dims, int? fallback)
    {
        var values = n.Ints(name);
        if (values is null) return fallback is int f ? Enumerable.Repeat(f, dims).ToArray() : null;
        if (values.Length != dims) throw n.Error($"{name} has {values.Length} values; expected {dims}, one per spatial dimension.");
        return values.Select(v => checked((int)v)).ToArray();
    }
}
