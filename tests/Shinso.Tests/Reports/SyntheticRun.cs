using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Tests.Reports;

/// <summary>A run folder written by hand in the layout <c>shinso train</c> leaves (run.json, summary.json, a picture), for the report's tests.</summary>
internal static class SyntheticRun
{
    /// <summary>A name that must come out of the page as text, never as markup.</summary>
    public const string HostileName = "<script>alert('run')</script> & \"quoted\"";

    /// <summary>The confusion matrix's counts: row = true class, column = predicted.</summary>
    public static readonly int[,] Confusion = { { 50, 3, 1 }, { 7, 41, 2 }, { 0, 5, 46 } };

    /// <summary>The class names of <see cref="Confusion"/>.</summary>
    public static readonly string[] Classes = ["cat", "dog", "<bird>"];

    /// <summary>
    /// Writes the folder: <paramref name="epochs"/> backprop epochs with training loss and accuracy (and validation figures
    /// with <paramref name="validation"/>), a confusion matrix, hyper-parameters, a summary and <c>filters.png</c>.
    /// </summary>
    /// <returns>The bytes of the picture.</returns>
    public static byte[] Write(string folder, int epochs = 4, bool validation = true, string name = HostileName)
    {
        Directory.CreateDirectory(folder);
        var history = new JsonArray();
        for (int e = 1; e <= epochs; e++)
            history.Add(new JsonObject
            {
                ["epoch"] = e, ["trainLoss"] = 1.2 / e, ["trainAccuracy"] = 0.5 + 0.1 * e,
                ["validationLoss"] = validation ? 1.3 / e + 0.05 : null, ["validationAccuracy"] = validation ? 0.45 + 0.1 * e : null,
                ["seconds"] = 0.5 + 0.01 * e, ["samplesPerSecond"] = 20000 - 10 * e, ["learningRate"] = 0.01,
            });
        var counts = new JsonArray();
        foreach (int c in Confusion) counts.Add(c);
        var record = new JsonObject
        {
            ["format"] = "shinso-run", ["version"] = 1, ["name"] = name, ["kind"] = "feedforward", ["family"] = "feed-forward net",
            ["data"] = "an IDX folder, /data/<fashion>: 150 train / 151 test samples",
            ["hyper_parameters"] = new JsonObject
            {
                ["optimizer"] = new JsonObject { ["name"] = "adam", ["lr"] = 0.001 },
                ["training"] = new JsonObject { ["epochs"] = epochs, ["batch"] = 32, ["note"] = "<b>bold?</b>" },
            },
            ["phases"] = new JsonArray(new JsonObject { ["name"] = "backprop", ["loss"] = "softmax-cross-entropy", ["figures"] = new JsonObject(), ["epochs"] = history }),
            ["seconds"] = 3.25, ["finished"] = "2025-03-01T10:20:30Z",
            ["confusion"] = new JsonObject { ["labels"] = new JsonArray([.. Classes.Select(c => (JsonNode)c)]), ["counts"] = counts },
        };
        File.WriteAllText(Path.Combine(folder, "run.json"), record.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "summary.json"), new JsonObject
        {
            ["model"] = name, ["accuracy"] = 0.9064, ["loss"] = 0.2841, ["epochs"] = epochs, ["model_path"] = "<img src=x onerror=alert(1)>",
        }.ToJsonString());
        // A 2x2 grid of 3x3 tiles: a gradient, so the picture has more than one grey.
        var tiles = Enumerable.Range(0, 36).Select(i => (float)(i / 35.0)).ToArray();
        var png = PngImage.EncodeGrid(tiles, 4, 3, 3, columns: 2);
        File.WriteAllBytes(Path.Combine(folder, "filters.png"), png);
        return png;
    }
}
