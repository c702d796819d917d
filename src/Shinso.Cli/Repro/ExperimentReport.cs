using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Cli.Repro;

/// <summary>One line of a report's table: a claim, the paper's figure and setting beside ours.</summary>
internal sealed record ReportRow(string Claim, string PaperFigure, string PaperSetting, string Ours, string OurSetting);

/// <summary>
/// What an experiment found: the table <c>claim | paper figure | paper setting | ours | our setting</c>, notes (the
/// scale-down, the data actually used), pictures in the run folder, and the measured figures as JSON. Written as
/// <c>report.md</c>, <c>report.html</c> and <c>report.json</c>.
/// </summary>
internal sealed class ExperimentReport(Experiment experiment)
{
    /// <summary>The table's columns, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } = ["claim", "paper figure", "paper setting", "ours", "our setting"];

    /// <summary>The experiment reported.</summary>
    public Experiment Experiment { get; } = experiment;

    /// <summary>The table's rows.</summary>
    public List<ReportRow> Rows { get; } = [];

    /// <summary>Sentences printed under the table.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Pictures in the run folder (file names) with their captions.</summary>
    public List<(string File, string Caption)> Images { get; } = [];

    /// <summary>The measured figures, for <c>--json</c> and <c>report.json</c>.</summary>
    public JsonObject Figures { get; } = [];

    /// <summary>The report as one JSON object: the experiment, its rows, notes, pictures and figures.</summary>
    public JsonObject ToJson()
    {
        var rows = new JsonArray();
        foreach (var r in Rows)
            rows.Add(new JsonObject { ["claim"] = r.Claim, ["paper_figure"] = r.PaperFigure, ["paper_setting"] = r.PaperSetting, ["ours"] = r.Ours, ["our_setting"] = r.OurSetting });
        var images = new JsonArray();
        foreach (var (file, caption) in Images) images.Add(new JsonObject { ["file"] = file, ["caption"] = caption });
        return new JsonObject
        {
            ["experiment"] = Experiment.Name, ["paper"] = Experiment.Paper, ["claim"] = Experiment.Claim,
            ["rows"] = rows, ["notes"] = new JsonArray([.. Notes.Select(n => (JsonNode)n)]), ["images"] = images, ["figures"] = Figures.DeepClone(),
        };
    }

    /// <summary>Writes <c>report.md</c>, <c>report.html</c> and <c>report.json</c> into <paramref name="directory"/> (each atomically).</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"), Markdown());
        AtomicFile.WriteAllText(Path.Combine(directory, "report.html"), Html());
        AtomicFile.WriteAllText(Path.Combine(directory, "report.json"), ToJson().ToJsonString() + "\n");
    }

    /// <summary>The report as Markdown.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Experiment.Name).Append(": ").Append(Experiment.Claim).Append("\n\n");
        md.Append(Experiment.Paper).Append(". Data: ").Append(Experiment.Dataset).Append(".\n\n");
        md.Append("| ").Append(string.Join(" | ", Columns)).Append(" |\n|").Append(string.Concat(Columns.Select(_ => " --- |"))).Append('\n');
        foreach (var r in Rows)
            md.Append("| ").Append(string.Join(" | ", new[] { r.Claim, r.PaperFigure, r.PaperSetting, r.Ours, r.OurSetting }.Select(c => c.Replace("|", "\\|")))).Append(" |\n");
        if (Notes.Count > 0) md.Append('\n');
        foreach (var n in Notes) md.Append("- ").Append(n).Append('\n');
        foreach (var (file, caption) in Images) md.Append("\n![").Append(caption).Append("](").Append(file).Append(")\n\n*").Append(caption).Append("*\n");
        return md.ToString();
    }

    /// <summary>The report as a self-contained HTML page (pictures by relative path).</summary>
    public string Html()
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(Experiment.Name)).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif;max-width:72em;margin:2em auto}table{border-collapse:collapse}")
            .Append("td,th{border:1px solid #999;padding:.3em .6em;vertical-align:top}th{background:#eee}</style></head><body>\n");
        html.Append("<h1>").Append(E(Experiment.Name)).Append(": ").Append(E(Experiment.Claim)).Append("</h1>\n");
        html.Append("<p>").Append(E(Experiment.Paper)).Append(". Data: ").Append(E(Experiment.Dataset)).Append(".</p>\n<table>\n<tr>");
        foreach (var c in Columns) html.Append("<th>").Append(E(c)).Append("</th>");
        html.Append("</tr>\n");
        foreach (var r in Rows)
        {
            html.Append("<tr>");
            foreach (var c in new[] { r.Claim, r.PaperFigure, r.PaperSetting, r.Ours, r.OurSetting }) html.Append("<td>").Append(E(c)).Append("</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
        if (Notes.Count > 0)
        {
            html.Append("<ul>\n");
            foreach (var n in Notes) html.Append("<li>").Append(E(n)).Append("</li>\n");
            html.Append("</ul>\n");
        }
        foreach (var (file, caption) in Images)
            html.Append("<figure><img src=\"").Append(E(file)).Append("\" alt=\"").Append(E(caption)).Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");
        html.Append("</body></html>\n");
        return html.ToString();
    }
}
