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

    /// <summary>The partition onto <paramref name="cores"/> cores from measured work: each core's actors, stages and share.</summary>
    public static string Partition(StreamProgram p, int cores)
    {
        (p, var part) = p.PrepareParallel(cores);
        // The runtime may cut its own way (the fused pipeline): show what a run would use.
        p.SetUpParallel(cores, part);
        part = p.LastPartition ?? part;
        var sb = new StringBuilder();
        foreach (var (name, ways) in p.Fissions) sb.AppendLine($"fission: {name} split into {ways} copies");
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

    /// <summary>Static work estimate: items an actor moves per steady state (pops, peeks beyond them, pushes).</summary>
    public static double Estimate(StreamProgram p, Actor a) =>
        p.Schedule.Repetitions[a.Index] * (a.Pop.Sum() + a.Push.Sum() + a.ExtraPeek + 1.0);
}
