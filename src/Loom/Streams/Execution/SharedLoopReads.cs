using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Whether a filter that reads through a table (its input is a compiled-away splitter's, joiner's or mover's
/// output) can join a shared loop (<see cref="FusedRunner"/>'s chains): in a loop of n iterations where each member
/// fires its count / n firings per iteration in the group's order, every item the filter's firings of iteration t
/// read must have been written by a member in iteration t or before, or carried from the last unit. Figure1's
/// source, <c>B</c>, <c>C</c> and <c>D</c> (behind a duplicate splitter and a round-robin joiner) ran in four
/// loops; in one, the processor overlaps the source's multiply-modulo chain with the others' work.
/// LOOM_STREAM_TABLE_CHAINS=0 keeps such filters in loops of their own (for comparing).
/// </summary>
internal static class SharedLoopReads
{
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable("LOOM_STREAM_TABLE_CHAINS") != "0";

    /// <param name="map">Arena offset of each of the unit's items on <paramref name="next"/>'s input.</param>
    /// <param name="edgeIndex">Index of an edge in the plan's arrays.</param>
    public static bool Ready(FusedPlan plan, IReadOnlyList<Firing> group, Firing next, int[] map, int n, Func<Edge, int> edgeIndex)
    {
        if (!Enabled) return false;
        var b = next.Actor;
        int pop = b.Pop[0], peek = pop + b.ExtraPeek;
        if (n <= 0 || next.Count % n != 0 || (long)(next.Count - 1) * pop + peek > map.Length) return false;
        var type = ClrTypes.Of(b.In[0]!.Type);
        // The members' real output buffers of the item type the table points into.
        var writers = new List<(int Start, int Carried, int End, int Push, int PerIteration)>();
        foreach (var f in group)
        {
            var a = f.Actor;
            if (f.Count % n != 0) return false;
            for (int o = 0; o < a.Out.Count; o++)
            {
                if (a.Out[o] is not { } e || ClrTypes.Of(e.Type) != type) continue;
                int i = edgeIndex(e);
                if (plan.IsVirtual(i) || a.Push[o] <= 0) continue;
                writers.Add((plan.Base[i], (int)plan.Carried[i], plan.Base[i] + (int)(plan.Carried[i] + plan.Flow[i]), a.Push[o], f.Count / n));
            }
        }
        int perIteration = next.Count / n;
        for (int f = 0; f < next.Count; f++)
        {
            int t = f / perIteration;
            for (int r = 0; r < peek; r++)
            {
                int at = map[f * pop + r];
                int w = writers.FindIndex(x => x.Start <= at && at < x.End);
                if (w < 0) return false; // written by a step outside the loop
                int q = at - writers[w].Start - writers[w].Carried;
                if (q >= 0 && q / writers[w].Push / writers[w].PerIteration > t) return false;
            }
        }
        return true;
    }
}
