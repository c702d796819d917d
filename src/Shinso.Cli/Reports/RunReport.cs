using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Reports;

/// <summary>
/// A run folder's report: <c>report.html</c>, one self-contained page (inline CSS and SVG, the folder's PNGs embedded as
/// data URIs; readable offline) with the run's hyper-parameters, data, results, loss and accuracy curves, timings,
/// per-epoch figures, confusion matrix and image grids, and <c>curves.png</c>, the same curves as a raster. It reads
/// <c>run.json</c> (required), <c>summary.json</c> (the results, when present) and the folder's <c>*.png</c> files.
/// </summary>
internal static class RunReport
{
    /// <summary>The page's file name inside the run folder.</summary>
    public const string HtmlFileName = "report.html";

    /// <summary>The curves' file name inside the run folder.</summary>
    public const string CurvesFileName = "curves.png";

    /// <summary>The summary's file name, which every family's <c>shinso train</c> writes.</summary>
    public const string SummaryFileName = "summary.json";

    /// <summary>What the page's script logs once it has run: the report test takes any other console line for an error.</summary>
    public const string ReadyMessage = "shinso report: rendered";

    /// <summary>Pictures larger than this are listed, not embedded, so that the page stays quick to open.</summary>
    private const long MaxEmbeddedBytes = 16 << 20;

    /// <summary>Writes <c>report.html</c> and <c>curves.png</c> into <paramref name="folder"/> (each atomically) and returns their paths.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">It holds no <c>run.json</c>.</exception>
    /// <exception cref="FormatException">A file of the run is malformed (the message names the file and the field).</exception>
    public static (string Html, string Curves) Write(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such run folder.");
        var record = RunRecord.Read(folder);
        var summary = ReadSummary(folder);
        var charts = Chart.Of(record);
        string curves = Path.Combine(folder, CurvesFileName), html = Path.Combine(folder, HtmlFileName);
        AtomicFile.WriteAllBytes(curves, CurvesImage.Encode(charts));
        AtomicFile.WriteAllText(html, Html(record, summary, charts, Pictures(folder)));
        return (html, curves);
    }

    /// <summary>
    /// Writes the report at the end of <c>shinso train</c>, after the model was saved, and says where on stderr. A report
    /// that cannot be written costs a warning, never the run: the model and <c>run.json</c> are already on disk, and
    /// <c>shinso report</c> tries again.
    /// </summary>
    public static void WriteAfterTraining(string folder)
    {
        var err = Commands.CommonOptions.Err;
        try
        {
            var (html, curves) = Write(folder);
            err.MarkupLine($"wrote {Markup.Escape(html)} (the run's report) and {Markup.Escape(curves)}");
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            err.MarkupLine($"[yellow]warning: no report written ({Markup.Escape(e.Message)}); the model is saved, and `shinso report {Markup.Escape(folder)}` writes it again.[/]");
        }
    }

    /// <summary>The summary's entries, or null when the folder has no summary.</summary>
    private static JsonObject? ReadSummary(string folder)
    {
        string path = Path.Combine(folder, SummaryFileName);
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException($"{path}: must hold one JSON object."); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON ({e.Message})."); }
    }

