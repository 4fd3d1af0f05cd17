using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Models;

namespace Loom.Cluster.Pipelines;

/// <summary>
/// A model's optimized graph ready to be cut into pipeline stages, on the client (to choose the cuts) and on
/// each silo (to make its own stage): the stream partitioner's <see cref="CutProfile"/> at the planned input sizes.
/// Both sides start from the same file and the same passes, so the same starts give the same stage.
/// </summary>
internal sealed class PipelinePartition
{
    private PipelinePartition(Model optimized, CutProfile cuts) => (Optimized, Cuts) = (optimized, cuts);

    public Model Optimized { get; }
    public CutProfile Cuts { get; }
    public int Nodes => Cuts.Count;

    /// <summary>The session options of every stage: one thread, sequential, the graph already optimized (as <see cref="ModelStream"/>'s stages).</summary>
    public static LoomSessionOptions StageOptions => new() { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = 0 };

    /// <summary>Loads a model file optimized as <see cref="ModelStream"/> does (one thread, level 2).</summary>
    public static Model LoadOptimized(string path)
    {
        using var session = LoomSession.Load(path, ModelStream.OneCoreSessionOptions());
        return session.Model; // the session's compiled kernels go; its optimized model stays
    }

    public static PipelinePartition Create(Model optimized, IReadOnlyDictionary<string, long> dims, MachineProfile profile) =>
        new(optimized, new CutProfile(optimized.Graph, ModelStream.ConcreteGraph(optimized, dims), new CostModel(profile)));

    /// <summary>Stage <paramref name="index"/> of the cut at <paramref name="starts"/>: its nodes, what it reads and what it writes.</summary>
    public (int First, int End, List<string> Reads, List<string> Writes) Stage(int[] starts, int index)
    {
        if (index < 0 || index >= starts.Length) throw new InputException($"stage {index} of a {starts.Length}-stage cut");
        int first = starts[index], end = index + 1 < starts.Length ? starts[index + 1] : Nodes;
        if (first < 0 || end > Nodes || first >= end) throw new InputException($"stage {index}: nodes {first}..{end - 1} are not a slice of the model's {Nodes} nodes");
        return (first, end, Cuts.Reads(first, end), Cuts.Writes(first, end));
    }

    /// <summary>The stage as a model of its own (<see cref="StageModel.Slice"/>, as <see cref="ModelStream"/> makes its stages).</summary>
    public Model StageModelOf(int[] starts, int index)
    {
        var (first, end, reads, writes) = Stage(starts, index);
        return StageModel.Slice(Optimized, [.. Cuts.Recomputed(first, end).Select(k => Cuts.Line[k]), .. Cuts.Line[first..end]], first, end, reads, writes);
    }
}
