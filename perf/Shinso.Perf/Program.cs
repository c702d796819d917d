using BenchmarkDotNet.Running;

// Runs the suites chosen with --filter, e.g. `dotnet run -c Release --project perf/Shinso.Perf -- --filter '*Gemm*'`.
BenchmarkSwitcher.FromAssembly(typeof(Shinso.Perf.GemmBenchmarks).Assembly).Run(args);
