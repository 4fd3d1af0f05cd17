namespace Loom.Workload;

/// <summary>
/// Splits operators (in topological order) into contiguous pipeline stages so that the most expensive
/// stage is as cheap as possible: the step of a pipeline is paced by its slowest stage.
/// </summary>
public static class PipelinePartition
{
    /// <summary>Stage index of each operator; binary search on the bottleneck cost with a greedy fill.</summary>
    public static int[] Balance(IReadOnlyList<double> costs, int stages)
    {
        if (stages < 1) throw new WorkloadException($"pipeline stages must be at least 1 (got {stages})");
        if (costs.Count < stages) throw new WorkloadException($"{stages} pipeline stages but the model has only {costs.Count} operators to place");
        double lo = costs.Max(), hi = costs.Sum();
        for (int iter = 0; iter < 60 && hi - lo > 1e-12 * Math.Max(1, hi); iter++)
        {
            double mid = (lo + hi) / 2;
            if (Fits(costs, stages, mid)) hi = mid; else lo = mid;
        }
        return Assign(costs, stages, hi);
    }

    private static bool Fits(IReadOnlyList<double> costs, int stages, double limit)
    {
        int used = 1; double sum = 0;
        foreach (var c in costs)
        {
            if (sum + c > limit) { used++; sum = 0; }
            sum += c;
        }
        return used <= stages;
    }

    /// <summary>Greedy fill under the limit, leaving at least one operator for each later stage.</summary>
    private static int[] Assign(IReadOnlyList<double> costs, int stages, double limit)
    {
        var stage = new int[costs.Count];
        int s = 0; double sum = 0;
        for (int i = 0; i < costs.Count; i++)
        {
            int remainingOps = costs.Count - i, remainingStages = stages - s - 1;
            bool mustAdvance = i > 0 && stage[i - 1] == s && remainingOps <= remainingStages;
            if (s < stages - 1 && sum > 0 && (sum + costs[i] > limit * (1 + 1e-9) || mustAdvance)) { s++; sum = 0; }
            stage[i] = s;
            sum += costs[i];
        }
        return stage;
    }
}
