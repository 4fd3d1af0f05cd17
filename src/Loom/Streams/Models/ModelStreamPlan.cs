using System.Globalization;
using System.Text;
using Loom.Streams.Graph;
using Loom.Streams.Passes;
using Loom.Streams.Semantics;

namespace Loom.Streams.Models;

/// <summary>One stage of a plan: nodes [First, End) of the optimized graph and how many copies of it run side by side.</summary>
public sealed record StagePlan(int Index, int First, int End, int Replicas, double PredictedSeconds, long WeightBytes,
    IReadOnlyList<string> Reads, long ReadBytes, IReadOnlyList<string> Writes)
{
    /// <summary>Holds state fed back from item to item (<see cref="ModelStreamOptions.Feedback"/>): one copy, items in order.</summary>
    public bool Stateful { get; init; }

    /// <summary>Items each copy takes per firing and runs as one batch (weights read once for them all); 1 = one at a time.</summary>
    public int ItemsPerFiring { get; init; } = 1;

    /// <summary>Why the stage runs one item per firing though its weights outgrow the last-level cache (not batch-separable, stateful), or null.</summary>
    public string? WhyOneItem { get; init; }
}

/// <summary>A shape of plan the planner weighed: so many stages, and the items per second it predicted.</summary>
public sealed record PlanCandidate(int Stages, int[] Replicas, double PredictedItemsPerSecond);

/// <summary>
/// How a model runs as a stream on some cores: its stages (contiguous slices of the optimized graph), the
/// copies of each (fission of a stateless stage), the throughput the cost model predicts, and the other
/// shapes of plan it weighed. Built only from the graph and the machine profile, so it is deterministic.
/// </summary>
public sealed class ModelStreamPlan
{
    internal static readonly PrimType ItemType = new("tensors");

    public required int Cores { get; init; }
    public required IReadOnlyList<StagePlan> Stages { get; init; }
    public required double PredictedItemsPerSecond { get; init; }
    public required IReadOnlyList<PlanCandidate> Candidates { get; init; }
    /// <summary>Seconds the cost model predicts for one item through the whole model on one thread.</summary>
    public required double PredictedOneCoreSeconds { get; init; }
    public required long PrivateCacheBytes { get; init; }
    public required int Nodes { get; init; }

    /// <summary>The last-level cache the planner assumed: a stage whose weights outgrow it may run several items per firing.</summary>
    public long SharedCacheBytes { get; init; } = long.MaxValue;

    /// <summary>The rate one core reads memory at (the machine profile's), by which the planner chose each stage's items per firing.</summary>
    public double MemoryBytesPerSecond { get; init; }

    public int Workers => Stages.Sum(s => s.Replicas);

    /// <summary>Items the stage copies hold at once when every copy fires: the least in-flight window that keeps them all busy.</summary>
    public int ItemsPerRound => Stages.Sum(s => s.Replicas * s.ItemsPerFiring);

    /// <summary>A short name: "2 replicas", "2-stage pipeline", "2-stage pipeline, replicas 2+1".</summary>
    public string Shape => Stages.Count == 1 ? Stages[0].Stateful ? "the whole model, stateful" : $"{Stages[0].Replicas} replica(s) of the whole model"
        : Stages.All(s => s.Replicas == 1) ? $"{Stages.Count}-stage pipeline"
        : $"{Stages.Count}-stage pipeline, replicas {string.Join("+", Stages.Select(s => s.Replicas))}";

    /// <summary>The stream graph: a pipeline of stage filters, each stage with copies fissioned into a round-robin split-join.</summary>
    public StreamNode ToStreamGraph(string name)
    {
        var pipe = new PipelineNode { Name = name, Input = ItemType, Output = ItemType };
        foreach (var s in Stages)
            pipe.Children.Add(new ModelStageNode
            {
                Name = $"stage{s.Index}", Input = ItemType, Output = ItemType, Stage = s.Index, First = s.First, End = s.End,
                Reads = s.Reads, ReadBytes = s.ReadBytes, PredictedSeconds = s.PredictedSeconds, IsStateful = s.Stateful,
                ItemsPerFiring = s.ItemsPerFiring,
            });
        var ways = Stages.Where(s => s.Replicas > 1).ToDictionary(s => $"stage{s.Index}", s => s.Replicas);
        return Fission.Apply(pipe, ways);
    }

    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"plan: {Shape} on {Cores} core(s); {Nodes} nodes; one item on one core predicted {PredictedOneCoreSeconds * 1e3:F2} ms"));
        foreach (var s in Stages)
            sb.AppendLine(string.Create(inv,
                $"  stage{s.Index}: nodes {s.First}..{s.End - 1} ×{s.Replicas}{(s.Stateful ? " (stateful: items in order)" : "")}, {s.ItemsPerFiring} item(s) per firing{(s.WhyOneItem is { } why ? $" ({why})" : "")}, predicted {s.PredictedSeconds * 1e3:F2} ms/item, weights {s.WeightBytes / 1048576.0:F1} MiB, reads {s.Reads.Count} tensor(s) {s.ReadBytes / 1024.0:F0} KiB{(s.Reads.Count <= 3 ? $" ({string.Join(", ", s.Reads)})" : "")}"));
        sb.AppendLine(string.Create(inv, $"  predicted {PredictedItemsPerSecond:F1} items/s (private cache {PrivateCacheBytes / 1024} KiB per core)"));
        if (SharedCacheBytes < long.MaxValue && MemoryBytesPerSecond > 0)
            sb.AppendLine(string.Create(inv, $"  items per firing: weights beyond the {SharedCacheBytes / 1048576.0:F0} MiB last-level cache read from memory at {MemoryBytesPerSecond / 1e9:F1} GB/s (one core) within {StreamPlanner.ReReadShare:P0} of a stage's compute, at most {StreamPlanner.MaxItemsPerFiring}"));
        foreach (var c in Candidates)
            sb.AppendLine(string.Create(inv, $"  considered {c.Stages} stage(s), replicas {string.Join("+", c.Replicas)}: {c.PredictedItemsPerSecond:F1} items/s"));
        return sb.ToString();
    }
}
