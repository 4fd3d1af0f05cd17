namespace Loom.Streams.Scheduling;

/// <summary>
/// How often each actor fires before the steady state: enough that every filter's prework has run and
/// every edge holds the items its consumer peeks beyond what it pops. Found as the least fixpoint of
/// "the producer must have made what the consumer takes plus its extra peek"; a feedback loop whose
/// enqueued items cannot cover its body's appetite makes the counts grow without bound, which is caught
/// and reported naming the loop.
/// </summary>
internal static class InitPlanner
{
    public static long[] Plan(FlatGraph g, long[] rep)
    {
        int n = g.Actors.Count;
        var init = new long[n];
        foreach (var a in g.Actors) if (a.HasPrework) init[a.Index] = 1;
        int passes = 2 * n + 20;
        for (int pass = 0; ; pass++)
        {
            var changed = new List<Actor>();
            // Sinks first: what a consumer needs decides what its producer must make.
            for (int i = g.Edges.Count - 1; i >= 0; i--)
            {
                var e = g.Edges[i];
                if (e.Dynamic) continue; // filled on demand
                var v = e.Dst;
                long need = v.Consumed(e.DstPort, init[v.Index]) + v.ExtraPeek - e.Initial.Count;
                var u = e.Src;
                if (u.Produced(e.SrcPort, init[u.Index]) >= need) continue;
                long k = FiringsToProduce(u, e.SrcPort, need);
                if (k < 0) throw new StreamException($"deadlock: {v.Name} (in {v.Owner}) needs {need} item(s) from {u.Name} before the steady state, but {u.Name} never pushes on that edge");
                init[u.Index] = Math.Max(init[u.Index], k);
                changed.Add(u);
            }
            if (changed.Count == 0) return init;
            if (pass >= passes || changed.Any(a => init[a.Index] > 1_000_000 + 1000 * rep[a.Index]))
            {
                var loops = changed.Select(a => a.FeedbackLoop).Where(l => l is not null).Distinct().ToList();
                var who = loops.Count > 0 ? $"feedback loop {string.Join(", ", loops)}" : $"streams {string.Join(", ", changed.Select(a => a.Name).Distinct().Take(6))}";
                throw new StreamException($"deadlock: {who} cannot start: the items enqueued on the loop do not cover what its body peeks and pops before anything comes back around (enqueue more items)");
            }
        }
    }

    /// <summary>The fewest firings of <paramref name="u"/> that push at least <paramref name="need"/> items on a port, or −1 if none do.</summary>
    private static long FiringsToProduce(Actor u, int port, long need)
    {
        if (need <= 0) return 0;
        long push = u.Push[port];
        if (u.HasPrework)
        {
            long pre = u.Filter!.PrePush.Value;
            if (pre >= need) return 1;
            return push == 0 ? -1 : 1 + (need - pre + push - 1) / push;
        }
        return push == 0 ? -1 : (need + push - 1) / push;
    }
}
