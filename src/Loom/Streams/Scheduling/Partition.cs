namespace Loom.Streams.Scheduling;

/// <summary>
/// Actors placed on cores, with software-pipelining stages: an actor at stage s runs steady state t − s in
/// round t, so a consumer on another core always reads what its producer made in an earlier round, and the
/// rounds need only a barrier between them. A feedback loop stays on one core (its cycle cannot be
/// pipelined), and when several filters print they share a core and a stage so their lines keep their order.
/// </summary>
public sealed class Partition
{
    public required int Cores { get; init; }
    public required int[] Core { get; init; }
    public required int[] Stage { get; init; }
    public required double[] Work { get; init; }
    public int Stages => Stage.DefaultIfEmpty(0).Max() + 1;

    /// <summary>How the fused runtime uses the cores, and why (for --show partition and schedule); empty for the ring runtime.</summary>
    public string Mode { get; set; } = "";

    /// <summary>
    /// Unit alternation (every core runs the whole program for its own units): each actor's part, where the
    /// cores are not a cut of the graph; null for a cut.
    /// </summary>
    public string[]? Role { get; init; }

    /// <summary>The heaviest core over the mean when it is estimated rather than a sum over the cores (unit alternation).</summary>
    public double? Balance { get; init; }

    public double[] CoreWork()
    {
        var w = new double[Cores];
        for (int a = 0; a < Core.Length; a++) w[Core[a]] += Work[a];
        return w;
    }

    /// <summary>Heaviest core's work over the mean: 1.0 is a perfect balance.</summary>
    public double Imbalance()
    {
        if (Balance is { } b) return b;
        var w = CoreWork();
        double mean = w.Sum() / Cores;
        return mean <= 0 ? 1 : w.Max() / mean;
    }

    /// <summary>The printers and every actor both reachable from one printer and reaching another.</summary>
    private static List<int> Between(FlatGraph g, List<Actor> printers)
    {
        HashSet<int> Reach(bool forward)
        {
            var seen = new HashSet<int>(printers.Select(p => p.Index));
            var stack = new Stack<Actor>(printers);
            while (stack.Count > 0)
                foreach (var e in forward ? stack.Pop().Out : stack.Pop().In)
                    if (e is not null && seen.Add((forward ? e.Dst : e.Src).Index)) stack.Push(forward ? e.Dst : e.Src);
            return seen;
        }
        var down = Reach(true);
        down.IntersectWith(Reach(false));
        return [.. down.Order()];
    }

    /// <summary>Greedy longest-processing-time placement of units (actors, or the groups that must stay together).</summary>
    public static Partition Make(FlatGraph g, int cores, double[] work)
    {
        int n = g.Actors.Count;
        var unit = Enumerable.Range(0, n).ToArray();
        int Find(int a) => unit[a] == a ? a : unit[a] = Find(unit[a]);
        void Union(int a, int b) => unit[Find(a)] = Find(b);
        var byLoop = new Dictionary<string, int>();
        foreach (var a in g.Actors)
            if (a.FeedbackLoop is { } l)
            {
                if (byLoop.TryGetValue(l, out var first)) Union(a.Index, first);
                else byLoop[l] = a.Index;
            }
        // Nested loops: an actor names its innermost loop, so join every loop's group with its enclosing loop's.
        foreach (var a in g.Actors)
            if (a.Kind != ActorKind.Filter && a.FeedbackLoop is { } l && l != a.Owner && byLoop.TryGetValue(a.Owner, out var own))
                Union(own, byLoop[l]);
        var printers = g.Actors.Where(a => a.Filter is { Symbol.PrintsInWork: true }).ToList();
        // Several printers, and every actor on a path from one to another, form one group: the paths between
        // them then add no stage, and the group can run as one stage, keeping the sequential order of lines.
        var printerGroup = printers.Count > 1 ? Between(g, printers) : [];
        foreach (var a in printerGroup) Union(a, printers[0].Index);

        var unitWork = new Dictionary<int, double>();
        for (int a = 0; a < n; a++) unitWork[Find(a)] = unitWork.GetValueOrDefault(Find(a)) + work[a];
        var load = new double[cores];
        var unitCore = new Dictionary<int, int>();
        foreach (var (u, w) in unitWork.OrderByDescending(x => x.Value).ThenBy(x => x.Key))
        {
            int c = Array.IndexOf(load, load.Min());
            unitCore[u] = c;
            load[c] += w;
        }
        var core = Enumerable.Range(0, n).Select(a => unitCore[Find(a)]).ToArray();

        var stage = new int[n];
        int rounds = 0;
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var a in g.Actors)
                foreach (var e in a.In)
                    if (e is not null && e.Src.Index < a.Index)
                    {
                        int s = stage[e.Src.Index] + (core[e.Src.Index] != core[a.Index] ? 1 : 0);
                        if (s > stage[a.Index]) { stage[a.Index] = s; changed = true; }
                    }
            // The printer group shares a stage (the latest of its members) so its lines keep their order.
            if (printerGroup.Count > 0)
            {
                int s = printerGroup.Max(a => stage[a]);
                foreach (var a in printerGroup)
                    if (stage[a] != s) { stage[a] = s; changed = true; }
            }
            if (++rounds > 4 * n + 8) throw new StreamException("internal: pipeline stages did not settle");
        }
        return new Partition { Cores = cores, Core = core, Stage = stage, Work = work };
    }
}
