using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.Cli.Reports;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso report RUN_DIR</c>: writes a training run's <c>report.html</c> and <c>curves.png</c> again from the files in its folder.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("run-dir") { Description = "A run folder that `shinso train` wrote (it holds run.json)" };
        var json = CommonOptions.Json();
        var command = new Command("report", "Write a training run's report.html (hyper-parameters, data, curves, timings, confusion matrix, pictures; " +
                                            "one self-contained page) and curves.png from its run folder");
        command.Arguments.Add(folder);
        command.Options.Add(json);
        command.SetAction(r =>
        {
            string directory = r.GetValue(folder)!;
            if (!Directory.Exists(directory))
                throw new UsageException(File.Exists(directory)
                    ? $"{directory}: a file; give the run folder that holds it (the folder `shinso train --out` wrote)."
                    : $"{directory}: no such run folder.");
            if (!File.Exists(Path.Combine(directory, RunRecord.FileName)))
                throw new UsageException($"{Path.Combine(directory, RunRecord.FileName)}: not found; `shinso train` writes it beside the model at the end of every run " +
                                         "(a folder trained by an older shinso has none: train it again).");
            var (html, curves) = RunReport.Write(directory);
            // The paths are the command's output: one a line, or one JSON object with --json.
            if (r.GetValue(json)) Console.WriteLine(new JsonObject { ["run"] = directory, ["report"] = html, ["curves"] = curves }.ToJsonString());
            else
            {
                Console.WriteLine(html);
                Console.WriteLine(curves);
            }
            return 0;
        });
        return command;
    }
}
