using Shinso.Backends;
using Shinso.Tensors;

namespace Shinso.Tests.BackendOperations;

/// <summary>One backend operation, and how to draw its cases: a shape, host data, and the naive double-precision reference.</summary>
/// <param name="Name">The <see cref="IBackend"/> member it calls.</param>
/// <param name="Generate">Draws one case from the random source (shapes, values, scalars) with its expected results.</param>
internal sealed record BackendOperation(string Name, Func<System.Random, OperationCase> Generate)
{
    public override string ToString() => Name;
}

/// <summary>
/// One call of a backend operation: its tensors (inputs uploaded, pure outputs filled with NaN so an element left
/// unwritten fails), the call, and each result's naive double-precision reference with its tolerance.
/// </summary>
internal sealed class OperationCase(string description)
{
    private readonly List<Buffer> _buffers = [];

    /// <summary>
    /// A tensor of the call: its values before the call (null: NaN, a pure output) and after it (null: not compared), and
    /// an absolute tolerance of its own (null: the case's).
    /// </summary>
    public sealed record Buffer(string Name, int[] Shape, float[]? Before, double[]? After, bool Exact, double? Absolute = null);

    /// <summary>The shape and settings drawn, for failure messages.</summary>
    public string Description => description;

    /// <summary>At most this fraction of a result's elements may be marked not compared (NaN in the reference: a kink within the step, a uniform on its threshold).</summary>
    public const double MaxUncompared = 0.1;

    public IReadOnlyList<Buffer> Buffers => _buffers;

    /// <summary>Calls the operation on the backend's tensors (looked up by name); returns its scalar result, if it has one.</summary>
    public Func<IBackend, Func<string, Tensor>, float?> Invoke { get; set; } = (_, _) => null;

    /// <summary>The reference of the returned scalar, if the operation returns one.</summary>
    public double? Scalar { get; set; }

    /// <summary>|actual - reference| &lt;= Absolute + Relative * |reference| for results not marked exact.</summary>
    public double Relative { get; set; } = 2e-6;

    /// <summary>See <see cref="Relative"/>.</summary>
    public double Absolute { get; set; } = 1e-6;

    /// <summary>An input the call reads and does not change (it is still checked to be unchanged).</summary>
    public OperationCase In(string name, float[] values, params int[] shape) => Add(new(name, shape, values, BackendOperationTable.Widen(values), true));

    /// <summary>A tensor the call overwrites without reading; NaN before the call. NaN in <paramref name="expected"/> marks an element not compared.</summary>
    public OperationCase Out(string name, double[] expected, params int[] shape) => Add(new(name, shape, null, expected, false));

    /// <summary>A tensor the call reads and updates.</summary>
    public OperationCase InOut(string name, float[] before, double[] after, params int[] shape) => Add(new(name, shape, before, after, false));

    /// <summary>A result that must equal its reference rounded to float, bit for bit (moves, counts, Philox draws).</summary>
    public OperationCase Exactly(string name, float[]? before, double[] after, params int[] shape) => Add(new(name, shape, before, after, true));

    /// <summary>Gives <paramref name="name"/> an absolute tolerance of its own (a result summed over fewer terms than the others).</summary>
    public OperationCase WithAbsolute(string name, double absolute)
    {
        int i = _buffers.FindIndex(b => b.Name == name);
        _buffers[i] = _buffers[i] with { Absolute = absolute };
        return this;
    }

    private OperationCase Add(Buffer buffer)
    {
        long length = 1;
        foreach (int s in buffer.Shape) length *= s;
        if (buffer.After is { } after && after.Length != length || buffer.Before is { } before && before.Length != length)
            throw new ArgumentException($"{buffer.Name}: {length} elements in the shape, data of another length.");
        _buffers.Add(buffer);
        return this;
    }

    /// <summary>Runs the case on <paramref name="backend"/> and asserts every result against its reference.</summary>
    public void AssertOn(IBackend backend, string what)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var b in _buffers)
        {
            var t = backend.Allocate(b.Shape);
            var before = b.Before ?? Enumerable.Repeat(float.NaN, checked((int)t.Length)).ToArray();
            backend.Upload(before, t);
            tensors[b.Name] = t;
        }
        float? scalar = Invoke(backend, name => tensors[name]);
        string context = $"{what} {description}";
        if (Scalar is { } expected)
        {
            Assert.True(scalar.HasValue, $"{context}: no scalar returned");
            Assert.True(Close(expected, scalar!.Value, Absolute), $"{context}: returned {scalar:R}, reference {expected:R}");
        }
        else Assert.True(scalar is null, $"{context}: returned {scalar:R}, and the entry has no reference for it");
        foreach (var b in _buffers)
        {
            if (b.After is not { } reference) continue;
            var actual = new float[reference.Length];
            backend.Download(tensors[b.Name], actual);
            int uncompared = reference.Count(double.IsNaN);
            Assert.True(uncompared <= MaxUncompared * reference.Length, $"{context}: {uncompared} of {reference.Length} elements of {b.Name} not compared");
            for (int i = 0; i < reference.Length; i++)
            {
                if (double.IsNaN(reference[i])) continue;
                bool ok = b.Exact ? BitConverter.SingleToInt32Bits(actual[i]) == BitConverter.SingleToInt32Bits((float)reference[i]) : Close(reference[i], actual[i], b.Absolute ?? Absolute);
                Assert.True(ok, $"{context}: {b.Name}[{i}] = {actual[i]:R}, reference {reference[i]:R}{(b.Exact ? " (exact)" : "")}");
            }
        }
    }

    private bool Close(double expected, float actual, double absolute) =>
        double.IsInfinity(expected) ? actual == expected : Math.Abs(actual - expected) <= absolute + Relative * Math.Abs(expected);
}
