using System.Diagnostics;
using System.Text.RegularExpressions;
using Shinso.Tests.Cli;

namespace Shinso.Tests.Reports;

/// <summary>
/// A report as a browser shows it: headless Chromium renders report.html offline, its screenshot must not be blank, and
/// the page must log nothing but the report script's own line. A deliberately broken page shows that the log check sees
/// a console error and an uncaught exception. Headless Chromium logs no line for a resource that fails to load, so
/// that the page needs nothing from outside is checked in its source: no link, picture or stylesheet URL but data: ones.
/// </summary>
public sealed partial class ChromiumReportTests : IDisposable
{
    /// <summary>The line the report's script logs (RunReport.ReadyMessage), followed by its chart count.</summary>
    private const string ReadyMessage = "shinso report: rendered";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-chromium-{Guid.NewGuid():N}");

    public ChromiumReportTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        // A Chromium helper process may still be closing its profile files for a moment after the browser exits.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>
    /// Chromium 156 logs every console call (log, warn, error) and every uncaught exception of a page at INFO level as
    /// <c>[pid:tid:time:INFO:CONSOLE:LINE] "MESSAGE", source: URL (LINE)</c> (older versions: <c>CONSOLE(LINE)</c>); the
    /// level does not tell an error from a log, so the test names the one line the page may log.
    /// </summary>
    [GeneratedRegex(@"CONSOLE(?::\d+|\(\d+\))\] ""(?<message>.*)"", source: (?<source>.*) \(\d+\)\s*$")]
    private static partial Regex ConsoleLine();

    private sealed record Rendering(byte[] Screenshot, IReadOnlyList<(string Message, string Source)> Console);

    /// <summary>Renders <paramref name="page"/> at 1200 x 1600 in a fresh profile and returns the screenshot and the page's console lines.</summary>
    private Rendering Render(string page)
    {
        string chromium = Requirements.ChromiumPath
            ?? throw new Xunit.Sdk.XunitException("Chromium is not installed at /usr/bin/chromium; test.sh installs it (apt-get install chromium). " +
                                                  "Under CI=true this test fails rather than skips.");
        string screenshot = Path.Combine(_dir, Path.GetFileNameWithoutExtension(page) + "-screenshot.png");
        string profile = Path.Combine(_dir, "profile-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        // --no-sandbox: the suite may run as root, where Chromium's sandbox refuses to start. --disable-dev-shm-usage: a
        // container's 64 MB /dev/shm crashes headless renderers. The resolver rule makes the page offline: anything it
        // tried to fetch from a host fails.
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter",
                     "--disable-background-networking", "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND",
                     "--hide-scrollbars", "--window-size=1200,1600", $"--user-data-dir={profile}",
                     "--no-first-run", $"--screenshot={screenshot}", "--enable-logging=stderr", "--v=0", new Uri(page).AbsoluteUri,
                 })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"Chromium did not finish rendering {page} within 60 s.");
        }
        // A child process that outlives the browser could hold the pipes open: the reads get a limit too.
        if (!Task.WaitAll([stderr, stdout], TimeSpan.FromSeconds(20)))
            Assert.Fail($"Chromium's output pipes stayed open after it exited while rendering {page}.");
        string log = stderr.Result + stdout.Result;
        Assert.True(process.ExitCode == 0 && File.Exists(screenshot), $"Chromium exited with {process.ExitCode} and no screenshot:\n{log}");
        var console = log.Split('\n').Select(l => ConsoleLine().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups["message"].Value, m.Groups["source"].Value)).ToList();
        return new Rendering(File.ReadAllBytes(screenshot), console);
    }

    /// <summary>Every console line but the report's own, whatever its source: errors, warnings, exceptions, failed loads.</summary>
    private static List<string> PageErrors(Rendering rendering) =>
        [.. rendering.Console.Where(c => !c.Message.StartsWith(ReadyMessage, StringComparison.Ordinal)).Select(c => c.Message)];

    [RequiresChromiumFact]
    public void Chromium_renders_the_report_offline_not_blank_and_without_errors()
    {
        string run = Path.Combine(_dir, "run");
        SyntheticRun.Write(run);
        var (code, _, stderr) = CliTests.Shinso("report", run);
        Assert.True(code == 0, stderr);
        string page = Path.Combine(run, "report.html");
        var rendering = Render(page);

        var (width, height, _, rgb, _) = PngDecoder.Decode(rendering.Screenshot);
        Assert.Equal((1200, 1600), (width, height));
        var (nonWhite, colours) = PngDecoder.Ink(rgb);
        Assert.True(nonWhite > 0.03, $"only {nonWhite:P1} of the screenshot is not white");
        Assert.True(colours > 100, $"the screenshot has {colours} colours");
        // The curves drew: the training series' blue, exactly, inside its lines and markers.
        Assert.True(PngDecoder.Count(rgb, 31, 119, 180) > 20, "no training curve in the screenshot");

        // The script ran (it counts the charts) and nothing else was logged.
        Assert.Contains((ReadyMessage + " 2 charts", new Uri(page).AbsoluteUri), rendering.Console);
        Assert.Empty(PageErrors(rendering));
        // Self-contained: every picture and link is inline or on the page itself.
        string html = File.ReadAllText(page);
        Assert.DoesNotMatch(@"(?i)\b(src|href)\s*=\s*[""'](?!data:|#)", html);
        Assert.DoesNotMatch(@"(?i)url\(\s*[""']?(?!data:)", html);
        Assert.DoesNotMatch(@"(?i)@import|fetch\(|XMLHttpRequest", html);
    }

    [RequiresChromiumFact]
    public void The_console_check_sees_a_console_error_and_an_uncaught_exception_on_a_broken_page()
    {
        string page = Path.Combine(_dir, "broken.html");
        File.WriteAllText(page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>broken</title></head><body><h1>Broken</h1>" +
                                "<script>console.error(\"deliberate console error\"); undefinedFunction();</script></body></html>");
        var errors = PageErrors(Render(page));
        Assert.Contains("deliberate console error", errors);
        Assert.Contains(errors, e => e.StartsWith("Uncaught ReferenceError: undefinedFunction", StringComparison.Ordinal));
    }
}
