namespace Loom.Scheduling;

/// <summary>
/// One step of a schedule. A parallel stage runs its workers' node lists at once, one intra-op thread
/// per node, waiting across workers only where an edge crosses; a wide stage runs its nodes one after
/// another, each with every intra-op thread.
/// </summary>
public sealed record ScheduleStage(bool IsParallel, int[][] WorkerNodes)
{
    public IEnumerable<int> Nodes => WorkerNodes.SelectMany(w => w);
}

/// <summary>
/// What the scheduler decided for a graph on a number of workers: stages in order, each node's worker and
/// intra-op threads, the predicted timeline, and the numbers that say how good it is — the graph's own
/// bound on speedup, min(workers, total work / critical path), and the predicted speedup.
/// </summary>
public sealed class Schedule
{
    internal Schedule(DataflowGraph graph, int workers, IReadOnlyList<ScheduleStage> stages, int[][] clusters,
        int[] workerOf, int[] threads, double[] start, double[] finish)
    {
        Graph = graph;
        Workers = workers;
        Stages = stages;
        Clusters = clusters;
        WorkerOf = workerOf;
        Threads = threads;
        Start = start;
        Finish = finish;
        CriticalPath = graph.CriticalPath();
    }

    public DataflowGraph Graph { get; }
    public int Workers { get; }
    public IReadOnlyList<ScheduleStage> Stages { get; }

    /// <summary>The linear clusters found (before merging onto workers), heaviest first.</summary>
    public int[][] Clusters { get; }

    /// <summary>Worker running each node (a wide node's is 0: the calling thread leads it).</summary>
    public int[] WorkerOf { get; }

    /// <summary>Intra-op threads each node gets.</summary>
    public int[] Threads { get; }

    /// <summary>Predicted start and finish of each node, in seconds from the start of the run.</summary>
    public double[] Start { get; }
    public double[] Finish { get; }

    /// <summary>Nodes of the heaviest path by node weights.</summary>
    public int[] CriticalPath { get; }

    public double CriticalPathLength => CriticalPath.Sum(Graph.Weight);

    /// <summary>Predicted time of the whole run on one thread.</summary>
    public double SequentialTime => Graph.TotalWork;

    public double PredictedMakespan => Finish.Length == 0 ? 0 : Finish.Max();

    public double PredictedSpeedup => PredictedMakespan > 0 ? SequentialTime / PredictedMakespan : 1;

    /// <summary>min(workers, total work / critical path): the most any schedule of this graph can gain.</summary>
    public double SpeedupBound => Graph.SpeedupBound(Workers);

    public bool HasParallelStage => Stages.Any(s => s.IsParallel);

    /// <summary>Predicted seconds each worker spends running nodes (a wide node counts on every worker).</summary>
    public double[] WorkerBusy()
    {
        var busy = new double[Workers];
        for (int v = 0; v < Graph.Count; v++)
        {
            if (Threads[v] > 1) for (int w = 0; w < Workers; w++) busy[w] += Finish[v] - Start[v];
            else busy[WorkerOf[v]] += Finish[v] - Start[v];
        }
        return busy;
    }
}
