using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Kernels.Cpu;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>Options several commands share, and the console that progress goes to (stderr).</summary>
internal static class CommonOptions
{
    /// <summary>The grey value a binary-unit model file says its pixels were binarised at (<c>binarize_threshold</c>; 0.5 when absent).</summary>
    public static float BinarizeThreshold(System.Text.Json.Nodes.JsonObject metadata) =>
        metadata["binarize_threshold"] is System.Text.Json.Nodes.JsonValue t && t.TryGetValue<float>(out float f) ? f : 0.5f;

    public static Option<int> Threads() => new("--threads") { Description = "CPU threads for the kernels (0 = all cores)", DefaultValueFactory = _ => 0 };

    public static Option<string> Path() => new("--path")
    {
        Description = "Force the CPU kernel path: auto, avx512, avx2 or scalar",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<ulong?> Seed() => new("--seed") { Description = "Seed for initial weights, shuffling and sampling" };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object as the last line of stdout" };

    public static Option<string?> Data() => new("--data")
    {
        Description = "The data, detected by content: an IDX folder (MNIST, Fashion-MNIST; raw or .gz), a CIFAR-10 binary folder, " +
                      "an .npz with x_train/y_train/x_test/y_test, or a CSV (label first) with --test-data " +
                      "(default: the Debian package's Fashion-MNIST if installed, else the embedded subset)",
    };

    public static Option<string?> Target() => new("--target")
    {
        Description = "Regression on a CSV table (--data FILE): the column to predict, by header name or 1-based number; " +
                      "every other column is an input (test rows: --test-data FILE, else 20 % of the table held out)",
    };

    public static Option<string?> TestData() => new("--test-data")
    {
        Description = "The test split's CSV file, when --data is a CSV file",
    };

    /// <summary>Progress and human-readable output; stdout is kept for results.</summary>
    public static IAnsiConsole Err { get; } = CreateErr();

    private static IAnsiConsole CreateErr()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Logs and pipes get whole lines: Spectre would otherwise wrap them at 80 columns, splitting paths and messages.
        if (Console.IsErrorRedirected) console.Profile.Width = 4096;
        return console;
    }

    public static SimdPath ParsePath(string text) => text switch
    {
        "auto" => SimdPath.Auto,
        "avx512" => SimdPath.Avx512,
        "avx2" => SimdPath.Avx2,
        "scalar" => SimdPath.Scalar,
        _ => throw new UsageException($"--path must be auto, avx512, avx2 or scalar, not '{text}'."),
    };

    /// <summary><c>--backend</c>, on every command (recursive on the root).</summary>
    public static Option<string?> Backend { get; } = new("--backend")
    {
        Description = "cpu, opencl or auto (the first GPU, else the CPU); default: $SHINSO_BACKEND, else cpu",
        Recursive = true,
    };

    /// <summary><c>--device</c>, on every command (recursive on the root).</summary>
    public static Option<int?> Device { get; } = new("--device")
    {
        Description = "OpenCL device number, as `shinso devices` lists them (default 0; with auto, the first GPU)",
        Recursive = true,
    };

    /// <summary>The backend that --backend / --device / $SHINSO_BACKEND select; --threads and --path tune the CPU one.</summary>
    public static IBackend CreateBackend(ParseResult r, int threads, string path) =>
        BackendChoice.Create(r.GetValue(Backend), r.GetValue(Device), threads, ParsePath(path));

    /// <summary>Adds the backend's identity to a benchmark's JSON: threads and path on the CPU, the device elsewhere.</summary>
    public static JsonObject WithBackend(this JsonObject json, IBackend backend)
    {
        json["backend"] = backend.Name;
        if (backend is CpuBackend cpu)
        {
            json["threads"] = cpu.Options.ResolvedThreads;
            json["path"] = cpu.Options.ResolvedPath.ToString().ToLowerInvariant();
        }
        else if (backend is Shinso.OpenCL.OpenClBackend cl)
        {
            json["device"] = cl.DeviceInfo.Name;
            json["platform"] = cl.DeviceInfo.Platform;
            json["kernel_launches"] = cl.KernelLaunches;
        }
        return json;
    }

