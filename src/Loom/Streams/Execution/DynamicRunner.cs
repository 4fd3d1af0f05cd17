using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Runs a program whose graph static scheduling cannot cover whole: dynamic-rate edges (and, for teleport
/// messages, every edge) are growable queues that split the flat graph into regions, each connected by static
/// edges only and statically scheduled on its own (<see cref="Schedule"/> normalises each region separately).
/// Execution is demand-driven: the sink regions run their steady states; a pop or peek on an empty queue pulls
/// the producer's region for one more steady state (its initialization schedule first). A pull that needs the
/// region already running (a cycle through queues without enough items on it) is a deadlock, reported naming it.
/// </summary>
public sealed class DynamicRunner
{
    private sealed class Region(string name, (ActorCode Code, int Count)[] init, (ActorCode Code, int Count)[] steady)
    {
        public string Name { get; } = name;
        private bool _initDone, _busy;
        private readonly Dictionary<Actor, long> _fired = [];

        /// <summary>
        /// Fires an actor n times, first pulling into its queues everything those firings pop and peek (when its
        /// input rates are static): so every firing it depends on has happened before it starts, which is what a
        /// downstream teleport message's timing needs (its sender must not fire in the middle of its receiver's firing).
        /// </summary>
        private void Fire(ActorCode c, int n)
        {
            var a = c.Actor;
            long f = _fired.GetValueOrDefault(a);
            if (!a.DynamicIn)
                for (int p = 0; p < a.In.Count; p++)
                    if (a.In[p] is { Dynamic: true } e)
                        ((DynamicChannel)e.Channel!).Fill(a.Consumed(p, f + n - 1) - a.Consumed(p, f) + a.NeededForFiring(p, f + n - 1));
            c.Fire(n);
            _fired[a] = f + n;
        }

        public void Init()
        {
            if (_initDone) return;
            Enter();
            try
            {
                _initDone = true;
                foreach (var (c, n) in init) Fire(c, n);
            }
            finally { _busy = false; }
        }

        /// <summary>One steady state (or, the first time, the initialization schedule when there is one).</summary>
        public void Step()
        {
            if (!_initDone && init.Length > 0) { Init(); return; }
            _initDone = true;
            Enter();
            try { foreach (var (c, n) in steady) Fire(c, n); }
            finally { _busy = false; }
        }

        private void Enter()
        {
            if (_busy)
                throw new StreamException($"deadlock: {Name} needs items that only its own later firings make (a cycle through dynamic-rate queues, or a feedback loop without enough enqueued items for demand-driven running)");
            _busy = true;
        }
    }

    private readonly Region[] _sinks;
    private readonly int[] _stepsPerIteration;

    /// <summary>
    /// The regions of <paramref name="g"/> (components over static edges; <paramref name="s"/> is their schedule)
    /// wired to their queues. <paramref name="sinkSteps"/> gives, for a sink region's actors, how many of its
    /// steady states make one iteration of the program (1 when null).
    /// </summary>
    public DynamicRunner(FlatGraph g, Schedule s, ActorCode[] code, Func<IReadOnlyList<Actor>, int>? sinkSteps = null, Func<int, bool>? include = null)
    {
        var region = RegionsOf(g);
        int count = region.Length == 0 ? 0 : region.Max() + 1;
        // A runner may own only some regions (the others run on another thread): queues between its regions and
        // the others are the caller's to feed or drain, and a region whose only outgoing queue leaves is a sink here.
        include ??= _ => true;
        var members = Enumerable.Range(0, count).Select(r => g.Actors.Where(a => region[a.Index] == r).ToList()).ToArray();
        var regions = members.Select(m => new Region(Describe(m),
            s.Init.Where(f => m.Contains(f.Actor)).Select(f => (code[f.Actor.Index], f.Count)).ToArray(),
            s.Steady.Where(f => m.Contains(f.Actor)).Select(f => (code[f.Actor.Index], f.Count)).ToArray())).ToArray();
        var hasOut = new bool[count];
        foreach (var e in g.Edges)
        {
            if (!e.Dynamic || !include(region[e.Src.Index]) || !include(region[e.Dst.Index])) continue;
            hasOut[region[e.Src.Index]] = true;
            var q = (DynamicChannel)e.Channel!;
            q.Pull = regions[region[e.Src.Index]].Step;
        }
        var sinks = Enumerable.Range(0, count).Where(r => include(r) && !hasOut[r]).ToArray();
        _sinks = sinks.Select(r => regions[r]).ToArray();
        _stepsPerIteration = sinks.Select(r => sinkSteps?.Invoke(members[r]) ?? 1).ToArray();
    }

    private static string Describe(List<Actor> m)
    {
        var name = m.Count == 1 ? m[0].Name : $"the region of {string.Join(", ", m.Take(4).Select(a => a.Name))}{(m.Count > 4 ? ", …" : "")}";
        var loops = m.Select(a => a.FeedbackLoop).Where(l => l is not null).Distinct().ToList();
        return loops.Count > 0 ? $"{name} (in feedback loop {string.Join(", ", loops)})" : name;
    }

    /// <summary>Each actor's region: the connected components of the graph without its dynamic edges.</summary>
    public static int[] RegionsOf(FlatGraph g)
    {
        var parent = Enumerable.Range(0, g.Actors.Count).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        foreach (var e in g.Edges)
            if (!e.Dynamic) parent[Find(e.Src.Index)] = Find(e.Dst.Index);
        var id = new Dictionary<int, int>();
        var result = new int[g.Actors.Count];
        for (int a = 0; a < result.Length; a++)
        {
            int root = Find(a);
            if (!id.TryGetValue(root, out int r)) id[root] = r = id.Count;
            result[a] = r;
        }
        return result;
    }

    /// <summary>Whether the regions, joined by the dynamic edges, form a graph without cycles (self-loops count as cycles).</summary>
    public static bool RegionsAcyclic(FlatGraph g)
    {
        var region = RegionsOf(g);
        int n = region.Length == 0 ? 0 : region.Max() + 1;
        var succ = Enumerable.Range(0, n).Select(_ => new HashSet<int>()).ToArray();
        foreach (var e in g.Edges)
            if (e.Dynamic)
            {
                if (region[e.Src.Index] == region[e.Dst.Index]) return false;
                succ[region[e.Src.Index]].Add(region[e.Dst.Index]);
            }
        var indeg = new int[n];
        foreach (var s in succ) foreach (var t in s) indeg[t]++;
        var ready = new Queue<int>(Enumerable.Range(0, n).Where(r => indeg[r] == 0));
        int seen = 0;
        while (ready.Count > 0)
        {
            int r = ready.Dequeue();
            seen++;
            foreach (var t in succ[r]) if (--indeg[t] == 0) ready.Enqueue(t);
        }
        return seen == n;
    }

    /// <summary>Runs <paramref name="iterations"/> iterations (each sink region's steady states for one); returns those completed.</summary>
    public long Run(long iterations, Action? afterIteration = null)
    {
        foreach (var r in _sinks) r.Init();
        long done = 0;
        for (; done < iterations; done++)
        {
            for (int i = 0; i < _sinks.Length; i++)
                for (int k = 0; k < _stepsPerIteration[i]; k++) _sinks[i].Step();
            afterIteration?.Invoke();
        }
        return done;
    }
}
