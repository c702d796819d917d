using System.Globalization;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Optimizers;

namespace Shinso.Tests.Cli;

/// <summary><c>--gradient-norms</c>: every update's gradient norms, per parameter and in all, as CSV.</summary>
public sealed class GradientNormCliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shinso-gradient-norms-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_log_holds_each_parameters_gradient_norm_before_the_hooks_change_it()
    {
        using var backend = new CpuBackend();
        var w = new Parameter("w", backend.Allocate(3), ParameterRole.Weight);
        var b = new Parameter("b", backend.Allocate(1), ParameterRole.Bias);
        backend.Upload([1f, 1f, 1f], w.Value);
        backend.Upload([3f, 0f, 4f], w.Gradient);
        backend.Upload([-2f], b.Gradient);
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var optimizer = new Sgd(new ConstantSchedule(0.1f));
        optimizer.Hooks.Add(new WeightDecay(1f));
        optimizer.Hooks.Insert(0, new GradientNormLog(writer, optimizer));
        optimizer.Step([w, b], 0);
        var decayed = new float[3];
        backend.Download(w.Gradient, decayed);
        Assert.Equal([4f, 1f, 5f], decayed); // the decay did run, after the log
        // ||(3, 0, 4)|| = 5, before the decay makes the gradient (4, 1, 5); with the bias's 2, the total is √29.
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["step,w,b,total", $"1,5,2,{Math.Sqrt(29).ToString("G9", CultureInfo.InvariantCulture)}"], lines);
    }

    [Fact]
    public void A_training_run_logs_every_update_and_a_resumed_one_keeps_the_rows_of_its_checkpoint_and_appends()
    {
        string run = Path.Combine(_root, "run"), log = Path.Combine(_root, "norms.csv");
        var (code, _, stderr) = CliTests.Shinso("train", "logistic", "--data", TestData.EmbeddedSubset, "--epochs", "1", "--out", run, "--gradient-norms", log);
        Assert.True(code == 0, stderr);
        // As a run killed after its checkpoint leaves it: rows of updates the checkpoint does not hold, the last one cut off.
        File.AppendAllText(log, "101,1,1,1.41421356\n102,1,");
        (code, _, stderr) = CliTests.Shinso("train", "logistic", "--resume", run, "--data", TestData.EmbeddedSubset, "--epochs", "2", "--gradient-norms", log);
        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(log);
        var header = lines[0].Split(',');
        Assert.Equal("step", header[0]);
        Assert.Equal("total", header[^1]);
        Assert.Equal(4, header.Length); // the dense layer's weight and bias
        // The subset's 10,000 training images in batches of 100, twice, and one header.
        Assert.Equal(201, lines.Length);
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(i, cells[0]);
            double squares = cells[1] * cells[1] + cells[2] * cells[2];
            Assert.True(cells[1] > 0 && Math.Abs(cells[3] - Math.Sqrt(squares)) <= 1e-6 * cells[3], lines[i]);
        }
        (code, _, stderr) = CliTests.Shinso("train", "rbm", "--gradient-norms", log);
        Assert.Equal(2, code);
        Assert.Contains("--gradient-norms applies to feed-forward nets", stderr);
    }
}
