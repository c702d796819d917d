using System.CommandLine;
using System.Diagnostics;
using Shinso.Training;
using System.Text.Json.Nodes;
using Shinso.Cli.Fuzz;
using Shinso.Random;
using Spectre.Console;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso fuzz [FORMAT|all] --iterations N --seed S [--json]</c>: mutates a valid file of each format Shinso reads
/// and runs the real loader on every mutant in-process. Each outcome must be a load or the loader's documented error
/// (a <see cref="FormatException"/> naming the file), allocating at most <see cref="AllocationBound"/>; anything else is
/// counted as undocumented with the case that replays it, and the command exits 1. A model file or checkpoint that loads
/// must be byte-identical to the original (every byte of it is checksummed). A load still running after the case timeout
/// is a hang: it is reported with its case, the remaining cases and formats are skipped (the load may still hold the file
/// and the loaders' shared backend), and the command exits 1.
/// </summary>
internal static class FuzzCommand
{
    /// <summary>The most one load of a <paramref name="fileBytes"/>-byte file may allocate: the seeds are a few hundred bytes to a few
    /// kilobytes, so more than this means a size field was trusted. (Pooled buffers are not counted; an allocation that fails
    /// counts as undocumented.)</summary>
    public static long AllocationBound(long fileBytes) => (4L << 20) + 256 * fileBytes;

    public static Command Create()
    {
        var format = new Argument<string>("format") { Description = $"One of {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}, or all", DefaultValueFactory = _ => "all" };
        var iterations = new Option<int>("--iterations") { Description = "Mutated files per format", DefaultValueFactory = _ => 1000 };
        var caseTimeout = new Option<double>("--case-timeout") { Description = "Milliseconds one load may take before it counts as a hang", DefaultValueFactory = _ => DefaultCaseTimeoutMilliseconds };
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var command = new Command("fuzz", "Run every loader on mutated files (bit flips, truncation, insertions, extreme numbers, nested JSON) and count the outcomes");
        command.Arguments.Add(format);
        foreach (var o in new Option[] { iterations, caseTimeout, seed, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string name = r.GetValue(format)!;
            int n = r.GetValue(iterations);
            if (n < 1) throw new UsageException($"--iterations must be >= 1, got {n}.");
            double timeout = r.GetValue(caseTimeout);
            if (!(timeout >= 0) || timeout > int.MaxValue) throw new UsageException($"--case-timeout must be a number of milliseconds >= 0 and at most {int.MaxValue}, got {timeout}.");
            var targets = name == "all" ? FuzzTargets.All : FuzzTargets.All.Where(t => t.Name == name).ToArray();
            if (targets.Count == 0) throw new UsageException($"'{name}': expected one of {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}, or all.");
            ulong s = r.GetValue(seed) ?? 1;
            var report = new JsonObject { ["iterations"] = n, ["seed"] = s, ["case_timeout_ms"] = timeout };
            bool clean = true, hung = false;
            string folder = Path.Combine(Path.GetTempPath(), $"shinso-fuzz-{Guid.NewGuid():N}");
            Directory.CreateDirectory(folder);
            try
            {
                foreach (var target in targets)
                {
                    // A hung load may still be using the loaders' shared backend: no later format runs beside it.
                    if (hung)
                    {
                        report[target.Name] = new JsonObject { ["skipped"] = "a load of an earlier format hung" };
                        continue;
                    }
                    var result = Run(target, n, s, folder, TimeSpan.FromMilliseconds(timeout));
                    report[target.Name] = result;
                    hung |= (int)result["hung"]! > 0;
                    clean &= (int)result["undocumented"]! == 0 && (int)result["over_allocation"]! == 0 && ((int?)result["loaded_altered"] ?? 0) == 0 && (int)result["hung"]! == 0;
                    CommonOptions.Err.MarkupLine(Markup.Escape($"{target.Name}: {result["loaded"]} loaded, {result["rejected"]} rejected with the documented error, " +
                                                               $"{result["undocumented"]} undocumented, {result["over_allocation"]} over the allocation bound, {result["hung"]} hung; " +
                                                               $"slowest {result["slowest_ms"]} ms, {result["seconds"]} s"));
                    foreach (var example in result["examples"]!.AsArray()) CommonOptions.Err.MarkupLine("  [red]" + Markup.Escape(example!.GetValue<string>()) + "[/]");
                }
            }
            finally { Directory.Delete(folder, recursive: true); }
            if (r.GetValue(json)) Console.WriteLine(report.ToJsonString());
            return clean ? 0 : 1;
        });
        return command;
    }

