using Loom.Bench;

// Modes: "trees" benchmarks tree ensembles against LightGBM and ONNX Runtime; anything else is a
// model file for the end-to-end Loom vs ONNX Runtime benchmark.
// Usage: dotnet run -c Release --project bench/Loom.Bench -- MODEL.onnx [--dim NAME=SIZE ...] [--runs N] [--threads T]
//        dotnet run -c Release --project bench/Loom.Bench -- trees [--trees 100,500] [--depth 4,8,12] [--batch 1,100,10000] [--threads 1,2]
//        dotnet run -c Release --project bench/Loom.Bench -- trees --lowered [same options]   (Hummingbird tensor programs vs fused)
//        dotnet run -c Release --project bench/Loom.Bench -- stream [--cores N] [--seconds S] [--only fft2,autocor]   (StreamIt programs vs the MIT compiler's C)
if (args.Length > 0 && args[0] == "stream") return StreamBench.Run(args[1..]);
return args.Length > 0 && args[0] == "trees" ? TreesBench.Run(args[1..]) : ModelBench.Run(args);
