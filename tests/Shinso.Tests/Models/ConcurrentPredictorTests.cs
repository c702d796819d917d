using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Operations;

namespace Shinso.Tests.Models;

/// <summary>Inference from many threads: every concurrent prediction equals, bit for bit, the sequential one.</summary>
public class ConcurrentPredictorTests
{
    private static float[] Inputs(int count, int length, int seed)
    {
        var random = new System.Random(seed);
        var x = new float[count * length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Runs <paramref name="threads"/> threads of <paramref name="perThread"/> single-row predictions each and compares
    /// every output with the same row predicted sequentially by the same predictor.</summary>
    private static void Stress(FeedForwardNet net, int threads, int perThread, int distinctRows)
    {
        using var predictor = new ConcurrentPredictor(net, maxReplicas: threads);
        int n = net.Spec.InputLength, m = net.Spec.OutputLength;
        var rows = Inputs(distinctRows, n, seed: 5);
        var expected = new float[distinctRows][];
        for (int r = 0; r < distinctRows; r++) expected[r] = predictor.Predict(rows.AsSpan(r * n, n), 1);
        Assert.Contains(expected, e => e.Any(v => v != 0f)); // not a degenerate net
        int mismatches = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var output = new float[m];
            for (int i = 0; i < perThread; i++)
            {
                int r = (i * 7 + t * 13) % distinctRows;
                predictor.Predict(rows.AsSpan(r * n, n), 1, output);
                if (!output.AsSpan().SequenceEqual(expected[r])) Interlocked.Increment(ref mismatches);
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.Equal(0, mismatches);
        Assert.InRange(predictor.ReplicaCount, 1, threads);
    }

    [Fact]
    public void Eight_threads_of_ten_thousand_predictions_match_sequential_predictions()
    {
        using var backend = new CpuBackend();
        var spec = new FeedForwardSpec([20],
        [
            LayerSpec.Dense(32, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.5f),
            LayerSpec.Dense(16, WeightInit.GlorotUniform), LayerSpec.Of("tanh"), LayerSpec.Dense(5, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        Stress(new FeedForwardNet(backend, spec, seed: 3), threads: 8, perThread: 10_000, distinctRows: 64);
    }

    [Fact]
    public void A_convolutional_net_with_normalisation_predicts_the_same_from_many_threads()
    {
        // Convolution, pooling and LCN use their backend's scratch buffers: each replica has a backend of its own.
        using var backend = new CpuBackend();
        var spec = new FeedForwardSpec([1, 10, 10],
        [
            LayerSpec.Conv(3, 3, pad: 1), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2), LayerSpec.Lcn(3, 1f),
            LayerSpec.Of("flatten"), LayerSpec.Dense(4, WeightInit.GlorotUniform),
        ], "softmax-cross-entropy");
        Stress(new FeedForwardNet(backend, spec, seed: 4), threads: 8, perThread: 500, distinctRows: 16);
    }

    [Fact]
    public void Batches_equal_the_source_nets_predictions_and_shapes_are_checked()
    {
        using var backend = new CpuBackend(new Shinso.Kernels.Cpu.CpuKernelOptions(Shinso.Kernels.Cpu.SimdPath.Auto, 1));
        var spec = new FeedForwardSpec([6], [LayerSpec.Dense(3, WeightInit.GlorotUniform), LayerSpec.Of("sigmoid"), LayerSpec.Dense(2, WeightInit.GlorotUniform)], "squared-error");
        var net = new FeedForwardNet(backend, spec, seed: 2);
        var x = Inputs(9, 6, seed: 1);
        var tensor = backend.Allocate(9, 6);
        backend.Upload(x, tensor);
        var direct = net.Predict(tensor).Span.ToArray();
        using var predictor = new ConcurrentPredictor(net, maxReplicas: 2);
        Assert.Equal(direct, predictor.Predict(x, 9));
        Assert.Throws<ArgumentException>(() => predictor.Predict(x.AsSpan(0, 5), 1));
        Assert.Throws<ArgumentException>(() => predictor.Predict(x, 9, new float[3]));
        predictor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => predictor.Predict(x, 9));
    }

    public static TheoryData<Shinso.Kernels.Cpu.SimdPath> Paths() => [.. Shinso.Tests.Kernels.KernelTestData.ExplicitPaths()];

    /// <summary>
    /// A replica's dense layers (none narrow over long inputs here) read their weights from column panels on AVX-512,
    /// streamed up to 16 rows and blocked above (the other paths do not pack): the source net's predictions on the same
    /// path bit for bit (K past one 256-deep block, ragged last panels, rows past the kernel's groups of four and its
    /// 12-row tiles, a residual block with a projection, a dense layer over images).
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Packed_weights_predict_what_the_source_net_predicts_bit_for_bit(Shinso.Kernels.Cpu.SimdPath path)
    {
        using var backend = new CpuBackend(new Shinso.Kernels.Cpu.CpuKernelOptions(path, 1));
        var plain = new FeedForwardSpec([300],
            [LayerSpec.Dense(130, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(70, WeightInit.HeNormal), LayerSpec.Of("tanh"), LayerSpec.Dense(5, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        // A residual block's body and its shortcut's projection (70 -> 80) are packed too.
        var residual = new FeedForwardSpec([300],
            [LayerSpec.Dense(70, WeightInit.HeNormal), LayerSpec.Of("relu"),
             LayerSpec.Residual([LayerSpec.Dense(60, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(80, WeightInit.HeNormal)]),
             LayerSpec.Dense(5, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        // A dense layer straight over images reads them as rows.
        var images = new FeedForwardSpec([3, 10, 10], [LayerSpec.Dense(70, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(5, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        foreach (var spec in new[] { plain, residual, images })
        {
            var net = new FeedForwardNet(backend, spec, seed: 3);
            using var predictor = new ConcurrentPredictor(net, maxReplicas: 1, path);
            foreach (int rows in new[] { 1, 6, 16, 17, 100 })
            {
                var x = Inputs(rows, 300, seed: rows);
                var tensor = backend.Allocate([rows, .. spec.InputShape]);
                backend.Upload(x, tensor);
                var direct = net.Predict(tensor).Span.ToArray();
                Assert.Equal(direct, predictor.Predict(x, rows));
            }
        }
    }

    /// <summary>
    /// A narrow layer over long inputs keeps its weights transposed and sums each output along the inputs: the predictions
    /// differ from the source net's only by the order of summation, at any batch (past the dot-product kernel's 4096
    /// outputs too).
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void A_narrow_layer_over_long_inputs_predicts_what_the_source_net_predicts(Shinso.Kernels.Cpu.SimdPath path)
    {
        using var backend = new CpuBackend(new Shinso.Kernels.Cpu.CpuKernelOptions(path, 1));
        var spec = new FeedForwardSpec([600], [LayerSpec.Dense(520, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10, WeightInit.GlorotUniform)], "squared-error");
        Assert.Equal(InferenceWeightLayout.Transposed, InferenceWeightLayouts.For(520, 10));
        var net = new FeedForwardNet(backend, spec, seed: 5);
        using var predictor = new ConcurrentPredictor(net, maxReplicas: 1, path);
        foreach (int rows in new[] { 1, 17, 500 })
        {
            var x = Inputs(rows, 600, seed: rows);
            var tensor = backend.Allocate(rows, 600);
            backend.Upload(x, tensor);
            var direct = net.Predict(tensor).Span.ToArray();
            var packed = predictor.Predict(x, rows);
            Assert.Contains(direct, v => Math.Abs(v) > 0.1f);
            for (int i = 0; i < direct.Length; i++) Assert.True(Math.Abs(packed[i] - direct[i]) <= 1e-5f * (1 + Math.Abs(direct[i])), $"output {i}: {packed[i]} against {direct[i]}");
        }
    }

    [Fact]
    public void Disposing_while_calls_run_lets_them_finish_and_refuses_new_ones()
    {
        using var backend = new CpuBackend();
        var spec = new FeedForwardSpec([8], [LayerSpec.Dense(16, WeightInit.GlorotUniform), LayerSpec.Of("tanh"), LayerSpec.Dense(3, WeightInit.GlorotUniform)], "squared-error");
        var predictor = new ConcurrentPredictor(new FeedForwardNet(backend, spec, seed: 1), maxReplicas: 4);
        var row = Inputs(1, 8, seed: 2);
        var expected = predictor.Predict(row, 1);
        int completed = 0, refused = 0, wrong = 0;
        var other = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var started = new CountdownEvent(6);
        var workers = Enumerable.Range(0, 6).Select(_ => new Thread(() =>
        {
            var output = new float[3];
            started.Signal();
            while (true)
            {
                try
                {
                    predictor.Predict(row, 1, output);
                    if (!output.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref wrong);
                    Interlocked.Increment(ref completed);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                catch (Exception e)
                {
                    other.Add(e);
                    return;
                }
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        started.Wait();
        Thread.Sleep(50);
        predictor.Dispose();
        foreach (var w in workers) Assert.True(w.Join(TimeSpan.FromSeconds(30)), "a caller hung after Dispose");
        Assert.Empty(other);
        Assert.Equal(0, wrong);
        Assert.Equal(6, refused);
        Assert.True(completed > 0);
        Assert.Throws<ObjectDisposedException>(() => predictor.Predict(row, 1));
    }
}
