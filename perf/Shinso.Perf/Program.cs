using BenchmarkDotNet.Running;

// Runs the suites chosen with --filter, e.g. `dotnet run -c Release --project perf/Shinso.Perf -- --filter '*Gemm*'`.
// `-- infer-vs-ort [...]` compares inference with ONNX Runtime in-process (Shinso.Perf.InferenceAgainstOnnxRuntime).
if (args.Length > 0 && args[0] == "infer-vs-ort") return Shinso.Perf.InferenceAgainstOnnxRuntime.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Shinso.Perf.GemmBenchmarks).Assembly).Run(args);
return 0;
