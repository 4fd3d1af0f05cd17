namespace Loom.Dynamic.Batching;

/// <summary>
/// ED-Batch's learned policy: a finite-state machine whose state is the set of signatures with ready nodes and
/// whose action is "run every ready node of signature t". The table is learned by tabular Q-learning on a
/// sample graph (reward −1 per batch, so the return is minus the kernel-call count) and kept per model;
/// learning stops once an episode's greedy run is within 1% of the type-wise lower bound.
/// </summary>
public sealed class FsmPolicy
{
    private readonly Dictionary<(ulong State, int Action), double> _q = [];

    /// <summary>Kernel calls of the greedy schedule on the training graph, and its lower bound.</summary>
    public int GreedyCalls { get; private set; }
    public int LowerBound { get; private set; }
    public int Episodes { get; private set; }

    /// <summary>Learns a table on <paramref name="sample"/> (a graph as the model builds it for one forward).</summary>
    public static FsmPolicy Learn(DynamicGraph sample, int maxEpisodes = 200, ulong seed = 1)
    {
        var shape = new GraphShape(sample);
        if (shape.TypeCount > 64) throw new UnsupportedException($"the FSM policy handles up to 64 operation signatures; this graph has {shape.TypeCount}");
        var p = new FsmPolicy { LowerBound = shape.LowerBound(sample) };
        var rng = new Data.SplitMix64(seed);
        const double alpha = 0.5, gamma = 1.0;
        for (int e = 0; e < maxEpisodes; e++)
        {
            double epsilon = Math.Max(0.02, 0.3 * (1 - (double)e / maxEpisodes));
            ulong prevState = 0; int prevAction = -1;
            Schedulers.Agenda(shape, (ready, step) =>
            {
                ulong state = State(ready);
                int a = rng.NextFloat() < epsilon ? RandomReady(ready, ref rng) : p.Best(state, ready, shape);
                if (prevAction >= 0) p.Update(prevState, prevAction, -1 + gamma * p.MaxQ(state, ready), alpha);
                prevState = state; prevAction = a;
                return a;
            });
            p.Update(prevState, prevAction, -1, alpha); // terminal step
            p.Episodes = e + 1;
            p.GreedyCalls = Schedulers.Agenda(shape, (ready, _) => p.Choose(ready, shape)).Count;
            if (p.GreedyCalls <= p.LowerBound * 1.01) break;
        }
        return p;
    }

    /// <summary>The signature to run next: the learned best action, or the lowest average depth in states never seen.</summary>
    internal int Choose(List<int>[] ready, GraphShape shape) => Best(State(ready), ready, shape);

    private int Best(ulong state, List<int>[] ready, GraphShape shape)
    {
        int best = -1;
        double bestQ = double.NegativeInfinity, bestDepth = double.MaxValue;
        for (int t = 0; t < ready.Length; t++)
        {
            if (ready[t].Count == 0) continue;
            double q = _q.TryGetValue((state, t), out var v) ? v : -1e9;
            double depth = ready[t].Average(n => shape.Depth[n]);
            if (q > bestQ || (q == bestQ && depth < bestDepth)) { best = t; bestQ = q; bestDepth = depth; }
        }
        return best;
    }

    private double MaxQ(ulong state, List<int>[] ready)
    {
        double m = double.NegativeInfinity;
        for (int t = 0; t < ready.Length; t++)
            if (ready[t].Count > 0) m = Math.Max(m, _q.TryGetValue((state, t), out var v) ? v : 0);
        return double.IsNegativeInfinity(m) ? 0 : m;
    }

    private void Update(ulong state, int action, double target, double alpha)
    {
        _q.TryGetValue((state, action), out var old);
        _q[(state, action)] = old + alpha * (target - old);
    }

    private static ulong State(List<int>[] ready)
    {
        ulong s = 0;
        for (int t = 0; t < ready.Length; t++) if (ready[t].Count > 0) s |= 1UL << t;
        return s;
    }

    private static int RandomReady(List<int>[] ready, ref Data.SplitMix64 rng)
    {
        int count = 0;
        foreach (var r in ready) if (r.Count > 0) count++;
        int pick = (int)(rng.Next() % (ulong)count);
        for (int t = 0; t < ready.Length; t++)
            if (ready[t].Count > 0 && pick-- == 0) return t;
        throw new InvalidOperationException("no ready signature");
    }
}
