using System.Text.Json.Nodes;

namespace Shinso.Tests.Cli;

/// <summary><c>shinso repro optimizers --quick</c> as a user runs it: the report's shape and its plots, not the paper's claims.</summary>
public sealed class OptimizersReproTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-optimizers-repro-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_quick_experiment_runs_every_optimizer_on_every_test_function_and_on_a_net()
    {
        var (code, stdout, stderr) = CliTests.Shinso("repro", "optimizers", "--quick", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        var report = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("optimizers", (string?)report["experiment"]);
        // Four functions with exact and noisy gradients, and the net.
        Assert.Equal(9, report["rows"]!.AsArray().Count);
        var figures = report["figures"]!.AsObject();
        foreach (var function in new[] { "bowl", "cliff", "plateau", "saddle" })
            foreach (var optimizer in new[] { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam" })
            {
                Assert.True((double)figures[$"{function}_exact_{optimizer}_learning_rate"]! > 0);
                Assert.InRange((int)figures[$"{function}_noisy_{optimizer}_solved_settings"]!, 0, 4);
            }
        // On the bowl (curvatures 2 and 30) gradient descent's default step 0.1 diverges along the steep axis (factor 1 - 3 per step),
        // so its best step is the next one down, 0.01, after which the error shrinks by (1 - 0.02)^2 per step: about 1.2e-3 after 200.
        Assert.Equal(0.01, (double)figures["bowl_exact_sgd_learning_rate"]!, 6);
        Assert.InRange((double)figures["bowl_exact_sgd_final_excess"]!, 1e-4, 1e-2);
        foreach (var optimizer in new[] { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "kfac" })
            // About 100 updates from random weights at each rule's default step: every net well above the 10 % of chance.
            Assert.InRange((double)figures[$"net_{optimizer}_test_accuracy"]!, 0.3, 1.0);
        var images = report["images"]!.AsArray();
        Assert.Equal(5, images.Count);
        foreach (var image in images) Assert.True(File.Exists(Path.Combine(_dir, (string)image!["file"]!)), (string?)image!["file"]);
    }
}
