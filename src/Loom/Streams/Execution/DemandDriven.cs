using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Deciding and running the demand-driven form of a program (<see cref="DynamicRunner"/>): used when some rate is
/// dynamic, or when filters send teleport messages (then every edge is a queue and every actor fires only when
/// its consumer needs items, so an upstream receiver never runs ahead of what the messages' timing allows).
/// </summary>
public static class DemandDriven
{
    /// <summary>
    /// The program's schedule and, when it runs demand-driven, its regions' schedule (else null). May mark more
    /// edges dynamic: all of them for messaging, or when the regions would form a cycle through their queues.
    /// </summary>
    public static (Schedule Schedule, Schedule? Demand) Schedules(FlatGraph flat)
    {
        foreach (var a in flat.Actors)
            if (a.Filter is { } f) { f.Box.Actor = a; f.Box.Graph = flat; }
        bool messaging = flat.Actors.Any(a => a.Filter is { } f && (f.Symbol.HasHandlers || f.Symbol.SendsMessages));
        bool dynamic = flat.Edges.Any(e => e.Dynamic);
        if (!dynamic && !messaging) return (Schedule.Make(flat), null);
        // With static rates the whole-program schedule still exists: it counts iterations and is what --show prints.
        var whole = dynamic ? null : Schedule.Make(flat);
        if (messaging || !DynamicRunner.RegionsAcyclic(flat))
            foreach (var e in flat.Edges) e.Dynamic = true;
        var regions = Schedule.Make(flat);
        return (whole ?? regions, regions);
    }

    public static long Run(StreamProgram p, long iterations, int cores = 1)
    {
        long done = 0;
        try
        {
            // Two cores: a dynamic-rate program (not one with messages, whose timing needs one firing order) whose
            // regions split at one queue runs its upstream part on a second thread.
            bool messages = p.Flat.Actors.Any(a => a.Filter is { } f && (f.Symbol.HasHandlers || f.Symbol.SendsMessages));
            if (cores >= 2 && !messages && DynamicSplit.FindCut(p) is { } cut)
                return DynamicSplit.Run(p, cut.Cut, cut.Upstream, iterations);
            // With a whole-program schedule an iteration is its steady state: each sink fires its repetitions.
            bool whole = !ReferenceEquals(p.Schedule, p.Demand);
            var runner = new DynamicRunner(p.Flat, p.Demand!, p.Code,
                whole ? m => (int)(p.Schedule.Repetitions[m[0].Index] / Math.Max(1, p.Demand!.Repetitions[m[0].Index])) : null);
            done = runner.Run(iterations);
        }
        catch (StopRunException) { }
        finally { FlushQuietly(p); }
        return done;
    }

    private static void FlushQuietly(StreamProgram p)
    {
        try { p.Printer.Flush(); }
        catch (StopRunException) { }
    }
}
