namespace Loom.Dynamic.Batching;

/// <summary>What <see cref="ExactSchedule.Solve"/> found: the optimum when proved, else the best schedule and a proven bound.</summary>
internal sealed record ScheduleBounds(int TypeWise, int LowerBound, int UpperBound, long States, string LowerFrom = "A*")
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
    /// <summary>Peels off, while there are any, the batches every schedule starts or ends with (<see cref="Peel"/>); returns how many.</summary>
    private static int PeelAll(ref BatchProblem p)
    {
        int peeled = 0;
        for (var (count, rest) = Peel(p); count > 0; (count, rest) = Peel(p))
        {
            peeled += count;
            p = rest;
        }
        return peeled;
    }

    public static ScheduleBounds Solve(BatchProblem p, long maxStates = 2_000_000, int beamWidth = 20, bool relax = true)
    {
        int peeled = PeelAll(ref p);
        if (p.NodeCount == 0) return new ScheduleBounds(peeled, peeled, peeled, 0);
        var search = new ProductSearch(p);
        int upper = search.Beam(beamWidth);
        // A schedule within 5% of the type-wise bound is what the FSM is asked for: look for one depth first.
        int target = (int)Math.Floor((p.TypeWiseBound() + peeled) * 1.05) - peeled;
        if (upper > target && search.Dfs(target, maxStates).Steps is int found and >= 0) upper = found;
        (int lower, upper, long states) = search.AStar(upper, maxStates);
        string from = "A*";
        // Not proved optimal: try the relaxations in which one type is free (solved exactly or bounded the same way), plus that type's own chain.
        if (lower < upper && relax && p.TypeCount > 1)
            for (int t = 0; t < p.TypeCount; t++)
            {
                var rest = Solve(Contract(p, u => u != t), maxStates, beamWidth, relax: false);
                int own = Contract(p, u => u == t).TypeWiseBound();
                if (rest.LowerBound + own > lower) { lower = rest.LowerBound + own; from = $"type {t} free: {rest.LowerBound}{(rest.Exact ? "" : "+")} + {own}"; }
            }
        return new ScheduleBounds(p.TypeWiseBound() + peeled, lower + peeled, upper + peeled, states, from);
    }

    /// <summary>
    /// The best schedule a beam of <paramref name="width"/> finds for the inputs' middle part (after peeling), as
    /// the graph's signature ids: a demonstration for <see cref="FsmPolicy"/>. Peeled types are left to the caller.
    /// </summary>
    public static List<int> BeamSchedule(BatchProblem p, int width)
    {
        while (Peel(p) is (> 0, var rest)) p = rest;
        if (p.NodeCount == 0) return [];
        return new ProductSearch(p).BeamSchedule(width).Select(t => p.Origin[t]).ToList();
    }

    /// <summary>
    /// A lower bound from a few inputs alone (any schedule of all inputs schedules any subset of them): grows a subset
    /// greedily, one input at a time, by whichever raises the subset's proven lower bound most, and returns the best
    /// bound met with the subset's inputs (component indices after peeling).
    /// </summary>
    public static (int Lower, int[] Subset) SubsetBound(BatchProblem p, int maxComponents, long maxStates, TextWriter? log = null, int[]? start = null)
    {
        int peeled = PeelAll(ref p);
        var comps = p.Components(out var of);
        var chosen = new List<int>(start ?? []);
        int best = 0;
        if (chosen.Count > 0)
        {
            var r = Solve(Restrict(p, n => chosen.Contains(of[n])), maxStates, 20, relax: false);
            best = r.LowerBound;
            log?.WriteLine($"  inputs {string.Join(",", chosen)}: ≥ {r.LowerBound + peeled}, best schedule {r.UpperBound + peeled}, {r.States} states");
        }
        while (chosen.Count < Math.Min(maxComponents, comps.Count))
        {
            int pick = -1, pickLower = -1, pickUpper = int.MaxValue;
            for (int c = 0; c < comps.Count; c++)
            {
                if (chosen.Contains(c)) continue;
                var sub = Restrict(p, n => of[n] == c || chosen.Contains(of[n]));
                var r = Solve(sub, maxStates, 10, relax: false);
                // Rank by proven bound, then by best schedule found (a hint of what more states would prove).
                if (r.LowerBound > pickLower || (r.LowerBound == pickLower && r.UpperBound > pickUpper)) { pick = c; pickLower = r.LowerBound; pickUpper = r.UpperBound; }
            }
            chosen.Add(pick);
            best = Math.Max(best, pickLower);
            log?.WriteLine($"  subset of {chosen.Count}: + input {pick}: ≥ {pickLower + peeled} (best schedule of the subset {pickUpper + peeled})");
        }
        return (best + peeled, [.. chosen]);
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

    /// <summary>
    /// The relaxation in which only <paramref name="keep"/>'s types cost a step: nodes of other types run for free as
    /// soon as they are ready, i.e. they are contracted (their consumers take their inputs). Any schedule of the full
    /// problem, its other steps deleted, schedules this one, so this optimum plus a lower bound for the other types'
    /// steps bounds the full problem from below.
    /// </summary>
    internal static BatchProblem Contract(BatchProblem p, Func<int, bool> keepType)
    {
        var through = new int[p.NodeCount][];
        var inputs = new int[p.NodeCount][];
        for (int n = 0; n < p.NodeCount; n++)
        {
            var set = new HashSet<int>();
            foreach (int x in p.Inputs[n])
                if (keepType(p.Types[x])) set.Add(x);
                else set.UnionWith(through[x]);
            through[n] = [.. set];
            inputs[n] = through[n];
        }
        var kept = new BatchProblem(p.Types, inputs, p.Origin);
        return Restrict(kept, n => keepType(p.Types[n]));
    }

    /// <summary>The sub-problem on the kept nodes, inputs from dropped nodes removed, types renumbered densely.</summary>
    internal static BatchProblem Restrict(BatchProblem p, Func<int, bool> keep)
    {
        var map = new int[p.NodeCount];
        var typeMap = new Dictionary<int, int>();
        var origin = new List<int>();
        var types = new List<int>();
        var inputs = new List<int[]>();
        for (int n = 0; n < p.NodeCount; n++)
        {
            if (!keep(n)) { map[n] = -1; continue; }
            map[n] = types.Count;
            if (!typeMap.TryGetValue(p.Types[n], out int t)) { typeMap[p.Types[n]] = t = typeMap.Count; origin.Add(p.Origin[p.Types[n]]); }
            types.Add(t);
            inputs.Add(p.Inputs[n].Where(x => map[x] >= 0).Select(x => map[x]).ToArray());
        }
        return new BatchProblem([.. types], [.. inputs], [.. origin]);
    }
}
