using System.CommandLine;
using System.Diagnostics;
using Shinso.Cli.Repro;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso repro list</c> and <c>shinso repro NAME</c>: the seeds' experiments, with the papers' figures beside ours.</summary>
internal static class ReproCommand
{
    public static Command Create()
    {
        var command = new Command("repro", "Run the seeds' experiments and print the papers' figures beside ours (shinso repro list names them)");
        var list = new Command("list", "Every experiment: its paper, data, claim and expected run time");
        list.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "paper", "data", "claim", "time");
            foreach (var e in ExperimentRegistry.All)
                table.AddRow(Markup.Escape(e.Name), Markup.Escape(e.Paper), Markup.Escape(e.Dataset), Markup.Escape(e.Claim), Markup.Escape(e.ExpectedTime));
            AnsiConsole.Write(table);
            return 0;
        });
        command.Subcommands.Add(list);
        foreach (var experiment in ExperimentRegistry.All) command.Subcommands.Add(Create(experiment));
        return command;
    }

    private static Command Create(Experiment experiment)
    {
        var data = new Option<string?>("--data") { Description = $"The data to run on instead of the default ({experiment.Dataset})" };
        var quick = new Option<bool>("--quick") { Description = $"The reduced version, under two minutes on two cores: {experiment.QuickVersion}" };
        var seed = CommonOptions.Seed();
        var output = new Option<string?>("--out") { Description = $"Run folder for report.md, report.html, report.json and pictures (default runs/repro-{experiment.Name})" };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var path = CommonOptions.Path();
        var command = new Command(experiment.Name, $"{experiment.Claim} ({experiment.Paper}; about {experiment.ExpectedTime})");
        foreach (var o in new Option[] { quick, seed, output, json, threads, path }) command.Options.Add(o);
        if (experiment.TakesData) command.Options.Add(data);
        var sourceData = experiment.SourceDataHelp is { } help ? new Option<string?>("--source-data") { Description = help } : null;
        if (sourceData is not null) command.Options.Add(sourceData);
        command.SetAction(r =>
        {
            string outDirectory = r.GetValue(output) ?? Path.Combine("runs", "repro-" + experiment.Name);
            Directory.CreateDirectory(outDirectory);
            using var backend = CommonOptions.CreateBackend(r, r.GetValue(threads), r.GetValue(path)!);
            var clock = Stopwatch.StartNew();
            var report = experiment.Run(new ExperimentContext(experiment.TakesData ? r.GetValue(data) : null, r.GetValue(quick), r.GetValue(seed) ?? 1, outDirectory, backend)
            {
                SourceData = sourceData is null ? null : r.GetValue(sourceData),
            });
            report.Figures["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
            report.Figures["backend"] = CommonOptions.Describe(backend);
            report.Write(outDirectory);
            var table = new Table().AddColumns([.. ExperimentReport.Columns]);
            foreach (var row in report.Rows)
                table.AddRow(Markup.Escape(row.Claim), Markup.Escape(row.PaperFigure), Markup.Escape(row.PaperSetting), Markup.Escape(row.Ours), Markup.Escape(row.OurSetting));
            CommonOptions.Err.Write(table);
            foreach (var note in report.Notes) CommonOptions.Err.MarkupLine($"[grey]-[/] {Markup.Escape(note)}");
            CommonOptions.Err.MarkupLine($"report: {Markup.Escape(Path.Combine(outDirectory, "report.md"))} (and report.html, report.json) in {clock.Elapsed.TotalSeconds:F1} s");
            if (r.GetValue(json)) Console.WriteLine(report.ToJson().ToJsonString());
            return 0;
        });
        return command;
    }
}
