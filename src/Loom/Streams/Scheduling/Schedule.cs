namespace Loom.Streams.Scheduling;

/// <summary>One step of a schedule: fire an actor this many times in a row.</summary>
public readonly record struct Firing(Actor Actor, int Count);

/// <summary>
/// A static schedule: the repetition vector, the initialization schedule (primes peeking filters, runs
/// prework, fills feedback loops), the steady state (leaves every edge as it found it), and the most items
/// each edge ever holds under this schedule (its buffer size).
/// </summary>
public sealed class Schedule
{
    public required FlatGraph Graph { get; init; }
    public required long[] Repetitions { get; init; }
    public required long[] InitCounts { get; init; }
    public required List<Firing> Init { get; init; }
    public required List<Firing> Steady { get; init; }
    /// <summary>
    /// <see cref="Scale"/> steady states as one schedule, each actor firing in long batches: amortises the
    /// per-batch cost. Only made when at most one actor prints (batching would reorder prints of several).
    /// </summary>
    public required List<Firing> ScaledSteady { get; init; }
    public required int Scale { get; init; }
    public required long[] MaxItems { get; init; }
    /// <summary>Items on each edge after the initialization schedule (and after every steady state).</summary>
    public required long[] ItemsAfterInit { get; init; }

    public static Schedule Make(FlatGraph g)
    {
        var rep = Scheduling.Repetitions.Solve(g);
        var initCounts = InitPlanner.Plan(g, rep);
        var sim = new Simulation(g);
        var init = sim.Run(initCounts, "the initialization schedule");
        var after = sim.Tokens.ToArray();
        var steady = sim.Run(rep, "the steady state");
        int scale = ChooseScale(g, rep, sim.Max);
        var scaled = scale == 1 ? steady : sim.Run(rep.Select(r => r * scale).ToArray(), "the steady state");
        for (int i = 0; i < after.Length; i++)
            if (sim.Tokens[i] != after[i])
                throw new StreamException($"internal: the steady state does not return edge {g.Edges[i]} to its size ({after[i]} → {sim.Tokens[i]})");
        return new Schedule
        {
            Graph = g, Repetitions = rep, InitCounts = initCounts, Init = init, Steady = steady, ScaledSteady = scaled, Scale = scale, MaxItems = sim.Max, ItemsAfterInit = after,
        };
    }

    private static int ChooseScale(FlatGraph g, long[] rep, long[] maxItems)
    {
        if (g.Actors.Count(a => a.Filter is { Symbol.PrintsInWork: true }) > 1) return 1;
        long maxRep = rep.DefaultIfEmpty(1).Max(), items = maxItems.Sum();
        int k = 1;
        // Up to 64 steady states per batch, while the batches stay short of ~1024 firings and the buffers small.
        while (k < 64 && maxRep * k * 2 <= 1024 && items * k * 2 <= 1 << 22) k *= 2;
        return k;
    }

    /// <summary>Items reaching the program's sinks (filters with no output) per steady state: the unit of "outputs".</summary>
    public long OutputsPerSteadyState()
    {
        long total = 0;
        foreach (var a in Graph.Actors)
            if (a.Kind == ActorKind.Filter && a.Out.Count == 0 && a.In.Count > 0) total += Repetitions[a.Index] * a.Pop[0];
        // A program whose printing filter passes its items on (a feedback loop printing inside) has no sink
        // items: count the printing filters' firings instead.
        if (total == 0)
            foreach (var a in Graph.Actors)
                if (a.Filter is { Symbol.PrintsInWork: true }) total += Repetitions[a.Index];
        return total;
    }
}
