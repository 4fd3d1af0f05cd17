using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>How a fused program uses several cores: <see cref="Auto"/> decides by the work estimate (LOOM_STREAM_MODE overrides).</summary>
public enum ParallelMode { Auto, Pipeline, Alternate }

/// <summary>
/// Whether a fused program runs on several cores by unit alternation (<see cref="UnitAlternation"/>: every core
/// runs the whole program for every n-th unit) rather than as a pipeline cut of its graph, and why. Every actor
/// gets a part: <see cref="Replicated"/> actors run for every unit on every core (the stateful filters whose
/// state the next unit needs, and everything upstream of them or of an edge that keeps items between units:
/// their state then evolves identically on every core); <see cref="InOrder"/> actors are the stateful sinks
/// (printers), run by the owning core in unit order with their state handed from core to core, and so are the
/// stateful <see cref="Sources"/> (no input, nothing kept on their outputs), first in each unit; the rest is
/// stateless and carries nothing between units, so a unit's share of it needs only that unit's items.
/// </summary>
internal sealed record AlternationChoice(bool Alternate, string Reason, bool[] Replicated, bool[] InOrder, bool[] Sources, int Units, double Balance)
{
    /// <summary>
    /// Recognised recurrence sources (<see cref="Passes.RecurrenceSource"/>) whose state at any firing is computed by
    /// random access: they run for each core's own units like stateless filters, each unit starting from its state.
    /// </summary>
    public bool[] Indexed { get; init; } = [];

    /// <summary>Unit alternation's cost of handing the sinks' state to the next core, per unit (a few cache lines, a wait).</summary>
    private const double HandOffSeconds = 1e-6;

    /// <summary>
    /// What replicated work costs a core, per unit of its measured (ring runtime) work. The replicated actors run in a
    /// pass of their own on the units a core does not own, writing buffers nobody reads, and the split into runners
    /// breaks the one-core code's shared loops: SimplePeek (replicated source and duplicator, 28% of its measured
    /// work) took 1.25× one core's CPU per core at 2 cores, where charging the replicated work once predicted 0.64×
    /// (2026-11-27 02:40, thread CPU minus waiting); ×5 matches that.
    /// </summary>
    private const double ReplicatedCharge = 5;

    /// <summary>Measured work per unit that unit alternation aims at (doubling the one-core unit up to it).</summary>
    private const double TargetUnitSeconds = 200e-6;

    /// <summary>Fused work per unit below which alternating units between cores does not pay (as for the pipeline).</summary>
    private const double MinUnitSeconds = 4e-6;

    /// <summary>LOOM_STREAM_REPLICATE_SOURCES=1: stateful sources run on every core rather than in unit order (for comparing).</summary>
    private static readonly bool ReplicateSources = Environment.GetEnvironmentVariable("LOOM_STREAM_REPLICATE_SOURCES") == "1";

    public static ParallelMode ModeFromEnvironment() => Environment.GetEnvironmentVariable("LOOM_STREAM_MODE") switch
    {
        "pipeline" => ParallelMode.Pipeline,
        "alternate" => ParallelMode.Alternate,
        _ => ParallelMode.Auto,
    };