    /// <summary>The case timeout when none is given: the slowest loads of the seed files take a few milliseconds.</summary>
    private const double DefaultCaseTimeoutMilliseconds = 5000;

    private static JsonObject Run(FuzzTarget target, int iterations, ulong seed, string folder, TimeSpan caseTimeout)
    {
        var original = target.Seed();
        string path = Path.Combine(folder, target.FileName);
        // The seed file itself must load, or every rejection would prove nothing.
        File.WriteAllBytes(path, original);
        target.Load(path);
        int altered = 0;
        long largest = 0;
        var mutator = new Mutator(RandomStream.Root(seed).Derive("fuzz-" + target.Name));
        int loaded = 0, rejected = 0, undocumented = 0, overAllocation = 0, hung = 0, tried = 0;
        double slowest = 0;
        var examples = new JsonArray();
        var clock = Stopwatch.StartNew();
        long started = Stopwatch.GetTimestamp();
        string task = "fuzz " + target.Name;
        for (int i = 0; i < iterations; i++)
        {
            WorkProgress.Report(task, i, iterations, started);
            var bytes = mutator.Mutate(original, i, out string applied);
            File.WriteAllBytes(path, bytes);
            tried++;
            var caseClock = Stopwatch.StartNew();
            // The load runs on a pool thread, so that a hang is cut off (the thread is abandoned); it counts its own allocations there.
            var load = Task.Run(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Exception? thrown = null;
                try { target.Load(path); }
                catch (Exception e) { thrown = e; }
                return (Failure: thrown, Allocated: GC.GetAllocatedBytesForCurrentThread() - before);
            });
            if (!load.Wait(caseTimeout))
            {
                hung++;
                if (examples.Count < 5) examples.Add($"case {i} ({applied}): still loading after {caseTimeout.TotalMilliseconds} ms");
                break;
            }
            var (failure, allocated) = load.Result;
            slowest = Math.Max(slowest, caseClock.Elapsed.TotalMilliseconds);
            largest = Math.Max(largest, allocated);
            if (allocated > AllocationBound(bytes.Length))
            {
                overAllocation++;
                if (examples.Count < 5) examples.Add($"case {i} ({applied}): allocated {allocated:N0} bytes");
            }
            if (failure is null)
            {
                loaded++;
                if (target.Checksummed && !bytes.AsSpan().SequenceEqual(original))
                {
                    altered++;
                    if (examples.Count < 5) examples.Add($"case {i} ({applied}): loaded although its bytes differ from the original's");
                }
            }
            else if (FuzzTarget.Documented(failure, path)) rejected++;
            else
            {
                undocumented++;
                if (examples.Count < 5) examples.Add($"case {i} ({applied}): {failure.GetType().Name}: {failure.Message.Split('\n')[0]}");
            }
        }
        return new JsonObject
        {
            ["tried"] = tried, ["hung"] = hung, ["loaded"] = loaded, ["loaded_altered"] = target.Checksummed ? altered : null, ["rejected"] = rejected, ["undocumented"] = undocumented, ["over_allocation"] = overAllocation,
            ["largest_allocation_bytes"] = largest, ["slowest_ms"] = Math.Round(slowest, 2), ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2), ["examples"] = examples,
        };
    }
}
