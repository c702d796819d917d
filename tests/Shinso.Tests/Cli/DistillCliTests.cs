using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso train CONFIG --teacher MODEL [--teacher MODEL ...] --distill logits|soft:T [--label-weight A]</c> as a user runs it.</summary>
public sealed class DistillCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-distill-{Guid.NewGuid():N}");

    public DistillCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Teacher(string name, string seed)
    {
        string run = Path.Combine(_dir, name);
        var (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--seed", seed, "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1");
        Assert.True(code == 0, stderr);
        return Path.Combine(run, "model.shinso");
    }

    [Fact]
    public void A_student_distils_an_ensemble_records_it_in_its_config_and_resumes_with_the_same_teachers()
    {
        string first = Teacher("t1", "1"), second = Teacher("t2", "2"), student = Path.Combine(_dir, "student");
        var (code, _, stderr) = CliTests.Shinso("train", "mlp-dropout", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", student, "--threads", "1",
            "--teacher", first, "--teacher", second, "--distill", "soft:3", "--label-weight", "0.2");
        Assert.True(code == 0, stderr);
        Assert.Contains("distill: soft:3 of", stderr);
        Assert.Contains("(mean logits), label weight 0.2", stderr);

        var distill = (JsonObject)ModelFile.ReadHeader(Path.Combine(student, "model.shinso")).HyperParameters["training"]!["distill"]!;
        Assert.Equal("soft:3", (string?)distill["target"]);
        Assert.Equal([first, second], distill["teachers"]!.AsArray().Select(t => (string?)t));

        (code, _, stderr) = CliTests.Shinso("train", "mlp-dropout", "--resume", student, "--epochs", "2", "--data", TestData.EmbeddedSubset, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming", stderr);
        Assert.Contains("distill: soft:3 of", stderr);

        (code, _, stderr) = CliTests.Shinso("train", "mlp-dropout", "--resume", student, "--epochs", "3", "--data", TestData.EmbeddedSubset, "--teacher", first);
        Assert.Equal(2, code);
        Assert.Contains("a resumed run keeps the teachers", stderr);
    }

    [Fact]
    public void Bad_distillation_flags_are_one_line_errors_naming_the_flag()
    {
        string teacher = Teacher("t", "1");
        string[] run = ["train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "s")];
        var (code, _, stderr) = CliTests.Shinso([.. run, "--distill", "soft:2"]);
        Assert.Equal(2, code);
        Assert.Contains("--distill and --label-weight say how to learn from teacher nets; name them with --teacher", stderr);

        (code, _, stderr) = CliTests.Shinso([.. run, "--teacher", teacher, "--distill", "soft"]);
        Assert.Equal(2, code);
        Assert.Contains("--distill: 'soft' is not logits or soft:T", stderr);

        (code, _, stderr) = CliTests.Shinso([.. run, "--teacher", teacher, "--label-weight", "1.5"]);
        Assert.Equal(2, code);
        Assert.Contains("--label-weight: The label weight must be in [0, 1], got 1.5", stderr);

        (code, _, stderr) = CliTests.Shinso([.. run, "--teacher", Path.Combine(_dir, "missing.shinso")]);
        Assert.Equal(2, code);
        Assert.Contains("missing.shinso does not exist", stderr);

        (code, _, stderr) = CliTests.Shinso([.. run, "--teacher", teacher, "--standardize", "true"]);
        Assert.Equal(2, code);
        Assert.Contains("the teachers take the raw inputs", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_configs_teachers_are_used_as_written_the_flags_override_them_one_by_one_and_standardising_is_refused()
    {
        string teacher = Teacher("t", "1");
        string config = Path.Combine(_dir, "student.json");
        File.WriteAllText(config, """
            { "architecture": { "input": [784], "loss": "softmax-cross-entropy", "layers": [ { "type": "dense", "units": 10 } ] },
              "training": { "epochs": 1, "distill": { "teachers": ["TEACHER"], "target": "soft:2", "labelWeight": 0.5 } } }
            """.Replace("TEACHER", teacher.Replace("\\", "\\\\")));
        var (code, _, stderr) = CliTests.Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "a"), "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("distill: soft:2 of", stderr);
        Assert.Contains("label weight 0.5", stderr);

        (code, _, stderr) = CliTests.Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "b"), "--threads", "1", "--label-weight", "0.25");
        Assert.True(code == 0, stderr);
        Assert.Contains("distill: soft:2 of", stderr);
        Assert.Contains("label weight 0.25", stderr);

        (code, _, stderr) = CliTests.Shinso("train", config, "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "c"), "--standardize", "true");
        Assert.Equal(2, code);
        Assert.Contains("the teachers take the raw inputs", stderr);
    }
}
