using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso robustness</c> as a user runs it: on a model trained on the embedded subset.</summary>
public sealed class RobustnessCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-robustness-{Guid.NewGuid():N}");

    public RobustnessCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Robustness_reports_both_tests_per_noise_level_and_writes_the_per_input_csv()
    {
        string run = Path.Combine(_dir, "logistic");
        var (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        string model = Path.Combine(run, "model.shinso"), csv = Path.Combine(_dir, "inputs.csv");
        (code, var stdout, stderr) = CliTests.Shinso("robustness", model, "--data", TestData.EmbeddedSubset, "--sigma", "0.1,0.3", "--mc", "200",
            "--limit", "50", "--csv", csv, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var result = (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        Assert.Equal(50, (int)result["samples"]!);
        Assert.Equal(9, (int)result["competitors"]!);
        Assert.Equal("gaussian", (string?)result["noise"]);
        var levels = (JsonArray)result["levels"]!;
        Assert.Equal(2, levels.Count);
        foreach (var level in levels)
        {
            double onePass = (double)level!["one_pass_rate"]!, lower = (double)level["mc_lower"]!, upper = (double)level["mc_upper"]!;
            Assert.InRange(onePass, 0, 1);
            Assert.True(lower <= (double)level["mc_rate"]! && (double)level["mc_rate"]! <= upper);
            Assert.True((double)level["mc_seconds"]! > 0 && (double)level["one_pass_seconds"]! > 0);
        }
        // Logistic regression is linear, so with Gaussian noise the one-pass test is exact: it lies inside the Monte Carlo interval.
        foreach (var level in levels)
            Assert.InRange((double)level!["one_pass_rate"]!, (double)level["mc_lower"]!, (double)level["mc_upper"]!);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("input,label,prediction,sigma,one_pass,mc_rate,mc_lower,mc_upper", lines[0]);
        Assert.Equal(1 + 2 * 50, lines.Length);
        Assert.Equal(8, lines[1].Split(',').Length);
        Assert.Contains("sigma", stderr);
    }

    [Theory]
    [InlineData("--sigma", "0.1,-2", "--sigma")]
    [InlineData("--noise", "poisson", "--noise")]
    [InlineData("--mc", "0", "--mc")]
    [InlineData("--competitors", "none", "--competitors")]
    public void Bad_options_are_one_line_errors_naming_the_option(string option, string value, string named)
    {
        string model = Path.Combine(_dir, "absent.shinso");
        File.WriteAllText(model, "");
        var (code, _, stderr) = CliTests.Shinso("robustness", model, option, value);
        Assert.Equal(2, code);
        Assert.Contains(named, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_model_without_a_differentiable_classifier_form_is_refused_with_its_kind()
    {
        string run = Path.Combine(_dir, "perceptron");
        var (code, _, stderr) = CliTests.Shinso("train", "perceptron", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliTests.Shinso("robustness", Path.Combine(run, "model.shinso"), "--data", TestData.EmbeddedSubset);
        Assert.Equal(2, code);
        Assert.Contains("'perceptron'", stderr);
        Assert.Contains("feed-forward classifier", stderr);
    }
}
