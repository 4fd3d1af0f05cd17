using Loom.Streams.CodeGen;
using Loom.Streams.Execution;
using Loom.Streams.Graph;
using Loom.Streams.Semantics;
using Loom.Streams.Syntax;

namespace Loom.Streams.Elaboration;

/// <summary>
/// Builds the stream graph by running composite bodies (compiled like any other StreamIt code) with their
/// parameters bound: <c>add</c>, <c>split</c>, <c>join</c>, <c>body</c>, <c>loop</c> and <c>enqueue</c> call back
/// here. Filters are instantiated with their rates evaluated and their fields set by <c>init</c>.
/// </summary>
public sealed class Elaborator : ICompositeBuilder
{
    private const int MaxStreams = 100_000;
    private readonly GlobalStore _globals;
    private readonly Printer _printer;
    private readonly Stack<Building> _stack = new();
    private readonly Dictionary<string, int> _instances = [];
    private int _count;

    private Elaborator(GlobalStore globals, Printer printer)
    {
        _globals = globals;
        _printer = printer;
    }

    /// <summary>A composite under construction, with its split/join as written (weights resolved at the end).</summary>
    private sealed class Building(StreamNode node)
    {
        public StreamNode Node { get; } = node;
        public (SplitJoinKind Kind, int[] Weights)? Split, Join;
        public bool SplitSet, JoinSet;
    }

    public static StreamNode Elaborate(StreamSymbol top, GlobalStore globals, Printer printer)
    {
        var e = new Elaborator(globals, printer);
        var node = e.Instantiate(top, [], top.Span);
        if (node.Input != SType.Void || node.Output != SType.Void)
            throw new StreamException($"{top.Span}: the top-level stream {top.Name} must be void->void, not {node.Input}->{node.Output}");
        return node;
    }

    private string InstanceName(string name)
    {
        int k = _instances.TryGetValue(name, out var c) ? c + 1 : 1;
        _instances[name] = k;
        return k == 1 ? name : $"{name}#{k}";
    }

    private StreamNode Instantiate(StreamSymbol s, object?[] args, SourceSpan at)
    {
        if (++_count > MaxStreams) throw new StreamException($"{at}: the program makes more than {MaxStreams} streams (unbounded recursion?)");
        if (_stack.Count > 200) throw new StreamException($"{at}: streams nest more than 200 deep (a stream that adds itself?)");
        if (s.Kind == StreamKind.Filter) return MakeFilter(s, args, at);
        StreamNode node = s.Kind switch
        {
            StreamKind.Pipeline => new PipelineNode { Name = InstanceName(s.Name), Span = s.Span },
            StreamKind.SplitJoin => new SplitJoinNode { Name = InstanceName(s.Name), Span = s.Span },
            _ => new FeedbackLoopNode { Name = InstanceName(s.Name), Span = s.Span },
        };
        var b = new Building(node);
        _stack.Push(b);
        try { CodeGen.CodeGen.CompileComposite(s, args, _globals, this)(); }
        finally { _stack.Pop(); }
        Complete(b, s);
        return node;
    }

    private FilterNode MakeFilter(StreamSymbol s, object?[] args, SourceSpan at)
    {
        var fields = s.Fields.Select(f => GlobalStore.NewBox(f.Type)).ToArray();
        var f = new FilterNode
        {
            Name = InstanceName(s.Name), Span = s.Span, Symbol = s, Args = args, Fields = fields,
            Input = s.InputType!, Output = s.OutputType!,
        };
        var w = s.Work!;
        f.Pop = EvalRate(w.Pop, s, args, 0);
        f.Push = EvalRate(w.Push, s, args, 0);
        f.Peek = EvalRate(w.Peek, s, args, f.Pop.Value);
        if (f.Peek.Value < f.Pop.Value && !f.Peek.Dynamic) f.Peek = f.Pop;
        if (s.Prework is { } p)
        {
            f.HasPrework = true;
            f.PrePop = EvalRate(p.Pop, s, args, 0);
            f.PrePush = EvalRate(p.Push, s, args, 0);
            f.PrePeek = EvalRate(p.Peek, s, args, f.PrePop.Value);
            if (f.PrePeek.Value < f.PrePop.Value) f.PrePeek = f.PrePop;
        }
        foreach (var r in new[] { f.Pop, f.Push, f.Peek, f.PrePop, f.PrePush, f.PrePeek })
            if (!r.Dynamic && r.Value < 0) throw new StreamException($"{at}: filter {f.Name} has a negative rate ({r.Value})");
        if (s.Fields.Count > 0 || s.Init is not null)
        {
            try { CodeGen.CodeGen.CompileInit(s, args, fields, _globals, _printer)(); }
            catch (Exception e) when (e is not (LoomException or StopRunException))
            {
                throw new StreamException($"{s.Span}: init of filter {f.Name} failed: {e.Message}", e);
            }
        }
        return f;
    }

    private Rate EvalRate(BRate? r, StreamSymbol s, object?[] args, int absent)
    {
        if (r is null) return new Rate(absent, false);
        bool dynamic = r.Min is null || !ReferenceEquals(r.Min, r.Max);
        var e = r.Average ?? r.Min ?? r.Max;
        int v = e is null ? absent : CodeGen.CodeGen.EvalInt(e, s, args, _globals);
        return new Rate(v, dynamic);
    }

    private Building Current(SourceSpan at, string what) =>
        _stack.Count > 0 ? _stack.Peek() : throw new StreamException($"{at}: {what} outside a composite stream");

    public void Add(BStreamRef stream, object?[] args)
    {
        var b = Current(stream.Span, "add");
        var child = Instantiate(stream.Stream, args, stream.Span);
        switch (b.Node)
        {
            case PipelineNode p: p.Children.Add(child); break;
            case SplitJoinNode sj: sj.Branches.Add(child); break;
            default: throw new StreamException($"{stream.Span}: 'add' in feedback loop {b.Node.Name}; use body and loop");
        }
    }

