using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Models.FeedForward;
using Shinso.Onnx;
using Shinso.Training;

namespace Shinso.Perf;

/// <summary>
/// Shinso's inference against ONNX Runtime in the same process, on the same exported model and input: every feed-forward
/// preset (seed-1 initial weights; the cost does not depend on them) at each batch size. ONNX Runtime runs as a .NET user
/// would run it at its best (intra-op threads = Shinso's threads, sequential execution, every graph optimisation). The
/// two are timed in alternating rounds, each round calibrated to samples of at least 50 ms; the figures are ms per call,
/// best and median over all rounds. Each side is what a .NET user serving a fixed model calls: for ONNX Runtime
/// <c>Run</c> on an <c>InferenceSession</c> (which pre-packs the weights when it loads them), for Shinso
/// <see cref="ConcurrentPredictor.Predict(ReadOnlySpan{float}, int, Span{float})"/> with one replica of as many kernel
/// threads (a snapshot of the weights, its dense layers' weights packed once): upload, forward with the output
/// nonlinearity, download. The net's own <see cref="FeedForwardNet.Predict"/> (weights as trained, unpacked) is timed in
/// the same rounds and printed beside them.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project perf/Shinso.Perf -- infer-vs-ort [--threads 1] [--rounds 4] [--batches 1,100] [--models lenet5,...]</c>.
/// Prints one line per model and batch: Shinso's predictor best / median, ONNX Runtime best / median, their ratios (ORT time
/// over Shinso time: above 1 means Shinso is faster), and the net's own Predict best / median.
/// </remarks>
public static class InferenceAgainstOnnxRuntime
{
    /// <summary>Runs the comparison with the command-line arguments after <c>infer-vs-ort</c>.</summary>
    public static int Run(string[] args)
    {
        int threads = 1, rounds = 4;
        int[] batches = [1, 100];
        IReadOnlyList<string> models = Presets.Names.Where(n => n is not "linreg").ToList();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--batches": batches = args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--models": models = args[i + 1].Split(','); break;
                default: Console.Error.WriteLine($"infer-vs-ort: unknown option {args[i]}"); return 2;
            }
        }
        Console.WriteLine($"# Shinso vs Microsoft.ML.OnnxRuntime {OrtEnv.Instance().GetVersionString()} in-process, {threads} thread(s), {rounds} alternated rounds; ms per call");
        Console.WriteLine("model        batch  shinso_best shinso_med  ort_best   ort_med   ratio_best ratio_med  net_best   net_med");
        string directory = Path.Combine(Path.GetTempPath(), $"shinso-infer-vs-ort-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            using var backend = new CpuBackend(new CpuKernelOptions(SimdPath.Auto, threads));
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads, InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            foreach (var name in models)
            {
                var config = Presets.Find(name) ?? throw new ArgumentException($"unknown preset '{name}'");
                var net = new FeedForwardNet(backend, config.Architecture, 1);
                string path = Path.Combine(directory, name + ".onnx");
                OnnxExporter.Export(net, path);
                using var session = new InferenceSession(path, options);
                using var predictor = new ConcurrentPredictor(net, maxReplicas: 1, kernelThreads: threads);
                string input = session.InputMetadata.Keys.First();
                var dims = session.InputMetadata[input].Dimensions;
                foreach (int batch in batches)
                {
                    var host = new float[batch * net.Spec.InputLength];
                    var random = new System.Random(7);
                    for (int i = 0; i < host.Length; i++) host[i] = random.NextSingle();
                    var shape = dims.ToArray();
                    shape[0] = batch;
                    var tensor = new DenseTensor<float>(host, shape);
                    var feed = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(input, tensor) };
                    var predictions = new float[batch * net.Spec.OutputLength];
                    void Shinso() => predictor.Predict(host, batch, predictions);
                    var x = backend.Allocate(batch, net.Spec.InputLength);
                    void Net()
                    {
                        backend.Upload(host, x);
                        backend.Download(net.Predict(x), predictions);
                    }
                    void Ort()
                    {
                        using var results = session.Run(feed);
                    }
                    var ours = new List<double>();
                    var theirs = new List<double>();
                    var unpacked = new List<double>();
                    WarmUp(Shinso);
                    WarmUp(Ort);
                    WarmUp(Net);
                    for (int r = 0; r < rounds; r++)
                    {
                        ours.AddRange(Samples(Shinso));
                        theirs.AddRange(Samples(Ort));
                        unpacked.AddRange(Samples(Net));
                    }
                    ours.Sort();
                    theirs.Sort();
                    unpacked.Sort();
                    double sb = ours[0], sm = ours[ours.Count / 2], ob = theirs[0], om = theirs[theirs.Count / 2];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-12} {batch,5}  {sb,10:F4} {sm,10:F4}  {ob,9:F4} {om,9:F4}  {ob / sb,9:F2}x {om / sm,8:F2}x  {unpacked[0],8:F4} {unpacked[unpacked.Count / 2],8:F4}"));
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        return 0;
    }

    private static void WarmUp(Action call)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 0.3) call();
    }

    /// <summary>Five samples of ms per call, each of enough calls to last at least 50 ms.</summary>
    private static IEnumerable<double> Samples(Action call)
    {
        var clock = new Stopwatch();
        int calls = 1;
        while (true)
        {
            clock.Restart();
            for (int i = 0; i < calls; i++) call();
            if (clock.Elapsed.TotalMilliseconds >= 50) break;
            calls *= 2;
        }
        var samples = new double[5];
        for (int s = 0; s < samples.Length; s++)
        {
            clock.Restart();
            for (int i = 0; i < calls; i++) call();
            samples[s] = clock.Elapsed.TotalMilliseconds / calls;
        }
        return samples;
    }
}
