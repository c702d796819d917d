using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Models.FeedForward;
using Shinso.OpenCL;
using Shinso.Operations;
using Shinso.Profiling;
using Shinso.Tests.Kernels;
using Shinso.Training;

namespace Shinso.Tests.Profiling;

/// <summary>
/// The profiler sees every thread of the process, so its tests run alone: in the collection of the GEMM call log, whose
/// tests never run beside another (the first test reads that log too).
/// </summary>
[Collection(SgemmCallLogCollection.Name)]
public class ProfilerTests
{
    private static readonly FeedForwardSpec Spec = new([256], [LayerSpec.Dense(512), LayerSpec.Of("sigmoid"), LayerSpec.Dense(10)], "softmax-cross-entropy");

    [Fact]
    public void A_profiled_training_run_times_each_step_layer_pass_and_kernel_and_counts_the_gemms_flops()
    {
        var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 2));
        var net = new FeedForwardNet(backend, Spec, seed: 1);
        var config = new TrainingConfig { Architecture = Spec, Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.05f } };
        var trainer = new Trainer(net, config.CreateOptimizer(), new TrainingOptions { Epochs = 1, BatchSize = 100, Seed = 1 });
        var data = RandomRows(400, seed: 3);

        var log = SgemmCallLog.Start();
        var profiler = Profiler.Start();
        try
        {
            Assert.Throws<InvalidOperationException>(() => Profiler.Start());
            trainer.Fit(data);
        }
        finally
        {
            profiler.Stop();
            log.Dispose();
        }
        Assert.Null(Profiler.Active);

        Assert.Equal(4, profiler.Steps.Count);
        // Every GEMM the net made went through the seam once, and its 2mnk is the profile's count.
        var gemm = Assert.Single(profiler.Kernels(), k => k.Name == "Gemm");
        Assert.Equal(log.Calls.Count(c => !c.InParallelPart), gemm.Calls);
        Assert.Equal(log.Calls.Where(c => !c.InParallelPart).Sum(c => 2.0 * c.M * c.N * c.K), gemm.Flops);
        Assert.True(gemm.GigaflopsPerSecond > 0);
        Assert.Contains(profiler.Kernels(), k => k.Name == "MomentumUpdate" && k.GigaflopsPerSecond is null);

        var layers = profiler.Layers();
        Assert.Equal(["0 dense 512", "1 sigmoid", "2 dense 10"], layers.Select(l => l.Layer));
        Assert.All(layers, l => Assert.Equal(4, l.ForwardCalls));
        Assert.All(layers, l => Assert.True(l.ForwardSeconds > 0 && l.BackwardSeconds > 0, l.Layer));
        // The optimizer's updates count for the layers whose parameters they change.
        Assert.True(layers[0].UpdateSeconds > 0 && layers[2].UpdateSeconds > 0);
        Assert.Equal(0, layers[1].UpdateSeconds);
        Assert.True(layers.Sum(l => l.TotalSeconds) <= profiler.Steps.Seconds);
    }

    [Fact]
    public void The_chrome_trace_has_a_track_per_kernel_thread_and_nests_kernels_in_layers_in_steps()
    {
        var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 2));
        var profiler = Profiler.Start(recordTrace: true);
        JsonNode trace;
        try
        {
            var net = new FeedForwardNet(backend, Spec, seed: 1);
            var config = new TrainingConfig { Architecture = Spec, Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.05f } };
            new Trainer(net, config.CreateOptimizer(), new TrainingOptions { Epochs = 1, BatchSize = 100, Seed = 1 }).Fit(RandomRows(200, seed: 4));
            // Two parts that wait for each other: a pool worker runs one of them however busy the machine is.
            using (Profiler.Kernel("two parts at once")) KernelThreadPool.Run(new MeetingParts(), 2);
        }
        finally
        {
            profiler.Stop();
        }
        using (var json = new MemoryStream())
        {
            profiler.WriteChromeTrace(json);
            trace = JsonNode.Parse(json.ToArray())!;
        }

        var events = trace["traceEvents"]!.AsArray().Select(e => e!).ToList();
        var threads = events.Where(e => (string?)e["name"] == "thread_name").ToDictionary(e => (int)e["tid"]!, e => (string)e["args"]!["name"]!);
        Assert.Contains(threads.Values, name => name.StartsWith("Shinso kernel worker", StringComparison.Ordinal));

        var spans = events.Where(e => (string?)e["ph"] == "X")
            .Select(e => new Span((string)e["cat"]!, (string)e["name"]!, (string?)e["args"]?["pass"], (int)e["tid"]!, (double)e["ts"]!, (double)e["ts"]! + (double)e["dur"]!))
            .ToList();
        Assert.Equal(2, spans.Count(s => s.Category == "step"));
        // Two steps: a forward and a backward pass of each of the three layers, and an update of each dense layer's weight and bias.
        Assert.Equal(2 * 3 * 2, spans.Count(s => s.Category == "layer" && s.Pass is "forward" or "backward"));
        Assert.Equal(2 * 2 * 2, spans.Count(s => s.Category == "layer" && s.Pass == "update"));
        Assert.Contains(spans, s => s is { Category: "kernel part", Name: "two parts at once" } && threads[s.Thread].StartsWith("Shinso kernel worker", StringComparison.Ordinal));
        // Microsecond rounding may move an edge by a nanosecond.
        static bool Within(Span inner, Span outer) => inner.Start >= outer.Start - 1e-3 && inner.End <= outer.End + 1e-3;
        var steps = spans.Where(s => s.Category == "step").ToList();
        Assert.All(spans.Where(s => s.Category == "layer"), layer => Assert.Contains(steps, step => Within(layer, step)));
        // The thread that trained is the one with the steps; the parts it ran itself lie inside its kernels.
        int caller = Assert.Single(steps.Select(s => s.Thread).Distinct());
        Assert.DoesNotContain("Shinso kernel worker", threads[caller]);
        var callerKernels = spans.Where(s => s.Category == "kernel" && s.Thread == caller).ToList();
        Assert.All(spans.Where(s => s.Category == "kernel part" && s.Thread == caller),
            part => Assert.Contains(callerKernels, kernel => kernel.Name == part.Name && Within(part, kernel)));
        Assert.Contains(spans, s => s.Category == "kernel" && s.Name == "Gemm");
    }

    [Fact]
    public void Nothing_is_recorded_while_no_profiler_runs_while_one_is_suspended_or_inside_an_outer_kernel()
    {
        var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, 1));
        var a = backend.Allocate(8, 8);
        Assert.Null(Profiler.Active);
        using (Profiler.Kernel("nothing runs")) backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);

        var profiler = Profiler.Start();
        try
        {
            backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);
            using (Profiler.Suspend())
            {
                Assert.Null(Profiler.Active);
                backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);
            }
            Assert.Same(profiler, Profiler.Active);
            // A backend operation that calls another is one kernel.
            using (Profiler.Kernel("outer", 7)) backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);
        }
        finally
        {
            profiler.Stop();
        }
        backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);

        var kernels = profiler.Kernels().ToDictionary(k => k.Name);
        Assert.Equal(["Gemm", "outer"], kernels.Keys.Order());
        Assert.Equal((1, 2.0 * 8 * 8 * 8), (kernels["Gemm"].Calls, kernels["Gemm"].Flops));
        Assert.Equal((1, 7.0), (kernels["outer"].Calls, kernels["outer"].Flops));
        Assert.Throws<InvalidOperationException>(() => profiler.WriteChromeTrace(Stream.Null));

        // Stopped while suspended, a profiler stays stopped; a running one writes no trace, since its threads still append.
        var second = Profiler.Start(recordTrace: true);
        Assert.Throws<InvalidOperationException>(() => second.WriteChromeTrace(Stream.Null));
        using (Profiler.Suspend()) second.Stop();
        Assert.Null(Profiler.Active);
        second.WriteChromeTrace(Stream.Null);
        // A device that fails to synchronise costs its times, not the span's work or the stop.
        var third = Profiler.Start();
        third.Synchronize = () => throw new InvalidOperationException("the device is gone");
        using (Profiler.Layer("0 dense 8", LayerPass.Forward)) backend.Gemm(Transpose.None, Transpose.None, 1f, a, a, 0f, a);
        third.Stop();
        Assert.Null(Profiler.Active);
        Assert.Equal(1, third.Kernels().Single().Calls);
    }

    [Fact]
    public void On_opencl_the_device_times_every_launch_and_layer_spans_wait_for_the_queue()
    {
        using var device = OpenDevice();
        var a = device.Allocate(64, 32);
        var b = device.Allocate(32, 48);
        var c = device.Allocate(64, 48);
        device.Synchronize();
        var profiler = Profiler.Start(recordTrace: true);
        profiler.Synchronize = device.Synchronize;
        JsonNode trace;
        try
        {
            using (Profiler.Layer("0 dense 48", LayerPass.Forward))
                for (int i = 0; i < 3; i++) device.Gemm(Transpose.None, Transpose.None, 1f, a, b, 0f, c);
        }
        finally
        {
            profiler.Stop();
        }
        using (var json = new MemoryStream())
        {
            profiler.WriteChromeTrace(json);
            trace = JsonNode.Parse(json.ToArray())!;
        }

        var gemm = Assert.Single(profiler.DeviceKernels(), k => k.Name == device.LastGemmKernel);
        Assert.Equal(3, gemm.Calls);
        Assert.Equal(3 * 2.0 * 64 * 48 * 32, gemm.Flops);
        Assert.True(gemm.Seconds > 0 && gemm.GigaflopsPerSecond > 0);
        // The layer's span ended after the queue finished, so it covers the launches' device time.
        Assert.True(Assert.Single(profiler.Layers()).ForwardSeconds >= gemm.Seconds);
        var events = trace["traceEvents"]!.AsArray();
        Assert.Contains(events, e => (string?)e!["name"] == "thread_name" && (string?)e["args"]!["name"] == "device (OpenCL)");
        Assert.Equal(3, events.Count(e => (string?)e!["cat"] == "device kernel" && (string?)e["name"] == device.LastGemmKernel));
    }

    private sealed record Span(string Category, string Name, string? Pass, int Thread, double Start, double End);

    /// <summary>A kernel of two parts that only finish together, so two threads must run them.</summary>
    private sealed class MeetingParts : KernelWork
    {
        private readonly Barrier _meeting = new(2);

        public override void Execute(int index, int count) =>
            Assert.True(_meeting.SignalAndWait(TimeSpan.FromSeconds(30)), "the other part never ran beside this one");
    }

    private static OpenClBackend OpenDevice()
    {
        int index = int.TryParse(Environment.GetEnvironmentVariable("SHINSO_TEST_OPENCL_DEVICE"), out int i) ? i : 0;
        try
        {
            return new OpenClBackend(index, profileKernels: true);
        }
        catch (Shinso.OpenCL.Native.OpenClException e)
        {
            throw new InvalidOperationException($"This test needs an OpenCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1): {e.Message}", e);
        }
    }

    private static SupervisedData RandomRows(int rows, int seed)
    {
        var random = new System.Random(seed);
        var inputs = new float[rows * 256];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        var targets = new float[rows * 10];
        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = random.Next(10);
            targets[r * 10 + labels[r]] = 1f;
        }
        return new SupervisedData(inputs, 256, targets, 10, labels);
    }
}
