using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Units of several steady states for a program with several printers. Their lines must come in the order of the
/// steady schedule repeated, so a unit played as one schedule of m steady states would regroup them (BeamFormer's
/// four Detectors and its sink). The unit is played in two parts instead: the head — every actor that neither
/// prints nor is fed, directly or not, by one that prints — fires its m steady states first, then the tail (the
/// printers and everything downstream of them) fires one steady state at a time, m times. The head feeds the tail
/// and never the reverse, so this is a valid schedule, and the printers fire in the order of m single steady
/// states as long as the tail alone plays them in the order the whole steady state does (<see cref="Tail"/>
/// checks). BeamFormer's head is its twelve channels' FIRs and its four beams' FIRs: nearly all its work, which
/// then runs in long units (its one-steady-state units were 16 method calls with their prologues each).
/// </summary>
internal static class PrintOrder
{
    /// <summary>
    /// The tail (per actor: prints, or is downstream of an actor that prints), or null when the program has at most
    /// one printer, uses messages, or the tail alone would fire its printers in another order than the steady state.
    /// </summary>
    public static bool[]? Tail(FlatGraph g, Schedule s)
    {
        var printers = g.Actors.Where(a => a.Filter is { Symbol.PrintsInWork: true }).ToList();
        if (printers.Count <= 1) return null;
        if (g.Actors.Any(a => a.Filter is { } f && (f.Symbol.HasHandlers || f.Symbol.SendsMessages))) return null;
        if (g.Edges.Any(e => e.Dynamic)) return null;
        var tail = new bool[g.Actors.Count];
        var work = new Stack<Actor>(printers);
        foreach (var p in printers) tail[p.Index] = true;
        while (work.Count > 0)
            foreach (var e in work.Pop().Out)
                if (e is not null && !tail[e.Dst.Index]) { tail[e.Dst.Index] = true; work.Push(e.Dst); }
        if (tail.All(t => t)) return null;
        // The printers' firings in one whole steady state, and in the head's and then the tail's.
        var whole = new Simulation(g);
        whole.Run(s.InitCounts, "the initialization schedule");
        var expected = PrinterFirings(whole.Run(s.Repetitions, "the steady state"));
        var split = new Simulation(g);
        split.Run(s.InitCounts, "the initialization schedule");
        split.Run(Part(s, tail, false, 1), "the steady state's head");
        var actual = PrinterFirings(split.Run(Part(s, tail, true, 1), "the steady state's tail"));
        return expected.SequenceEqual(actual) ? tail : null;
    }

    /// <summary>The steps of a unit of <paramref name="units"/> steady states: the head's, then the tail's one steady state at a time.</summary>
    public static List<Firing> Steps(Simulation sim, Schedule s, bool[] tail, int units)
    {
        var steps = sim.Run(Part(s, tail, false, units), "the steady state's head");
        var once = Part(s, tail, true, 1);
        for (int k = 0; k < units; k++) steps.AddRange(sim.Run(once, "the steady state's tail"));
        return steps;
    }

    /// <summary>Firings per actor of the tail (or the head) for <paramref name="units"/> steady states, 0 for the others.</summary>
    private static long[] Part(Schedule s, bool[] tail, bool ofTail, int units) =>
        s.Repetitions.Select((r, i) => tail[i] == ofTail ? r * units : 0).ToArray();

    private static List<int> PrinterFirings(List<Firing> steps) =>
        steps.Where(f => f.Actor.Filter is { Symbol.PrintsInWork: true }).SelectMany(f => Enumerable.Repeat(f.Actor.Index, f.Count)).ToList();
}
