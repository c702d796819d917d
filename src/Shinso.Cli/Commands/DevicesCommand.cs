using System.CommandLine;
using System.Text.Json.Nodes;
using Shinso.OpenCL;

namespace Shinso.Cli.Commands;

/// <summary><c>shinso devices</c>: the OpenCL platforms and devices, with memory and compute units.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("devices", "List OpenCL platforms and devices (use the number with --backend opencl --device N)");
        command.Options.Add(json);
        command.SetAction(r =>
        {
            var devices = OpenClDevices.List();
            foreach (var d in devices)
            {
                if (r.GetValue(json))
                {
                    Console.WriteLine(new JsonObject
                    {
                        ["device"] = d.Index, ["platform"] = d.Platform, ["name"] = d.Name, ["vendor"] = d.Vendor, ["type"] = d.Type,
                        ["version"] = d.Version, ["driver"] = d.DriverVersion, ["global_memory_bytes"] = d.GlobalMemoryBytes,
                        ["max_allocation_bytes"] = d.MaxAllocationBytes, ["local_memory_bytes"] = d.LocalMemoryBytes,
                        ["compute_units"] = d.ComputeUnits, ["clock_mhz"] = d.ClockMegahertz, ["max_work_group_size"] = d.MaxWorkGroupSize,
                    }.ToJsonString());
                }
                else
                {
                    Console.WriteLine($"{d.Index}: {d.Name} [{d.Type}] on {d.Platform} — {d.GlobalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, " +
                                      $"{d.ComputeUnits} compute units at {d.ClockMegahertz} MHz, {d.Version}, driver {d.DriverVersion}");
                }
            }
            return 0;
        });
        return command;
    }
}
