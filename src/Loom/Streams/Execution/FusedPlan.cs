using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// The buffer layout of a fused program (the MIT compiler's fusion, on the flat graph): a unit of m steady
/// states runs with every edge as a linear buffer inside one array per item type (an arena), the items left on
/// an edge at the end of a unit moved back to its front. Within a unit every item's place is known when
/// compiling, so splitters, joiners and <c>Identity</c> filters whose output holds nothing between units are
/// compiled away: their output edges are <em>virtual</em>, a table of where each of their items already is
/// (or a plain offset when the items lie in a row, as behind a duplicate splitter), and the consumer reads
/// there. Positions on an edge count from its consumer's place at the start of the unit: the c items left from
/// the last unit are 0…c−1 and the unit's items follow.
/// </summary>
internal sealed class FusedPlan
{
    public required int Units { get; init; }
    public required List<Firing> Steps { get; init; }
    /// <summary>Items on each edge at the start (and end) of a unit.</summary>
    public required long[] Carried { get; init; }
    /// <summary>Items crossing each edge in one unit.</summary>
    public required long[] Flow { get; init; }
    /// <summary>Per edge: the arena offset of its buffer (real edges), or -1.</summary>
    public required int[] Base { get; init; }
    /// <summary>Per edge: the arena offset of each of the unit's items (virtual edges), or null.</summary>
    public required int[]?[] Map { get; init; }
    /// <summary>
    /// The arenas, one array per item type, in one or more copies: on several cores unit u runs in copy u mod
    /// the number of copies, so a core can fill one copy while the next core reads an earlier one.
    /// </summary>
    public required Dictionary<Type, Array>[] Sets { get; init; }
    public Dictionary<Type, Array> Arenas => Sets[0];

    public bool IsVirtual(int edge) => Map[edge] is not null;

    /// <summary>
    /// A plan for units of <paramref name="units"/> steady states, or null when the program has nothing to fuse
    /// over (no edges) or its buffers would be too large.
    /// </summary>
    public static FusedPlan? Make(FlatGraph g, Schedule s, int units, int copies = 1)
    {
        if (g.Edges.Count == 0) return null;
        var edgeIndex = g.Edges.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i);
        var sim = new Simulation(g);
        sim.Run(s.InitCounts, "the initialization schedule");
        var carried = sim.Tokens.ToArray();
        // Several printers: the head's steady states first, then the tail's one at a time (PrintOrder).
        var tail = units > 1 ? PrintOrder.Tail(g, s) : null;
        var steps = tail is not null ? PrintOrder.Steps(sim, s, tail, units) : sim.Run(s.Repetitions.Select(r => r * units).ToArray(), "the steady state");
        var flow = g.Edges.Select(e => s.Repetitions[e.Src.Index] * units * e.Src.Push[e.SrcPort]).ToArray();
        if (flow.Sum() + carried.Sum() > 1 << 24) return null;

        var map = new int[]?[g.Edges.Count];
        var bases = Enumerable.Repeat(-1, g.Edges.Count).ToArray();
        var sizes = new Dictionary<Type, int>();
        for (int i = 0; i < g.Edges.Count; i++)
        {
            if (IsMover(g.Edges[i].Src) && carried[i] == 0) continue;
            var t = ClrTypes.Of(g.Edges[i].Type);
            sizes.TryGetValue(t, out int used);
            bases[i] = used;
            sizes[t] = used + (int)(carried[i] + flow[i]);
        }
        var plan = new FusedPlan
        {
            Units = units, Steps = steps, Carried = carried, Flow = flow, Base = bases, Map = map,
            Sets = Enumerable.Range(0, copies)
                .Select(_ => sizes.ToDictionary(kv => kv.Key, kv => Array.CreateInstance(kv.Key, Math.Max(kv.Value, 1)))).ToArray(),
        };
        for (int i = 0; i < g.Edges.Count; i++)
            if (bases[i] < 0) map[i] = plan.Sources(g.Edges[i], edgeIndex);
        return plan;
    }

    /// <summary>Splitters, joiners, Identity and other filters that only move items (<see cref="Graph.FilterNode.Moves"/>) can be compiled to tables.</summary>
    public static bool IsMover(Actor a) => a.Kind != ActorKind.Filter || a.Filter!.Symbol.IsIdentity || a.Filter.Moves is not null;

    /// <summary>Arena offset of item <paramref name="q"/> (a position in the unit) of an edge.</summary>
    private int Where(Edge e, long q, Dictionary<Edge, int> edgeIndex)
    {
        int i = edgeIndex[e];
        if (Base[i] >= 0) return Base[i] + (int)q;
        Map[i] ??= Sources(e, edgeIndex);
        return Map[i]![q];
    }

    /// <summary>
    /// For each of the unit's items on <paramref name="e"/> (an output of a mover), the arena offset of the item
    /// it copies: the mover's firing that makes item p, and the input item that firing moves there.
    /// </summary>
    public int[] Sources(Edge e, Dictionary<Edge, int> edgeIndex)
    {
        var a = e.Src;
        var src = new int[Flow[edgeIndex[e]]];
        int o = e.SrcPort;
        for (int p = 0; p < src.Length; p++)
        {
            Edge from;
            long q;
            if (a.Kind == ActorKind.Joiner)
            {
                long f = p / a.Push[0], r = p % a.Push[0];
                int port = 0;
                while (r >= a.Pop[port]) r -= a.Pop[port++];
                from = a.In[port]!;
                q = f * a.Pop[port] + r;
            }
            else if (a.Kind == ActorKind.Splitter && a.Spec!.Kind != Graph.SplitKind.Duplicate)
            {
                long f = p / a.Push[o], r = p % a.Push[o];
                int offset = 0;
                for (int k = 0; k < o; k++) offset += a.Push[k];
                from = a.In[0]!;
                q = f * a.Pop[0] + offset + r;
            }
            else if (a.Filter?.Moves is { } moves)
            {
                // A data-movement filter: item r of firing f is the firing's input item moves[r].
                from = a.In[0]!;
                q = p / a.Push[0] * a.Pop[0] + moves[p % a.Push[0]];
            }
            else
            {
                // A duplicate splitter or an Identity: item p is input item p.
                from = a.In[0]!;
                q = p;
            }
            src[p] = Where(from, q, edgeIndex);
        }
        return src;
    }
}
