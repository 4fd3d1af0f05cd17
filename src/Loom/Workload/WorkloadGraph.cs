namespace Loom.Workload;

/// <summary>What a workload node does. Numbered as Chakra's NodeType so the two convert one to one.</summary>
public enum WorkloadNodeKind { MemLoad = 2, MemStore = 3, Compute = 4, Send = 5, Recv = 6, Collective = 7 }

/// <summary>Collective operations, numbered as Chakra's CollectiveCommType.</summary>
public enum CollectiveKind { AllReduce = 0, Reduce = 1, AllGather = 2, Gather = 3, Scatter = 4, Broadcast = 5, AllToAll = 6, ReduceScatter = 7 }

/// <summary>Which part of a step a node belongs to.</summary>
public enum StepPhase { Forward, Backward, Optimizer, Communication }

/// <summary>
/// One node of a rank's workload graph. Compute nodes carry FLOPs and bytes; communication nodes carry
/// the bytes each rank contributes (<see cref="CommBytes"/>, the full buffer for collectives), their
/// participants and a tag that matches the same operation on the other ranks. <see cref="AllocBytes"/>
/// is memory the node's outputs hold until every data dependent has run.
/// </summary>
public sealed record WorkloadNode
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public required WorkloadNodeKind Kind { get; init; }
    public StepPhase Phase { get; init; }
    /// <summary>The operator (Conv, Conv.dgrad, SGD…) or the collective's name.</summary>
    public string Op { get; init; } = "";
    public long Flops { get; init; }
    public long BytesRead { get; init; }
    public long BytesWritten { get; init; }
    public long AllocBytes { get; init; }
    public string InputShapes { get; init; } = "";
    public string OutputShapes { get; init; } = "";
    public string Types { get; init; } = "";
    /// <summary>Predicted duration of a compute node alone on its device, seconds.</summary>
    public double Duration { get; init; }
    public CollectiveKind Collective { get; init; }
    public long CommBytes { get; init; }
    /// <summary>Participants of a collective; for send/recv, [source, destination].</summary>
    public IReadOnlyList<int> Ranks { get; init; } = [];
    public string ProcessGroup { get; init; } = "";
    public long Tag { get; init; }
    public int MicroBatch { get; init; }
    public IReadOnlyList<long> DataDeps { get; init; } = [];
    public IReadOnlyList<long> CtrlDeps { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsComm => Kind is WorkloadNodeKind.Collective or WorkloadNodeKind.Send or WorkloadNodeKind.Recv;
}

/// <summary>The workload of one rank for one step, nodes in an order that respects their dependencies.</summary>
public sealed record RankWorkload
{
    public required int Rank { get; init; }
    public required IReadOnlyList<WorkloadNode> Nodes { get; init; }
    /// <summary>Memory held for the whole step: parameters, gradients, optimizer state.</summary>
    public long StaticBytes { get; init; }
    /// <summary>Free-form facts for the file's global metadata (model, strategy, cluster).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>All ranks' workloads for one step of a model under one strategy.</summary>
public sealed record Workload
{
    public required ParallelStrategy Strategy { get; init; }
    public required IReadOnlyList<RankWorkload> Ranks { get; init; }
    /// <summary>
    /// For each rank listed, how many real ranks it stands for (a workload built for simulation keeps one
    /// rank per pipeline stage: data- and tensor-parallel peers do the same work at the same time).
    /// </summary>
    public IReadOnlyList<int> Multiplicity { get; init; } = [];
}
