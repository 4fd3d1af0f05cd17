namespace Loom.Scheduling;

/// <summary>
/// Merges linear clusters onto a fixed number of workers (Ramiel's second phase, for a real core count):
/// clusters are placed heaviest first, each on the worker that gives the shortest simulated schedule,
/// while the clusters not yet placed each keep a virtual processor of their own. A tie goes to the worker
/// with less work so far, then to the lower-numbered one, so the result is deterministic.
/// </summary>
public static class ClusterMerging
{
    /// <summary>The worker of every node.</summary>
    public static int[] Run(DataflowGraph g, int[][] clusters, int workers, int[] order)
    {
        var processorOf = new int[g.Count];
        for (int c = 0; c < clusters.Length; c++)
            foreach (var v in clusters[c]) processorOf[v] = workers + c;
        var weightOf = clusters.Select(c => c.Sum(g.Weight)).ToArray();
        var byWeight = Enumerable.Range(0, clusters.Length)
            .OrderByDescending(c => weightOf[c]).ThenBy(c => clusters[c][0]).ToArray();
        var load = new double[workers];
        int processors = workers + clusters.Length;
        foreach (var c in byWeight)
        {
            int best = -1;
            double bestSpan = double.PositiveInfinity;
            for (int w = 0; w < workers; w++)
            {
                foreach (var v in clusters[c]) processorOf[v] = w;
                double span = ScheduleSimulation.Run(g, order, processorOf, processors);
                // Spans closer than a nanosecond are ties: prefer the lighter worker, then the lower number.
                if (best < 0 || span < bestSpan - 1e-9 || (span < bestSpan + 1e-9 && load[w] < load[best]))
                {
                    best = w;
                    bestSpan = Math.Min(bestSpan, span);
                }
            }
            foreach (var v in clusters[c]) processorOf[v] = best;
            load[best] += weightOf[c];
        }
        Refine(g, processorOf, workers, order);
        return processorOf;
    }

    /// <summary>
    /// Greedy placement decides each cluster knowing only the heavier ones; afterwards, single nodes move
    /// to another worker whenever the simulated schedule gets shorter, sweeping in node order until a
    /// sweep changes nothing (or a few sweeps have run).
    /// </summary>
    private static void Refine(DataflowGraph g, int[] processorOf, int workers, int[] order)
    {
        double span = ScheduleSimulation.Run(g, order, processorOf, workers);
        for (int sweep = 0; sweep < 4; sweep++)
        {
            bool improved = false;
            for (int v = 0; v < g.Count; v++)
            {
                int home = processorOf[v];
                for (int w = 0; w < workers; w++)
                {
                    if (w == home) continue;
                    processorOf[v] = w;
                    double moved = ScheduleSimulation.Run(g, order, processorOf, workers);
                    if (moved < span - 1e-9) { span = moved; home = w; improved = true; }
                }
                processorOf[v] = home;
            }
            if (!improved) break;
        }
    }
}
