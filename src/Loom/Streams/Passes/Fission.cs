using Loom.Streams.Graph;
using Loom.Streams.Semantics;

namespace Loom.Streams.Passes;

/// <summary>
/// Fission of stateless filters: a filter that keeps no state between firings, does not peek beyond what it
/// pops and has no prework is replaced by a round-robin split-join of copies (split by its pop rate, joined
/// by its push rate), which computes the same items in the same order. "Judicious": only the filters whose
/// measured work alone exceeds a core's fair share are split, and only into as many copies as that share needs.
/// </summary>
public static class Fission
{
    public static bool CanFiss(FilterNode f) =>
        !f.IsStateful && !f.HasPrework && f.Peek.Value == f.Pop.Value && f.Pop.Value > 0 && f.Push.Value > 0
        && f.Input != SType.Void && f.Output != SType.Void;

    /// <summary>Filters (by instance name) to split and into how many copies, from each actor's measured work.</summary>
    public static Dictionary<string, int> Decide(IEnumerable<(FilterNode Filter, double Work, bool InFeedbackLoop)> filters, double totalWork, int cores)
    {
        var result = new Dictionary<string, int>();
        double share = totalWork / cores;
        foreach (var (f, w, inLoop) in filters)
            if (!inLoop && CanFiss(f) && w > share * 1.05)
                result[f.Name] = Math.Min(cores, (int)Math.Ceiling(w / share));
        return result;
    }

    /// <summary>The graph with the named filters replaced by split-joins of copies (nodes not split are shared, not copied).</summary>
    public static StreamNode Apply(StreamNode n, IReadOnlyDictionary<string, int> ways)
    {
        switch (n)
        {
            case FilterNode f when ways.TryGetValue(f.Name, out int k) && k > 1 && CanFiss(f):
            {
                var sj = new SplitJoinNode
                {
                    Name = f.Name + ".fission", Span = f.Span, Input = f.Input, Output = f.Output,
                    Split = new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(f.Pop.Value, k).ToArray()),
                    Join = new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(f.Push.Value, k).ToArray()),
                };
                for (int i = 0; i < k; i++)
                    sj.Branches.Add(new FilterNode
                    {
                        // Copies share the field boxes: a stateless filter only reads its fields in work.
                        Name = $"{f.Name}.{i}", Span = f.Span, Symbol = f.Symbol, Args = f.Args, Fields = f.Fields,
                        Input = f.Input, Output = f.Output, Pop = f.Pop, Peek = f.Peek, Push = f.Push,
                    });
                return sj;
            }
            case ModelStageNode m when ways.TryGetValue(m.Name, out int k) && k > 1:
            {
                // A model stage pops and pushes its items per firing and keeps no state: its copies take that many items in turn.
                var sj = new SplitJoinNode
                {
                    Name = m.Name + ".fission", Span = m.Span, Input = m.Input, Output = m.Output,
                    Split = new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(m.ItemsPerFiring, k).ToArray()),
                    Join = new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(m.ItemsPerFiring, k).ToArray()),
                };
                for (int i = 0; i < k; i++)
                    sj.Branches.Add(new ModelStageNode
                    {
                        Name = $"{m.Name}.{i}", Span = m.Span, Input = m.Input, Output = m.Output, Stage = m.Stage,
                        First = m.First, End = m.End, Reads = m.Reads, ReadBytes = m.ReadBytes, PredictedSeconds = m.PredictedSeconds,
                        ItemsPerFiring = m.ItemsPerFiring,
                    });
                return sj;
            }
            case PipelineNode p:
            {
                var q = new PipelineNode { Name = p.Name, Span = p.Span, Input = p.Input, Output = p.Output };
                q.Children.AddRange(p.Children.Select(c => Apply(c, ways)));
                return q;
            }
            case SplitJoinNode s:
            {
                var q = new SplitJoinNode { Name = s.Name, Span = s.Span, Input = s.Input, Output = s.Output, Split = s.Split, Join = s.Join };
                q.Branches.AddRange(s.Branches.Select(c => Apply(c, ways)));
                return q;
            }
            default: return n; // filters kept whole, and feedback loops (never split inside)
        }
    }
}
