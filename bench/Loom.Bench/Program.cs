// Loom.Bench: one mode per file; this only dispatches.
//   peak                         FMA throughput of one core (Vector512 and Vector256, 12 accumulators)
//   gemm [--threads T]           SGEMM GFLOP/s and % of peak: square and ResNet-shaped, 1 and T threads
//   layers MODEL [options]       every Conv of a model alone, Loom vs ONNX Runtime, GFLOP/s
//   profile MODEL [options]      where a model's time goes, by operator type (--nodes: per node)
//   ort-profile MODEL [options]  ONNX Runtime's own per-node profile of the same model
//   elementwise [options]        element-wise kernel micro-benchmarks
//   trees [--lowered] [options]  tree ensembles against LightGBM and ONNX Runtime (docs/trees.md)
//   models [MODEL ...] --vs onnxruntime --threads 1,2   sequential, scheduled and batch-split Loom vs ORT (ModelsBench)
//   batch [--hidden 128,256,512] [--mode root|node|train] [--per-forward 64] [--rounds 5]   TreeLSTM vs the DyNet rival, interleaved (docs/batching.md)
//   batch-profile [H] [B] [S]    where the compiled TreeLSTM's forward time goes, by level size
//   batch-scaling [H] [S]        its forwards on two threads against one: fastest wall time of each forward over rounds
//   batch-optimum [lattice|dag|dag1|trees] [--states N] [--beam W]   FSM calls against the type-wise bound and the exact optimum
//   gemm-shapes [H] | gates [H]  the batched TreeLSTM's GEMM shapes and fused gate pass alone
//   fused-shapes [H]             the fused level's GEMM alone, the micro-kernel in L1 and the FMA peak
//   stream [--cores N] [--seconds S] [--only a,b] [--cpu] [--no-rival] [--runs]   StreamIt programs vs the MIT compiler's C (docs/stream.md)
//   stream-models [MODEL ...] [--inputs 64] [--cores 2] [--rounds 3] [--only a,b] [--shapes] [--json FILE]   models as streams vs Loom 1 core and ORT's best (docs/stream.md)
//   cluster [--silos 3] [--trees 150] [--runs N]   3 local silo processes over PostgreSQL vs single-process loom score (docs/cluster.md)
//   cluster --pipeline MODEL [--inputs 64] [--silos 3] [--runs N]   the model as a 1..N-stage pipeline on the silos vs single-process loom stream
//   load [MODEL ...] [--threads T] [--runs N]   load + optimize + schedule: fresh process (JIT) and warm
//   load-phases MODEL [THREADS]               one fresh load step by step: wall, CPU, JIT per phase
//   scaling MODEL [--threads 2] [--blocks 15]   one session timed in 20-run blocks (2-thread stability, docs/performance.md)
//   wino-split [C,K,H ...] [--runs N]          Winograd layers: tile-block against whole-plane split, 1 and 2 threads
//   corun MODEL [--runs N] [--rounds R] [--partners none,loom,ort,fma,mem] [--nodes]   one-core copies beside a partner on the other core: CPU per run
//   MODEL.onnx [options]         end-to-end: Loom vs ONNX Runtime median latency
using Loom.Bench;

return args switch
{
    // Modes that read a model: without one, the usage instead of an index exception.
    ["layers" or "profile" or "ort-profile" or "scaling" or "load-phases" or "corun"] => Usage(),
    ["peak", .. var rest] => PeakBench.Run(rest),
    ["offset-kernel", .. var rest] => OffsetKernelBench.Run(rest),
    ["gemm", .. var rest] => GemmBench.Run(rest),
    ["layers", .. var rest] => LayerBench.Run(rest),
    ["profile", .. var rest] => OpProfile.Run(rest),
    ["ort-profile", .. var rest] => OrtProfile.Run(rest),
    ["elementwise", .. var rest] => ElementwiseBench.Run(rest),
    ["trees", .. var rest] => TreesBench.Run(rest),
    ["models", .. var rest] => ModelsBench.Run(rest),
    ["batch", .. var rest] => BatchBench.Run(rest),
    ["gemm-shapes", .. var rest] => GemmShapesBench.Run(rest),
    ["fused-shapes", .. var rest] => FusedShapesBench.Run(rest),
    ["batch-profile", .. var rest] => BatchProfile.Run(rest),
    ["batch-scaling", .. var rest] => BatchScaling.Run(rest),
    ["batch-optimum", .. var rest] => BatchOptimum.Run(rest),
    ["gates", .. var rest] => GatesBench.Run(rest),
    ["stream", .. var rest] => StreamBench.Run(rest),
    ["stream-models", .. var rest] => StreamModelsBench.Run(rest),
    ["cluster", .. var rest] => ClusterBench.Run(rest),
    ["scaling", .. var rest] => ScalingStability.Run(rest),
    ["load", .. var rest] => LoadBench.Run(rest),
    ["load-once", .. var rest] => LoadBench.RunOnce(rest),
    ["load-phases", .. var rest] => LoadPhases.Run(rest),
    ["wino-split", .. var rest] => WinogradSplitBench.Run(rest),
    ["fc", .. var rest] => FcBench.Run(rest),
    ["corun", .. var rest] => CorunBench.Run(rest),
    ["probe-cases", .. var rest] => ProbeCasesBench.Run(rest),
    [] or [['-', ..], ..] => Usage(),
    _ => ModelBench.Run(args),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Loom.Bench peak | gemm [--threads T] | layers MODEL.onnx [options] | profile MODEL.onnx | elementwise | trees [--lowered] | stream [--cores N] [--seconds S] [--only a,b] [--cpu] [--no-rival] [--runs] | stream-models [MODEL ...] [--inputs 64] [--cores 2] [--shapes] [--json FILE] | batch [options] | gemm-shapes [H] | fused-shapes [H] | gates [H] | cluster [--silos 3] [--runs N] [--pipeline MODEL --inputs N] | MODEL.onnx [--dim NAME=SIZE ...] [--shape NAME=D,D,...] [--runs N] [--threads T] [--cpu] [--only loom|ort]");
    return 2;
}
