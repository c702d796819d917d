using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Shinso.Tests.Onnx;

/// <summary>The ONNX tests share one ONNX Runtime process and one checker process.</summary>
[CollectionDefinition(Name)]
public sealed class OnnxCollection : ICollectionFixture<OnnxToolchain>
{
    public const string Name = "onnx";
}

/// <summary>
/// The external judges of an export: ONNX Runtime (<c>Microsoft.ML.OnnxRuntime</c>, in this process) runs the models,
/// Debian's python3-onnx checks them (one checker process serves every test of the run over stdin/stdout JSON lines,
/// started on first use). A judge that cannot run fails the tests that need it with a message naming what to install;
/// nothing is ever skipped (and with <c>CI=true</c> the message says the tools are required there).
/// </summary>
public sealed class OnnxToolchain : IDisposable
{
    /// <summary>The ONNX Runtime the tests pin (Directory.Packages.props); a different native library is an error.</summary>
    public const string OnnxRuntimeVersion = "1.31.1";
    public const string PythonVariable = "SHINSO_PYTHON";

    private readonly Lazy<Microsoft.ML.OnnxRuntime.SessionOptions> _runtime;
    private readonly Lazy<JsonLineServer> _checker;

    public OnnxToolchain()
    {
        _runtime = new Lazy<Microsoft.ML.OnnxRuntime.SessionOptions>(StartRuntime);
        _checker = new Lazy<JsonLineServer>(StartChecker);
    }

    /// <summary>The Python that has Debian's onnx package: <c>$SHINSO_PYTHON</c>, else /usr/bin/python3 (not a pyenv shim).</summary>
    public static string Python => Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } p ? p : "/usr/bin/python3";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <paramref name="model"/> in ONNX Runtime on one float input and returns its first output.</summary>
    /// <param name="bounds">Per-output bounds of the import check (null: <see cref="OnnxParity.Tolerance"/>; the ill-conditioned generated nets of <see cref="OnnxParity.ExportAndCompare"/> pass their conditioned ones).</param>
    public OrtResult Run(string model, float[] input, int[] dims, float[]? bounds = null)
    {
        var options = _runtime.Value;
        Microsoft.ML.OnnxRuntime.InferenceSession session;
        try
        {
            session = new Microsoft.ML.OnnxRuntime.InferenceSession(model, options);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            Assert.Fail($"ONNX Runtime rejected {Path.GetFileName(model)}: {e.Message}");
            throw;
        }
        using (session)
        {
            string inputName = session.InputMetadata.Keys.First();
            string outputName = session.OutputMetadata.Keys.First();
            var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, dims);
            using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(inputName, tensor)], [outputName]);
            var output = results.First().AsTensor<float>();
            var result = new OrtResult(output.ToArray(), output.Dimensions.ToArray(), inputName, outputName);
            AssertImportAgrees(model, input, dims, result, bounds);
            return result;
        }
    }

    /// <summary>
    /// Every file ONNX Runtime runs here is one Shinso exported: Shinso's importer must read it back and agree with ONNX Runtime
    /// on the same input, output for output (shape and values, within <see cref="OnnxParity.Tolerance"/>).
    /// </summary>
    private static void AssertImportAgrees(string model, float[] input, int[] dims, OrtResult ort, float[]? bounds)
    {
        using var backend = new Shinso.Backends.CpuBackend(new Shinso.Kernels.Cpu.CpuKernelOptions(Shinso.Kernels.Cpu.SimdPath.Auto, 1));
        var imported = Shinso.Onnx.Import.OnnxModel.Load(model);
        var outputs = imported.Run(backend, new Dictionary<string, Shinso.Onnx.Import.OnnxValue> { [ort.InputName] = Shinso.Onnx.Import.OnnxValue.FromFloats(dims, input) });
        var mine = outputs[ort.OutputName];
        Assert.True(mine.Shape.SequenceEqual(ort.Dims), $"{Path.GetFileName(model)} imported: shape {Shinso.Onnx.Import.OnnxValue.ShapeText(mine.Shape)}, ONNX Runtime [{string.Join(", ", ort.Dims)}].");
        OnnxParity.AssertClose(ort.Output, mine.Floats!, $"{Path.GetFileName(model)} imported by Shinso against ONNX Runtime", bounds);
    }

    /// <summary>Runs <c>onnx.checker.check_model(model, full_check=True)</c>; fails the test if it rejects the file, else returns what onnx parsed.</summary>
    public JsonObject Check(string model)
    {
        var reply = _checker.Value.Request(model);
        if (reply["error"] is { } error) Assert.Fail($"onnx.checker rejected {Path.GetFileName(model)}: {error}");
        return reply;
    }

    public void Dispose()
    {
        if (_runtime.IsValueCreated) _runtime.Value.Dispose();
        if (_checker.IsValueCreated) _checker.Value.Dispose();
    }

    /// <summary>Loads the native runtime once and checks its version; one intra-op thread, so results do not depend on the core count.</summary>
    private static Microsoft.ML.OnnxRuntime.SessionOptions StartRuntime()
    {
        string version;
        try
        {
            version = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException
                                       or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw Missing($"ONNX Runtime's native library did not load ({e.GetBaseException().Message}); the tests reference the " +
                          $"Microsoft.ML.OnnxRuntime {OnnxRuntimeVersion} package, whose runtimes/<rid>/native/libonnxruntime the test output holds; rebuild the tests (./test.sh).");
        }
        if (version != OnnxRuntimeVersion)
            throw Missing($"ONNX Runtime {version} loaded, not {OnnxRuntimeVersion}: another libonnxruntime shadows the package's (check LD_LIBRARY_PATH).");
        return new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL,
            // The graph as exported, not one ONNX Runtime has fused and rewritten: the export is what is being judged.
            GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
    }

    private static JsonLineServer StartChecker() =>
        JsonLineServer.Start(Python, [Path.Combine(AppContext.BaseDirectory, "Onnx", "onnx_check.py")],
            $"Debian's python3-onnx for {Python} (apt-get install python3-onnx; {PythonVariable} names another Python with the onnx package)");

    internal static InvalidOperationException Missing(string message) =>
        new(InCi ? $"{message} (CI=true: the ONNX verification tools are required, never skipped)" : message);

}

