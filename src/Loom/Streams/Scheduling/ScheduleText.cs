using System.Text;
using Loom.Streams.Execution;

namespace Loom.Streams.Scheduling;

/// <summary>The schedule as text: repetition vector, init and steady schedules, buffer sizes.</summary>
public static class ScheduleText
{
    public static string Text(Schedule s)
    {
        var sb = new StringBuilder();
        sb.AppendLine("repetitions (steady state):");
        foreach (var a in s.Graph.Actors)
            sb.AppendLine($"  {a.Name,-40} x{s.Repetitions[a.Index]}{(s.InitCounts[a.Index] > 0 ? $"   init x{s.InitCounts[a.Index]}" : "")}");
        sb.AppendLine("init schedule:");
        sb.AppendLine("  " + (s.Init.Count == 0 ? "(empty)" : string.Join(", ", s.Init.Select(f => $"{f.Actor.Name} x{f.Count}"))));
        sb.AppendLine("steady schedule:");
        sb.AppendLine("  " + string.Join(", ", s.Steady.Select(f => $"{f.Actor.Name} x{f.Count}")));
        sb.AppendLine("buffers (most items held):");
        for (int i = 0; i < s.Graph.Edges.Count; i++)
            sb.AppendLine($"  {s.Graph.Edges[i],-60} {s.MaxItems[i]}");
        sb.AppendLine($"outputs per steady state: {s.OutputsPerSteadyState()}");
        return sb.ToString();
    }

    /// <summary>
    /// The schedule of a program run demand-driven: its statically scheduled regions (each normalised on its own)
    /// and the dynamic queues between them, then the schedule (the whole program's when its rates are static).
    /// </summary>
    public static string Text(StreamProgram p)
    {
        if (p.Demand is not { } d) return Text(p.Schedule);
        var sb = new StringBuilder();
        var region = DynamicRunner.RegionsOf(p.Flat);
        int n = region.Length == 0 ? 0 : region.Max() + 1;
        sb.AppendLine($"demand-driven: {n} statically scheduled region(s), run by pulls through {p.Flat.Edges.Count(e => e.Dynamic)} dynamic queue(s)");
        for (int r = 0; r < n; r++)
            sb.AppendLine($"  region {r}: {string.Join(", ", p.Flat.Actors.Where(a => region[a.Index] == r).Select(a => $"{a.Name} x{d.Repetitions[a.Index]}"))}");
        sb.AppendLine("dynamic queues:");
        foreach (var e in p.Flat.Edges.Where(e => e.Dynamic)) sb.AppendLine($"  {e}");
        sb.Append(Text(p.Schedule));
        return sb.ToString();
    }

    /// <summary>The partition onto <paramref name="cores"/> cores from measured work: each core's actors, stages and share.</summary>
    public static string Partition(StreamProgram p, int cores)
    {
        if (p.Demand is not null)
            return "demand-driven (dynamic rates or teleport messages): runs on one thread, not partitioned\n" + Text(p);
        (p, var part) = p.PrepareParallel(cores);
        // The runtime may cut its own way (the fused pipeline): show what a run would use.
        p.SetUpParallel(cores, part);
        part = p.LastPartition ?? part;
        var sb = new StringBuilder();
        if (part.Mode.Length > 0) sb.AppendLine($"mode: {part.Mode}");
        foreach (var (name, ways) in p.Fissions) sb.AppendLine($"fission: {name} split into {ways} copies");
        if (part.Role is { } role)
        {
            sb.AppendLine($"unit alternation on {cores} core(s), work measured over a short run with printing off:");
            foreach (var a in p.Flat.Actors)
                sb.AppendLine($"  {a.Name,-40} {role[a.Index],-14} {part.Work[a.Index] * 1e6:F2} us");
            sb.AppendLine($"load balance (heaviest core / mean, estimated): {part.Imbalance():F3}");
            return sb.ToString();
        }
        double total = part.Work.Sum();
        var perCore = part.CoreWork();
        sb.AppendLine($"partition onto {cores} core(s), {part.Stages} pipeline stage(s), work measured over a short run with printing off:");
        for (int c = 0; c < cores; c++)
        {
            sb.AppendLine($"core {c}: {perCore[c] * 1e6:F1} us per steady state ({100 * perCore[c] / Math.Max(total, 1e-12):F1}%)");
            foreach (var a in p.Flat.Actors.Where(a => part.Core[a.Index] == c))
                sb.AppendLine($"  {a.Name,-40} stage {part.Stage[a.Index]}  {part.Work[a.Index] * 1e6:F2} us  estimate {Estimate(p, a):F0} items");
        }
        sb.AppendLine($"load balance (heaviest core / mean): {part.Imbalance():F3}");
        return sb.ToString();
    }

    /// <summary>How a run on <paramref name="cores"/> cores would use them, and why (for --show schedule).</summary>
    public static string Mode(StreamProgram p, int cores)
    {
        if (cores <= 1 || p.Demand is not null) return "";
        (p, var part) = p.PrepareParallel(cores);
        p.SetUpParallel(cores, part);
        return (p.LastPartition ?? part).Mode is { Length: > 0 } m ? $"on {cores} cores: {m}\n" : "";
    }

    /// <summary>Static work estimate: items an actor moves per steady state (pops, peeks beyond them, pushes).</summary>
    public static double Estimate(StreamProgram p, Actor a) =>
        p.Schedule.Repetitions[a.Index] * (a.Pop.Sum() + a.Push.Sum() + a.ExtraPeek + 1.0);
}
