using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Onnx;

namespace Shinso.Tests.Onnx;

/// <summary>
/// Exports, checks and runs models, and compares ONNX Runtime's answers with Shinso's; owns a one-thread CPU
/// backend for the models and a temporary folder for the files, both released by <see cref="Dispose"/>.
/// </summary>
internal sealed class OnnxParity : IDisposable
{
    /// <summary>The agreement the issue asks for: 1e-5 absolute on every output.</summary>
    public const float Tolerance = 1e-5f;

    private readonly OnnxToolchain _tools;
    private int _files;

    public OnnxParity(OnnxToolchain tools)
    {
        _tools = tools;
        Directory.CreateDirectory(Folder);
    }

    public OnnxToolchain Tools => _tools;

    public CpuBackend Backend { get; } = new(new CpuKernelOptions(SimdPath.Auto, Threads: 1));

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"shinso-onnx-{Guid.NewGuid():N}");

    public void Dispose()
    {
        Backend.Dispose();
        Directory.Delete(Folder, recursive: true);
    }

    /// <summary>A fresh .onnx path in the test's folder.</summary>
    public string NewPath(string name) => Path.Combine(Folder, $"{Interlocked.Increment(ref _files):D3}-{name}.onnx");

    /// <summary>
    /// Exports <paramref name="net"/> with <paramref name="options"/>, checks the file with onnx.checker, runs it on
    /// <paramref name="batch"/> random samples and asserts ONNX Runtime matches <see cref="FeedForwardNet.Predict"/>.
    /// Unless <paramref name="allowNaN"/>, Shinso's outputs must all be finite (hand-written cases are never degenerate).
    /// Returns the checker's report of the file.
    /// </summary>
    /// <param name="measureConditioning">
    /// For generated nets: where an output moves by more than its fixed bound when the inputs move by a few ulp
    /// (<see cref="RoundingSensitivity"/>; local contrast normalization of a near-constant map divides rounding noise by
    /// its 1e-4 floor), two float32 evaluations in different orders cannot agree closer than that. That output's bound is
    /// then four times its own measured change, capped at 1e-3 of its size (a real export error is larger), and
    /// <see cref="LastIllConditioned"/> / <see cref="LastImportWidened"/> say the case needed it. Hand-written cases keep the fixed bounds.
    /// </param>
    public JsonObject ExportAndCompare(FeedForwardNet net, OnnxExportOptions options, int batch, int seed, string name, bool allowNaN = false,
        bool measureConditioning = false)
    {
        string path = NewPath(name);
        OnnxExporter.Export(net, path, options);
        var report = _tools.Check(path);
        int[] dims = [batch, .. net.Spec.InputShape];
        var input = RandomValues(batch * net.Spec.InputLength, seed, -1f, 1f);
        var x = Upload(net.Backend, input, dims);
        var expected = Download(net.Predict(x));
        LastOutputs = expected;
        if (!allowNaN) Assert.True(Array.TrueForAll(expected, float.IsFinite), $"{name}: Shinso's outputs are not all finite.");
        var measured = measureConditioning ? RoundingSensitivity(net, input, dims, expected, seed) : new float[expected.Length];
        var conditioned = new float[expected.Length];
        for (int i = 0; i < expected.Length; i++)
            conditioned[i] = MathF.Min(4f * measured[i], 1e-3f * MathF.Max(1f, MathF.Abs(expected[i])));
        var runtimeBounds = Array.ConvertAll(conditioned, b => MathF.Max(Tolerance, b));
        var importBounds = expected.Select((e, i) => MathF.Max(ImportTolerance * MathF.Max(1f, MathF.Abs(e)), conditioned[i])).ToArray();
        LastIllConditioned = conditioned.Any(b => b > Tolerance);
        LastImportWidened = expected.Select((e, i) => conditioned[i] > ImportTolerance * MathF.Max(1f, MathF.Abs(e))).Any(b => b);
        string context = $"{name} (opset {options.Opset}, {options.Dense}){(LastIllConditioned ? $", ill-conditioned: outputs move up to {measured.Max():G3} under a 4-ulp input change" : "")}";
        var ort = _tools.Run(path, input, dims, runtimeBounds);
        Assert.Equal(batch, ort.Dims[0]);
        AssertClose(expected, ort.Output, context, runtimeBounds);
        AssertImportedClose(path, input, dims, ort.InputName, ort.OutputName, expected, context, importBounds);
        return report;
    }

    /// <summary>Whether the last <see cref="ExportAndCompare"/> widened an output's bound against ONNX Runtime (beyond <see cref="Tolerance"/>) for the net's conditioning.</summary>
    public bool LastIllConditioned { get; private set; }

    /// <summary>Whether it widened an output's bound against Shinso's own import (beyond <see cref="ImportTolerance"/>), a milder case.</summary>
    public bool LastImportWidened { get; private set; }

    /// <summary>
    /// Each finite output's largest change over four random perturbations of every input by up to 4 ulp
    /// (relative 4 * 2^-23): how much rounding at the input alone moves it.
    /// </summary>
    public static float[] RoundingSensitivity(FeedForwardNet net, float[] input, int[] dims, float[] outputs, int seed)
    {
        var random = new System.Random(seed ^ 0x51AB);
        var worst = new float[outputs.Length];
        for (int trial = 0; trial < 4; trial++)
        {
            var moved = Array.ConvertAll(input, v => v * (1f + (float)(random.NextDouble() * 2 - 1) * 4f * MathF.Pow(2, -23)));
            var y = Download(net.Predict(Upload(net.Backend, moved, dims)));
            for (int i = 0; i < y.Length; i++)
                if (float.IsFinite(y[i]) && float.IsFinite(outputs[i])) worst[i] = MathF.Max(worst[i], MathF.Abs(y[i] - outputs[i]));
        }
        return worst;
    }

    /// <summary>The agreement of an exported model imported back with the net that wrote it.</summary>
    public const float ImportTolerance = 1e-6f;

    /// <summary>Imports <paramref name="path"/> and asserts its output on <paramref name="input"/> is within <see cref="ImportTolerance"/> of <paramref name="expected"/> (Shinso's own prediction), relative to the output's scale where it exceeds 1.</summary>
    /// <param name="bounds">Per-output bounds instead (the conditioned ones of <see cref="ExportAndCompare"/>).</param>
    public void AssertImportedClose(string path, float[] input, int[] dims, string inputName, string outputName, float[] expected, string context, float[]? bounds = null)
    {
        var model = Shinso.Onnx.Import.OnnxModel.Load(path);
        var outputs = model.Run(Backend, new Dictionary<string, Shinso.Onnx.Import.OnnxValue> { [inputName] = Shinso.Onnx.Import.OnnxValue.FromFloats(dims, input) });
        var actual = outputs[outputName].Floats!;
        Assert.True(expected.Length == actual.Length, $"{context}: Shinso gives {expected.Length} values, its import {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].Equals(actual[i])) continue;
            float bound = bounds?[i] ?? ImportTolerance * Math.Max(1f, MathF.Abs(expected[i]));
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= bound, $"{context}: imported back, value {i} is {actual[i]:R}; the net gives {expected[i]:R} (more than {bound:G3} apart).");
        }
    }

    /// <summary>Shinso's outputs in the last <see cref="ExportAndCompare"/>, for callers that bound how many cases were degenerate.</summary>
    public float[] LastOutputs { get; private set; } = [];

    /// <summary>Every bias of <paramref name="net"/> set to uniform values in [-0.2, 0.2], so that bias wiring is tested (nets start with zero biases).</summary>
    public static void RandomizeBiases(FeedForwardNet net, int seed)
    {
        var random = new System.Random(seed);
        foreach (var p in net.Parameters)
        {
            if (p.Role != ParameterRole.Bias) continue;
            var values = new float[p.Value.Length];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 0.4 - 0.2);
            net.Backend.Upload(values, p.Value);
        }
    }

    public static float[] RandomValues(int count, int seed, float low, float high)
    {
        var random = new System.Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = low + (float)random.NextDouble() * (high - low);
        return values;
    }

    public static Shinso.Tensors.Tensor Upload(IBackend backend, float[] values, int[] shape)
    {
        var tensor = backend.Allocate(shape);
        backend.Upload(values, tensor);
        return tensor;
    }

    public static float[] Download(Shinso.Tensors.Tensor tensor)
    {
        var values = new float[tensor.Length];
        tensor.Backend.Download(tensor, values);
        return values;
    }

    /// <summary>
    /// Asserts equal lengths and |expected - actual| &lt;= 1e-5 everywhere, naming the first bad element. A NaN agrees
    /// only with a NaN (local contrast normalization of a constant image is 0/0 in both), an infinity only with itself.
    /// </summary>
    public static void AssertClose(float[] expected, float[] actual, string context) => AssertClose(expected, actual, context, null);

    /// <summary><see cref="AssertClose(float[], float[], string)"/> with a bound per element (null: <see cref="Tolerance"/> for all).</summary>
    public static void AssertClose(float[] expected, float[] actual, string context, float[]? bounds)
    {
        Assert.True(expected.Length == actual.Length, $"{context}: Shinso gives {expected.Length} values, ONNX Runtime {actual.Length}.");
        int bad = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (MathF.Abs(expected[i] - actual[i]) <= (bounds?[i] ?? Tolerance) || expected[i].Equals(actual[i])) continue;
            bad++;
            if (first < 0) first = i;
        }
        Assert.True(bad == 0,
            $"{context}: {bad} of {expected.Length} values differ by more than {(first < 0 || bounds is null ? Tolerance : bounds[first]):G3}; first at {first}: Shinso {(first < 0 ? 0 : expected[first])}, ONNX Runtime {(first < 0 ? 0 : actual[first])}.");
    }
}
