using Shinso.Backends;
using Shinso.Models.FeedForward;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso train --init-from MODEL.shinso --copy-layers N [--freeze | --copied-lr M]</c> as a user runs it.</summary>
public sealed class TransferCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-transfer-{Guid.NewGuid():N}");

    public TransferCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Values(Shinso.Layers.Parameter p) => p.Value.Span.ToArray();

    [Fact]
    public void Frozen_copied_layers_come_out_of_training_bit_identical_and_the_rest_trains()
    {
        string baseRun = Path.Combine(_dir, "base"), transferRun = Path.Combine(_dir, "transfer");
        var (code, _, stderr) = CliTests.Shinso("train", "lenet5", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", baseRun, "--threads", "1");
        Assert.True(code == 0, stderr);
        string baseModel = Path.Combine(baseRun, "model.shinso");
        (code, _, stderr) = CliTests.Shinso("train", "lenet5", "--epochs", "1", "--seed", "2", "--data", TestData.EmbeddedSubset, "--out", transferRun,
            "--threads", "1", "--init-from", baseModel, "--copy-layers", "2", "--freeze");
        Assert.True(code == 0, stderr);
        Assert.Contains("2 weight layer(s) (layers 0, 3) copied", stderr);

        using var cpu = new CpuBackend();
        var source = FeedForwardModelFile.Load(baseModel, cpu);
        var trained = FeedForwardModelFile.Load(Path.Combine(transferRun, "model.shinso"), cpu);
        foreach (int layer in new[] { 0, 3 })
            for (int k = 0; k < 2; k++) Assert.Equal(Values(source.Layers[layer].Parameters[k]), Values(trained.Layers[layer].Parameters[k]));
        Assert.NotEqual(Values(source.Layers[7].Parameters[0]), Values(trained.Layers[7].Parameters[0]));
    }

    [Fact]
    public void Copying_into_an_architecture_of_other_shapes_is_a_one_line_error_naming_both()
    {
        string baseRun = Path.Combine(_dir, "base");
        var (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", baseRun, "--threads", "1");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliTests.Shinso("train", "mlp-dropout", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", Path.Combine(_dir, "t"),
            "--init-from", Path.Combine(baseRun, "model.shinso"), "--copy-layers", "1");
        Assert.Equal(2, code);
        Assert.Contains("[784, 10]", stderr);
        Assert.Contains("[784, 800]", stderr);
        Assert.DoesNotContain("   at ", stderr);

        (code, _, stderr) = CliTests.Shinso("train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--freeze");
        Assert.Equal(2, code);
        Assert.Contains("--init-from", stderr);
    }
}
