using System.Globalization;
using System.Text;
using Shinso.Backends;
using Shinso.Onnx.Import;
using Shinso.Onnx.Protos;
using Xunit.Abstractions;

namespace Shinso.Tests.Onnx;

/// <summary>
/// The ONNX project's own operator conformance cases (Debian's libonnx-testdata: <c>node/*/model.onnx</c> with
/// <c>test_data_set_*/input_*.pb</c> and <c>output_*.pb</c>) through the importer, compared at the suite's tolerances
/// (rtol 1e-3, atol 1e-7, shape and element type exact). Every case is counted as passed, failed or unsupported per operator
/// and the table printed; a failure fails the test unless <see cref="KnownFailures"/> lists it with its reason.
/// </summary>
public class OnnxNodeConformanceTests(ITestOutputHelper output)
{
    /// <summary>Where Debian's libonnx-testdata installs the node cases.</summary>
    public const string NodeDirectory = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Cases of supported operators that do not pass, and why (the README's conformance table lists them too).</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownFailures = new Dictionary<string, string>();

    public static string NodeDirectoryOrFail()
    {
        if (!Directory.Exists(NodeDirectory))
            Assert.Fail($"{NodeDirectory} is missing: install Debian's libonnx-testdata (apt-get install libonnx-testdata; test.sh does).");
        return NodeDirectory;
    }

    [Fact]
    public void Every_case_of_a_supported_operator_passes_on_the_cpu()
    {
        using var backend = new CpuBackend();
        var (table, failures) = RunSuite(backend);
        output.WriteLine(table);
        var unexpected = failures.Where(f => !KnownFailures.ContainsKey(f.Case)).ToList();
        var stale = KnownFailures.Keys.Where(k => failures.All(f => f.Case != k)).ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} conformance case(s) failed:\n{string.Join("\n", unexpected.Select(f => $"{f.Case}: {f.Reason}"))}\n\n{table}");
        Assert.True(stale.Count == 0, $"KnownFailures lists cases that now pass: {string.Join(", ", stale)}");
    }

    /// <summary>Runs every case on <paramref name="backend"/>: the per-operator table and the failures.</summary>
    public static (string Table, List<(string Case, string Reason)> Failures) RunSuite(IBackend backend)
    {
        var counts = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // passed, failed, unsupported
        var failures = new List<(string Case, string Reason)>();
        var unsupported = new List<string>();
        foreach (var folder in Directory.GetDirectories(NodeDirectoryOrFail()).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(folder);
            string model = Path.Combine(folder, "model.onnx");
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
            // Function expansions and other composite cases (several nodes) share one row.
            string op = proto.Graph.Node.Count == 1 ? proto.Graph.Node[0].OpType : "(graphs of several nodes)";
            if (!counts.TryGetValue(op, out var row)) counts[op] = row = new int[3];
            string? reason;
            try
            {
                reason = RunCase(backend, folder);
            }
            catch (OnnxUnsupportedException e)
            {
                row[2]++;
                string message = e.Message.Replace(folder + "/", "", StringComparison.Ordinal);
                int list = message.IndexOf("; Shinso implements", StringComparison.Ordinal);
                unsupported.Add($"{name}: {(list > 0 ? message[..list] : message)}");
                continue;
            }
            catch (Exception e) when (e is OnnxImportException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
            {
                reason = $"{e.GetType().Name}: {e.Message}";
            }
            if (reason is null) row[0]++;
            else
            {
                row[1]++;
                failures.Add((name, reason));
            }
        }
        var table = new StringBuilder("| operator | passed | failed | unsupported |\n|---|---:|---:|---:|\n");
        int[] total = new int[3];
        foreach (var (op, row) in counts)
        {
            table.Append(CultureInfo.InvariantCulture, $"| {op} | {row[0]} | {row[1]} | {row[2]} |\n");
            for (int i = 0; i < 3; i++) total[i] += row[i];
        }
        table.Append(CultureInfo.InvariantCulture, $"| all | {total[0]} | {total[1]} | {total[2]} |\n");
        table.Append("\nUnsupported cases:\n").AppendJoin("\n", unsupported);
        return (table.ToString(), failures);
    }

    /// <summary>Runs one case's data sets; null when every output matches, else what differs.</summary>
    private static string? RunCase(IBackend backend, string folder)
    {
        var model = OnnxModel.Load(Path.Combine(folder, "model.onnx"));
        foreach (var set in Directory.GetDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var inputs = new Dictionary<string, OnnxValue>();
            for (int k = 0; File.Exists(Path.Combine(set, $"input_{k}.pb")); k++)
            {
                if (k >= model.Inputs.Count) return $"{Path.GetFileName(set)} has more inputs than the model's {model.Inputs.Count}";
                inputs[model.Inputs[k].Name] = Read(Path.Combine(set, $"input_{k}.pb"));
            }
            var results = model.Run(backend, inputs);
            for (int k = 0; File.Exists(Path.Combine(set, $"output_{k}.pb")); k++)
            {
                var expected = Read(Path.Combine(set, $"output_{k}.pb"));
                var actual = results[model.Outputs[k].Name];
                if (Compare(expected, actual) is { } difference) return $"{Path.GetFileName(set)} output {k}: {difference}";
            }
        }
        return null;
    }

    private static OnnxValue Read(string path) => TensorDecoding.Decode(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), path, null);

    /// <summary>numpy's assert_allclose at rtol 1e-3, atol 1e-7, with exact shapes and element types; null when they agree.</summary>
    public static string? Compare(OnnxValue expected, OnnxValue actual)
    {
        if (expected.ElementType != actual.ElementType) return $"element type {actual.ElementType}, expected {expected.ElementType}";
        if (!expected.Shape.SequenceEqual(actual.Shape)) return $"shape {OnnxValue.ShapeText(actual.Shape)}, expected {OnnxValue.ShapeText(expected.Shape)}";
        if (expected.Floats is { } e)
        {
            var a = actual.Floats!;
            for (int i = 0; i < e.Length; i++)
            {
                if (float.IsNaN(e[i]) && float.IsNaN(a[i]) || e[i] == a[i]) continue;
                if (!(Math.Abs((double)a[i] - e[i]) <= 1e-7 + 1e-3 * Math.Abs((double)e[i])))
                    return string.Create(CultureInfo.InvariantCulture, $"element {i} is {a[i]:R}, expected {e[i]:R}");
            }
            return null;
        }
        for (int i = 0; i < expected.Length; i++)
            if (expected.Integers![i] != actual.Integers![i]) return $"element {i} is {actual.Integers[i]}, expected {expected.Integers[i]}";
        return null;
    }
}
