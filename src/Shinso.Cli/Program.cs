using System.CommandLine;
using Shinso.Cli.Commands;

// Before anything captures stderr: the live progress line erases itself whenever something else is written there.
using var progress = ProgressBar.Wanted(args) ? ProgressBar.Install() : default;
var root = new RootCommand("Shinso (深層): the classic deep-learning canon on hand-vectorized CPU kernels.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(CompleteCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(RobustnessCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(ReproCommand.Create());
root.Subcommands.Add(FuzzCommand.Create());
root.Options.Add(CommonOptions.Backend);
root.Options.Add(CommonOptions.Device);
try
{
    // Errors are reported below as one line naming the file and field, not as a stack trace.
    var parse = root.Parse(args);
    using var profiling = parse.Errors.Count == 0 ? ProfilingSession.StartIfAsked(parse) : null;
    int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    if (code == 0) profiling?.Finish();
    return code;
}
catch (Exception e) when (e is UsageException or FormatException or FileNotFoundException or DirectoryNotFoundException
                              or InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException
                              or Shinso.OpenCL.Native.OpenClException or Shinso.Training.TrainingDivergedException)
{
    Console.Error.WriteLine($"shinso: {e.Message}");
    return e is UsageException ? 2 : 1;
}
