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

    public static string Partition(StreamProgram p, int cores) =>
        $"partition onto {cores} core(s): not computed (sequential runtime)\n";
}
