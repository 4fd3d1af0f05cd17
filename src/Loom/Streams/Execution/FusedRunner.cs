using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Runs a program one fused unit (m steady states) at a time over the buffers of a <see cref="FusedPlan"/>:
/// each filter's work is compiled once against its place in the arena (no ring masks, a dropped pop costs
/// nothing), splitters, joiners and Identity filters with virtual outputs cost nothing at all, and the
/// others copy by table. A unit is a fixed list of (code, first firing, count) steps and a few moves of
/// the items an edge keeps between units. Items enter from the rings after the initialization schedule and
/// go back to them afterwards, so the ring runtime can finish a run.
/// </summary>
public sealed class FusedRunner
{
    private readonly FlatGraph _g;
    private readonly FusedPlan _plan;
    private readonly (Action<int, int> Code, int First, int Count, Actor Actor)[] _steps;
    private readonly (Array Arena, int From, int To, int Length)[] _moves;

    public int SteadyStatesPerUnit => _plan.Units;

    private FusedRunner(FlatGraph g, FusedPlan plan, GlobalStore globals, Printer printer)
    {
        _g = g;
        _plan = plan;
        var code = new Action<int, int>?[g.Actors.Count];
        var fired = new int[g.Actors.Count];
        var steps = new List<(Action<int, int>, int, int, Actor)>();
        foreach (var f in plan.Steps)
        {
            var a = f.Actor;
            code[a.Index] ??= Compile(a, globals, printer);
            if (code[a.Index] is { } c) steps.Add((c, fired[a.Index], f.Count, a));
            fired[a.Index] += f.Count;
        }
        _steps = [.. steps];
        _moves = g.Edges.Select((e, i) => (e, i)).Where(x => !plan.IsVirtual(x.i) && plan.Carried[x.i] > 0)
            .Select(x => (Arena(x.e), plan.Base[x.i] + (int)plan.Flow[x.i], plan.Base[x.i], (int)plan.Carried[x.i])).ToArray();
    }

    public static FusedRunner? Make(FlatGraph g, Schedule s, GlobalStore globals, Printer printer)
    {
        // Items a steady state writes to buffers (a mover's outputs are mostly tables, read once or not at all).
        long flow = g.Edges.Where(e => !FusedPlan.IsMover(e.Src)).Sum(e => s.Repetitions[e.Src.Index] * e.Src.Push[e.SrcPort]);
        long moved = g.Edges.Where(e => FusedPlan.IsMover(e.Src)).Sum(e => s.Repetitions[e.Src.Index] * e.Src.Push[e.SrcPort]);
        // A unit of several steady states amortises the steps, while its buffers stay small enough for the cache.
        // Several printers keep one steady state per unit: their lines interleave as the steady schedule orders them.
        int units = 1;
        if (s.Scale > 1)
            while (units < 64 && (flow + moved / 4) * units * 2 <= 1 << 14) units *= 2;
        var plan = FusedPlan.Make(g, s, units);
        return plan is null ? null : new FusedRunner(g, plan, globals, printer);
    }

    private Array Arena(Edge e) => _plan.Arenas[ClrTypes.Of(e.Type)];

    private int EdgeIndex(Edge e) => _g.Edges.IndexOf(e);

    private Action<int, int>? Compile(Actor a, GlobalStore globals, Printer printer)
    {
        if (FusedPlan.IsMover(a))
        {
            // Only outputs that keep items between units need copies; the others are read where the items are.
            var copies = new List<Action<int, int>>();
            for (int o = 0; o < a.Out.Count; o++)
            {
                if (a.Out[o] is not { } e) continue;
                int i = EdgeIndex(e);
                if (_plan.IsVirtual(i)) continue;
                var src = _plan.Sources(e, _g.Edges.Select((x, k) => (x, k)).ToDictionary(x => x.x, x => x.k));
                var m = typeof(FusedRunner).GetMethod(nameof(Copier), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(ClrTypes.Of(e.Type));
                copies.Add((Action<int, int>)m.Invoke(null, [Arena(e), src, _plan.Base[i] + (int)_plan.Carried[i], a.Push[o]])!);
            }
            if (copies.Count == 0) return null;
            return (first, n) => { foreach (var c in copies) c(first, n); };
        }
        var f = a.Filter!;
        FusedPort? input = null, output = null;
        if (a.In.Count > 0 && a.In[0] is { } ie)
        {
            int i = EdgeIndex(ie);
            var arena = Arena(ie);
            if (_plan.Map[i] is not { } map) input = new FusedPort(arena, _plan.Base[i], a.Pop[0], null);
            else if (InARow(map)) input = new FusedPort(arena, map.Length > 0 ? map[0] : 0, a.Pop[0], null);
            else input = new FusedPort(arena, 0, a.Pop[0], map);
        }
        if (a.Out.Count > 0 && a.Out[0] is { } oe)
        {
            int i = EdgeIndex(oe);
            output = new FusedPort(Arena(oe), _plan.Base[i] + (int)_plan.Carried[i], a.Push[0], null);
        }
        return CodeGen.CodeGen.CompileFusedWork(f.Symbol, f.Symbol.Work!, f.Args, f.Fields, input, output, globals, printer);
    }

    private static bool InARow(int[] map)
    {
        for (int p = 1; p < map.Length; p++)
            if (map[p] != map[0] + p) return false;
        return true;
    }

    private static Action<int, int> Copier<T>(T[] arena, int[] src, int dst, int perFiring) => (first, n) =>
    {
        int hi = (first + n) * perFiring;
        for (int p = first * perFiring; p < hi; p++) arena[dst + p] = arena[src[p]];
    };

    /// <summary>Runs <paramref name="units"/> units (fewer if the printer stops the run by throwing).</summary>
    public void Run(long units)
    {
        var steps = _steps;
        var moves = _moves;
        int s = 0;
        try
        {
            for (long u = 0; u < units; u++)
            {
                for (s = 0; s < steps.Length; s++) steps[s].Code(steps[s].First, steps[s].Count);
                foreach (var (arena, from, to, length) in moves) Array.Copy(arena, from, arena, to, length);
            }
        }
        catch (Exception e) when (e is not (LoomException or StopRunException))
        {
            throw new StreamException($"filter {steps[s].Actor.Name} failed while running: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Moves the items on each edge from its ring into the fused buffers (after the initialization schedule).</summary>
    public void LoadFromRings()
    {
        for (int i = 0; i < _g.Edges.Count; i++)
        {
            var ch = _g.Edges[i].Channel!;
            if (ch.Count != _plan.Carried[i])
                throw new StreamException($"internal: edge {_g.Edges[i]} holds {ch.Count} items, the fused schedule expects {_plan.Carried[i]}");
            for (int j = 0; j < ch.Count; j++) Array.Copy(ch.Items, (ch.Head + j) & ch.Mask, Arena(_g.Edges[i]), _plan.Base[i] + j, 1);
        }
    }

    /// <summary>Moves the items kept between units back into the rings, so the ring runtime can go on.</summary>
    public void StoreToRings()
    {
        for (int i = 0; i < _g.Edges.Count; i++)
        {
            var ch = _g.Edges[i].Channel!;
            ch.Head = ch.Tail = 0;
            for (int j = 0; j < _plan.Carried[i]; j++) Array.Copy(Arena(_g.Edges[i]), _plan.Base[i] + j, ch.Items, ch.Tail++ & ch.Mask, 1);
        }
    }
}
