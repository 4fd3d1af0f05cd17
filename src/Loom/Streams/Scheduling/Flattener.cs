using Loom.Streams.Graph;
using Loom.Streams.Semantics;

namespace Loom.Streams.Scheduling;

/// <summary>
/// Turns the hierarchical stream graph into a flat graph of filters, splitters and joiners, checking that
/// every connection carries one item type. Actors come out in a topological order (feedback edges aside).
/// </summary>
public sealed class Flattener
{
    private readonly FlatGraph _g = new();
    private readonly Stack<string> _loops = new();

    private readonly record struct Port(Actor Actor, int Index);

    public static FlatGraph Flatten(StreamNode top)
    {
        var f = new Flattener();
        f.Visit(top);
        for (int i = 0; i < f._g.Actors.Count; i++) f._g.Actors[i].Index = i;
        return f._g;
    }

    private Actor NewActor(string name, ActorKind kind, string owner, FilterNode? filter = null, SplitSpec? spec = null)
    {
        var a = new Actor { Name = name, Kind = kind, Owner = owner, Filter = filter, Spec = spec, FeedbackLoop = _loops.Count > 0 ? _loops.Peek() : null };
        _g.Actors.Add(a);
        return a;
    }

    private static bool SameType(SType a, SType b) => a.Equals(b) || (a.IsIntLike && b.IsIntLike);

    private void Connect(Port from, Port to, SType type)
    {
        var e = new Edge { Src = from.Actor, SrcPort = from.Index, Dst = to.Actor, DstPort = to.Index, Type = type, Dynamic = from.Actor.DynamicOut || to.Actor.DynamicIn };
        from.Actor.Out[from.Index] = e;
        to.Actor.In[to.Index] = e;
        _g.Edges.Add(e);
    }

    private void Link(Port? from, SType fromType, string fromName, Port? to, SType toType, string toName)
    {
        if (from is null && to is null) return;
        if (from is null || to is null || !SameType(fromType, toType))
            throw new StreamException($"type mismatch: {fromName} outputs {fromType} but {toName} takes {toType}");
        Connect(from.Value, to.Value, fromType);
    }

    private (Port? Entry, Port? Exit) Visit(StreamNode n)
    {
        switch (n)
        {
            case FilterNode f:
            {
                var a = NewActor(f.Name, ActorKind.Filter, f.Name, filter: f);
                // A dynamic rate fences static scheduling: the edge on that side becomes a dynamic queue.
                a.DynamicIn = f.Pop.Dynamic || f.Peek.Dynamic || (f.HasPrework && (f.PrePop.Dynamic || f.PrePeek.Dynamic));
                a.DynamicOut = f.Push.Dynamic || (f.HasPrework && f.PrePush.Dynamic);
                if (f.Input != SType.Void) { a.In.Add(null); a.Pop = [f.Pop.Value]; a.ExtraPeek = f.Peek.Value - f.Pop.Value; }
                if (f.Output != SType.Void) { a.Out.Add(null); a.Push = [f.Push.Value]; }
                return (f.Input == SType.Void ? null : new Port(a, 0), f.Output == SType.Void ? null : new Port(a, 0));
            }
            case PipelineNode p:
            {
                Port? entry = null, prevExit = null;
                StreamNode? prev = null;
                foreach (var c in p.Children)
                {
                    var (e, x) = Visit(c);
                    if (prev is null)
                    {
                        entry = e;
                        if (!SameType(c.Input, p.Input)) throw new StreamException($"type mismatch: pipeline {p.Name} takes {p.Input} but its first stream {c.Name} takes {c.Input}");
                    }
                    else Link(prevExit, prev.Output, prev.Name, e, c.Input, c.Name);
                    prev = c;
                    prevExit = x;
                }
                if (!SameType(prev!.Output, p.Output)) throw new StreamException($"type mismatch: pipeline {p.Name} outputs {p.Output} but its last stream {prev.Name} outputs {prev.Output}");
                return (entry, prevExit);
            }
            case SplitJoinNode sj: return VisitSplitJoin(sj);
            case FeedbackLoopNode fb: return VisitFeedback(fb);
            default: throw new StreamException($"unknown stream node {n.Name}");
        }
    }