/// <summary>An ONNX Runtime result: the first output and the graph's input and output names.</summary>
public sealed record OrtResult(float[] Output, int[] Dims, string InputName, string OutputName);

/// <summary>A child process that answers one JSON line on stdout for each line on stdin.</summary>
internal sealed class JsonLineServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly string _what;
    private readonly Lock _gate = new();

    private JsonLineServer(Process process, string what)
    {
        _process = process;
        _what = what;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
    }

    /// <summary>The first line the server wrote: <c>{"ready": true, ...}</c>.</summary>
    public JsonObject Ready { get; private set; } = [];

    /// <param name="program">The executable.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="what">What to install when it cannot start, for the failure message.</param>
    public static JsonLineServer Start(string program, string[] arguments, string what)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw OnnxToolchain.Missing($"Cannot run {program} ({e.Message}): the ONNX tests need {what}.");
        }
        var server = new JsonLineServer(process, what);
        string? first = process.StandardOutput.ReadLine();
        var ready = first is null ? null : JsonNode.Parse(first) as JsonObject;
        if (ready is null || ready["ready"] is null)
        {
            // Without a timeout, WaitForExit also waits for the asynchronous stderr reader to drain.
            if (first is null) process.WaitForExit();
            string detail = ready?["error"]?.ToString() ?? server.StandardError();
            server.Dispose();
            throw OnnxToolchain.Missing($"{program} {string.Join(' ', arguments)} failed to start ({LastLine(detail)}); the ONNX tests need {what}.");
        }
        server.Ready = ready;
        return server;
    }

    private static string LastLine(string text)
    {
        var lines = text.Trim().Split('\n');
        return lines[^1].Trim();
    }

    public JsonObject Request(JsonObject request) => Request(request.ToJsonString());

    public JsonObject Request(string line)
    {
        lock (_gate)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
            string? reply = _process.StandardOutput.ReadLine();
            if (reply is null) throw new InvalidOperationException($"The {_what} server exited: {StandardError()}");
            return (JsonObject)JsonNode.Parse(reply)!;
        }
    }

    private string StandardError()
    {
        lock (_stderr) return _stderr.ToString();
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
