namespace Loom.Streams.Scheduling;

/// <summary>
/// Plays a schedule on item counts only. Each pass visits the actors in topological order and fires each
/// as many times as its inputs allow, up to what it still owes; a pass that fires nothing while firings
/// are owed is a deadlock, reported with the actors that wait and the edges they wait on.
/// </summary>
internal sealed class Simulation(FlatGraph g)
{
    public long[] Tokens { get; } = g.Edges.Select(e => (long)e.Initial.Count).ToArray();
    public long[] Max { get; } = g.Edges.Select(e => (long)e.Initial.Count).ToArray();
    private readonly long[] _fired = new long[g.Actors.Count];
    private readonly Dictionary<Edge, int> _edgeIndex = g.Edges.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i);

    public List<Firing> Run(long[] counts, string phase)
    {
        var remaining = counts.ToArray();
        var steps = new List<Firing>();
        while (true)
        {
            bool owed = false, progress = false;
            foreach (var a in g.Actors)
            {
                if (remaining[a.Index] == 0) continue;
                owed = true;
                long k = Fireable(a, remaining[a.Index]);
                if (k == 0) continue;
                Apply(a, k);
                remaining[a.Index] -= k;
                progress = true;
                if (steps.Count > 0 && steps[^1].Actor == a) steps[^1] = new Firing(a, steps[^1].Count + (int)k);
                else steps.Add(new Firing(a, (int)k));
            }
            if (!owed) return steps;
            if (!progress) throw Deadlock(remaining, phase);
        }
    }

    private long Fireable(Actor a, long limit)
    {
        long k = 0;
        long fired = _fired[a.Index];
        // A dynamic edge is filled on demand (its producer is pulled): it never holds the actor back here.
        var avail = a.In.Select(e => e is null || e.Dynamic ? long.MaxValue / 4 : Tokens[_edgeIndex[e]]).ToArray();
        if (a.HasPrework && fired == 0)
        {
            for (int p = 0; p < a.In.Count; p++)
                if (a.In[p] is not null && avail[p] < a.NeededForFiring(p, 0)) return 0;
            for (int p = 0; p < a.In.Count; p++) avail[p] -= a.PopFor(p, 0);
            k = 1;
        }
        long more = limit - k;
        for (int p = 0; p < a.In.Count && more > 0; p++)
        {
            if (a.In[p] is null) continue;
            long pop = a.Pop[p], extra = a.ExtraPeek;
            if (avail[p] < pop + extra) { more = 0; break; }
            if (pop > 0) more = Math.Min(more, (avail[p] - extra) / pop);
        }
        return k + more;
    }

    private void Apply(Actor a, long k)
    {
        long before = _fired[a.Index];
        for (int p = 0; p < a.In.Count; p++)
            if (a.In[p] is { Dynamic: false } e) Tokens[_edgeIndex[e]] -= a.Consumed(p, before + k) - a.Consumed(p, before);
        for (int p = 0; p < a.Out.Count; p++)
            if (a.Out[p] is { Dynamic: false } e)
            {
                int i = _edgeIndex[e];
                Tokens[i] += a.Produced(p, before + k) - a.Produced(p, before);
                Max[i] = Math.Max(Max[i], Tokens[i]);
            }
        _fired[a.Index] = before + k;
    }

    private StreamException Deadlock(long[] remaining, string phase)
    {
        var waits = new List<string>();
        var loops = new HashSet<string>();
        foreach (var a in g.Actors)
        {
            if (remaining[a.Index] == 0) continue;
            if (a.FeedbackLoop is { } l) loops.Add(l);
            for (int p = 0; p < a.In.Count; p++)
                if (a.In[p] is { Dynamic: false } e && Tokens[_edgeIndex[e]] < a.NeededForFiring(p, _fired[a.Index]))
                    waits.Add($"{a.Name} waits for {a.NeededForFiring(p, _fired[a.Index])} item(s) from {e.Src.Name} (has {Tokens[_edgeIndex[e]]})");
        }
        var where = loops.Count > 0 ? $" in feedback loop {string.Join(", ", loops)} (not enough items enqueued)" : "";
        return new StreamException($"deadlock{where}: {phase} cannot complete: {string.Join("; ", waits.Take(6))}");
    }
}