    private (Port?, Port?) VisitSplitJoin(SplitJoinNode sj)
    {
        int k = sj.Branches.Count;
        Actor? split = null;
        if (sj.Input != SType.Void)
        {
            split = NewActor(sj.Name + ".split", ActorKind.Splitter, sj.Name, spec: sj.Split);
            split.In.Add(null);
            split.Pop = [sj.Split!.Kind == SplitKind.Duplicate ? 1 : sj.Split.Weights.Sum()];
            split.Push = sj.Split.Weights.ToArray();
            for (int i = 0; i < k; i++) split.Out.Add(null);
        }
        var exits = new List<(Port?, StreamNode)>();
        for (int i = 0; i < k; i++)
        {
            var b = sj.Branches[i];
            var (e, x) = Visit(b);
            if (split is not null && sj.Split!.Weights[i] > 0) Link(new Port(split, i), sj.Input, sj.Name + " splitter", e, b.Input, b.Name);
            else if (e is not null && (split is not null || b.Input != SType.Void))
                throw new StreamException($"splitjoin {sj.Name}: branch {b.Name} takes {b.Input} but its splitter gives it nothing");
            exits.Add((x, b));
        }
        Actor? join = null;
        if (sj.Output != SType.Void)
        {
            join = NewActor(sj.Name + ".join", ActorKind.Joiner, sj.Name, spec: sj.Join);
            join.Out.Add(null);
            join.Push = [sj.Join!.Weights.Sum()];
            join.Pop = sj.Join.Weights.ToArray();
            for (int i = 0; i < k; i++) join.In.Add(null);
            for (int i = 0; i < k; i++)
            {
                var (x, b) = exits[i];
                if (sj.Join.Weights[i] > 0) Link(x, b.Output, b.Name, new Port(join, i), sj.Output, sj.Name + " joiner");
                else if (x is not null) throw new StreamException($"splitjoin {sj.Name}: branch {b.Name} outputs {b.Output} but its joiner takes nothing from it");
            }
        }
        else
            foreach (var (x, b) in exits)
                if (x is not null) throw new StreamException($"splitjoin {sj.Name} outputs void but its branch {b.Name} outputs {b.Output}");
        return (split is null ? null : new Port(split, 0), join is null ? null : new Port(join, 0));
    }

    private (Port?, Port?) VisitFeedback(FeedbackLoopNode fb)
    {
        _loops.Push(fb.Name);
        try
        {
            var join = NewActor(fb.Name + ".join", ActorKind.Joiner, fb.Name, spec: fb.Join);
            join.In.Add(null);
            join.In.Add(null);
            join.Out.Add(null);
            join.Pop = fb.Join!.Weights.ToArray();
            join.Push = [fb.Join.Weights.Sum()];
            var (be, bx) = Visit(fb.Body!);
            Link(new Port(join, 0), fb.Body!.Input, fb.Name + " joiner", be, fb.Body.Input, fb.Body.Name);
            var split = NewActor(fb.Name + ".split", ActorKind.Splitter, fb.Name, spec: fb.Split);
            split.In.Add(null);
            split.Out.Add(null);
            split.Out.Add(null);
            split.Pop = [fb.Split!.Kind == SplitKind.Duplicate ? 1 : fb.Split.Weights.Sum()];
            split.Push = fb.Split.Weights.ToArray();
            Link(bx, fb.Body.Output, fb.Body.Name, new Port(split, 0), fb.Body.Output, fb.Name + " splitter");
            var (le, lx) = Visit(fb.Loop!);
            if (fb.Split.Weights[1] > 0) Link(new Port(split, 1), fb.Body.Output, fb.Name + " splitter", le, fb.Loop!.Input, fb.Loop.Name);
            if (fb.Join.Weights[1] == 0 || lx is null)
                throw new StreamException($"feedback loop {fb.Name}: nothing comes back around (the joiner's loop weight is 0 or the loop stream {fb.Loop!.Name} outputs void)");
            Link(lx, fb.Loop!.Output, fb.Loop.Name, new Port(join, 1), fb.Body.Input, fb.Name + " joiner");
            join.In[1]!.Initial.AddRange(fb.Enqueued);
            Port? entry = fb.Join.Weights[0] > 0 && fb.Input != SType.Void ? new Port(join, 0) : null;
            Port? exit = fb.Split.Weights[0] > 0 && fb.Output != SType.Void ? new Port(split, 0) : null;
            return (entry, exit);
        }
        finally { _loops.Pop(); }
    }
}
