namespace Loom.Dynamic.Batching;

/// <summary>Turns a graph into an ordered list of batches (each a set of nodes of one signature whose inputs ran earlier).</summary>
internal static class Schedulers
{
    public static List<int[]> Schedule(DynamicGraph g, GraphShape s, BatchingPolicy policy, FsmPolicy? fsm = null) => policy switch
    {
        BatchingPolicy.None => Enumerable.Range(0, g.NodeCount).Select(i => new[] { i }).ToList(),
        BatchingPolicy.Depth => ByDepth(s),
        BatchingPolicy.Agenda => Agenda(s, (ready, _) => LowestAverageDepth(s, ready)),
        BatchingPolicy.Fsm => Agenda(s, (fsm ?? throw new GraphException("the FSM policy needs a learned table (FsmPolicy.Learn)")).Runner(g, s, explore: null)),
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>Groups by (depth, signature), run in increasing depth: every input is at a smaller depth.</summary>
    private static List<int[]> ByDepth(GraphShape s)
    {
        var groups = new Dictionary<(int, int), List<int>>();
        for (int i = 0; i < s.Types.Length; i++)
        {
            var key = (s.Depth[i], s.Types[i]);
            if (!groups.TryGetValue(key, out var list)) groups.Add(key, list = []);
            list.Add(i);
        }
        return groups.OrderBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2).Select(kv => kv.Value.ToArray()).ToList();
    }

    /// <summary>
    /// Ready-list scheduling: keeps the ready nodes per signature; <paramref name="choose"/> picks the signature
    /// to run next and all its ready nodes become one batch.
    /// </summary>
    public static List<int[]> Agenda(GraphShape s, Func<List<int>[], int, int> choose)
    {
        var pending = (int[])s.Pending.Clone();
        var ready = new List<int>[s.TypeCount];
        for (int t = 0; t < ready.Length; t++) ready[t] = [];
        for (int i = 0; i < pending.Length; i++)
            if (pending[i] == 0) ready[s.Types[i]].Add(i);
        var batches = new List<int[]>();
        int left = pending.Length;
        while (left > 0)
        {
            int t = choose(ready, batches.Count);
            var batch = ready[t].ToArray();
            if (batch.Length == 0) throw new InvalidOperationException("scheduler chose a signature with no ready node");
            ready[t].Clear();
            batches.Add(batch);
            left -= batch.Length;
            foreach (int n in batch)
                foreach (int c in s.ConsumersOf(n))
                    if (--pending[c] == 0) ready[s.Types[c]].Add(c);
        }
        return batches;
    }

    internal static int LowestAverageDepth(GraphShape s, List<int>[] ready)
    {
        int best = -1;
        double bestAvg = double.MaxValue;
        for (int t = 0; t < ready.Length; t++)
        {
            if (ready[t].Count == 0) continue;
            long sum = 0;
            foreach (int n in ready[t]) sum += s.Depth[n];
            double avg = (double)sum / ready[t].Count;
            if (avg < bestAvg) { bestAvg = avg; best = t; }
        }
        return best;
    }
}