    /// <summary>The folder's PNG pictures (not the curves, which the page draws itself), by name.</summary>
    private static List<(string Name, byte[]? Bytes, string? Why)> Pictures(string folder)
    {
        var pictures = new List<(string, byte[]?, string?)>();
        foreach (var file in Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (name == CurvesFileName) continue;
            long length = new FileInfo(file).Length;
            if (length > MaxEmbeddedBytes) { pictures.Add((name, null, string.Create(CultureInfo.InvariantCulture, $"{length:N0} bytes: too large to embed"))); continue; }
            var bytes = File.ReadAllBytes(file);
            // The signature, then an IHDR chunk whose width the page reads.
            bool png = bytes.Length > 24 && bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }) && bytes.AsSpan(12, 4).SequenceEqual("IHDR"u8);
            pictures.Add(png ? (name, bytes, null) : (name, null, "not a PNG file"));
        }
        return pictures;
    }

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Number(double value) =>
        !double.IsFinite(value) ? "n/a"
        : value == Math.Floor(value) && Math.Abs(value) < 1e15 || Math.Abs(value) is >= 1e4 and < 1e15 ? value.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(value) is >= 1e-3 and < 1e6 ? value.ToString("0.####", CultureInfo.InvariantCulture)
        : value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>A rate in samples per second: whole samples are all a reader compares.</summary>
    private static string Rate(double samplesPerSecond) =>
        double.IsFinite(samplesPerSecond) ? samplesPerSecond.ToString("N0", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>A JSON value as the page shows it: numbers rounded for reading, strings as they are.</summary>
    private static string Value(JsonNode? node) => node switch
    {
        null => "null",
        // Integers as written (a 64-bit seed is a name, not a magnitude to round).
        JsonValue v when v.TryGetValue<long>(out long l) => l.ToString(CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<ulong>(out ulong u) => u.ToString(CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<double>(out double d) => Number(d),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray a when a.Count <= 16 && a.All(x => x is JsonValue) => "[" + string.Join(", ", a.Select(Value)) + "]",
        JsonArray a => $"[{a.Count} values]",
        _ => node.ToJsonString(),
    };

    /// <summary>Every leaf of <paramref name="node"/> with its key path (arrays of scalars kept whole).</summary>
    private static IEnumerable<(string Key, JsonNode? Value)> Flatten(JsonNode? node, string prefix)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                    foreach (var leaf in Flatten(value, prefix == "" ? key : $"{prefix}.{key}")) yield return leaf;
                break;
            case JsonArray a when a.Any(x => x is JsonObject or JsonArray):
                for (int i = 0; i < a.Count; i++)
                    foreach (var leaf in Flatten(a[i], $"{prefix}[{i}]")) yield return leaf;
                break;
            default:
                yield return (prefix, node);
                break;
        }
    }

    private static void Table(StringBuilder html, string cssClass, IEnumerable<(string Key, JsonNode? Value)> rows)
    {
        html.Append($"<table class=\"{cssClass}\"><tbody>");
        foreach (var (key, value) in rows) html.Append($"<tr><th>{E(key)}</th><td>{E(Value(value))}</td></tr>");
        html.Append("</tbody></table>");
    }

    private static string Html(RunRecord record, JsonObject? summary, IReadOnlyList<Chart> charts, List<(string Name, byte[]? Bytes, string? Why)> pictures)
    {
        var html = new StringBuilder();
        string finished = record.Finished.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append($"<title>{E(record.Name)}: shinso run report</title><style>{Css}</style></head><body>");
        html.Append($"<header><h1>{E(record.Name)}</h1><p class=\"meta\">{E(record.Family)} (model kind <code>{E(record.Kind)}</code>), finished {E(finished)}</p>");
        html.Append($"<p class=\"meta\">data: {E(record.Data)}</p></header>");

        html.Append("<section id=\"results\"><h2>Results</h2>");
        if (summary is null) html.Append($"<p class=\"none\">This run folder has no {SummaryFileName}.</p>");
        else Table(html, "figures", Flatten(summary, ""));
        foreach (var phase in record.Phases.Where(p => p.Figures.Count > 0))
        {
            html.Append($"<h3>{E(phase.Name)}</h3>");
            Table(html, "figures", Flatten(phase.Figures, ""));
        }
        html.Append("</section>");

        html.Append("<section id=\"curves\"><h2>Curves</h2>");
        if (charts.Count == 0) html.Append("<p class=\"none\">No epoch figures were recorded for this run.</p>");
        else
        {
            html.Append("<div class=\"charts\">");
            foreach (var chart in charts) html.Append(SvgChart.Render(chart));
            html.Append("</div>");
        }
        html.Append("</section>");

        html.Append("<section id=\"timings\"><h2>Timings</h2><table class=\"grid\"><thead><tr><th>phase</th><th>epochs</th><th>training seconds</th>" +
                    "<th>seconds per epoch</th><th>samples per second</th><th>last learning rate</th></tr></thead><tbody>");
        foreach (var phase in record.Phases)
        {
            var epochs = phase.Epochs;
            double seconds = epochs.Sum(m => m.Seconds);
            html.Append($"<tr><th>{E(phase.Name)}</th><td>{epochs.Count}</td><td>{(epochs.Count == 0 ? "" : Number(seconds))}</td>" +
                        $"<td>{(epochs.Count == 0 ? "" : Number(seconds / epochs.Count))}</td><td>{(epochs.Count == 0 ? "" : Rate(epochs.Average(m => m.SamplesPerSecond)))}</td>" +
                        $"<td>{(epochs.Count == 0 ? "" : Number(epochs[^1].LearningRate))}</td></tr>");
        }
        html.Append($"</tbody></table><p class=\"meta\">wall time of the invocation that finished the run (training, evaluation and saving): {Number(record.Seconds)} s</p></section>");

        if (record.Confusion is { } confusion) ConfusionSection(html, confusion);

        html.Append("<section id=\"images\"><h2>Images</h2>");
        if (pictures.Count == 0) html.Append("<p class=\"none\">This run wrote no pictures.</p>");
        foreach (var (name, bytes, why) in pictures)
        {
            if (bytes is null) { html.Append($"<p class=\"none\">{E(name)}: {E(why)}</p>"); continue; }
            // Grids of 28x28 tiles are small: shown at twice their size, pixels kept sharp by the CSS.
            int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4));
            string size = width is > 0 and < 400 ? $" width=\"{2 * width}\"" : "";
            html.Append($"<figure><img alt=\"{E(name)}\"{size} src=\"data:image/png;base64,{Convert.ToBase64String(bytes)}\"><figcaption>{E(name)}</figcaption></figure>");
        }
        html.Append("</section>");

        html.Append("<section id=\"hyper-parameters\"><h2>Hyper-parameters</h2>");
        if (record.HyperParameters is null) html.Append("<p class=\"none\">None recorded.</p>");
        else
        {
            Table(html, "figures", Flatten(record.HyperParameters, ""));
            html.Append($"<details><summary>as JSON</summary><pre>{E(record.HyperParameters.ToJsonString(new JsonSerializerOptions { WriteIndented = true }))}</pre></details>");
        }
        html.Append("</section>");

        html.Append("<section id=\"epochs\"><h2>Epochs</h2>");
        foreach (var phase in record.Phases.Where(p => p.Epochs.Count > 0)) EpochTable(html, phase);
        if (record.Phases.All(p => p.Epochs.Count == 0)) html.Append("<p class=\"none\">No epoch figures were recorded for this run.</p>");
        html.Append("</section>");

        html.Append($"<footer>Written by <code>shinso report</code> from {RunRecord.FileName}" + (summary is null ? "" : $" and {SummaryFileName}") + ".</footer>");
        // The page needs no script; this one only says it ran, which lets a headless browser's log tell a clean page from a broken one.
        html.Append("<script>(function () { var charts = document.querySelectorAll(\"svg.chart\").length; document.body.setAttribute(\"data-charts\", String(charts)); " +
                    $"console.log(\"{ReadyMessage} \" + charts + \" charts\"); }})();</script>");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void EpochTable(StringBuilder html, RunPhase phase)
    {
        static string Optional(double? v) => v is { } x ? Number(x) : "";
        html.Append($"<details open><summary>{E(phase.Name)} ({phase.Epochs.Count} epochs; loss: {E(phase.LossName)})</summary><table class=\"grid\"><thead><tr>" +
                    "<th>epoch</th><th>training loss</th><th>training accuracy</th><th>validation loss</th><th>validation accuracy</th><th>seconds</th><th>samples per second</th><th>learning rate</th>" +
                    "</tr></thead><tbody>");
        foreach (var m in phase.Epochs)
            html.Append($"<tr><td>{m.Epoch}</td><td>{Number(m.TrainLoss)}</td><td>{Optional(m.TrainAccuracy)}</td><td>{Optional(m.ValidationLoss)}</td><td>{Optional(m.ValidationAccuracy)}</td>" +
                        $"<td>{Number(m.Seconds)}</td><td>{Rate(m.SamplesPerSecond)}</td><td>{Number(m.LearningRate)}</td></tr>");
        html.Append("</tbody></table></details>");
    }

    private static void ConfusionSection(StringBuilder html, ConfusionMatrix confusion)
    {
        int n = confusion.Classes;
        long total = confusion.Counts.Sum(c => (long)c), correct = Enumerable.Range(0, n).Sum(i => (long)confusion[i, i]);
        html.Append("<section id=\"confusion\"><h2>Confusion matrix</h2>");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">{total:N0} test samples, {(total == 0 ? "n/a" : ((double)correct / total).ToString("P2", CultureInfo.InvariantCulture))} on the diagonal; ");
        html.Append("rows: the true class, columns: the predicted class; shading: the share of the row.</p>");
        html.Append("<table class=\"confusion\"><thead><tr><th>true \\ predicted</th>");
        for (int j = 0; j < n; j++) html.Append($"<th>{E(confusion.Labels[j])}</th>");
        html.Append("<th>recall</th></tr></thead><tbody>");
        for (int i = 0; i < n; i++)
        {
            long row = Enumerable.Range(0, n).Sum(j => (long)confusion[i, j]);
            html.Append($"<tr><th>{E(confusion.Labels[i])}</th>");
            for (int j = 0; j < n; j++)
            {
                int count = confusion[i, j];
                double share = row == 0 ? 0 : (double)count / row;
                string colour = i == j ? "31,119,180" : "214,39,40";
                html.Append($"<td class=\"cell\" data-true=\"{i}\" data-predicted=\"{j}\" style=\"background: rgba({colour},{share.ToString("0.###", CultureInfo.InvariantCulture)})\" " +
                            $"title=\"true {E(confusion.Labels[i])}, predicted {E(confusion.Labels[j])}: {count}\">{count}</td>");
            }
            html.Append($"<td>{(row == 0 ? "" : ((double)confusion[i, i] / row).ToString("P1", CultureInfo.InvariantCulture))}</td></tr>");
        }
        html.Append("<tr><th>precision</th>");
        for (int j = 0; j < n; j++)
        {
            long column = Enumerable.Range(0, n).Sum(i => (long)confusion[i, j]);
            html.Append($"<td>{(column == 0 ? "" : ((double)confusion[j, j] / column).ToString("P1", CultureInfo.InvariantCulture))}</td>");
        }
        html.Append("<td></td></tr></tbody></table></section>");
    }

    private const string Css =
        "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1120px;padding:16px 24px;color:#222;background:#fff}" +
        "h1{margin:0 0 4px;font-size:26px}h2{margin:28px 0 10px;font-size:20px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:16px;margin:14px 0 6px}" +
        ".meta{color:#555;margin:2px 0}.none{color:#777;font-style:italic}code{font-family:ui-monospace,monospace;font-size:90%}" +
        "table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{padding:3px 8px;text-align:left;vertical-align:top}" +
        "table.figures th{font-weight:500;color:#444;white-space:nowrap}table.figures td{font-family:ui-monospace,monospace;word-break:break-all}" +
        "table.grid th,table.grid td{border:1px solid #ddd;text-align:right}table.grid thead th{background:#f4f4f4;text-align:center}" +
        "table.confusion th,table.confusion td{border:1px solid #ddd;text-align:center;min-width:36px}table.confusion thead th{background:#f4f4f4}" +
        ".charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{background:#fff;border:1px solid #e4e4e4}" +
        "svg .grid{stroke:#e8e8e8}svg .axis{stroke:#333}svg text{font-size:11px;fill:#333}svg .chart-title{font-size:13px;font-weight:600}" +
        "svg .legend{font-size:12px}figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}" +
        "figure img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}figcaption{font-size:12px;color:#555}" +
        "details{margin:6px 0}summary{cursor:pointer;color:#333}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}" +
        "footer{margin-top:32px;color:#888;font-size:12px}";
}
