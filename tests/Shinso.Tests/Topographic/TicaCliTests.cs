using System.Text.Json.Nodes;
using Shinso.Models.Topographic;
using Shinso.Tests.Cli;
using Shinso.Tests.Data;
using Shinso.Tests.SparseCoding;

namespace Shinso.Tests.Topographic;

/// <summary>The tica and rica presets through the real shinso executable, and their model file.</summary>
public sealed class TicaCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    [Fact]
    public void Tica_learns_an_orthonormal_topographic_bank_and_rica_an_overcomplete_one()
    {
        string data = SparseCodingCliTests.SubsetNpz(_dir, 400, 200), run = _dir.File("tica");
        var (code, stdout, stderr) = CliTests.Shinso("train", "tica", "--data", data, "--epochs", "4", "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var result = LastJsonLine(stdout);
        Assert.Equal(49, (int)result["filters"]!);
        Assert.True((double)result["orthonormality"]! < 1e-5, $"|W Wᵀ - I| = {result["orthonormality"]}");
        var objectives = result["objective_by_epoch"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.True(objectives[^1] < objectives[0], $"objective {objectives[0]} -> {objectives[^1]}");
        // Topography: the energies of torus neighbours correlate more than those of filters half the torus apart.
        double near = (double)result["neighbour_energy_correlation"]!, far = (double)result["distant_energy_correlation"]!;
        Assert.True(near > far + 0.03, $"neighbours {near}, distant {far}");
        Assert.True(new FileInfo(Path.Combine(run, "filters.png")).Length > 100);
        string model = Path.Combine(run, "model.shinso");
        var loaded = TicaModelFile.Load(model);
        Assert.NotNull(loaded.Whitening);
        Assert.True(TopographicIca.Orthonormality(loaded.Bank.Filters, 49, 64) < 1e-5);

        (code, stdout, stderr) = CliTests.Shinso("eval", model, "--data", data, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        double testObjective = (double)LastJsonLine(stdout)["test_mean_objective"]!;
        Assert.True(Math.Abs(testObjective - (double)result["test_mean_objective"]!) < 0.05 * testObjective);
        string png = _dir.File("filters.png");
        (code, _, stderr) = CliTests.Shinso("sample", model, "--filters", png);
        Assert.True(code == 0, stderr);
        Assert.Contains("on a 7 x 7 torus", stderr);

        (code, stdout, stderr) = CliTests.Shinso("train", "rica", "--data", data, "--epochs", "3", "--out", _dir.File("rica"), "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        result = LastJsonLine(stdout);
        Assert.Equal(256, (int)result["filters"]!);
        Assert.Null(result["orthonormality"]);
        double error = (double)result["relative_reconstruction_error"]!;
        Assert.InRange(error, 1e-4, 0.5);

        (code, _, stderr) = CliTests.Shinso("train", "tica", "--data", SparseCodingCliTests.SubsetNpz(_dir, 20, 10, side: 6), "--out", _dir.File("tiny"));
        Assert.NotEqual(0, code);
        Assert.Contains("--data: A 8 x 8 patch does not fit in 6 x 6 images", stderr);
        (code, _, stderr) = CliTests.Shinso("train", "tica", "--data", data, "--pretrain-epochs", "3", "--out", _dir.File("code"));
        Assert.NotEqual(0, code);
        Assert.Contains("do not apply to 'tica'", stderr);
    }

    [Fact]
    public void Repro_quick_reports_tica_beside_plain_ica()
    {
        string run = _dir.File("repro");
        var (code, stdout, stderr) = CliTests.Shinso("repro", "tica", "--quick", "--out", run, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var report = LastJsonLine(stdout);
        Assert.Single(report["rows"]!.AsArray());
        var figures = report["figures"]!.AsObject();
        foreach (string name in new[] { "tica_neighbour_energy_correlation", "tica_distant_energy_correlation", "ica_neighbour_energy_correlation", "ica_distant_energy_correlation" })
            Assert.InRange((double)figures[name]!, -1.0, 1.0);
        Assert.True(File.Exists(Path.Combine(run, "filters.png")));
        Assert.Contains("plain ICA", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    [Fact]
    public void A_bad_field_in_the_model_file_is_named()
    {
        var bank = new TopographicIca(new float[4 * 9], 9, 2, 1, 0.01f, 0f);
        var model = new TicaModel(bank, 1, new Shinso.Data.PatchOptions(3, true, false), null);
        var doc = TicaModelFile.ToDocument(model);
        var back = TicaModelFile.FromDocument(doc, "x.shinso");
        Assert.Equal(2, back.Bank.Side);
        doc.Architecture["neighbourhood"] = 2;
        var e = Assert.Throws<Shinso.IO.ModelFileException>(() => TicaModelFile.FromDocument(doc, "x.shinso"));
        Assert.Equal("architecture.neighbourhood", e.Field);
        doc = TicaModelFile.ToDocument(model);
        doc.HyperParameters["epsilon"] = 0;
        e = Assert.Throws<Shinso.IO.ModelFileException>(() => TicaModelFile.FromDocument(doc, "x.shinso"));
        Assert.Equal("hyperParameters.epsilon", e.Field);
    }
}
