using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>
/// Scratch tensors of one model on one backend, found by what they are for: the first request for a (purpose, index,
/// shape) allocates, later ones get the same tensor back, so a training loop allocates nothing after its first step.
/// A tensor's contents do not survive between two uses; callers write before they read.
/// </summary>
public sealed class Workspace
{
    private readonly Dictionary<(string Purpose, int Index, int Rows, int Columns), Tensor> _tensors = [];

    /// <summary>Creates an empty workspace on <paramref name="backend"/>.</summary>
    public Workspace(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Backend = backend;
    }

    /// <summary>Where the tensors live.</summary>
    public IBackend Backend { get; }

    /// <summary>The [rows, columns] tensor for <paramref name="purpose"/>.</summary>
    public Tensor Get(string purpose, int rows, int columns) => Get(purpose, 0, rows, columns);

    /// <summary>The [rows, columns] tensor for item <paramref name="index"/> of <paramref name="purpose"/> (e.g. one per layer).</summary>
    public Tensor Get(string purpose, int index, int rows, int columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var key = (purpose, index, rows, columns);
        if (!_tensors.TryGetValue(key, out var tensor)) _tensors[key] = tensor = Backend.Allocate(rows, columns);
        return tensor;
    }

    /// <summary>The tensors allocated so far.</summary>
    public int Count => _tensors.Count;
}
