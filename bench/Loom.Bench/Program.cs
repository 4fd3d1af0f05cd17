using Loom.Bench;

// Modes: "trees" benchmarks tree ensembles against LightGBM and ONNX Runtime; anything else is a
// model file for the end-to-end Loom vs ONNX Runtime benchmark.
// Usage: dotnet run -c Release --project bench/Loom.Bench -- MODEL.onnx [--dim NAME=SIZE ...] [--runs N] [--threads T]
//        dotnet run -c Release --project bench/Loom.Bench -- trees [--trees 100,500] [--depth 4,8,12] [--batch 1,100,10000] [--threads 1,2]
//        dotnet run -c Release --project bench/Loom.Bench -- trees --lowered [same options]   (Hummingbird tensor programs vs fused)
//        dotnet run -c Release --project bench/Loom.Bench -- batch [--hidden 128,256,512] [--per-forward 64] [--mode root] [--loom static,agenda] [--seconds 3] [--rounds 2]
//        dotnet run -c Release --project bench/Loom.Bench -- gemm-shapes [H]
return args.Length == 0 ? ModelBench.Run(args) : args[0] switch
{
    "trees" => TreesBench.Run(args[1..]),
    "batch" => BatchBench.Run(args[1..]),
    "gemm-shapes" => GemmShapesBench.Run(args[1..]),
    "gates" => GatesBench.Run(args[1..]),
    _ => ModelBench.Run(args),
};
