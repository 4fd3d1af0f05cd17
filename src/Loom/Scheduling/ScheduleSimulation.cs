namespace Loom.Scheduling;

/// <summary>
/// Predicts when each node starts and finishes when nodes are assigned to processors and every processor
/// runs its nodes in one fixed global order — exactly what the parallel executor does, so the prediction
/// and the run differ only by the cost model's error. An edge between processors costs its transfer time;
/// an edge within one is free.
/// </summary>
public static class ScheduleSimulation
{
    /// <summary>
    /// A topological order that, among ready nodes, takes the one with the longest remaining path to the
    /// end (bottom level, edge costs included) first: classic list-scheduling priority. Ties go to the
    /// lower-numbered node.
    /// </summary>
    public static int[] PriorityOrder(DataflowGraph g)
    {
        var bottom = BottomLevels(g);
        var pending = new int[g.Count];
        var ready = new PriorityQueue<int, (double, int)>();
        for (int v = 0; v < g.Count; v++)
        {
            pending[v] = g.Predecessors(v).Length;
            if (pending[v] == 0) ready.Enqueue(v, (-bottom[v], v));
        }
        var order = new int[g.Count];
        int k = 0;
        while (ready.TryDequeue(out var v, out _))
        {
            order[k++] = v;
            foreach (var s in g.Successors(v))
                if (--pending[s.Node] == 0) ready.Enqueue(s.Node, (-bottom[s.Node], s.Node));
        }
        return order;
    }

    /// <summary>Longest path from each node to an exit: its weight plus the heaviest successor path with edge costs.</summary>
    public static double[] BottomLevels(DataflowGraph g)
    {
        var bottom = new double[g.Count];
        for (int v = g.Count - 1; v >= 0; v--)
        {
            double after = 0;
            foreach (var s in g.Successors(v)) after = Math.Max(after, s.Cost + bottom[s.Node]);
            bottom[v] = g.Weight(v) + after;
        }
        return bottom;
    }

    /// <summary>
    /// Runs the schedule: <paramref name="processorOf"/> gives each node's processor (numbered below
    /// <paramref name="processors"/>), <paramref name="order"/> the global order. Fills start and finish
    /// times when given and returns the makespan.
    /// </summary>
    public static double Run(DataflowGraph g, int[] order, int[] processorOf, int processors, double[]? start = null, double[]? finish = null)
    {
        finish ??= new double[g.Count];
        var free = new double[processors];
        double makespan = 0;
        foreach (var v in order)
        {
            int p = processorOf[v];
            double ready = free[p];
            foreach (var e in g.Predecessors(v))
                ready = Math.Max(ready, finish[e.Node] + (processorOf[e.Node] == p ? 0 : e.Cost));
            if (start is not null) start[v] = ready;
            finish[v] = ready + g.Weight(v);
            free[p] = finish[v];
            makespan = Math.Max(makespan, finish[v]);
        }
        return makespan;
    }
}
