using System.Linq.Expressions;
using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Runs a program one fused unit (m steady states) at a time over the buffers of a <see cref="FusedPlan"/>.
/// The unit's steps are compiled into one method (or a few, when large) with every firing offset and count a
/// constant: filters read and write their places in the arena (no ring masks), splitters, joiners and Identity
/// filters with virtual outputs cost nothing, the others copy by table, and a chain of filters fired once per
/// unit shares one loop. After the unit, the items an edge keeps are moved to its front. Items enter from the
/// rings after the initialization schedule and go back to them afterwards, so the ring runtime can finish a run.
/// </summary>
public sealed class FusedRunner
{
    private readonly FlatGraph _g;
    private readonly FusedPlan _plan;
    private readonly Action[] _chunks;
    private readonly Actor[] _stepActors;
    // The step running now, for naming the filter when one fails (a store per step, not per item).
    private readonly System.Runtime.CompilerServices.StrongBox<int> _current = new();
    // The arena copy this runner's code works in now, one box per item type: the compiled steps read the box
    // once per step, so on several cores each unit can run in its own copy of the buffers.
    private readonly Dictionary<Type, System.Runtime.CompilerServices.IStrongBox> _boxes;
    // Per arena copy r: the moves at the end of a unit run in copy r (items an edge keeps go to the front of copy r+1).
    private readonly (Array From, Array To, int FromIndex, int ToIndex, int Length)[][] _moves;
    private readonly Dictionary<Edge, int> _edgeIndex;

    public int SteadyStatesPerUnit => _plan.Units;

    /// <summary>Whether a unit runs any code or moves any items (a runner restricted to no actor's steps does neither).</summary>
    internal bool HasSteps => _chunks.Length > 0 || _moves[0].Length > 0;

    /// <summary>
    /// Locals and expression nodes per compiled method, at most. One method per unit spares the calls and lets
    /// the processor overlap the filters' work, but the JIT's code gets much worse past some size (BeamFormer ran
    /// 3× slower in methods of 256 locals); 48 locals was best on the shared programs (LOOM_STREAM_LOCALS overrides).
    /// </summary>
    private static readonly int MaxLocals = int.TryParse(Environment.GetEnvironmentVariable("LOOM_STREAM_LOCALS"), out int l) ? l : 48;
    private const int MaxNodes = 4000;

    private sealed class NodeCounter : ExpressionVisitor
    {
        public int Count;

        public override Expression? Visit(Expression? node)
        {
            Count++;
            return base.Visit(node);
        }
    }

