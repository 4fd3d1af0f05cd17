namespace Loom.Dynamic.Batching;

/// <summary>
/// ED-Batch's learned policy: a finite-state machine whose action is "run every ready node of signature t",
/// learned by tabular Q-learning on a sample graph as ED-Batch does: ε-greedy episodes, each replayed with 10-step
/// returns (γ = 1, α = 0.4) and ED-Batch's shaped reward, −1 per batch plus the share of the signature's next type
/// level that the batch covers (0 for a batch that costs nothing extra later); learning stops once the greedy run is within 1% of the type-wise lower bound. The state is the set of
/// signatures with ready nodes together with the subset whose ready nodes are <i>complete</i>: every remaining
/// node of that signature at its lowest type level (see <see cref="GraphShape.TypeLevel"/>) is ready, so running it
/// now costs no extra batch later. States never seen fall back to a rule chosen on the sample graph too
/// (<see cref="CriticalPathFirst"/>).
/// </summary>
public sealed class FsmPolicy
{
    private Dictionary<(ulong Ready, ulong Complete, int Action), double> _q = [];

    /// <summary>Kernel calls of the greedy schedule on the training graph, and its lower bound.</summary>
    public int GreedyCalls { get; private set; }
    public int LowerBound { get; private set; }
    public int Episodes { get; private set; }

    /// <summary>
    /// The rule for states without a table entry: the complete signature of lowest average depth (a batch that costs
    /// no extra one later, DyNet's order among them), or the signature on the longest remaining path, which suits
    /// many inputs of different lengths (lattices), where the shorter ones can wait.
    /// </summary>
    public bool CriticalPathFirst { get; private set; }

    /// <summary>Learns a table on <paramref name="sample"/> (a graph as the model builds it for one forward).</summary>
    public static FsmPolicy Learn(DynamicGraph sample, int maxEpisodes = 100, ulong seed = 1)
    {
        var shape = new GraphShape(sample);
        if (shape.TypeCount > 64) throw new UnsupportedException($"the FSM policy handles up to 64 operation signatures; this graph has {shape.TypeCount}");
        var p = new FsmPolicy { LowerBound = shape.LowerBound(sample) };
        // The rule for states the table has not seen is learned too: whichever of the two gives fewer calls here.
        int byDepth = Schedulers.Agenda(shape, p.Runner(sample, shape, explore: null)).Count;
        p.CriticalPathFirst = true;
        int byPath = Schedulers.Agenda(shape, p.Runner(sample, shape, explore: null)).Count;
        p.CriticalPathFirst = byPath < byDepth;
        var rng = new Data.SplitMix64(seed);
        // The table in use is the best seen so far: exploration can make the greedy schedule worse for a while.
        Dictionary<(ulong, ulong, int), double> best = [];
        int bestCalls = int.MaxValue;
        for (int e = 0; e < maxEpisodes; e++)
        {
            int calls = Schedulers.Agenda(shape, p.Runner(sample, shape, explore: null)).Count;
            p.Episodes = e + 1;
            if (calls < bestCalls) { bestCalls = calls; best = new(p._q); }
            if (bestCalls <= p.LowerBound * 1.01) break;
            double epsilon = Math.Max(0.02, 0.3 * (1 - (double)e / maxEpisodes));
            var log = new List<((ulong, ulong, int) Sa, double Reward)>();
            Schedulers.Agenda(shape, p.Runner(sample, shape, explore: () => rng.NextFloat() < epsilon ? rng.Next() : null, log));
            p.Replay(log);
        }
        p._q = best;
        p.GreedyCalls = bestCalls;
        return p;
    }

    /// <summary>
    /// A chooser for one scheduling run (it tracks the remaining nodes per signature and level). With
    /// <paramref name="explore"/> it explores (a random ready signature) and logs every step's state, action and reward
    /// into <paramref name="log"/> for <see cref="Replay"/>.
    /// </summary>
    private const int TdSteps = 10;

    /// <summary>ED-Batch's update after an episode: n-step returns (γ = 1), α = 0.4.</summary>
    private void Replay(List<((ulong, ulong, int) Sa, double Reward)> log)
    {
        for (int i = 0; i < log.Count; i++)
        {
            int j = Math.Min(i + TdSteps, log.Count);
            double ret = 0;
            if (j < log.Count) { var (r, c, _) = log[j].Sa; ret = MaxQ(r, c); }
            for (int k = j - 1; k >= i; k--) ret += log[k].Reward;
            Update(log[i].Sa, ret, 0.4);
        }
    }

