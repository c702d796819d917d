using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Tensors;

namespace Shinso.Models.FeedForward;

/// <summary>
/// Predictions from one feed-forward model for many threads at once. A <see cref="FeedForwardNet"/> (like its backend)
/// is for one thread at a time: its layers keep their activations in reused buffers. This class keeps replicas of the
/// net, each with its own <see cref="CpuBackend"/> (single-thread by default), layers and buffers, created on first need
/// (at most <see cref="MaxReplicas"/>) from a host copy of the weights taken once; a call borrows an idle replica and
/// returns it, so every call gives bit for bit what a sequential call gives.
/// </summary>
/// <remarks>
/// The weights are copied when the predictor is made: later training of the source net does not reach it. Since a
/// replica's weights never change, on AVX-512 its dense layers also keep a copy of them laid out for inference: column
/// panels (<see cref="Operations.ColumnPanels"/>), which calls of up to <see cref="Operations.ColumnPanels.MaxRows"/> rows
/// stream once, in order, and larger calls multiply without packing them again, with the results a CPU source net on the
/// same kernel path gives in <see cref="FeedForwardNet.Predict"/>, bit for bit; or, for a narrow layer over long inputs
/// (at most 16 units over at least 512 inputs: a classifier's outputs), the transpose, whose outputs are dot products
/// along the inputs: they differ from the source net's, and between a row predicted alone and in a large batch, only by
/// the order of summation.
/// </remarks>
public sealed class ConcurrentPredictor : IDisposable
{
    private readonly FeedForwardSpec _spec;
    private readonly ulong _seed;
    private readonly (string Name, float[] Values)[] _weights;
    private readonly System.Collections.Concurrent.ConcurrentBag<Replica> _idle = [];
    private readonly SemaphoreSlim _slots;
    private readonly CpuKernelOptions _kernels;
    private int _replicas;
    private int _inFlight;
    private volatile bool _disposed;

    /// <summary>Snapshots <paramref name="source"/>'s architecture and weights (from any backend).</summary>
    /// <param name="source">The trained net.</param>
    /// <param name="maxReplicas">Calls that may run at once (others wait); each running call holds one replica's buffers.</param>
    /// <param name="path">The CPU kernel path of the replicas (default: the widest this CPU has).</param>
    /// <param name="kernelThreads">Kernel threads of each replica's backend: 1 (the default) when the callers' threads are the
    /// parallelism, more for one caller with large batches.</param>
    public ConcurrentPredictor(FeedForwardNet source, int maxReplicas = 0, SimdPath path = SimdPath.Auto, int kernelThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(maxReplicas);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelThreads);
        _spec = source.Spec;
        OutputLength = _spec.OutputLength;
        _seed = source.Seed;
        _weights = [.. source.Parameters.Select(p =>
        {
            var values = new float[p.Value.Length];
            p.Value.Backend.Download(p.Value, values);
            return (p.Name, values);
        })];
        MaxReplicas = maxReplicas == 0 ? Environment.ProcessorCount : maxReplicas;
        _slots = new SemaphoreSlim(MaxReplicas, MaxReplicas);
        _kernels = new CpuKernelOptions(path, kernelThreads);
    }

    /// <summary>The most calls that run at once.</summary>
    public int MaxReplicas { get; }

    /// <summary>Features per input row.</summary>
    public int InputLength => _spec.InputLength;

    /// <summary>Values per output row (after the output nonlinearity, as <see cref="FeedForwardNet.Predict"/> gives them).</summary>
    public int OutputLength { get; }

    /// <summary>
    /// Writes the predictions for <paramref name="rows"/> input rows (row-major, <see cref="InputLength"/> each) into
    /// <paramref name="predictions"/> (<see cref="OutputLength"/> each). Safe to call from any number of threads.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not fit <paramref name="rows"/>.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public void Predict(ReadOnlySpan<float> inputs, int rows, Span<float> predictions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (inputs.Length != (long)rows * InputLength)
            throw new ArgumentException($"{rows} rows of {InputLength} features need {(long)rows * InputLength} values, {inputs.Length} were given.", nameof(inputs));
        if (predictions.Length != (long)rows * OutputLength)
            throw new ArgumentException($"{rows} rows of {OutputLength} outputs need {(long)rows * OutputLength} values, the destination has {predictions.Length}.", nameof(predictions));
        Interlocked.Increment(ref _inFlight);
        Replica? replica = null;
        try
        {
            // The semaphore is never disposed while a call is in flight (Dispose leaves that to the last call out).
            _slots.Wait();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_idle.TryTake(out replica)) replica = CreateReplica();
                replica.Predict(inputs, rows, predictions);
            }
            finally
            {
                if (replica is not null)
                {
                    if (_disposed) replica.Dispose();
                    else _idle.Add(replica);
                }
                _slots.Release();
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && _disposed) ReleaseIdle();
        }
    }

    /// <summary>The predictions for <paramref name="rows"/> input rows, as a new array.</summary>
    public float[] Predict(ReadOnlySpan<float> inputs, int rows)
    {
        var predictions = new float[rows * OutputLength];
        Predict(inputs, rows, predictions);
        return predictions;
    }

    /// <summary>The replicas made so far (at most <see cref="MaxReplicas"/>).</summary>
    public int ReplicaCount => Volatile.Read(ref _replicas);

    /// <summary>
    /// Refuses new calls and releases the idle replicas; calls already running finish normally and release theirs (the
    /// last one out releases the rest).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Volatile.Read(ref _inFlight) == 0) ReleaseIdle();
    }

    private void ReleaseIdle()
    {
        while (_idle.TryTake(out var replica)) replica.Dispose();
    }

    private Replica CreateReplica()
    {
        var backend = new CpuBackend(_kernels);
        var net = new FeedForwardNet(backend, _spec, _seed);
        for (int i = 0; i < _weights.Length; i++)
        {
            var p = net.Parameters[i];
            if (p.Name != _weights[i].Name) throw new InvalidOperationException($"Replica parameter {i} is '{p.Name}', the source's '{_weights[i].Name}'.");
            backend.Upload(_weights[i].Values, p.Value);
        }
        // A replica's weights never change after this, so they are laid out for inference once; only on the path whose
        // layouts were measured to be faster.
        if (_kernels.ResolvedPath == SimdPath.Avx512) net.PackDenseWeightsForInference();
        Interlocked.Increment(ref _replicas);
        return new Replica(backend, net);
    }

    /// <summary>One net on its own backend, with an input buffer that grows to the largest batch seen.</summary>
    private sealed class Replica(CpuBackend backend, FeedForwardNet net) : IDisposable
    {
        private Tensor? _input;

        public void Predict(ReadOnlySpan<float> inputs, int rows, Span<float> predictions)
        {
            if (_input is null || _input.Rows < rows) _input = backend.Allocate([rows, .. net.Spec.InputShape]);
            var x = _input.SliceRows(0, rows);
            backend.Upload(inputs, x);
            backend.Download(net.Predict(x), predictions);
        }

        public void Dispose() => backend.Dispose();
    }
}