    public void AddTo(BStreamRef stream, object?[] args, object?[] portals)
    {
        var b = Current(stream.Span, "add");
        Add(stream, args);
        var child = b.Node switch { PipelineNode p => p.Children[^1], SplitJoinNode sj => sj.Branches[^1], _ => null };
        if (child is not FilterNode f)
            throw new StreamException($"{stream.Span}: only a filter can be registered with a portal ('add … to'), and {child?.Name} is not one");
        foreach (var portal in portals)
        {
            if (portal is not Portal p) throw new StreamException($"{stream.Span}: 'to' needs a portal that was made");
            p.Receivers.Add(f);
        }
    }

    public void SplitOrJoin(bool isSplit, SplitJoinKind kind, int[] weights)
    {
        var b = Current(SourceSpan.None, isSplit ? "split" : "join");
        if (isSplit ? b.SplitSet : b.JoinSet) throw new StreamException($"{b.Node.Name} sets its {(isSplit ? "splitter" : "joiner")} twice");
        foreach (var w in weights)
            if (w < 0) throw new StreamException($"{b.Node.Name}: a round-robin weight is negative ({w})");
        if (isSplit) { b.Split = (kind, weights); b.SplitSet = true; }
        else { b.Join = (kind, weights); b.JoinSet = true; }
        if (b.Node is SplitJoinNode sj && isSplit && sj.Branches.Count > 0)
            throw new StreamException($"splitjoin {sj.Name}: 'split' must come before the first 'add'");
    }

    public void BodyOrLoop(bool isBody, BStreamRef stream, object?[] args)
    {
        if (Current(stream.Span, isBody ? "body" : "loop").Node is not FeedbackLoopNode fb)
            throw new StreamException($"{stream.Span}: '{(isBody ? "body" : "loop")}' outside a feedback loop");
        if ((isBody ? fb.Body : fb.Loop) is not null) throw new StreamException($"{stream.Span}: feedback loop {fb.Name} sets its {(isBody ? "body" : "loop")} twice");
        var child = Instantiate(stream.Stream, args, stream.Span);
        if (isBody) fb.Body = child;
        else fb.Loop = child;
    }

    public void Enqueue(object? value)
    {
        if (Current(SourceSpan.None, "enqueue").Node is not FeedbackLoopNode fb) throw new StreamException("'enqueue' outside a feedback loop");
        fb.Enqueued.Add(value);
    }

    private void Complete(Building b, StreamSymbol s)
    {
        switch (b.Node)
        {
            case PipelineNode p:
                if (p.Children.Count == 0) throw new StreamException($"{s.Span}: pipeline {p.Name} adds no streams");
                p.Input = p.Children[0].Input;
                p.Output = p.Children[^1].Output;
                break;
            case SplitJoinNode sj:
                if (sj.Branches.Count == 0) throw new StreamException($"{s.Span}: splitjoin {sj.Name} adds no streams");
                if (!b.SplitSet || !b.JoinSet) throw new StreamException($"{s.Span}: splitjoin {sj.Name} needs both a split and a join");
                sj.Split = Resolve(b.Split!.Value, sj.Branches.Count, sj.Name, "splitter");
                sj.Join = Resolve(b.Join!.Value, sj.Branches.Count, sj.Name, "joiner");
                sj.Input = sj.Split.Weights.All(w => w == 0) ? SType.Void : sj.Branches.Select(x => x.Input).FirstOrDefault(t => t != SType.Void) ?? SType.Void;
                sj.Output = sj.Join.Weights.All(w => w == 0) ? SType.Void : sj.Branches.Select(x => x.Output).FirstOrDefault(t => t != SType.Void) ?? SType.Void;
                break;
            case FeedbackLoopNode fb:
                if (fb.Body is null || fb.Loop is null) throw new StreamException($"{s.Span}: feedback loop {fb.Name} needs both a body and a loop");
                if (!b.SplitSet || !b.JoinSet) throw new StreamException($"{s.Span}: feedback loop {fb.Name} needs both a split and a join");
                fb.Join = Resolve(b.Join!.Value, 2, fb.Name, "joiner");
                fb.Split = Resolve(b.Split!.Value, 2, fb.Name, "splitter");
                fb.Input = fb.Join.Weights[0] == 0 ? SType.Void : fb.Body.Input;
                fb.Output = fb.Split.Kind == SplitKind.RoundRobin && fb.Split.Weights[0] == 0 ? SType.Void : fb.Body.Output;
                break;
        }
        // Declared types win; flattening checks that the parts agree with them.
        if (s.InputType is not null) b.Node.Input = s.InputType;
        if (s.OutputType is not null) b.Node.Output = s.OutputType;
    }

    private static SplitSpec Resolve((SplitJoinKind Kind, int[] Weights) spec, int branches, string owner, string what)
    {
        if (spec.Kind == SplitJoinKind.Duplicate) return new SplitSpec(SplitKind.Duplicate, Enumerable.Repeat(1, branches).ToArray());
        if (spec.Kind == SplitJoinKind.Null) return new SplitSpec(SplitKind.RoundRobin, new int[branches]);
        var w = spec.Weights;
        if (w.Length == 0) return new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(1, branches).ToArray());
        if (w.Length == 1) return new SplitSpec(SplitKind.RoundRobin, Enumerable.Repeat(w[0], branches).ToArray());
        if (w.Length != branches)
            throw new StreamException($"{owner}: the {what} roundrobin({string.Join(", ", w)}) has {w.Length} weights but there are {branches} streams");
        return new SplitSpec(SplitKind.RoundRobin, w);
    }
}