    /// <summary>A short description of a backend for progress lines: threads and path on the CPU, the device elsewhere.</summary>
    public static string Describe(IBackend backend) => backend switch
    {
        CpuBackend cpu => $"cpu, {cpu.Options.ResolvedThreads} thread(s), {cpu.Options.ResolvedPath.ToString().ToLowerInvariant()}",
        Shinso.OpenCL.OpenClBackend cl => $"{cl.Name} ({cl.DeviceInfo.Name}, {cl.DeviceInfo.Platform})",
        _ => backend.Name,
    };

    /// <summary>Where the Fashion-MNIST files come from when --data is not given.</summary>
    public static (string Directory, string Description) ResolveData(string? data)
    {
        if (data is not null) return (data, data);
        if (Directory.Exists(Shinso.Data.FashionMnist.DefaultDirectory))
            return (Shinso.Data.FashionMnist.DefaultDirectory, $"{Shinso.Data.FashionMnist.DefaultDirectory} (Debian package)");
        return (Shinso.Data.FashionMnist.EmbeddedSubsetDirectory, "the embedded Fashion-MNIST subset (10,000 train / 2,000 test)");
    }

    /// <summary>
    /// The training and test splits that --data and --test-data name, detected by content; without --data, Fashion-MNIST
    /// from the Debian package or the embedded subset. The description names the format for the progress line.
    /// </summary>
    public static Shinso.Data.LoadedData LoadData(string? data, string? testData)
    {
        if (data is null)
        {
            if (testData is not null) throw new UsageException("--test-data: applies with --data CSV-FILE (the training split's CSV).");
            var (directory, description) = ResolveData(null);
            var (train, test) = Shinso.Data.FashionMnist.Load(directory);
            return new Shinso.Data.LoadedData(train, test, Shinso.Data.DataFormat.Idx, description);
        }
        if (data.Length == 0) throw new UsageException("--data: expected a folder or file, got an empty path.");
        if (testData is { Length: 0 }) throw new UsageException("--test-data: expected a CSV file, got an empty path.");
        try
        {
            return Shinso.Data.DataSource.Load(data, testData);
        }
        catch (ArgumentException e) when (e.ParamName == "testPath")
        {
            throw new UsageException((testData is null ? "--data: " : "--test-data: ") + WithoutParameter(e));
        }
    }

    /// <summary>An argument error's message without the " (Parameter 'x')" suffix .NET appends, for a one-line usage error.</summary>
    public static string WithoutParameter(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");

    /// <summary>
    /// <paramref name="data"/> with one class per output of <paramref name="model"/> (a subset that lacks the last classes
    /// is widened); a usage error when the data has more classes than the model has outputs.
    /// </summary>
    public static Shinso.Data.Dataset FitClasses(Shinso.Data.Dataset data, int outputs, string model, int? classes = null)
    {
        int have = classes ?? data.ClassCount;
        if (have > outputs)
            throw new UsageException($"--data: the data has {have} classes but {model} has {outputs} outputs; use a config whose last layer has one unit per class.");
        return data.WithClassCount(outputs);
    }

    /// <summary>A usage error unless <paramref name="data"/>'s samples have <paramref name="features"/> features (the model's input).</summary>
    public static void RequireFeatures(Shinso.Data.LoadedData data, int features, string model)
    {
        int have = data.Train.FeatureCount;
        if (have != features)
            throw new UsageException($"--data: samples are {string.Join("x", data.Train.SampleShape)} ({have} features) but {model} takes {features} inputs; " +
                                     "pick a model whose input fits the data.");
    }
}

/// <summary>A command-line mistake: printed as a one-line error, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