    /// <summary>
    /// The code of the actors <paramref name="mine"/> selects (all when null): on several cores each core runs
    /// the steps of its own actors, in the unit's order, and moves the items kept on the edges its actors write.
    /// </summary>
    internal FusedRunner(FlatGraph g, FusedPlan plan, GlobalStore globals, Printer printer, Func<Actor, bool>? mine = null)
    {
        _g = g;
        _plan = plan;
        mine ??= _ => true;
        _edgeIndex = g.Edges.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i);
        _globals = globals;
        _printer = printer;
        _boxes = plan.Arenas.ToDictionary(kv => kv.Key, kv => (System.Runtime.CompilerServices.IStrongBox)Activator.CreateInstance(
            typeof(System.Runtime.CompilerServices.StrongBox<>).MakeGenericType(kv.Value.GetType()), kv.Value)!);
        var fired = new int[g.Actors.Count];
        var chunks = new List<Action>();
        var actors = new List<Actor>();
        var locals = new List<ParameterExpression>();
        var prologue = new List<Expression>();
        var body = new List<Expression>();
        int nodes = 0;
        var current = Expression.Field(Expression.Constant(_current), "Value");
        void Flush()
        {
            if (body.Count == 0) return;
            var block = Expression.Block(locals, [.. prologue, .. body, Expression.Empty()]);
            chunks.Add(Expression.Lambda<Action>(ConstantHoister.Hoist(block), $"fused_{chunks.Count}", []).Compile());
            locals.Clear();
            prologue.Clear();
            nodes = 0;
            body.Clear();
        }
        void Add(Actor a, (List<ParameterExpression> Locals, List<Expression> Prologue, Expression Body) step)
        {
            var counter = new NodeCounter();
            counter.Visit(step.Body);
            if (locals.Count + step.Locals.Count > MaxLocals || nodes + counter.Count > MaxNodes) Flush();
            nodes += counter.Count;
            locals.AddRange(step.Locals);
            prologue.AddRange(step.Prologue);
            body.Add(Expression.Assign(current, Expression.Constant(actors.Count)));
            body.Add(step.Body);
            actors.Add(a);
        }
        var stepsOf = plan.Steps.GroupBy(f => f.Actor).ToDictionary(x => x.Key, x => x.Count());
        var group = new List<Firing>();
        void EndGroup()
        {
            if (group.Count == 1) Add(group[0].Actor, Step(group[0].Actor, 0, group[0].Count, globals, printer)!.Value);
            else if (group.Count > 1) Add(group[0].Actor, Interleave(group, globals, printer));
            group.Clear();
        }
        foreach (var f in plan.Steps)
        {
            var a = f.Actor;
            if (!mine(a))
            {
                fired[a.Index] += f.Count;
                continue;
            }
            if (stepsOf[a] == 1 && !FusedPlan.IsMover(a) && a.Filter!.Recurrence is null)
            {
                if (group.Count > 0 && !Chains(group, f)) EndGroup();
                group.Add(f);
                fired[a.Index] += f.Count;
                continue;
            }
            var step = Step(a, fired[a.Index], f.Count, globals, printer);
            fired[a.Index] += f.Count;
            if (step is null) continue;
            EndGroup();
            Add(a, step.Value);
        }
        EndGroup();
        Flush();
        _chunks = [.. chunks];
        _stepActors = [.. actors];
        var kept = g.Edges.Select((e, i) => (e, i)).Where(x => !plan.IsVirtual(x.i) && plan.Carried[x.i] > 0 && mine(x.e.Src)).ToArray();
        int copies = plan.Sets.Length;
        _moves = Enumerable.Range(0, copies).Select(r => kept.Select(x => (plan.Sets[r][ClrTypes.Of(x.e.Type)], plan.Sets[(r + 1) % copies][ClrTypes.Of(x.e.Type)],
            plan.Base[x.i] + (int)plan.Flow[x.i], plan.Base[x.i], (int)plan.Carried[x.i])).ToArray()).ToArray();
    }

    /// <summary>
    /// Steady states per unit: a power of two (up to 1024) while the unit's buffers stay small enough for the cache,
    /// counted from a one-steady-state plan: items written to real buffers, and a quarter of the items of tables
    /// (a virtual edge costs a table entry per item, read once; none when its items lie in a row). Several printers keep one steady state per unit
    /// unless the unit can play the printers' tail one steady state at a time (<see cref="PrintOrder"/>), at most 64 tail steps in all. Long units amortise each unit's calls and, on
    /// several cores, the hand-over between cores (SimplePeek's units of 64 steady states were 0.3 us of work).
    /// </summary>
    internal static int UnitsFor(FlatGraph g, Schedule s)
    {
        int units = 1;
        bool severalPrinters = g.Actors.Count(a => a.Filter is { Symbol.PrintsInWork: true }) > 1;
        bool[]? tail = severalPrinters ? PrintOrder.Tail(g, s) : null;
        if ((!severalPrinters || tail is not null) && FusedPlan.Make(g, s, 1) is { } one)
        {
            long perUnit = 0;
            for (int i = 0; i < g.Edges.Count; i++)
                perUnit += !one.IsVirtual(i) ? one.Flow[i] : InARow(one.Map[i]!) ? 0 : one.Flow[i] / 4;
            // A feedback loop's steps interleave around the loop, so their number grows with the unit's steady
            // states: such programs keep units of at most 64 (1024 made Fib's methods long and 2× slower).
            int max = FusedPlan.Make(g, s, 2) is { } two && two.Steps.Count > one.Steps.Count ? 64 : MaxUnits;
            // Several printers: the tail's steps are repeated per steady state, so its code grows with the unit.
            if (tail is not null) max = Math.Min(max, Math.Max(1, MaxTailSteps / Math.Max(1, one.Steps.Count(f => tail[f.Actor.Index]))));
            while (units < max && Math.Max(perUnit, 1) * units * 2 <= 1 << 14) units *= 2;
        }
        if (Environment.GetEnvironmentVariable("LOOM_STREAM_UNIT") is { } u && int.TryParse(u, out int forced) && forced > 0) units = forced;
        return units;
    }

    private const int MaxUnits = 1024;
    private const int MaxTailSteps = 64;

    public static FusedRunner? Make(FlatGraph g, Schedule s, GlobalStore globals, Printer printer)
    {
        var plan = FusedPlan.Make(g, s, UnitsFor(g, s));
        return plan is null ? null : new FusedRunner(g, plan, globals, printer);
    }

    private Array Arena(Edge e, int copy = 0) => _plan.Sets[copy][ClrTypes.Of(e.Type)];

    /// <summary>The array this runner's code works in now for an edge's item type (its box's value).</summary>
    private Expression ArenaNow(Edge e) => Expression.Field(Expression.Constant(_boxes[ClrTypes.Of(e.Type)]), "Value");

    private int EdgeIndex(Edge e) => _edgeIndex[e];

    /// <summary>The code of one step: a filter's firings, or a mover's copies into the outputs that keep items (null: nothing to do).</summary>
    private (List<ParameterExpression> Locals, List<Expression> Prologue, Expression Body)?
        Step(Actor a, int first, int count, GlobalStore globals, Printer printer)
    {
        if (FusedPlan.IsMover(a))
        {
            var copies = new List<Expression>();
            for (int o = 0; o < a.Out.Count; o++)
            {
                if (a.Out[o] is not { } e) continue;
                int i = EdgeIndex(e);
                if (_plan.IsVirtual(i)) continue;
                var src = _plan.Sources(e, _edgeIndex);
                var m = typeof(FusedRunner).GetMethod(nameof(Copy), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(ClrTypes.Of(e.Type));
                copies.Add(Expression.Call(m, ArenaNow(e),
                    Expression.Constant(src), Expression.Constant(_plan.Base[i] + (int)_plan.Carried[i]),
                    Expression.Constant(first * a.Push[o]), Expression.Constant((first + count) * a.Push[o])));
            }
            return copies.Count == 0 ? null : ([], [], Expression.Block(typeof(void), copies));
        }
        var f = a.Filter!;
        if (f.Recurrence is { } rec) return RecurrenceStep(a, rec, first, count);
        var (input, output) = Ports(a);
        return CodeGen.CodeGen.FusedStep(f.Symbol, f.Symbol.Work!, f.Args, f.Fields, input, output, globals, printer, first, count);
    }

    /// <summary>A recognised recurrence source's firings: its items filled a block at a time (<see cref="Passes.RecurrenceSource"/>), its field stepped.</summary>
    private (List<ParameterExpression>, List<Expression>, Expression) RecurrenceStep(Actor a, Passes.RecurrenceSource rec, int first, int count)
    {
        var e = a.Out[0]!;
        int i = EdgeIndex(e);
        var fill = typeof(Passes.RecurrenceSource).GetMethod(ClrTypes.Of(e.Type) == typeof(int) ? nameof(Passes.RecurrenceSource.FillInt) : nameof(Passes.RecurrenceSource.FillFloat))!;
        return ([], [], Expression.Call(fill, Expression.Constant(rec), ArenaNow(e),
            Expression.Constant(_plan.Base[i] + (int)_plan.Carried[i] + first), Expression.Constant(count)));
    }

    private (FusedPort? Input, FusedPort? Output) Ports(Actor a)
    {
        FusedPort? input = null, output = null;
        if (a.In.Count > 0 && a.In[0] is { } ie)
        {
            int i = EdgeIndex(ie);
            var arena = ArenaNow(ie);
            if (_plan.Map[i] is not { } map) input = new FusedPort(arena, _plan.Base[i], a.Pop[0], null);
            else if (InARow(map)) input = new FusedPort(arena, map.Length > 0 ? map[0] : 0, a.Pop[0], null);
            else if (a.ExtraPeek == 0 && !a.HasPrework && Strided(map, a.Pop[0]) is int stride)
                input = new FusedPort(arena, map[0], stride, null) { Gap = stride - a.Pop[0] };
            else input = new FusedPort(arena, 0, a.Pop[0], map) { ArenaLength = Arena(ie).Length };
        }
        if (a.Out.Count > 0 && a.Out[0] is { } oe)
        {
            int i = EdgeIndex(oe);
            output = new FusedPort(ArenaNow(oe), _plan.Base[i] + (int)_plan.Carried[i], a.Push[0], null);
        }
        return (input, output);
    }

    /// <summary>
    /// Whether <paramref name="next"/> can share a loop with <paramref name="group"/> (each fired once in the
    /// unit): it reads the last member's output directly, all counts are multiples of a common count of at least 2,
    /// and at most one of them prints. Then, in iteration t, the consumer needs only what its producer made in
    /// iterations up to t: their rates balance over an iteration, and what it peeks beyond is already on the edge.
    /// </summary>
    private bool Chains(List<Firing> group, Firing next)
    {
        var b = next.Actor;
        if (b.In.Count == 0 || b.In[0] is not { } e) return false;
        int i = EdgeIndex(e);
        int n = group.Append(next).Select(f => f.Count).Aggregate(Gcd);
        if (group.Count > 1) n = Gcd(n, _groupIterations);
        if (n < 2) return false;
        if (group.Append(next).Count(f => f.Actor.Filter!.Symbol.PrintsInWork) > 1) return false;
        if (group.Append(next).Sum(f => FiringNodes(f.Actor)) > MaxChainNodes) return false;
        // Reading the last member's buffer directly, or through a table into the members' buffers (SharedLoopReads):
        // then in fewer, longer iterations if need be (FFT2's first CombineDFT reads its source's items through a
        // reordering table spanning 32 of them). Iterations that are ready stay ready when merged.
        bool direct = e.Src == group[^1].Actor && !_plan.IsVirtual(i) && b.ExtraPeek <= _plan.Carried[i];
        if (!direct)
        {
            if (_plan.Map[i] is not { } map) return false;
            while (!SharedLoopReads.Ready(_plan, group, next, map, n, EdgeIndex))
                if (n % 2 != 0 || (n /= 2) < 2) return false;
        }
        _groupIterations = n;
        return true;
    }

    /// <summary>Iterations of the shared loop of the group being built (set when a member joins by <see cref="Chains"/>).</summary>
    private int _groupIterations;

    /// <summary>
    /// Expression nodes of one iteration of a shared loop, at most. Sharing a loop pays for small firings (SimplePeek's
    /// one-item filters: 0.5 of the rival in loops of their own, 0.97 shared), but a loop body holding every
    /// filter's unrolled firing is too large for the processor's caches of code and branches: RadixSort's eleven
    /// 16-item Sorts (625 nodes each) in one loop ran at 0.69 of the rival, in loops of their own 0.75
    /// (ComparisonCounting 0.88–0.92 and 0.95, FFT2 0.71 and 0.76–0.77; CPU time, same build, 2026-11-27 00:10).
    /// SimplePeek's filters are 15–33 nodes. LOOM_STREAM_CHAIN_NODES overrides.
    /// </summary>
    private static readonly int MaxChainNodes = int.TryParse(Environment.GetEnvironmentVariable("LOOM_STREAM_CHAIN_NODES"), out int cn) ? cn : 400;

    private readonly Dictionary<Actor, int> _firingNodes = [];
    private readonly GlobalStore _globals;
    private readonly Printer _printer;

    /// <summary>Expression nodes of one firing of a filter as fused code (compiled to a tree only, not to native code).</summary>
    private int FiringNodes(Actor a)
    {
        if (_firingNodes.TryGetValue(a, out int n)) return n;
        var (input, output) = Ports(a);
        var f = a.Filter!;
        var parts = CodeGen.CodeGen.FusedParts(f.Symbol, f.Symbol.Work!, f.Args, f.Fields, input, output, _globals, _printer, 0);
        var counter = new NodeCounter();
        counter.Visit(parts.Firing);
        return _firingNodes[a] = counter.Count;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>The group's firings in one loop: each iteration fires every member its share, in pipeline order.</summary>
    private (List<ParameterExpression>, List<Expression>, Expression)
        Interleave(List<Firing> group, GlobalStore globals, Printer printer)
    {
        int n = _groupIterations;
        var locals = new List<ParameterExpression>();
        var prologue = new List<Expression>();
        var setup = new List<Expression>();
        var iteration = new List<Expression>();
        var teardown = new List<Expression>();
        foreach (var f in group)
        {
            var (input, output) = Ports(f.Actor);
            var fl = f.Actor.Filter!;
            var p = CodeGen.CodeGen.FusedParts(fl.Symbol, fl.Symbol.Work!, fl.Args, fl.Fields, input, output, globals, printer, 0);
            locals.AddRange(p.Locals);
            prologue.AddRange(p.Prologue);
            setup.AddRange(p.Setup);
            iteration.Add(CodeGen.CodeGen.Repeat(p.Firing, f.Count / n, locals));
            teardown.AddRange(p.Teardown);
        }
        var loop = CodeGen.CodeGen.Repeat(Expression.Block(typeof(void), iteration), n, locals);
        return (locals, prologue, SharedArenaLocals.Merge(Expression.Block(typeof(void), [.. setup, loop, .. teardown, Expression.Empty()]), locals));
    }

    /// <summary>
    /// The distance between firings when each firing's <paramref name="pop"/> items lie in a row and the rows are
    /// evenly spaced (a round-robin splitter's branch: DCT's fissed copies read 64 of every 128), so the consumer
    /// reads at constant offsets instead of through the table; null otherwise.
    /// </summary>
    private static int? Strided(int[] map, int pop)
    {
        if (pop <= 0 || map.Length <= pop || map.Length % pop != 0) return null;
        int stride = map[pop] - map[0];
        if (stride <= pop) return null;
        for (int p = 0; p < map.Length; p++)
            if (map[p] != map[0] + p / pop * stride + p % pop) return null;
        return stride;
    }

    internal static bool InARow(int[] map)
    {
        for (int p = 1; p < map.Length; p++)
            if (map[p] != map[0] + p) return false;
        return true;
    }

    private static void Copy<T>(T[] arena, int[] src, int dst, int from, int to)
    {
        for (int p = from; p < to; p++) arena[dst + p] = arena[src[p]];
    }

    /// <summary>Runs <paramref name="units"/> units (fewer if the printer stops the run by throwing).</summary>
    public void Run(long units)
    {
        for (long u = 0; u < units; u++) RunUnit(u);
    }

    /// <summary>Runs unit <paramref name="u"/> (counted from the start of the fused run) in arena copy u mod copies.</summary>
    public void RunUnit(long u)
    {
        RunSteps(u);
        MoveKept(u);
    }

    /// <summary>The steps of unit <paramref name="u"/>, without moving the items edges keep to the front (<see cref="MoveKept"/>).</summary>
    internal void RunSteps(long u)
    {
        int copy = (int)(u % _plan.Sets.Length);
        if (_plan.Sets.Length > 1)
            foreach (var (t, box) in _boxes) box.Value = _plan.Sets[copy][t];
        try
        {
            foreach (var c in _chunks) c();
        }
        catch (Exception e) when (e is not (LoomException or StopRunException))
        {
            throw new StreamException($"filter {_stepActors[_current.Value].Name} failed while running: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>After unit <paramref name="u"/>: the items each edge this runner writes keeps go to the front of the next unit's buffers.</summary>
    internal void MoveKept(long u)
    {
        int copy = (int)(u % _plan.Sets.Length);
        foreach (var (from, to, fromIndex, toIndex, length) in _moves[copy]) Array.Copy(from, fromIndex, to, toIndex, length);
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

    /// <summary>Moves the items kept between units back into the rings, so the ring runtime can go on (after <paramref name="units"/> units).</summary>
    public void StoreToRings(long units = 0)
    {
        int copy = (int)(units % _plan.Sets.Length);
        for (int i = 0; i < _g.Edges.Count; i++)
        {
            var ch = _g.Edges[i].Channel!;
            ch.Head = ch.Tail = 0;
            for (int j = 0; j < _plan.Carried[i]; j++) Array.Copy(Arena(_g.Edges[i], copy), _plan.Base[i] + j, ch.Items, ch.Tail++ & ch.Mask, 1);
        }
    }
}
