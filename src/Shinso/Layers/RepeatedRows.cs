using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>A batch with each row repeated in place, for the values a layer cached in its forward pass.</summary>
internal sealed class RepeatedRows(IBackend backend)
{
    private readonly BatchBuffer _stacked = new(backend), _repeated = new(backend);

    /// <summary>[N·copies, ...] with rows r·copies .. r·copies + copies - 1 equal to row r of <paramref name="source"/> (valid until the next call).</summary>
    public Tensor Of(Tensor source, int copies)
    {
        if (copies == 1) return source;
        int n = source.Rows;
        var shape = source.Shape[1..];
        // The copies one after another, [copies, N, ...], then the two leading axes exchanged: [N, copies, ...].
        var stacked = _stacked.Get(n * copies, shape);
        for (int j = 0; j < copies; j++) backend.Copy(source, stacked.SliceRows(j * n, n));
        var repeated = _repeated.Get(n * copies, shape);
        backend.SwapLeadingAxes(stacked, copies, n, repeated);
        return repeated;
    }

    /// <summary>Throws unless <paramref name="gradient"/> holds <paramref name="copies"/> rows for each of <paramref name="forwardRows"/>.</summary>
    public static void Check(Tensor gradient, int forwardRows, int copies, string layer)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        if (gradient.Rows != (long)forwardRows * copies)
            throw new ArgumentException($"The {layer} layer's output gradient has {gradient.Rows} rows, not {copies} for each of the last forward pass's {forwardRows}.", nameof(gradient));
    }
}
