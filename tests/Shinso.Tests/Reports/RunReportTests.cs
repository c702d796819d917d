using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Shinso.Tests.Cli;

namespace Shinso.Tests.Reports;

/// <summary><c>shinso report RUN_DIR</c> on run folders written by hand: what the page holds, what it escapes, and its errors.</summary>
public sealed partial class RunReportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"shinso-report-{Guid.NewGuid():N}");

    public RunReportTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject LastJsonLine(string stdout) => (JsonObject)JsonNode.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;

    [GeneratedRegex("<polyline class=\"series\" data-series=\"(?<name>[^\"]+)\"")]
    private static partial Regex Polyline();

    [Fact]
    public void The_report_holds_the_curves_the_confusion_matrix_the_settings_and_the_picture_and_escapes_the_runs_strings()
    {
        string run = Path.Combine(_dir, "run");
        var picture = SyntheticRun.Write(run);
        var (code, stdout, stderr) = CliTests.Shinso("report", run, "--json");
        Assert.True(code == 0, stderr);
        var written = LastJsonLine(stdout);
        string htmlPath = (string)written["report"]!, curvesPath = (string)written["curves"]!;
        Assert.Equal(Path.Combine(run, "report.html"), htmlPath);
        Assert.Equal(Path.Combine(run, "curves.png"), curvesPath);
        string html = File.ReadAllText(htmlPath);

        // Two charts (loss, accuracy), each with one polyline per series: training and validation.
        Assert.Equal(2, Regex.Count(html, "<svg class=\"chart\""));
        Assert.Equal(["training", "validation", "training", "validation"], Polyline().Matches(html).Select(m => m.Groups["name"].Value));
        Assert.Contains("backprop: softmax-cross-entropy", html);
        Assert.Contains("backprop: accuracy", html);
        // Every cell of the confusion matrix, at its row (true class) and column (predicted class).
        for (int t = 0; t < 3; t++)
            for (int p = 0; p < 3; p++)
                Assert.Matches($"<td class=\"cell\" data-true=\"{t}\" data-predicted=\"{p}\"[^>]*>{SyntheticRun.Confusion[t, p]}</td>", html);
        Assert.Contains("optimizer.lr", html);
        Assert.Contains("0.001", html);
        Assert.Contains("training.batch", html);
        Assert.Contains("data:image/png;base64," + Convert.ToBase64String(picture), html);
        Assert.Contains("filters.png", html);
        Assert.Contains("0.9064", html); // the summary's accuracy
        // Strings from the run's files are text, never markup.
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(&#39;run&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("<b>bold?</b>", html);
        Assert.DoesNotContain("<bird>", html);
        Assert.Contains("&lt;bird&gt;", html);
        // The page's one script is the report's own.
        Assert.Equal(1, Regex.Count(html, "<script>"));

        var (width, height, colourType, rgb, _) = PngDecoder.Decode(File.ReadAllBytes(curvesPath));
        Assert.Equal(2, colourType); // RGB
        Assert.Equal((2 * 560, 320), (width, height));
        var (nonWhite, colours) = PngDecoder.Ink(rgb);
        Assert.InRange(nonWhite, 0.02, 0.6);
        Assert.True(colours >= 4, $"{colours} colours");
        // The training (blue) and validation (orange) lines.
        Assert.True(PngDecoder.Count(rgb, 31, 119, 180) > 200);
        Assert.True(PngDecoder.Count(rgb, 255, 127, 14) > 200);

        // Without --json the paths are the output, one a line.
        (code, stdout, stderr) = CliTests.Shinso("report", run);
        Assert.True(code == 0, stderr);
        Assert.Equal([htmlPath, curvesPath], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_run_of_one_epoch_without_validation_renders_a_point_per_series()
    {
        string run = Path.Combine(_dir, "one");
        SyntheticRun.Write(run, epochs: 1, validation: false, name: "one-epoch");
        var (code, _, stderr) = CliTests.Shinso("report", run);
        Assert.True(code == 0, stderr);
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Equal(["training", "training"], Polyline().Matches(html).Select(m => m.Groups["name"].Value));
        Assert.DoesNotContain("data-series=\"validation\"", html);
        // The point is drawn as a marker: a one-point polyline shows nothing.
        Assert.Equal(2, Regex.Count(html, "<circle "));
        var rgb = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(run, "curves.png"))).Rgb;
        Assert.True(PngDecoder.Count(rgb, 31, 119, 180) >= 2 * 25);
        Assert.Equal(0, PngDecoder.Count(rgb, 255, 127, 14));
    }

    [Fact]
    public void A_folder_without_a_run_record_or_with_a_broken_one_is_an_error_naming_the_file_and_the_field()
    {
        var (code, _, stderr) = CliTests.Shinso("report", Path.Combine(_dir, "absent"));
        Assert.Equal(2, code);
        Assert.Contains("absent: no such run folder", stderr);

        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        (code, _, stderr) = CliTests.Shinso("report", empty);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(empty, "run.json") + ": not found", stderr);

        string broken = Path.Combine(_dir, "broken");
        SyntheticRun.Write(broken);
        string record = Path.Combine(broken, "run.json");
        var json = JsonNode.Parse(File.ReadAllText(record))!;
        json["phases"]![0]!["epochs"]![1]!["seconds"] = "slow";
        File.WriteAllText(record, json.ToJsonString());
        (code, _, stderr) = CliTests.Shinso("report", broken);
        Assert.Equal(1, code);
        Assert.Contains($"{record}: 'phases[0].epochs[1].seconds' must be a number", stderr);
        Assert.DoesNotContain("   at ", stderr);

        File.WriteAllText(record, "{ \"format\": \"shinso-run\", ");
        (code, _, stderr) = CliTests.Shinso("report", broken);
        Assert.Equal(1, code);
        Assert.Contains($"{record}: not valid JSON", stderr);

        File.WriteAllText(record, "{ \"format\": \"shinso-run\", \"version\": 1 }");
        (code, _, stderr) = CliTests.Shinso("report", broken);
        Assert.Equal(1, code);
        Assert.Contains($"{record}: missing required key 'phases'", stderr);
        Assert.False(File.Exists(Path.Combine(broken, "report.html")));
    }
}