    /// <summary>
    /// The choice for <paramref name="g"/> on <paramref name="cores"/> cores from measured <paramref name="work"/>
    /// (seconds per steady state per actor). Deterministic given the work: alternation wins when it is eligible and
    /// its estimate is at most 1.05 × the pipeline's (it shares nothing between cores but the sinks' state, while
    /// every item crossing a cut is a cache miss on the reading core, which the pipeline's estimate undercounts)
    /// and below 0.8 × one core's.
    /// </summary>
    public static AlternationChoice Decide(FlatGraph g, Schedule s, double[] work, int cores, ParallelMode mode)
    {
        int n = g.Actors.Count;
        var replicated = new bool[n];
        var inOrder = new bool[n];
        var sources = new bool[n];
        var indexed = new bool[n];
        AlternationChoice No(string why) => new(false, "pipeline: " + why, replicated, inOrder, sources, 0, 0) { Indexed = indexed };
        if (mode == ParallelMode.Pipeline) return No("unit alternation turned off (LOOM_STREAM_MODE=pipeline)");
        if (cores < 2) return No("one core");
        int units = FusedRunner.UnitsFor(g, s);
        if (FusedPlan.Make(g, s, units) is not { } plan) return No("nothing to fuse");
        foreach (var a in g.Actors)
            if (a.Filter is { Symbol.PrintsInWork: true } && s.InitCounts[a.Index] > 0)
                return No($"unit alternation declined: {a.Name} prints in the initialization schedule");
        // State that can be handed from core to core: scalar fields (an array field may be a constant of the compiled code).
        bool Handed(Actor a) => a.Filter is { IsStateful: true } f && !f.Symbol.HasHandlers && !f.Symbol.SendsMessages && f.Fields.All(b => b.Value is not Array);
        foreach (var a in g.Actors)
        {
            // A recurrence source: each core computes its state at its unit's start, and the items its output keeps
            // from the unit before (the previous unit's last firings, no more than a unit's) by random access too.
            if (a.Filter?.Recurrence is { } rec && rec.Recurrence.RandomAccess(rec.Field.Value) && a.In.All(e => e is null)
                && a.Out.All(e => e is null || plan.Carried[g.Edges.IndexOf(e)] <= (long)s.Repetitions[a.Index] * units))
                indexed[a.Index] = true;
            else if (Handed(a) && a.Out.All(e => e is null)) inOrder[a.Index] = true;
            // A stateful source whose outputs keep nothing between units: its firings can all go first in a unit.
            else if (!ReplicateSources && Handed(a) && a.In.All(e => e is null) && !a.Filter!.Symbol.PrintsInWork && a.Out.All(e => e is null || plan.Carried[g.Edges.IndexOf(e)] == 0))
                sources[a.Index] = true;
        }
        // Replicated: the other stateful filters, the producers of items kept between units, and all upstream of them.
        var stack = new Stack<Actor>();
        foreach (var a in g.Actors)
            if (a.Filter is { IsStateful: true } && !inOrder[a.Index] && !sources[a.Index] && !indexed[a.Index]) stack.Push(a);
        for (int i = 0; i < g.Edges.Count; i++)
            if (plan.Carried[i] > 0 && !indexed[g.Edges[i].Src.Index]) stack.Push(g.Edges[i].Src);
        while (stack.Count > 0)
        {
            var a = stack.Pop();
            if (replicated[a.Index]) continue;
            replicated[a.Index] = true;
            foreach (var e in a.In)
                if (e is not null) stack.Push(e.Src);
        }
        foreach (var a in g.Actors)
            if (replicated[a.Index]) sources[a.Index] = indexed[a.Index] = false;
        foreach (var a in g.Actors)
            if (replicated[a.Index] && a.Filter is { Symbol.PrintsInWork: true })
                return No($"unit alternation declined: {a.Name} prints, and its state must evolve on every core (it is not a sink, keeps arrays, or feeds items kept between units)");

        // Longer units than one core's: the hand-overs and a core's waits for its turn are per unit, and a unit of
        // ~200 us rides out more of the other thread's stalls (matmul's units of 4 steady states, 18 us, spent 45% of
        // their CPU waiting under load; of 64, 6%, and less work per steady state). Not where the steps grow with the
        // unit (a feedback loop's interleave) beyond 64, and while a unit's items stay under 256K per arena copy (table entries counted at a quarter, as for one core).
        double Cost(Actor a) => FusedPipeline.FusedCost(g, plan, work, a);
        double one = g.Actors.Sum(Cost);
        int altUnits = units;
        // (Several printers keep the units FusedRunner.UnitsFor gives them: their tail's steps grow with the unit
        // (PrintOrder). Where the steps grow with the unit, at most 64 steady states, as on one core.)
        bool severalPrinters = g.Actors.Count(a => a.Filter is { Symbol.PrintsInWork: true }) > 1;
        int maxUnits = severalPrinters ? units : FusedPlan.Make(g, s, units * 2) is { } two && two.Steps.Count > plan.Steps.Count ? Math.Max(units, 64) : 1 << 14;
        long items = Enumerable.Range(0, g.Edges.Count).Sum(i => plan.IsVirtual(i) ? plan.Flow[i] / 4 : plan.Flow[i] + plan.Carried[i]);
        while (altUnits < maxUnits && one * altUnits < TargetUnitSeconds && items * (altUnits * 2L / units) <= 1 << 18) altUnits *= 2;

        double rep = g.Actors.Where(a => replicated[a.Index]).Sum(Cost);
        double seq = g.Actors.Where(a => inOrder[a.Index]).Sum(Cost);
        double first = g.Actors.Where(a => sources[a.Index]).Sum(Cost);
        // Per steady state: each core runs the replicated part for every unit and the rest for its own units; the
        // sources and sinks run one unit after another across the cores.
        int handOffs = (inOrder.Any(x => x) ? 1 : 0) + (sources.Any(x => x) ? 1 : 0);
        double alt = Math.Max((one + (cores - 1) * ReplicatedCharge * rep) / cores, Math.Max(seq, first)) + handOffs * HandOffSeconds / altUnits;
        double pipe = FusedPipeline.Estimate(g, plan, work, cores);
        string Names(bool[] set) => set.Any(x => x) ? string.Join(", ", g.Actors.Where(a => set[a.Index]).Select(a => a.Name).Take(6)) +
            (set.Count(x => x) > 6 ? $" (+{set.Count(x => x) - 6})" : "") : "none";
        string detail = $"replicated on every core: {Names(replicated)} ({Share(rep, one)} of the work); " +
            (indexed.Any(x => x) ? $"recurrence sources started by random access: {Names(indexed)}; " : "") + $"in unit order: sources {Names(sources)} ({Share(first, one)}), " +
            $"sinks {Names(inOrder)} ({Share(seq, one)}); " +
            $"estimate per steady state: alternation {alt * 1e6:F3} us, pipeline {pipe * 1e6:F3} us, one core {one * 1e6:F3} us";
        double balance = alt * cores / Math.Max(one, 1e-15);
        string Yes(string why) => $"unit alternation: core k runs units k, k+{cores}, … of {altUnits} steady state(s), the whole program for its own; {why}; {detail}";
        if (mode == ParallelMode.Alternate) return new(true, Yes("forced (LOOM_STREAM_MODE=alternate)"), replicated, inOrder, sources, altUnits, balance) { Indexed = indexed };
        if (work.Sum() * altUnits < MinUnitSeconds) return No($"a unit is too short to share between cores; {detail}");
        if (alt <= 1.05 * pipe && alt < 0.8 * one) return new(true, Yes("its estimate beats the pipeline's"), replicated, inOrder, sources, altUnits, balance) { Indexed = indexed };
        return No($"unit alternation's estimate does not beat the pipeline's; {detail}");
    }

    private static string Share(double part, double whole) => $"{100 * part / Math.Max(whole, 1e-15):F1}%";
}
