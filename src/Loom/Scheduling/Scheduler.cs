namespace Loom.Scheduling;

/// <summary>
/// Builds a <see cref="Schedule"/>: the graph is cut at its bottlenecks; each region between them is
/// clustered along its critical path (<see cref="LinearClustering"/>) and merged onto the workers
/// (<see cref="ClusterMerging"/>), and it runs that way when the simulation says this beats running its
/// nodes one by one with every intra-op thread; bottlenecks always get every thread. With
/// <paramref name="interOpOnly"/>, every node gets one thread and the whole graph is one parallel stage.
/// Deterministic: the same graph and weights give the same schedule.
/// </summary>
public static class Scheduler
{
    /// <param name="wideWeights">Predicted seconds of each node with all <paramref name="workers"/> intra-op threads.</param>
    /// <param name="sideBySide">False: no parallel stages (unless <paramref name="interOpOnly"/>), every node with all threads.</param>
    public static Schedule Build(DataflowGraph g, IReadOnlyList<double> wideWeights, int workers, bool interOpOnly, bool sideBySide = true)
    {
        int n = g.Count;
        var workerOf = new int[n];
        var threads = new int[n];
        var start = new double[n];
        var finish = new double[n];
        var stages = new List<ScheduleStage>();
        var clusters = new List<int[]>();
        var wide = new List<int>();
        double now = 0;
        double WideTime(int v) => interOpOnly ? g.Weight(v) : wideWeights[v];

        void FlushWide()
        {
            if (wide.Count == 0) return;
            stages.Add(new ScheduleStage(false, [wide.ToArray()]));
            wide.Clear();
        }

        var segments = workers == 1 || (!sideBySide && !interOpOnly) ? [new Bottlenecks.Segment(true, Enumerable.Range(0, n).ToArray())]
            : interOpOnly ? [new Bottlenecks.Segment(false, Enumerable.Range(0, n).ToArray())]
            : Bottlenecks.Segments(g);
        foreach (var segment in segments)
        {
            var nodes = segment.Nodes;
            var plan = segment.IsBottleneck || nodes.Length < 2 ? null : PlanRegion(g, nodes, workers);
            double wideTime = nodes.Sum(WideTime);
            if (plan is { } p && (interOpOnly || p.Makespan < wideTime))
            {
                FlushWide();
                stages.Add(new ScheduleStage(true, p.WorkerNodes));
                clusters.AddRange(p.Clusters);
                for (int i = 0; i < nodes.Length; i++)
                {
                    int v = nodes[i];
                    workerOf[v] = p.WorkerOf[i];
                    threads[v] = 1;
                    start[v] = now + p.Start[i];
                    finish[v] = now + p.Finish[i];
                }
                now += p.Makespan;
                continue;
            }
            foreach (var v in nodes)
            {
                wide.Add(v);
                threads[v] = interOpOnly ? 1 : workers;
                start[v] = now;
                now += WideTime(v);
                finish[v] = now;
            }
        }
        FlushWide();
        return new Schedule(g, workers, stages, clusters.ToArray(), workerOf, threads, start, finish);
    }

    private sealed record RegionPlan(int[][] WorkerNodes, int[][] Clusters, int[] WorkerOf, double[] Start, double[] Finish, double Makespan);

    /// <summary>Clusters and merges one region (node ids of <paramref name="g"/>, ascending); times are relative to the region's start.</summary>
    private static RegionPlan PlanRegion(DataflowGraph g, int[] nodes, int workers)
    {
        var sub = g.Induced(nodes);
        var clusters = LinearClustering.Run(sub);
        var order = ScheduleSimulation.PriorityOrder(sub);
        var workerOf = ClusterMerging.Run(sub, clusters, workers, order);
        var start = new double[sub.Count];
        var finish = new double[sub.Count];
        double makespan = ScheduleSimulation.Run(sub, order, workerOf, workers, start, finish);
        var lists = Enumerable.Range(0, workers).Select(_ => new List<int>()).ToArray();
        foreach (var v in order) lists[workerOf[v]].Add(nodes[v]);
        var original = clusters.Select(c => c.Select(v => nodes[v]).ToArray()).ToArray();
        return new RegionPlan(lists.Select(l => l.ToArray()).ToArray(), original, workerOf, start, finish, makespan);
    }
}
