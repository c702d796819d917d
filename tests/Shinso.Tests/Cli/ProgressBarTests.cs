using System.Diagnostics;
using Shinso.Cli.Commands;
using Shinso.Training;

namespace Shinso.Tests.Cli;

/// <summary>The live progress line: what it shows, how often it redraws, that other output erases it, and who reports to it.</summary>
public class ProgressBarTests
{
    private const string Erase = "\r\u001b[2K";

    [Fact]
    public void The_line_shows_the_bar_the_count_the_rate_the_time_left_and_the_loss()
    {
        var progress = new WorkProgress("epoch 3", 420, 600, TimeSpan.FromSeconds(6), Samples: 42_000, Loss: 0.341_26);
        // 420 / 600 of 24 cells is 16.8: 17 filled. 42,000 samples in 6 s; 180 batches left at 70 a second.
        Assert.Equal("epoch 3 [" + new string('█', 17) + new string('░', 7) + "] 420/600  7,000 samples/s  ETA 0:02  loss 0.3413",
            ProgressBar.Format(progress, 200));
        Assert.Equal("epoch 3 [", ProgressBar.Format(progress, 9));
        // AIS reports no samples or loss; hours show when the work is long.
        Assert.Equal("AIS [" + new string('░', 24) + "] 1/10,000  ETA 2:46:39",
            ProgressBar.Format(new WorkProgress("AIS", 1, 10_000, TimeSpan.FromSeconds(1)), 200));
        Assert.DoesNotContain("loss", ProgressBar.Format(progress with { Loss = double.NaN }, 200));
    }

    [Fact]
    public void It_redraws_at_most_every_100_ms_and_erases_itself_when_the_work_ends_or_other_output_comes()
    {
        var terminal = new StringWriter();
        long now = 0;
        var bar = new ProgressBar(terminal, () => 120, () => now);
        var progress = new WorkProgress("epoch 1", 1, 10, TimeSpan.FromSeconds(1));
        bar.Report(progress);
        Assert.Equal(Erase + ProgressBar.Format(progress, 119), terminal.ToString());
        now += Stopwatch.Frequency / 20;   // 50 ms later: not redrawn
        bar.Report(progress with { Done = 2 });
        Assert.DoesNotContain(" 2/10", terminal.ToString());
        now += Stopwatch.Frequency / 10;
        bar.Report(progress with { Done = 3 });
        Assert.Contains(" 3/10", terminal.ToString());

        var stderr = bar.ErasingWriterOver(terminal);
        terminal.GetStringBuilder().Clear();
        stderr.WriteLine("epoch   1/1: loss 0.5");
        stderr.Write("warning");
        // Erased once, before the first line; nothing is left to erase before the second write.
        Assert.Equal(Erase + "epoch   1/1: loss 0.5" + Environment.NewLine + "warning", terminal.ToString());

        // Right after being erased it redraws at once; the last unit erases it.
        terminal.GetStringBuilder().Clear();
        bar.Report(progress with { Done = 4 });
        Assert.Contains(" 4/10", terminal.ToString());
        bar.Report(progress with { Done = 10 });
        Assert.EndsWith(Erase, terminal.ToString());
        Assert.DoesNotContain("10/10", terminal.ToString());
    }

    [Fact]
    public void A_terminal_that_cannot_be_measured_turns_the_bar_off_and_the_work_goes_on()
    {
        var terminal = new StringWriter();
        var bar = new ProgressBar(terminal, () => throw new IOException("no terminal"));
        bar.Report(new WorkProgress("epoch 1", 1, 10, TimeSpan.FromSeconds(1)));
        bar.Report(new WorkProgress("epoch 1", 2, 10, TimeSpan.FromSeconds(2)));
        Assert.Equal("", terminal.ToString());
    }

    [Fact]
    public void Every_batch_of_an_epoch_reports_to_the_listener_of_the_thread_that_trains_and_no_other()
    {
        var seen = new List<WorkProgress>();
        var plan = new MinibatchPlan(250, 100, DropPartialBatch: false, Shinso.Random.RandomStream.Root(1).Derive("epoch-order"));
        BatchOutcome Step(ReadOnlySpan<int> rows, int epoch) => new(rows.Length * 0.5, 0);
        using (WorkProgress.Listen(seen.Add))
        {
            EpochLoop.Run(Step, plan, epoch: 2);
            // Work on another thread reports to that thread's listener, which is none.
            var other = new Thread(() => EpochLoop.Run(Step, plan, epoch: 0));
            other.Start();
            other.Join();
        }
        EpochLoop.Run(Step, plan, epoch: 4);

        Assert.Equal([1L, 2, 3], seen.Select(p => p.Done));
        Assert.All(seen, p => Assert.Equal(("epoch 3", 3L, 0.5), (p.Task, p.Total, p.Loss!.Value)));
        Assert.Equal([100L, 200, 250], seen.Select(p => p.Samples));
        Assert.Null(WorkProgress.Listener);
    }

    [Fact]
    public void Training_on_a_terminal_shows_the_bar_and_logs_get_only_the_epoch_lines()
    {
        string run = Path.Combine(Path.GetTempPath(), $"shinso-progress-{Guid.NewGuid():N}");
        try
        {
            string[] args = ["train", "logistic", "--epochs", "1", "--data", TestData.EmbeddedSubset, "--out", run, "--threads", "1"];
            // The tests' stderr is a pipe: SHINSO_PROGRESS=1 stands for a terminal.
            var (code, _, stderr) = CliTests.ShinsoWith(new() { [ProgressBar.EnvironmentVariable] = "1" }, args);
            Assert.True(code == 0, stderr);
            Assert.Contains(Erase + "epoch 1 [", stderr);
            Assert.Contains("/100", stderr);
            Assert.Contains(Erase + "epoch   1/1: loss ", stderr);

            (code, _, stderr) = CliTests.ShinsoWith(new() { [ProgressBar.EnvironmentVariable] = null }, ["train", "logistic", "--epochs", "2", "--data", TestData.EmbeddedSubset, "--resume", run, "--threads", "1"]);
            Assert.True(code == 0, stderr);
            Assert.Contains("epoch   2/2: loss ", stderr);
            Assert.DoesNotContain("\u001b[2K", stderr);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
        }
    }
}
