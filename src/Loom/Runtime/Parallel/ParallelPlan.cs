using Loom.Scheduling;

namespace Loom.Runtime.Parallel;

/// <summary>
/// A <see cref="Schedule"/> in terms of a compiled graph's steps: for each stage the steps each worker
/// runs in order and, for each of them, the steps on other workers of the same stage it must wait for
/// (producers on the same worker ran before it; producers in earlier stages have finished); and for
/// each step of a parallel stage, all its producers in that stage, so a waiting worker can tell whether
/// it may run a step itself.
/// </summary>
internal sealed class ParallelPlan
{
    /// <param name="InOrder">All the stage's steps in graph order: how the caller runs them alone when the pool is taken.</param>
    internal sealed record Stage(bool IsParallel, int[][] Steps, int[][][] Waits, int[] InOrder);

    public ParallelPlan(ModelDataflow dataflow, Schedule schedule, bool interOpOnly)
    {
        Dataflow = dataflow;
        Schedule = schedule;
        InterOpOnly = interOpOnly;
        var stageOf = new int[dataflow.Steps.Length];
        for (int s = 0; s < schedule.Stages.Count; s++)
            foreach (var v in schedule.Stages[s].Nodes) stageOf[v] = s;
        var g = dataflow.Graph;
        Stages = schedule.Stages.Select((stage, s) => new Stage(stage.IsParallel,
            stage.WorkerNodes.Select(list => list.Select(v => dataflow.Steps[v]).ToArray()).ToArray(),
            stage.WorkerNodes.Select(list => list.Select(v => WaitsOf(v)).ToArray()).ToArray(),
            stage.Nodes.Select(v => dataflow.Steps[v]).Order().ToArray())).ToArray();
        StagePredecessors = new int[dataflow.Graph.Count == 0 ? 0 : dataflow.Steps.Max() + 1][];
        for (int v = 0; v < g.Count; v++)
        {
            var preds = new List<int>();
            if (schedule.Stages[stageOf[v]].IsParallel)
                foreach (var p in g.Predecessors(v))
                    if (stageOf[p.Node] == stageOf[v]) preds.Add(dataflow.Steps[p.Node]);
            StagePredecessors[dataflow.Steps[v]] = preds.ToArray();
        }

        int[] WaitsOf(int v)
        {
            if (!schedule.Stages[stageOf[v]].IsParallel) return [];
            var waits = new List<int>();
            foreach (var p in g.Predecessors(v))
                if (stageOf[p.Node] == stageOf[v] && schedule.WorkerOf[p.Node] != schedule.WorkerOf[v])
                    waits.Add(dataflow.Steps[p.Node]);
            return waits.ToArray();
        }
    }

    /// <summary>Per step (of a parallel stage): the steps of its stage whose outputs it reads; null for steps not scheduled.</summary>
    public int[]?[] StagePredecessors { get; }

    public ModelDataflow Dataflow { get; }
    public Schedule Schedule { get; }
    public Stage[] Stages { get; }
    public bool InterOpOnly { get; }
    public int Workers => Schedule.Workers;

    /// <summary>When set, runs split the batch into these sub-batches instead of following the schedule.</summary>
    public Hypercluster? Hyper { get; init; }

    /// <summary>True when some stage runs nodes side by side; otherwise the sequential executor does the same work with less bookkeeping.</summary>
    public bool IsParallel => Stages.Any(s => s.IsParallel);
}

/// <summary>
/// A batch split into sub-batches that run as independent copies of the graph, each on one worker, which claims the next
/// when it finishes one (hyperclustering), with the predicted time of the busiest worker and of the whole batch on one thread.
/// The copies run the steps before <see cref="TailStart"/>; when that is a step of the graph, the steps from it on (the
/// tail) run once on the whole batch with every thread, reading the copies' <see cref="CutSlots"/> joined along the batch.
/// </summary>
internal sealed record Hypercluster(string BatchSymbol, int[] SubBatches, double PredictedMakespan, double SequentialTime)
{
    public double PredictedSpeedup => PredictedMakespan > 0 ? SequentialTime / PredictedMakespan : 1;

    /// <summary>First step of the tail; <see cref="int.MaxValue"/> when the copies run every step.</summary>
    public int TailStart { get; init; } = int.MaxValue;

    /// <summary>The tail's first node, as traces name it (null without a tail).</summary>
    public string? TailNode { get; init; }

    /// <summary>Slots the copies make and the tail reads (or that are outputs), joined along the batch before the tail runs.</summary>
    public int[] CutSlots { get; init; } = [];

    public bool HasTail => TailStart != int.MaxValue;
}