    internal Func<List<int>[], int, int> Runner(DynamicGraph g, GraphShape shape, Func<ulong?>? explore, List<((ulong, ulong, int), double)>? log = null)
    {
        if (shape.TypeLevel.Length != shape.Types.Length) shape.LowerBound(g);
        var remaining = new Dictionary<(int, int), int>();
        var minLevel = new int[shape.TypeCount];
        Array.Fill(minLevel, int.MaxValue);
        for (int n = 0; n < shape.Types.Length; n++)
        {
            var key = (shape.Types[n], shape.TypeLevel[n]);
            remaining[key] = remaining.GetValueOrDefault(key) + 1;
            minLevel[shape.Types[n]] = Math.Min(minLevel[shape.Types[n]], shape.TypeLevel[n]);
        }
        return (ready, _) =>
        {
            ulong r = 0, c = 0;
            for (int t = 0; t < ready.Length; t++)
            {
                if (ready[t].Count == 0) continue;
                r |= 1UL << t;
                int atMin = 0;
                foreach (int n in ready[t]) if (shape.TypeLevel[n] == minLevel[t]) atMin++;
                int all = remaining[(t, minLevel[t])];
                if (atMin == all) c |= 1UL << t;
            }
            int a = explore?.Invoke() is { } pick ? Nth(r, (int)(pick % (ulong)BitCount(r))) : Best(r, c, ready, shape);
            if (log is not null)
            {
                // ED-Batch's shaped reward: −1 plus the share of the signature's next level this batch covers.
                int atMin = 0;
                foreach (int n in ready[a]) if (shape.TypeLevel[n] == minLevel[a]) atMin++;
                log.Add(((r, c, a), -1 + (double)atMin / remaining[(a, minLevel[a])]));
            }
            // Account for the batch about to run: ready[a] in full.
            foreach (int n in ready[a])
            {
                var key = (a, shape.TypeLevel[n]);
                remaining[key]--;
            }
            while (minLevel[a] != int.MaxValue && remaining.GetValueOrDefault((a, minLevel[a])) == 0)
                minLevel[a] = remaining.ContainsKey((a, minLevel[a] + 1)) || HasHigher(remaining, a, minLevel[a]) ? minLevel[a] + 1 : int.MaxValue;
            return a;
        };
    }

    private int Best(ulong r, ulong c, List<int>[] ready, GraphShape shape)
    {
        int best = -1;
        double bestQ = double.NegativeInfinity;
        for (int t = 0; t < ready.Length; t++)
            if (ready[t].Count > 0 && _q.TryGetValue((r, c, t), out var q) && q > bestQ) { best = t; bestQ = q; }
        if (best >= 0) return best;
        // Unseen state: a complete signature (no extra batch later), lowest average depth first.
        var complete = new List<int>[ready.Length];
        for (int t = 0; t < ready.Length; t++) complete[t] = (c >> t & 1) != 0 ? ready[t] : [];
        if (!CriticalPathFirst) return c != 0 ? Schedulers.LowestAverageDepth(shape, complete) : Schedulers.LowestAverageDepth(shape, ready);
        // The signature holding the ready node with the longest path still ahead of it (a complete one on ties).
        long bestScore = long.MinValue;
        for (int t = 0; t < ready.Length; t++)
        {
            if (ready[t].Count == 0) continue;
            long score = 0;
            foreach (int n in ready[t]) score = Math.Max(score, shape.Height[n]);
            score = score * 2 + (long)((c >> t) & 1);
            if (score > bestScore) { bestScore = score; best = t; }
        }
        return best;
    }

    private double MaxQ(ulong r, ulong c)
    {
        double m = double.NegativeInfinity;
        for (int t = 0; t < 64; t++)
            if ((r >> t & 1) != 0) m = Math.Max(m, _q.TryGetValue((r, c, t), out var v) ? v : 0);
        return double.IsNegativeInfinity(m) ? 0 : m;
    }

    private void Update((ulong R, ulong C, int A) s, double target, double alpha)
    {
        _q.TryGetValue(s, out var old);
        _q[s] = old + alpha * (target - old);
    }

    private static bool HasHigher(Dictionary<(int, int), int> remaining, int t, int level)
    {
        foreach (var ((tt, l), n) in remaining) if (tt == t && l > level && n > 0) return true;
        return false;
    }

    private static int BitCount(ulong x) => System.Numerics.BitOperations.PopCount(x);

    private static int Nth(ulong mask, int k)
    {
        for (int t = 0; t < 64; t++)
            if ((mask >> t & 1) != 0 && k-- == 0) return t;
        throw new InvalidOperationException("no ready signature");
    }
}
