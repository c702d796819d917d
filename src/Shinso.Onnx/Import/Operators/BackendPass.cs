using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Onnx.Import.Operators;

/// <summary>Moves host values to and from the backend around one of its passes.</summary>
internal static class BackendPass
{
    /// <summary><paramref name="data"/> on <paramref name="backend"/> as a tensor of <paramref name="shape"/>.</summary>
    public static Tensor Upload(IBackend backend, ReadOnlySpan<float> data, params int[] shape)
    {
        var t = backend.Allocate(shape);
        backend.Upload(data, t);
        return t;
    }

    /// <summary>The elements of <paramref name="tensor"/> on the host.</summary>
    public static float[] Download(IBackend backend, Tensor tensor)
    {
        var data = new float[tensor.Length];
        backend.Download(tensor, data);
        return data;
    }

    /// <summary>
    /// <paramref name="pass"/> from an uploaded copy of <paramref name="x"/> into a fresh tensor of the same length, downloaded
    /// (for the elementwise and row-wise passes, whose inputs and outputs have one shape); a flat <c>[rows, columns]</c> view.
    /// </summary>
    public static float[] Map(IBackend backend, float[] x, int rows, Action<Tensor, Tensor> pass)
    {
        if (x.Length == 0) return [];
        var input = Upload(backend, x, rows, x.Length / rows);
        var output = backend.Allocate(rows, x.Length / rows);
        pass(input, output);
        return Download(backend, output);
    }
}
