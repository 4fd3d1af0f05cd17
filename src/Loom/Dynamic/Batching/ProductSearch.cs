namespace Loom.Dynamic.Batching;

/// <summary>
/// Search over tuples of per-component states (<see cref="ComponentStates"/>): a beam search for an upper bound and
/// A* for the optimum or a proven lower bound. h = Σ_t max over components of the remaining type-wise bound of t.
/// </summary>
internal sealed class ProductSearch
{
    private readonly ComponentStates[] _comps;
    private readonly int _types;
    private readonly Dictionary<int[], int> _ids = new(new TupleComparer());
    private readonly List<int[]> _tuples = [];
    private readonly List<int> _g = [];

    public ProductSearch(BatchProblem p)
    {
        _types = p.TypeCount;
        var comps = p.Components(out _);
        _comps = comps.Select(nodes =>
        {
            var local = new Dictionary<int, int>();
            for (int i = 0; i < nodes.Length; i++) local[nodes[i]] = i;
            return new ComponentStates(new BatchProblem(nodes.Select(n => p.Types[n]).ToArray(),
                nodes.Select(n => p.Inputs[n].Select(x => local[x]).ToArray()).ToArray()), _types);
        }).ToArray();
    }

    private int[] Initial => _comps.Select(c => c.Initial).ToArray();

    public int H(int[] s)
    {
        int h = 0;
        for (int t = 0; t < _types; t++)
        {
            int m = 0;
            for (int c = 0; c < s.Length; c++) m = Math.Max(m, _comps[c].Remaining[s[c]][t]);
            h += m;
        }
        return h;
    }

    private int Left(int[] s)
    {
        int l = 0;
        for (int c = 0; c < s.Length; c++) l += _comps[c].Left[s[c]];
        return l;
    }

    /// <summary>The steps worth trying from <paramref name="s"/>: a forced one alone, else every type with a ready node.</summary>
    private ulong Actions(int[] s)
    {
        ulong ready = 0, forced = ~0UL;
        for (int c = 0; c < s.Length; c++) { ready |= _comps[c].Ready[s[c]]; forced &= _comps[c].Forced[s[c]]; }
        forced &= ready;
        return forced != 0 ? forced & (ulong)-(long)forced : ready;
    }

    private int[] Step(int[] s, int t)
    {
        var r = new int[s.Length];
        for (int c = 0; c < s.Length; c++) r[c] = _comps[c].Next(s[c], t);
        return r;
    }

    public int Beam(int width) => BeamSchedule(width).Count;

    /// <summary>The best schedule a beam of <paramref name="width"/> finds (ranked by h, then nodes left).</summary>
    public List<int> BeamSchedule(int width)
    {
        var layer = new List<(int[] S, Trail? Path)> { (Initial, null) };
        while (true)
        {
            var seen = new HashSet<int[]>(new TupleComparer());
            var next = new List<(int H, int Left, int[] S, Trail Path)>();
            foreach (var (s, path) in layer)
            {
                if (Left(s) == 0) return Trail.ToList(path);
                ulong acts = Actions(s);
                for (int t = 0; t < _types; t++)
                    if ((acts >> t & 1) != 0)
                    {
                        var c = Step(s, t);
                        if (seen.Add(c)) next.Add((H(c), Left(c), c, new Trail(t, path)));
                    }
            }
            next.Sort((a, b) => a.H != b.H ? a.H.CompareTo(b.H) : a.Left.CompareTo(b.Left));
            layer = next.Take(width).Select(x => (x.S, (Trail?)x.Path)).ToList();
        }
    }

    private sealed record Trail(int Type, Trail? Before)
    {
        public static List<int> ToList(Trail? t)
        {
            var l = new List<int>();
            for (; t is not null; t = t.Before) l.Add(t.Type);
            l.Reverse();
            return l;
        }
    }

    /// <summary>
    /// A* from the start, pruning at <paramref name="upper"/> (a known schedule's length). Returns the optimum, or,
    /// after <paramref name="maxStates"/> expansions, the smallest f still open and the given upper bound (a lower bound: some open state lies
    /// on an optimal path with its optimal g, and h never overestimates).
    /// </summary>
    public (int Lower, int Upper, long Expanded) AStar(int upper, long maxStates)
    {
        var open = new PriorityQueue<int, long>();
        int Id(int[] s, int g)
        {
            if (_ids.TryGetValue(s, out int id))
            {
                if (_g[id] <= g) return -1;
                _g[id] = g;
                return id;
            }
            id = _tuples.Count;
            _ids.Add(s, id);
            _tuples.Add(s);
            _g.Add(g);
            return id;
        }
        long Key(int f, int g) => (long)f << 20 | (uint)((1 << 20) - 1 - g);
        var s0 = Initial;
        open.Enqueue(Id(s0, 0), Key(H(s0), 0));
        long expanded = 0;
        while (open.TryDequeue(out int id, out long key))
        {
            int f = (int)(key >> 20), g = (1 << 20) - 1 - (int)(key & ((1 << 20) - 1));
            if (g != _g[id]) continue;  // a stale entry: reached again with a smaller g
            if (f >= upper) return (upper, upper, expanded);
            var s = _tuples[id];
            if (Left(s) == 0) return (g, g, expanded);
            if (++expanded > maxStates) return (f, upper, expanded);
            ulong acts = Actions(s);
            for (int t = 0; t < _types; t++)
            {
                if ((acts >> t & 1) == 0) continue;
                var c = Step(s, t);
                int fc = g + 1 + H(c);
                if (fc >= upper) continue;
                int cid = Id(c, g + 1);
                if (cid >= 0) open.Enqueue(cid, Key(fc, g + 1));
            }
        }
        return (upper, upper, expanded);
    }

    /// <summary>
    /// Depth-first search for a schedule of at most <paramref name="bound"/> steps, children best h first, states
    /// reached before at no greater depth skipped (they failed there). Returns its length, or −1 when none was found
    /// within <paramref name="maxStates"/> expansions (not a proof that none exists, unless the search finished).
    /// </summary>
    public (int Steps, bool Finished) Dfs(int bound, long maxStates)
    {
        var seen = new Dictionary<int[], int>(new TupleComparer());
        long expanded = 0;
        int Go(int[] s, int g)
        {
            if (Left(s) == 0) return g;
            if (g + H(s) > bound || ++expanded > maxStates) return -1;
            if (seen.TryGetValue(s, out int old) && old <= g) return -1;
            seen[s] = g;
            ulong acts = Actions(s);
            var kids = new List<(int H, int Left, int[] S)>();
            for (int t = 0; t < _types; t++)
                if ((acts >> t & 1) != 0) { var c = Step(s, t); kids.Add((H(c), Left(c), c)); }
            kids.Sort((a, b) => a.H != b.H ? a.H.CompareTo(b.H) : a.Left.CompareTo(b.Left));
            foreach (var k in kids)
            {
                int r = Go(k.S, g + 1);
                if (r >= 0) return r;
            }
            return -1;
        }
        int steps = Go(Initial, 0);
        return (steps, expanded <= maxStates);
    }

    private sealed class TupleComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(int[] s)
        {
            var h = new HashCode();
            foreach (int v in s) h.Add(v);
            return h.ToHashCode();
        }
    }
}
