namespace Loom.Workload;

/// <summary>Optimizer whose update the training step ends with; it sets the update's FLOPs and the state kept per parameter.</summary>
public enum OptimizerKind { Sgd, Momentum, Adam }

/// <summary>
/// How one step is split over devices: <see cref="DataParallel"/> × <see cref="TensorParallel"/> ×
/// <see cref="PipelineStages"/> ranks (tensor-parallel ranks innermost, as Megatron lays them out so that
/// the chattiest group shares a node), <see cref="MicroBatches"/> per pipeline step.
/// </summary>
public sealed record ParallelStrategy
{
    public int DataParallel { get; init; } = 1;
    public int TensorParallel { get; init; } = 1;
    public int PipelineStages { get; init; } = 1;
    public int MicroBatches { get; init; } = 1;
    public bool Training { get; init; }
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Momentum;
    /// <summary>Gradient bytes per data-parallel all-reduce bucket (PyTorch DDP's default, 25 MiB).</summary>
    public long BucketBytes { get; init; } = 25L << 20;
    /// <summary>
    /// ZeRO stage 1: each data-parallel rank keeps and updates 1/dp of the optimizer state, so gradients are
    /// reduce-scattered and updated parameters all-gathered instead of one all-reduce (same bytes on a ring).
    /// </summary>
    public bool ShardedOptimizer { get; init; }
    /// <summary>Global batch (all data-parallel ranks and micro-batches together).</summary>
    public long GlobalBatch { get; init; } = 1;

    public int Ranks => DataParallel * TensorParallel * PipelineStages;

    /// <summary>dp8, dp4·tp2, dp2·pp4·mb8: degrees of 1 (but dp) left out.</summary>
    public string Label => $"dp{DataParallel}" + (TensorParallel > 1 ? $"·tp{TensorParallel}" : "") + (PipelineStages > 1 ? $"·pp{PipelineStages}" : "")
        + (MicroBatches > 1 ? $"·mb{MicroBatches}" : "") + (ShardedOptimizer ? "·zero" : "");

    /// <summary>Batch one micro-batch on one data-parallel rank sees.</summary>
    public long MicroBatch => GlobalBatch / ((long)DataParallel * MicroBatches);

    public (int Stage, int Dp, int Tp) Coordinates(int rank) =>
        (rank / (DataParallel * TensorParallel), rank / TensorParallel % DataParallel, rank % TensorParallel);

    public int RankOf(int stage, int dp, int tp) => (stage * DataParallel + dp) * TensorParallel + tp;

    public ParallelStrategy Validated(int? devices = null)
    {
        if (DataParallel < 1 || TensorParallel < 1 || PipelineStages < 1 || MicroBatches < 1)
            throw new WorkloadException($"parallel degrees must be at least 1 (dp {DataParallel}, tp {TensorParallel}, pp {PipelineStages}, micro-batches {MicroBatches})");
        if (devices is { } d && Ranks > d)
            throw new WorkloadException($"dp×tp×pp = {Ranks} ranks but the cluster has {d} devices");
        if (GlobalBatch < 1) throw new WorkloadException($"the global batch must be at least 1 (got {GlobalBatch})");
        if (GlobalBatch % ((long)DataParallel * MicroBatches) != 0)
            throw new WorkloadException($"the global batch {GlobalBatch} does not split into dp {DataParallel} × {MicroBatches} micro-batches");
        if (BucketBytes < 1) throw new WorkloadException($"bucket bytes must be positive (got {BucketBytes})");
        return this;
    }
}
