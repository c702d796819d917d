using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.SparseCoding;
using Shinso.Tests.Cli;
using Shinso.Tests.Data;

namespace Shinso.Tests.SparseCoding;

/// <summary>The sparse-coding presets through the real shinso executable, and the model file.</summary>
public sealed class SparseCodingCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    private string Subset(int trainCount, int testCount, int side = 28) => SubsetNpz(_dir, trainCount, testCount, side);

    /// <summary>The first images of the embedded subset as an .npz of uint8 in <paramref name="dir"/> (<paramref name="side"/> x side crops of them when smaller than 28).</summary>
    internal static string SubsetNpz(TempDirectory dir, int trainCount, int testCount, int side = 28)
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, trainCount, testCount);
        byte[] Pixels(Dataset d)
        {
            var bytes = new byte[d.Count * side * side];
            for (int s = 0; s < d.Count; s++)
                for (int r = 0; r < side; r++)
                    for (int c = 0; c < side; c++) bytes[(s * side + r) * side + c] = (byte)MathF.Round(d.Sample(s)[r * 28 + c] * 255f);
            return bytes;
        }
        static long[] Labels(Dataset d) => [.. d.Labels.Select(l => (long)l)];
        string npz = dir.File($"subset-{trainCount}-{testCount}-{side}.npz");
        NumpyFiles.Archive(npz,
            ("x_train", NumpyFiles.Array("|u1", [train.Count, side, side], Pixels(train))), ("y_train", NumpyFiles.Array("<i8", [train.Count], NumpyFiles.Int64s(Labels(train)))),
            ("x_test", NumpyFiles.Array("|u1", [test.Count, side, side], Pixels(test))), ("y_test", NumpyFiles.Array("<i8", [test.Count], NumpyFiles.Int64s(Labels(test)))));
        return npz;
    }

    [Fact]
    public void Sparse_coding_trains_reports_its_objective_and_classifiers_and_its_model_evaluates_and_draws_its_atoms()
    {
        string data = Subset(400, 200), run = _dir.File("run");
        var (code, stdout, stderr) = CliTests.Shinso("train", "sparse-coding", "--data", data, "--code", "48", "--epochs", "2", "--finetune-epochs", "3",
            "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(48, (int)result["atoms"]!);
        var passes = result["objective_by_pass"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.Equal(2, passes.Length);
        Assert.True(passes[1] < passes[0], $"objective by pass {passes[0]} -> {passes[1]}");
        // Unit-norm patches start at objective 0.5 (all codes zero); the learned atoms explain most of each patch.
        double objective = (double)result["mean_objective"]!, testObjective = (double)result["test_mean_objective"]!;
        Assert.InRange(objective, 0.05, 0.35);
        Assert.InRange(testObjective, 0.05, 0.4);
        double nonZeros = (double)result["mean_nonzeros"]!;
        Assert.InRange(nonZeros, 1, 40);
        Assert.True((double)result["accuracy"]! > 0.5, $"code accuracy {result["accuracy"]}");
        Assert.True((double)result["pixel_accuracy"]! > 0.5, $"pixel accuracy {result["pixel_accuracy"]}");
        Assert.Equal(9 * 2 * 48, (int)result["feature_count"]!);
        Assert.Contains("pass 2/2: mean objective", stderr);
        string model = Path.Combine(run, "model.shinso");
        Assert.True(new FileInfo(Path.Combine(run, "atoms.png")).Length > 100);

        var loaded = SparseCodingModelFile.Load(model);
        Assert.Equal(48, loaded.AtomCount);
        Assert.Equal(64, loaded.FeatureCount);
        Assert.Equal(0.1f, loaded.Lambda);
        for (int a = 0; a < 48; a++)
            Assert.True(Math.Sqrt(loaded.Dictionary.AsSpan(a * 64, 64).ToArray().Sum(v => (double)v * v)) <= 1 + 1e-5);

        (code, stdout, stderr) = CliTests.Shinso("eval", model, "--data", data, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var eval = LastJsonLine(stdout);
        Assert.True(Math.Abs((double)eval["test_mean_objective"]! - testObjective) < 0.05 * testObjective, $"eval {eval["test_mean_objective"]} vs train-time {testObjective}");
        Assert.True((bool)eval["converged"]!);

        string png = _dir.File("atoms.png");
        (code, _, stderr) = CliTests.Shinso("sample", model, "--filters", png, "--count", "16");
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(png).Length > 100);
        (code, _, stderr) = CliTests.Shinso("sample", model, "--out", _dir.File("samples.png"));
        Assert.NotEqual(0, code);
        Assert.Contains("not a generative model; write its atoms with --filters", stderr);

        // Images too small for the model's 8 x 8 patches, and options that do not apply.
        string tiny = Subset(20, 10, side: 6);
        (code, _, stderr) = CliTests.Shinso("eval", model, "--data", tiny, "--threads", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("A 8 x 8 patch does not fit in 6 x 6 images", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "sparse-coding", "--data", tiny, "--out", _dir.File("tiny"), "--threads", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("--data: A 8 x 8 patch does not fit in 6 x 6 images", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "sparse-coding", "--data", data, "--lr", "0.1", "--out", _dir.File("lr"));
        Assert.NotEqual(0, code);
        Assert.Contains("--optimizer and --lr apply to feed-forward presets", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "sparse-coding", "--data", data, "--code", "0", "--out", _dir.File("zero"));
        Assert.NotEqual(0, code);
        Assert.Contains("--code (atoms) must be >= 1, got 0", stderr);
    }

    [Fact]
    public void Repro_quick_reports_locality_sparsity_and_both_classifiers()
    {
        string run = _dir.File("repro");
        var (code, stdout, stderr) = CliTests.Shinso("repro", "sparse-coding", "--quick", "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var report = LastJsonLine(stdout);
        Assert.Equal(3, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        Assert.Equal(2000, (int)figures["train_samples"]!);
        // The shape, not the paper's numbers: localization is a share in (0, 1], accuracies are accuracies.
        Assert.InRange((double)figures["atom_localization"]!, 0.0, 1.0);
        Assert.InRange((double)figures["random_atom_localization"]!, 0.0, 1.0);
        Assert.InRange((double)figures["code_accuracy"]!, 0.1, 1.0);
        Assert.InRange((double)figures["pixel_accuracy"]!, 0.1, 1.0);
        Assert.True(File.Exists(Path.Combine(run, "atoms.png")));
        Assert.Contains("79.6 %", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    [Fact]
    public void A_model_file_round_trips_and_a_bad_field_is_named()
    {
        var random = new System.Random(1);
        var dictionary = FistaEncoderTests.RandomDictionary(random, 5, 9);
        var mean = new float[9];
        var matrix = new float[81];
        for (int i = 0; i < 9; i++) matrix[i * 9 + i] = 2f;
        var model = new SparseCodingModel(dictionary, 1, new PatchOptions(3, RemoveMean: true, UnitNorm: false), 0.25f, new ZcaWhitening(mean, matrix));
        string path = _dir.File("m.shinso");
        SparseCodingModelFile.Save(model, path);
        var back = SparseCodingModelFile.Load(path);
        Assert.Equal(dictionary, back.Dictionary);
        Assert.Equal(model.Patches, back.Patches);
        Assert.Equal(0.25f, back.Lambda);
        Assert.Equal(matrix, back.Whitening!.Matrix);

        var doc = SparseCodingModelFile.ToDocument(model);
        doc.Architecture["patch_size"] = 4;
        var e = Assert.Throws<ModelFileException>(() => SparseCodingModelFile.FromDocument(doc, "x.shinso"));
        Assert.Equal("tensor 'dictionary'", e.Field);
        Assert.Contains("has shape [5, 9] but the architecture needs [5, 16]", e.Message);
        doc = SparseCodingModelFile.ToDocument(model);
        doc.HyperParameters["lambda"] = -1;
        e = Assert.Throws<ModelFileException>(() => SparseCodingModelFile.FromDocument(doc, "x.shinso"));
        Assert.Equal("hyperParameters.lambda", e.Field);
        doc = SparseCodingModelFile.ToDocument(model);
        doc.Architecture["unit_norm"] = "yes";
        e = Assert.Throws<ModelFileException>(() => SparseCodingModelFile.FromDocument(doc, "x.shinso"));
        Assert.Equal("architecture.unit_norm", e.Field);
    }
}
