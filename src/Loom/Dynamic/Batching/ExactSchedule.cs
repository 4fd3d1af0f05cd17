namespace Loom.Dynamic.Batching;

/// <summary>What <see cref="ExactSchedule.Solve"/> found: the optimum when proved, else the best schedule and a proven bound.</summary>
internal sealed record ScheduleBounds(int TypeWise, int LowerBound, int UpperBound, long States)
{
    public bool Exact => LowerBound == UpperBound;
}

/// <summary>
/// The fewest batches any schedule needs (an offline tool, not a policy). A schedule is a sequence of types, each step
/// running every ready node of its type; running all of them is never worse than running a subset, so these
/// sequences contain an optimum. The search is A* over executed-node sets, with the type-wise bound of what remains as
/// its admissible heuristic; when it runs out of states the smallest f still open is a proven lower bound.
/// Three exact reductions keep it small (docs/batching.md proves them):
/// <list type="bullet">
/// <item>Peeling: types whose nodes all lack inputs (lookups) run first, types whose nodes all lack consumers
/// (the loss sum, then the losses) run last, one step each; what is left is solved on its own.</item>
/// <item>Independent inputs: the rest splits into connected components whose greedy runs do not interact, so a
/// state is a tuple of interned per-component states.</item>
/// <item>Forced steps: if every remaining node of type t that is not ready has an unexecuted t-node above it (in
/// every component), running t now is as good as any other step, and it is the only one expanded.</item>
/// </list>
/// </summary>
internal static class ExactSchedule
{
    public static ScheduleBounds Solve(BatchProblem p, long maxStates = 2_000_000, int beamWidth = 20)
    {
        int peeled = 0;
        while (true)
        {
            var (count, rest) = Peel(p);
            if (count == 0) break;
            peeled += count;
            p = rest;
        }
        if (p.NodeCount == 0) return new ScheduleBounds(peeled, peeled, peeled, 0);
        var search = new ProductSearch(p);
        int upper = search.Beam(beamWidth);
        var (lower, states) = search.AStar(upper, maxStates);
        return new ScheduleBounds(p.TypeWiseBound() + peeled, lower + peeled, upper + peeled, states);
    }

    /// <summary>
    /// Types whose nodes all lack inputs, else types whose nodes all lack consumers: each is one step (first or
    /// last), and removing them leaves an independent problem. Returns (types peeled, the rest).
    /// </summary>
    internal static (int Peeled, BatchProblem Remainder) Peel(BatchProblem p)
    {
        var hasInput = new bool[p.TypeCount];
        var hasConsumer = new bool[p.TypeCount];
        var present = new bool[p.TypeCount];
        for (int n = 0; n < p.NodeCount; n++)
        {
            present[p.Types[n]] = true;
            if (p.Inputs[n].Length > 0) hasInput[p.Types[n]] = true;
            foreach (int x in p.Inputs[n]) hasConsumer[p.Types[x]] = true;
        }
        var drop = new bool[p.TypeCount];
        int count = 0;
        for (int t = 0; t < p.TypeCount; t++) if (present[t] && !hasInput[t]) { drop[t] = true; count++; }
        if (count == 0)
            for (int t = 0; t < p.TypeCount; t++) if (present[t] && !hasConsumer[t]) { drop[t] = true; count++; }
        if (count == 0) return (0, p);
        return (count, Restrict(p, n => !drop[p.Types[n]]));
    }

    /// <summary>The sub-problem on the kept nodes, inputs from dropped nodes removed, types renumbered densely.</summary>
    internal static BatchProblem Restrict(BatchProblem p, Func<int, bool> keep)
    {
        var map = new int[p.NodeCount];
        var typeMap = new Dictionary<int, int>();
        var types = new List<int>();
        var inputs = new List<int[]>();
        for (int n = 0; n < p.NodeCount; n++)
        {
            if (!keep(n)) { map[n] = -1; continue; }
            map[n] = types.Count;
            if (!typeMap.TryGetValue(p.Types[n], out int t)) typeMap[p.Types[n]] = t = typeMap.Count;
            types.Add(t);
            inputs.Add(p.Inputs[n].Where(x => map[x] >= 0).Select(x => map[x]).ToArray());
        }
        return new BatchProblem([.. types], [.. inputs]);
    }
}
